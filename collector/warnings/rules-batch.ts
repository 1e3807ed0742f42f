import { emptyRuleState, type Evaluation, type RowChange, type RuleState } from '../rules/evaluate.js';
import type { NotifyRoute } from '../notify/occasion.js';
import type { CollectorCondition } from '../store/warnings/records.js';
import type {
  LoadedRuleRow,
  RulePair,
  RuleRowWrites,
  RuleTable,
  WarningStore,
  WarningTransaction,
} from '../store/warnings/warning-store.js';
import { RuleWorkingCopy } from './rule-working-copy.js';

/**
 * The warnings stage's read-evaluate-write: in one store transaction it loads the rule rows an
 * evaluation needs, runs the pure rules (collector/rules/evaluate.ts) on them, and hands the store
 * what is left to write. The store only loads and applies (WarningTransaction).
 */

/** The rule-state rows one evaluation reads (see rowsNeeded in collector/rules/evaluate.ts). */
export interface RowsNeeded {
  slots: string[];
  condition: string;
}

/** What the rules look at: a stored event (by id), or a condition the collector observed itself. */
export type RulesInput =
  | { kind: 'event'; eventId: number; needed: RowsNeeded }
  | { kind: 'condition'; condition: CollectorCondition; needed: RowsNeeded };

export interface RulesRunOptions {
  now: string;
  /**
   * The outbox rows owed (see ruleNotifications in collector/notify/occasion.ts): one row per
   * routed channel when a warning opens and when a resolved warning is raised again.
   */
  notify: NotifyRoute;
}

export interface RulesRunResult {
  opened: string[];
  updated: string[];
}

/**
 * The evaluation callback. `conditionId` is set for a collector condition: the row it was
 * recorded under, which its evidence refs carry as a negative `seq` (see conditionSeq).
 */
export type EvaluateStep = (state: RuleState, conditionId: number | undefined) => Evaluation;

export interface RulesStep {
  input: RulesInput;
  evaluate: EvaluateStep;
}

/**
 * Records a collector condition when there is one, loads the rows `needed`, calls `evaluate`,
 * then writes its row changes, the warnings it opens or updates, their evidence and outbox rows
 * in one transaction. For an event it also moves the rules cursor past it; an event at or below
 * the cursor was evaluated already and returns undefined without calling `evaluate`.
 */
export async function runRules(
  store: WarningStore,
  input: RulesInput,
  evaluate: EvaluateStep,
  options: RulesRunOptions,
): Promise<RulesRunResult | undefined> {
  const [result] = await runRulesBatch(store, [{ input, evaluate }], options);
  return result;
}

/**
 * Several runRules steps in one transaction, in order (each sees the rows the previous wrote), on
 * a working copy read once per slot and written back once: the stage catching up with a burst
 * pays for one commit, not one per event, and the rows of all its steps are read up front (on
 * PostgreSQL one round trip, which costs as much as a whole evaluation).
 */
export async function runRulesBatch(
  store: WarningStore,
  steps: readonly RulesStep[],
  options: RulesRunOptions,
): Promise<(RulesRunResult | undefined)[]> {
  return store.transact(async (tx) => {
    const copy = new RuleWorkingCopy(tx.cursor, options);
    await load(
      tx,
      copy,
      steps.flatMap((s) => s.input.needed.slots),
      steps.map((s) => s.input.needed.condition),
    );
    const results: (RulesRunResult | undefined)[] = [];
    for (const step of steps) results.push(await runStep(tx, copy, step, options.now));
    await tx.apply(copy.writeSet(options.now));
    return results;
  });
}

async function runStep(
  tx: WarningTransaction,
  copy: RuleWorkingCopy,
  { input, evaluate }: RulesStep,
  now: string,
): Promise<RulesRunResult | undefined> {
  if (copy.alreadySeen(input)) return undefined;
  const conditionId = input.kind === 'condition' ? await tx.recordCondition(input.condition, now) : undefined;
  const { slots, condition } = input.needed;
  await load(tx, copy, slots, [condition]);
  await load(tx, copy, copy.pairSlots(condition), []);
  const evaluation = evaluate(copy.snapshot(slots, condition), conditionId);
  await readWarnings(tx, copy, copy.unreadWarnings(evaluation));
  return copy.apply(evaluation);
}

/** Reads what the working copy lacks of these slots and conditions (and the conditions' slots). */
async function load(
  tx: WarningTransaction,
  copy: RuleWorkingCopy,
  slots: readonly string[],
  conditions: readonly string[],
): Promise<void> {
  const asked = copy.missing(slots, conditions);
  if (!asked) return;
  await readWarnings(tx, copy, copy.absorb(asked, await tx.loadRuleRows(asked.slots, asked.conditions)));
}

async function readWarnings(
  tx: WarningTransaction,
  copy: RuleWorkingCopy,
  ids: readonly string[],
): Promise<void> {
  if (ids.length > 0) copy.absorbWarnings(ids, await tx.readWarnings(ids));
}

/**
 * Housekeeping: loads every window, correlation and condition pair (and the open rows they
 * refer to), calls `sweep` (expireWindows) and writes its changes, in one transaction.
 */
export async function sweepRuleState(
  store: WarningStore,
  sweep: (state: RuleState) => Evaluation,
): Promise<number> {
  return store.transact(async (tx) => {
    const { changes } = sweep(ruleStateOf(await tx.loadAllRuleRows()));
    await tx.apply({ rules: rowChangeWrites(changes) });
    return changes.length;
  });
}

/** The rule state the loaded rows make. */
export function ruleStateOf(rows: readonly LoadedRuleRow[]): RuleState {
  const state = emptyRuleState();
  for (const r of rows) {
    if (r.kind === 'pair') (state.conditions[r.cond] ??= []).push(r.slot);
    else if (r.kind !== 'slot') state[r.kind][r.slot] = JSON.parse(r.row) as never;
  }
  return state;
}

/** What a list of row changes leaves, as the store writes it (the last change of a row wins). */
export function rowChangeWrites(changes: readonly RowChange[]): RuleRowWrites {
  const rows = new Map<RuleTable, Map<string, string | null>>();
  const pairs = new Map<string, RulePair & { present: boolean }>();
  const slotsUnpaired: string[] = [];
  for (const change of changes) {
    if (change.table === 'slotConditions') {
      // Applied before the pairs: a pair changed before it is void, one changed after stands.
      slotsUnpaired.push(change.id);
      for (const [key, pair] of pairs) if (pair.slot === change.id) pairs.delete(key);
    } else if (change.table === 'conditions') {
      const pair = { cond: change.id, slot: change.slot, present: change.row !== null };
      pairs.delete(JSON.stringify([pair.cond, pair.slot]));
      pairs.set(JSON.stringify([pair.cond, pair.slot]), pair);
    } else {
      let table = rows.get(change.table);
      if (!table) rows.set(change.table, (table = new Map()));
      table.set(change.id, change.row === null ? null : JSON.stringify(change.row));
    }
  }
  const writes: RuleRowWrites = { rows: {}, slotsUnpaired, pairsGone: [], pairsAdded: [] };
  for (const [table, slots] of rows) {
    const entries = [...slots];
    writes.rows![table] = {
      gone: entries.filter(([, row]) => row === null).map(([slot]) => slot),
      kept: entries.flatMap(([slot, row]): [string, string][] => (row === null ? [] : [[slot, row]])),
    };
  }
  for (const { cond, slot, present } of pairs.values())
    (present ? writes.pairsAdded! : writes.pairsGone!).push({ cond, slot });
  return writes;
}
