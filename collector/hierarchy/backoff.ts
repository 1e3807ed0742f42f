/**
 * How long the link waits after `failures` consecutive failures: exponential from `baseMs`,
 * capped at `maxMs`, with full jitter (a uniform draw below the cap) so children that lost the
 * same parent do not all come back at the same instant when it returns.
 */
export function retryDelay(
  failures: number,
  { baseMs, maxMs }: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  if (failures <= 0) return 0;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
  return Math.floor(random() * ceiling);
}
