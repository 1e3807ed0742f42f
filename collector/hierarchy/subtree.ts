import type { SubordinateRecord } from '../store/hierarchy/hierarchy-store.js';
import { childCertSchema, isAbove, type KnownCollector, type Report } from './messages.js';

/**
 * A child collector speaks only for its own subtree (issue 14 item 2). Signatures prove who sent
 * a record, not that the sender may vouch for what it names: a child signs certificates for the
 * collectors it enrolls, so without this check it could certify any unit at any level, and a
 * `collector.enrolled` record would widen what users here may see (unit scope follows the
 * recorded paths). Every record from a child — incidents, notice answers, annual figures,
 * `collector.enrolled` — goes through `subtreeRefusal` before it is stored.
 */
export const SUBTREE_REFUSALS = ['level', 'path', 'unit', 'enrolled'] as const;
export type SubtreeRefusal = (typeof SUBTREE_REFUSALS)[number];

/** What this collector knows when it judges a child's records. */
export interface SubtreeView {
  /** This collector, and the units it holds (its own, its agents'): nothing below may claim them. */
  here: { id: string; units: readonly string[] };
  /** The direct child that sent the batch, as recorded at its enrollment. */
  sender: SubordinateRecord;
  /** Every collector recorded below this one, by id. */
  known: ReadonlyMap<string, SubordinateRecord>;
}

/** The collectors recorded below here, keyed by id, for one batch. */
export function subtreeView(
  here: SubtreeView['here'],
  sender: SubordinateRecord,
  subordinates: readonly SubordinateRecord[],
): SubtreeView {
  return { here, sender, known: new Map(subordinates.map((s) => [s.id, s])) };
}

/**
 * Why a verified record from `view.sender` is outside its subtree, or undefined when it is not.
 * `path` is the verified chain, origin first and the sender last (messages.ts `verifyRecord`).
 */
export function subtreeRefusal(
  view: SubtreeView,
  path: readonly KnownCollector[],
  report: Report,
): { reason: SubtreeRefusal; detail: string } | undefined {
  const origin = path[0]!;
  if (report.level !== origin.level) {
    return {
      reason: 'level',
      detail: `report claims level ${report.level}, but ${origin.id} is certified at ${origin.level}`,
    };
  }
  for (let i = 0; i + 1 < path.length; i++) {
    const below = path[i]!;
    const above = path[i + 1]!;
    if (!isAbove(above.level, below.level)) {
      return {
        reason: 'level',
        detail: `${below.id} (${below.level}) is certified by ${above.id} (${above.level}), which does not sit above it`,
      };
    }
    const problem = placeProblem(
      view,
      below,
      above,
      path.slice(i).map((c) => c.unit),
    );
    if (problem) return problem;
  }
  if (
    UNIT_REPORTS.has(report.type) &&
    typeof report.data.unit === 'string' &&
    report.data.unit !== report.unit
  ) {
    return {
      reason: 'unit',
      detail: `${UNIT_REPORTS.get(report.type)} of ${report.data.unit} sent in a report of ${report.unit}`,
    };
  }
  if (report.type === 'collector.enrolled') return enrolledProblem(view, path, report);
  return undefined;
}

/** Reports that speak for one unit (the unit they name must be the one that signed them), in words. */
const UNIT_REPORTS: ReadonlyMap<string, string> = new Map([
  ['annual', 'annual figures'],
  ['self-inspection', 'a self-inspection'],
  ['rectifications', 'rectifications'],
]);

/**
 * A collector named below the sender must be where the records here put it (same key, unit,
 * level, parent and path), and may not take a unit held elsewhere in the tree.
 */
function placeProblem(
  view: SubtreeView,
  collector: Pick<KnownCollector, 'id' | 'publicKey' | 'unit' | 'level'>,
  parent: Pick<KnownCollector, 'id'>,
  pathUnits: readonly string[],
): { reason: SubtreeRefusal; detail: string } | undefined {
  if (collector.id === view.here.id || collector.id === view.sender.id) {
    return { reason: 'path', detail: `${collector.id} cannot sit below ${view.sender.id}` };
  }
  const recorded = view.known.get(collector.id);
  if (recorded) {
    const same =
      !recorded.direct &&
      recorded.publicKey === collector.publicKey &&
      recorded.unit === collector.unit &&
      recorded.level === collector.level &&
      recorded.parent === parent.id &&
      recorded.pathUnits.join('\u0000') === pathUnits.join('\u0000');
    if (!same) {
      return {
        reason: 'path',
        detail: `${collector.id} is recorded here as ${recorded.unit} (${recorded.level}) on the path ${recorded.pathUnits.join(' ← ')}, not below ${view.sender.id} as ${pathUnits.join(' ← ')}`,
      };
    }
    return undefined;
  }
  return foreignUnit(view, collector.unit);
}

/** A unit this collector holds, or one recorded outside the sender's subtree, is not the sender's to name. */
function foreignUnit(view: SubtreeView, unit: string): { reason: 'unit'; detail: string } | undefined {
  if (view.here.units.includes(unit))
    return { reason: 'unit', detail: `unit ${unit} is held by this collector` };
  for (const other of view.known.values()) {
    if (other.unit === unit && !insideSender(view, other)) {
      return {
        reason: 'unit',
        detail: `unit ${unit} belongs to ${other.id}, outside ${view.sender.id}'s subtree`,
      };
    }
  }
  return undefined;
}

function insideSender(view: SubtreeView, collector: SubordinateRecord): boolean {
  const seen = new Set<string>();
  let current: SubordinateRecord | undefined = collector;
  while (current && !seen.has(current.id)) {
    if (current.id === view.sender.id) return true;
    seen.add(current.id);
    current = view.known.get(current.parent);
  }
  return false;
}

/** The new subordinate a `collector.enrolled` record names must sit below its origin, inside the subtree. */
function enrolledProblem(
  view: SubtreeView,
  path: readonly KnownCollector[],
  report: Report,
): { reason: SubtreeRefusal; detail: string } | undefined {
  const cert = childCertSchema.safeParse(report.data.cert);
  if (!cert.success)
    return { reason: 'enrolled', detail: 'collector.enrolled: data.cert is not a child certificate' };
  const origin = path[0]!;
  const child = cert.data;
  if (!isAbove(origin.level, child.level)) {
    return {
      reason: 'level',
      detail: `collector.enrolled: ${child.child} certified at ${child.level}, not below ${origin.id} (${origin.level})`,
    };
  }
  if (path.some((c) => c.id === child.child)) {
    return { reason: 'path', detail: `collector.enrolled: ${child.child} is already on the path` };
  }
  const subject = { id: child.child, publicKey: child.publicKey, unit: child.unit, level: child.level };
  const recorded = view.known.get(child.child);
  // A re-announcement of what is recorded is fine; anything else about a known collector moves it.
  if (recorded && recorded.parent !== origin.id) {
    return {
      reason: 'enrolled',
      detail: `collector.enrolled: ${child.child} is recorded below ${recorded.parent}, not ${origin.id}`,
    };
  }
  return placeProblem(view, subject, origin, [child.unit, ...path.map((c) => c.unit)]);
}
