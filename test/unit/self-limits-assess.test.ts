import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { EventDraft } from '../../agent/outbox.js';
import {
  assessUsage,
  INITIAL_LIMITS_STATE,
  MAX_SLOWDOWN,
  SelfLimiter,
  type LimitsState,
  type SelfLimits,
  type UsageSample,
} from '../../agent/self-limits.js';
import { ManualClock } from '../../shared/clock.js';
import { EVENT_DATA_SCHEMAS } from '../../shared/events.js';

const MiB = 1_048_576;
const limits: SelfLimits = { maxRssMb: 200, maxCpuPercent: 10, window: 60_000 };

/** A window of `ms` in which the process used `cpuPercent` of a core and ended at `rssMb`. */
function feed(state: LimitsState, at: number, cpuUsedMicros: number, rssMb: number) {
  return assessUsage(state, { rssBytes: rssMb * MiB, cpuMicros: cpuUsedMicros }, at, limits);
}

/** Runs windows of `limits.window` each with the given figures; returns every step. */
function windows(figures: Array<{ cpuPercent: number; rssMb: number }>) {
  let state = feed(INITIAL_LIMITS_STATE, 0, 0, 50).state;
  let cpu = 0;
  let at = 0;
  return figures.map(({ cpuPercent, rssMb }) => {
    at += limits.window;
    cpu += (cpuPercent / 100) * limits.window * 1000;
    const step = feed(state, at, cpu, rssMb);
    state = step.state;
    return step;
  });
}

describe('assessUsage: the agent against its own limits', () => {
  it('only starts measuring on the first reading, and waits for a whole window', () => {
    const first = feed(INITIAL_LIMITS_STATE, 1_000, 5_000_000, 900);
    expect(first.events).toEqual([]);
    expect(first.measured).toBeUndefined();
    expect(first.state.slowdown).toBe(1);
    // 59.999 s later: far over both limits, but the window is not over yet.
    const early = feed(first.state, 60_999, 60_000_000, 900);
    expect(early).toEqual({ state: first.state, events: [] });
  });

  it('measures CPU as a share of one core over the window, and RSS as it is at the end', () => {
    const [step] = windows([{ cpuPercent: 4, rssMb: 123.4 }]);
    expect(step!.measured).toEqual({ cpuPercent: 4, rssMb: 123.4 });
    expect(step!.events).toEqual([]);
    expect(step!.state.slowdown).toBe(1);
  });

  it('doubles the scan interval and raises agent.limits.exceeded when memory is over the limit', () => {
    const [step] = windows([{ cpuPercent: 1, rssMb: 300 }]);
    expect(step!.state.slowdown).toBe(2);
    expect(step!.events).toEqual<EventDraft[]>([
      {
        type: 'agent.limits.exceeded',
        state: 'raised',
        key: 'agent.limits.exceeded:rss',
        severity: 'low',
        data: { resource: 'rss', value: 300, limit: 200, unit: 'MiB', slowdown: 2 },
      },
    ]);
    // The collector's catalogue accepts what the agent sends.
    expect(EVENT_DATA_SCHEMAS['agent.limits.exceeded'].safeParse(step!.events[0]!.data).success).toBe(true);
  });

  it('raises once while the limit stays exceeded, slowing down up to MAX_SLOWDOWN', () => {
    const steps = windows(Array.from({ length: 7 }, () => ({ cpuPercent: 25, rssMb: 100 })));
    expect(steps.map((s) => s.state.slowdown)).toEqual([2, 4, 8, 16, 16, 16, 16]);
    expect(MAX_SLOWDOWN).toBe(16);
    expect(steps.flatMap((s) => s.events)).toEqual([
      expect.objectContaining({
        state: 'raised',
        key: 'agent.limits.exceeded:cpu',
        data: { resource: 'cpu', value: 25, limit: 10, unit: '%', slowdown: 2 },
      }),
    ]);
  });

  it('keeps the slowdown just under the limit and recovers only below 80% of it, then clears', () => {
    const steps = windows([
      { cpuPercent: 12, rssMb: 100 }, // over: ×2, raised
      { cpuPercent: 12, rssMb: 100 }, // over: ×4
      { cpuPercent: 9, rssMb: 100 }, // under the limit but above 80%: hold, still raised
      { cpuPercent: 7, rssMb: 100 }, // recovered: ×2, cleared
      { cpuPercent: 7, rssMb: 100 }, // ×1
      { cpuPercent: 7, rssMb: 100 }, // stays ×1
    ]);
    expect(steps.map((s) => s.state.slowdown)).toEqual([2, 4, 4, 2, 1, 1]);
    expect(steps.map((s) => s.events.map((e) => e.state))).toEqual([['raised'], [], [], ['cleared'], [], []]);
    expect(steps[3]!.events[0]).toMatchObject({
      key: 'agent.limits.exceeded:cpu',
      data: { resource: 'cpu', value: 7, limit: 10, slowdown: 2 },
    });
  });

  it('tracks memory and CPU apart: one recovering does not clear the other', () => {
    const steps = windows([
      { cpuPercent: 50, rssMb: 250 },
      { cpuPercent: 1, rssMb: 250 },
      { cpuPercent: 1, rssMb: 100 },
    ]);
    expect(steps.map((s) => s.events.map((e) => `${e.key} ${e.state}`))).toEqual([
      ['agent.limits.exceeded:rss raised', 'agent.limits.exceeded:cpu raised'],
      ['agent.limits.exceeded:cpu cleared'],
      ['agent.limits.exceeded:rss cleared'],
    ]);
    expect(steps.map((s) => s.state.slowdown)).toEqual([2, 4, 2]);
  });

  it('starts a new window when the clock steps back instead of computing a negative rate', () => {
    const [step] = windows([{ cpuPercent: 1, rssMb: 100 }]);
    const back = feed(step!.state, 10, 999_999_999, 999);
    expect(back.events).toEqual([]);
    expect(back.state.since).toEqual({ rssBytes: 999 * MiB, cpuMicros: 999_999_999, atMs: 10 });
  });
});

