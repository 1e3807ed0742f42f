import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { Store } from './store/store.js';

/** What start-up keeps of a started subsystem to take it down again. */
export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * One part of the collector (the store, the broker, ingest, the HTTP API…). `start` opens what
 * the part owns (files, ports, connections, timers) and returns what later parts need; a `stop`
 * in what it returns is run at shutdown. A start that fails leaves nothing of its own open.
 */
export interface Subsystem<Handle extends object> {
  readonly name: string;
  start(): Handle | Promise<Handle>;
}

/** What most subsystems are started with. */
export interface CollectorContext {
  store: Store;
  clock: Clock;
  logger: Logger;
}

/**
 * The subsystems started so far, stopped last first: at shutdown, and at once when a later one
 * fails to start, so a failed start leaves no port, file or timer behind.
 */
export class StartedSubsystems {
  private readonly stops: { name: string; stop: () => Promise<void> }[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  async start<Handle extends object>(subsystem: Subsystem<Handle>): Promise<Handle> {
    const handle = await subsystem.start();
    if (isStoppable(handle)) this.stops.push({ name: subsystem.name, stop: () => handle.stop() });
    return handle;
  }

  /**
   * Starts the timers of a part made earlier (its wiring had to exist before the HTTP API).
   * Its stop is kept first, so a start that fails half-way is undone too.
   */
  async run(name: string, part: Stoppable, start: () => unknown): Promise<void> {
    this.stops.push({ name, stop: () => part.stop() });
    await start();
  }

  /** Stops everything started, last first; a stop that fails is logged and the others still run. */
  stop(): Promise<void> {
    return (this.stopping ??= this.unwind());
  }

  private async unwind(): Promise<void> {
    for (const { name, stop } of this.stops.reverse()) {
      await stop().catch((err: unknown) =>
        this.logger.warn({ err, subsystem: name }, 'cleanup after stop failed'),
      );
    }
    this.stops.length = 0;
  }
}

function isStoppable(handle: object): handle is Stoppable {
  return typeof (handle as Partial<Stoppable>).stop === 'function';
}
