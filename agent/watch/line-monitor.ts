import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../../shared/log.js';

/**
 * A long-lived child that prints one line per host change (`ip monitor`, `udevadm monitor`). Its
 * output only says "something changed": the lines are never parsed for data or passed to a shell,
 * so a hostile interface name in them can do nothing but cause a rescan. A child that dies is
 * restarted with backoff (and a rescan, since changes may have been missed meanwhile); one that
 * cannot start at all (not installed, not permitted) is reported once, and polling covers it.
 */
export interface LineMonitorOptions {
  name: string;
  command: string;
  args: readonly string[];
  /** Lines that announce a change; others (banners, headers) are ignored. */
  accept?: (line: string) => boolean;
  onChange(): void;
  /** Called once when the command cannot be run here. */
  onUnavailable(reason: string): void;
  logger: Logger;
  restartMs?: { min: number; max: number };
}

export interface LineMonitor {
  /** true while the child is starting or running, false while it is restarting or unavailable */
  active(): boolean;
  stop(): void;
}

export function startLineMonitor(options: LineMonitorOptions): LineMonitor {
  const restart = options.restartMs ?? { min: 500, max: 30_000 };
  let child: ChildProcess | undefined;
  let stopped = false;
  // Starting counts as running: a command that cannot start says so at once through 'error'.
  let running = true;
  let delay = restart.min;
  let timer: NodeJS.Timeout | undefined;
  let launches = 0;

  function launch(): void {
    if (stopped) return;
    const spawned = spawn(options.command, [...options.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    child = spawned;
    launches += 1;
    running = true;
    let started = false;
    let failedToStart = false;
    spawned.once('spawn', () => {
      started = true;
      // Changes between the last child's exit and this one's start were missed.
      if (launches > 1) options.onChange();
    });
    spawned.once('error', (err: NodeJS.ErrnoException) => {
      running = false;
      if (!started) {
        failedToStart = true;
        stopped = true;
        options.onUnavailable(`${options.command}: ${err.code ?? err.message}`);
      }
    });
    spawned.stderr?.resume();
    const lines = createInterface({ input: spawned.stdout! });
    lines.on('line', (line) => {
      delay = restart.min;
      if (options.accept === undefined || options.accept(line)) options.onChange();
    });
    spawned.once('exit', (code, signal) => {
      running = false;
      lines.close();
      if (stopped || failedToStart) return;
      options.logger.warn(
        { monitor: options.name, code, signal, restartInMs: delay },
        'change monitor exited; restarting it (polling continues meanwhile)',
      );
      // It may have missed changes while it was down.
      options.onChange();
      timer = setTimeout(launch, delay);
      delay = Math.min(restart.max, delay * 2);
    });
  }

  launch();
  return {
    active: () => running,
    stop() {
      stopped = true;
      clearTimeout(timer);
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
