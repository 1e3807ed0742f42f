import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { EventDraft } from './outbox.js';

/**
 * The agent's watchdog over itself, after osquery's: it measures its own resident memory and CPU
 * over a window and, above a limit, scans less often rather than slow the workstation down. Each
 * limit crossed is an `agent.limits.exceeded` event (raised, then cleared on recovery), so the
 * collector sees it; nothing restarts silently. systemd's MemoryMax/CPUQuota stay as a backstop.
 */
export interface SelfLimits {
  maxRssMb: number;
  /** Percent of one core, averaged over the window. */
  maxCpuPercent: number;
  /** Milliseconds each measurement spans. */
  window: number;
}

/** Cumulative figures, as process.memoryUsage.rss() and process.cpuUsage() give them. */
export interface UsageSample {
  rssBytes: number;
  /** User plus system CPU time since the process started, in microseconds. */
  cpuMicros: number;
}

export type LimitedResource = 'rss' | 'cpu';

/** At most this many times the configured scan interval. */
export const MAX_SLOWDOWN = 16;
/** Recovered only below this share of a limit, so the interval does not flap at the boundary. */
export const RECOVERY_SHARE = 0.8;

export interface LimitsState {
  slowdown: number;
  exceeded: Record<LimitedResource, boolean>;
  /** Start of the window being measured. */
  since?: UsageSample & { atMs: number };
}

export interface Measured {
  rssMb: number;
  cpuPercent: number;
}

export interface LimitsStep {
  state: LimitsState;
  /** Set when a window closed. */
  measured?: Measured;
  events: EventDraft[];
}

export const INITIAL_LIMITS_STATE: LimitsState = { slowdown: 1, exceeded: { rss: false, cpu: false } };

/**
 * One reading against the limits (pure). A window closes once `window` has passed since it
 * began; then any limit exceeded doubles the slowdown (up to MAX_SLOWDOWN) and raises its event,
 * and all figures back under RECOVERY_SHARE halve it and clear what was raised.
 */
export function assessUsage(
  state: LimitsState,
  sample: UsageSample,
  atMs: number,
  limits: SelfLimits,
): LimitsStep {
  const since = state.since;
  if (!since || atMs < since.atMs) return { state: { ...state, since: { ...sample, atMs } }, events: [] };
  const elapsedMs = atMs - since.atMs;
  if (elapsedMs < limits.window) return { state, events: [] };

  const measured: Measured = {
    rssMb: round1(sample.rssBytes / 1_048_576),
    cpuPercent: round1(((sample.cpuMicros - since.cpuMicros) / (elapsedMs * 1000)) * 100),
  };
  const value: Record<LimitedResource, number> = { rss: measured.rssMb, cpu: measured.cpuPercent };
  const limit: Record<LimitedResource, number> = { rss: limits.maxRssMb, cpu: limits.maxCpuPercent };
  const over = (r: LimitedResource) => value[r] > limit[r];
  const recovered = (r: LimitedResource) => value[r] <= limit[r] * RECOVERY_SHARE;

  const resources: LimitedResource[] = ['rss', 'cpu'];
  let slowdown = state.slowdown;
  if (resources.some(over)) slowdown = Math.min(MAX_SLOWDOWN, slowdown * 2);
  else if (resources.every(recovered)) slowdown = Math.max(1, slowdown / 2);

  const exceeded = { ...state.exceeded };
  const events: EventDraft[] = [];
  for (const resource of resources) {
    const change =
      over(resource) && !exceeded[resource]
        ? 'raised'
        : exceeded[resource] && recovered(resource)
          ? 'cleared'
          : undefined;
    if (!change) continue;
    exceeded[resource] = change === 'raised';
    events.push({
      type: 'agent.limits.exceeded',
      state: change,
      key: `agent.limits.exceeded:${resource}`,
      severity: 'low',
      data: {
        resource,
        value: value[resource],
        limit: limit[resource],
        unit: resource === 'rss' ? 'MiB' : '%',
        slowdown,
      },
    });
  }
  return { state: { slowdown, exceeded, since: { ...sample, atMs } }, measured, events };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

export function processUsage(): UsageSample {
  const cpu = process.cpuUsage();
  return { rssBytes: process.memoryUsage.rss(), cpuMicros: cpu.user + cpu.system };
}

/** The running agent's side: reads its usage, records limit events, stretches the scan interval. */
export class SelfLimiter {
  private state: LimitsState = INITIAL_LIMITS_STATE;

  constructor(
    private readonly limits: SelfLimits,
    private readonly deps: {
      clock: Clock;
      logger: Logger;
      /** Appends the events to the outbox (and sends them). */
      record: (events: EventDraft[]) => void;
      read?: () => UsageSample;
    },
  ) {
    this.step();
  }

  /** How much longer than configured the agent now waits between scans. */
  get slowdown(): number {
    return this.state.slowdown;
  }

  /** Measures (when a window has closed) and returns the delay until the next scan. */
  nextDelay(baseMs: number): number {
    const before = this.state.slowdown;
    const step = this.step();
    if (step.events.length > 0) {
      try {
        this.deps.record(step.events);
      } catch (err) {
        this.deps.logger.error({ err }, 'could not record agent.limits.exceeded');
      }
    }
    if (this.state.slowdown !== before) {
      this.deps.logger.warn(
        { ...step.measured, limits: this.limits, slowdown: this.state.slowdown },
        this.state.slowdown > before
          ? 'over a self-limit: scanning less often'
          : 'back under the self-limits',
      );
    }
    return baseMs * this.state.slowdown;
  }

  private step(): LimitsStep {
    const step = assessUsage(
      this.state,
      (this.deps.read ?? processUsage)(),
      this.deps.clock.now().getTime(),
      this.limits,
    );
    this.state = step.state;
    return step;
  }
}