describe('SelfLimiter: what the running agent calls between scans', () => {
  const silent = pino({ level: 'silent' });

  function limiterWith(readings: UsageSample[], record: (events: EventDraft[]) => void) {
    const clock = new ManualClock('2026-03-01T00:00:00Z');
    let i = 0;
    const limiter = new SelfLimiter(limits, {
      clock,
      logger: silent,
      record,
      read: () => {
        const reading = readings[Math.min(i, readings.length - 1)]!;
        i += 1;
        return reading;
      },
    });
    return { limiter, clock };
  }

  it('stretches the next scan delay by the slowdown and records each event once', () => {
    const recorded: EventDraft[][] = [];
    const { limiter, clock } = limiterWith(
      [
        { rssBytes: 50 * MiB, cpuMicros: 0 },
        { rssBytes: 400 * MiB, cpuMicros: 1_000_000 },
        { rssBytes: 400 * MiB, cpuMicros: 2_000_000 },
        { rssBytes: 60 * MiB, cpuMicros: 3_000_000 },
      ],
      (events) => recorded.push(events),
    );
    expect(limiter.nextDelay(60_000)).toBe(60_000); // inside the first window: no reading consumed
    clock.advance(limits.window);
    // A reading inside a window changes nothing; the next one, a window later, closes it.
    expect(limiter.nextDelay(60_000)).toBe(120_000);
    expect(recorded.flat().map((e) => `${e.key} ${e.state}`)).toEqual(['agent.limits.exceeded:rss raised']);
    clock.advance(limits.window);
    expect(limiter.nextDelay(60_000)).toBe(60_000);
    expect(recorded.flat().map((e) => e.state)).toEqual(['raised', 'cleared']);
    expect(limiter.slowdown).toBe(1);
  });

  it('keeps scheduling when recording the event fails', () => {
    const { limiter, clock } = limiterWith([{ rssBytes: 900 * MiB, cpuMicros: 0 }], () => {
      throw new Error('outbox closed');
    });
    clock.advance(limits.window);
    expect(limiter.nextDelay(1_000)).toBe(2_000);
  });
});
