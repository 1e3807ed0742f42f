import { canonicalize } from '../shared/canonical-json.js';
import type { Severity } from '../shared/levels.js';
import type { Finding } from './detectors/finding.js';
import type { DetectorPass } from './detectors/run-detectors.js';
import type { EventDraft, OpenCondition, Outbox } from './outbox.js';

/**
 * Turns the findings of one pass into events, against the conditions still open from earlier
 * passes (kept in the outbox database, so a restart neither repeats nor forgets anything):
 *
 * - a key not open before             ⇒ `raised`;
 * - an open key no longer found       ⇒ `cleared`, carrying the type, severity and data it was
 *                                       last raised with, so the collector can match and show it;
 * - an open key found with a different severity or data ⇒ `raised` again with the new values.
 *   The collector then sees the condition as it is now (a 秘密 host reclassified 绝密 turns a
 *   `high` into a `critical`); its store keeps the earlier record. Detectors keep volatile values
 *   out of `data` so this does not churn;
 * - an open key whose detector could not run this pass (its probe failed) stays open, silently:
 *   not seeing a NIC is not the same as the NIC being gone.
 */
export function diffFindings(
  open: ReadonlyMap<string, OpenCondition>,
  findings: readonly Finding[],
  unobservedTypes: ReadonlySet<string> = new Set(),
): EventDraft[] {
  const current = new Map<string, Finding>();
  for (const finding of findings) current.set(finding.key, finding);

  const cleared: EventDraft[] = [];
  for (const [key, condition] of open) {
    if (current.has(key) || unobservedTypes.has(condition.type)) continue;
    cleared.push({
      type: condition.type,
      state: 'cleared',
      key,
      severity: condition.severity,
      data: condition.data,
    });
  }
  const raised: EventDraft[] = [];
  for (const [key, finding] of current) {
    const before = open.get(key);
    if (before && !changed(before, finding)) continue;
    raised.push({ type: finding.type, state: 'raised', key, severity: finding.severity, data: finding.data });
  }
  return [...cleared.sort(byKey), ...raised.sort(byKey)];
}

/**
 * Records one detector pass: diffs it against the open conditions and appends the resulting
 * events, in one transaction, so the open set and the outbox never disagree after a crash.
 */
export function recordDetectorPass(outbox: Outbox, pass: DetectorPass): EventDraft[] {
  return outbox.transaction(() => {
    const drafts = diffFindings(outbox.openConditions(), pass.findings, pass.unobservedTypes);
    outbox.append(drafts, { tracksConditions: true });
    return drafts;
  });
}

function changed(before: { severity: Severity; data: Record<string, unknown> }, now: Finding): boolean {
  return before.severity !== now.severity || canonicalize(before.data) !== canonicalize(now.data);
}

function byKey(a: EventDraft, b: EventDraft): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
