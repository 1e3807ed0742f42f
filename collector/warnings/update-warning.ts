import { releaseWarning } from '../rules/evaluate.js';
import { stepNotifications, type NotifyRoute } from '../notify/occasion.js';
import type { Warning } from '../store/warnings/records.js';
import type { WarningStore } from '../store/warnings/warning-store.js';
import type { WarningStep } from './lifecycle.js';
import { rowChangeWrites, ruleStateOf } from './rules-batch.js';

/**
 * Reads the warning, calls `decide` (a pure lifecycle step) and, when it succeeds, records the
 * step in the audit trail and the new state; a final state also frees the warning's rule slot,
 * so the next occurrence opens a new warning. With `notify`, the same transaction writes the
 * outbox rows the step owes (stepNotifications). Undefined when there is no such warning.
 *
 * In the store's rules transaction, as rules batches are: on PostgreSQL the rules lock comes
 * before the warning's row lock everywhere, which rules out a deadlock, and freeing the slot
 * needs no second lock.
 */
export async function updateWarning<R extends WarningStep>(
  store: WarningStore,
  id: string,
  decide: (warning: Warning) => R,
  notify?: NotifyRoute,
): Promise<R | undefined> {
  return store.transact(async (tx): Promise<R | undefined> => {
    const warning = await tx.readWarningForUpdate(id);
    if (!warning) return undefined;
    const result = decide(warning);
    if (!result.ok) return result;
    const { record } = result;
    const release = 'release' in result && result.release;
    const slot = release ? ruleStateOf(await tx.loadRuleRows([warning.slot], [])) : undefined;
    await tx.apply({
      ...(slot && { rules: rowChangeWrites(releaseWarning(slot, warning).changes) }),
      warnings: {
        at: record.at,
        steps: [{ warningId: id, record, state: result.warning.state }],
        outbox: stepNotifications(result, notify).map((entry) => ({ warningId: id, ...entry })),
      },
    });
    return result;
  });
}
