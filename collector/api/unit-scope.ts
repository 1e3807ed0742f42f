import type { Store } from '../store/store.js';

/**
 * A unit and the units below it (SPEC §8: a user sees only their unit and the units below it).
 * The tree is what the collector hierarchy knows: every subordinate collector records the units
 * on its path up to here, so the collectors below unit U are those whose path passes U, and
 * every collector known here is below this collector's own unit.
 */
export async function unitAndBelow(
  store: Store,
  unit: string,
  ownUnit: string | undefined,
): Promise<string[]> {
  const below = await store.hierarchy.listSubordinates(unit === ownUnit ? {} : { units: [unit] });
  return [...new Set([unit, ...below.map((s) => s.unit)])];
}
