/**
 * A jump of the wall clock: how far it moved beyond the time that really passed, measured against
 * the kernel's boot clock (/proc/uptime counts suspended time too, unlike the monotonic clock, so
 * a laptop waking from sleep is not a jump). Small steps (NTP corrections) stay under the tolerance.
 * Returns the jump in ms (positive: set forward), or undefined when there was none.
 */
export interface ClockReading {
  /** Date.now() */
  wallMs: number;
  /** seconds since boot including suspend (/proc/uptime), in ms */
  bootMs: number;
}

export function clockJump(
  before: ClockReading,
  after: ClockReading,
  toleranceMs: number,
): number | undefined {
  const jump = after.wallMs - before.wallMs - (after.bootMs - before.bootMs);
  return Math.abs(jump) > toleranceMs ? Math.round(jump) : undefined;
}
