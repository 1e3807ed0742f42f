/** The one source of time. Tests pass a clock they can move instead of sleeping. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * How far a message's time (ISO 8601) is from `now`, in ms: the one measure behind every skew
 * and replay rule (ingest.maxSkew, enrollment, the hierarchy link, key rotation, beacons). An
 * unparseable time is infinitely far, so it never passes as fresh.
 */
export function skewMs(ts: string, now: Date): number {
  const at = Date.parse(ts);
  return Number.isFinite(at) ? Math.abs(now.getTime() - at) : Infinity;
}

/** A clock that only moves when told to; for tests of legal deadlines and timeouts. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: Date | string = '2026-01-01T00:00:00Z') {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(to: Date | string): void {
    this.current = new Date(to).getTime();
  }
}
