import { emptyRuleState, type Evaluation, type RowChange, type RuleState } from '../rules/evaluate.js';
import { ruleNotifications } from '../notify/occasion.js';
import type { EvidenceRef, Warning } from '../store/warnings/records.js';
import {
  RULE_TABLES,
  type LoadedRuleRow,
  type RuleTable,
  type WarningWrites,
  type WarningWriteSet,
} from '../store/warnings/warning-store.js';
import { applyRuleEffect } from './apply-effects.js';
import type { RulesInput, RulesRunOptions, RulesRunResult } from './rules-batch.js';

/**
 * The working copy of one rules batch (runRulesBatch in rules-batch.ts): rule rows (parsed once: the
 * rules replace rows, never change one in place), condition pairs and warnings, read once, changed in memory by every step in turn (each
 * sees the previous one's writes) and written back once. Reading and writing per event costs
 * more than evaluating it, on either database. The store does the reading and writing in its own
 * dialect (WarningTransaction); this class only decides what to read and what is left to write.
 */
export class RuleWorkingCopy {
  /** Slot → row, null when the slot has none; a slot absent here is not loaded yet. */
  private readonly rows: { [T in RuleTable]: Map<string, RuleState[T][string] | null> } = {
    open: new Map(),
    windows: new Map(),
    correlations: new Map(),
  };
  private readonly dirty: Record<RuleTable, Set<string>> = {
    open: new Set(),
    windows: new Set(),
    correlations: new Set(),
  };
  /** Condition → its slots, for the conditions loaded. */
  private readonly pairs = new Map<string, string[]>();
  /** Final state of each (condition, slot) pair changed: condition → slot → present. */
  private readonly pairChanges = new Map<string, Map<string, boolean>>();
  private readonly warnings = new Map<string, Warning | undefined>();
  private readonly inserted = new Set<string>();
  private readonly updated = new Set<string>();
  private readonly outbox: NonNullable<WarningWrites['outbox']> = [];
  private readonly evidence: { warningId: string; ref: EvidenceRef }[] = [];
  private readonly startCursor: number;

  constructor(
    private cursor: number,
    private readonly options: RulesRunOptions,
  ) {
    this.startCursor = cursor;
  }

  /**
   * True when `input` is an event the rules have already seen (at or below the cursor); otherwise
   * an event moves the cursor to itself.
   */
  alreadySeen(input: RulesInput): boolean {
    if (input.kind !== 'event') return false;
    if (input.eventId <= this.cursor) return true;
    this.cursor = input.eventId;
    return false;
  }

  /** The slots and conditions of these not read yet: what the store must load before a snapshot. */
  missing(
    slots: readonly string[],
    conditions: readonly string[],
  ): { slots: string[]; conditions: string[] } | undefined {
    const missingConds = [...new Set(conditions)].filter((c) => !this.pairs.has(c));
    const missingSlots = [...new Set(slots)].filter((slot) => !this.rows.open.has(slot));
    if (missingConds.length === 0 && missingSlots.length === 0) return undefined;
    return { slots: missingSlots, conditions: missingConds };
  }

  /**
   * Takes in what the store read for `asked` (a `slot` row for every slot asked, and for every
   * slot of the conditions' pairs); returns the ids of open warnings not read yet.
   */
  absorb(asked: { slots: string[]; conditions: string[] }, rows: readonly LoadedRuleRow[]): string[] {
    for (const cond of asked.conditions) this.pairs.set(cond, []);
    const fresh = new Set<string>();
    for (const r of rows) {
      if (r.kind === 'pair') this.pairs.get(r.cond)!.push(r.slot);
      // A slot this batch has read already keeps its working value.
      else if (r.kind === 'slot' && !this.rows.open.has(r.slot)) {
        fresh.add(r.slot);
        for (const table of RULE_TABLES) this.rows[table].set(r.slot, null);
      }
    }
    for (const r of rows) {
      if (r.kind !== 'pair' && r.kind !== 'slot' && fresh.has(r.slot)) {
        this.rows[r.kind].set(r.slot, JSON.parse(r.row) as never);
      }
    }
    // Pairs this batch changed before it read their condition.
    for (const cond of asked.conditions) {
      for (const [slot, present] of this.pairChanges.get(cond) ?? []) this.applyPair(cond, slot, present);
    }
    return [...fresh]
      .map((slot) => this.rows.open.get(slot))
      .flatMap((row) => (row ? [row.warningId] : []))
      .filter((id) => !this.warnings.has(id));
  }

  /** Takes in the warnings read for `ids` (an id with no row has none). */
  absorbWarnings(ids: readonly string[], found: readonly Warning[]): void {
    for (const id of ids) this.warnings.set(id, undefined);
    for (const warning of found) this.warnings.set(warning.id, warning);
  }

  /** The slots the condition's pairs name: read them too before the snapshot. Loaded conditions only. */
  pairSlots(condition: string): string[] {
    return this.pairs.get(condition) ?? [];
  }

  /** The warnings an evaluation's effects touch that are not read yet. */
  unreadWarnings(evaluation: Evaluation): string[] {
    const ids = evaluation.effects.map((e) => (e.kind === 'open' ? e.warning.id : e.warningId));
    return [...new Set(ids)].filter((id) => !this.warnings.has(id));
  }

  /** What loadRuleState would read from the database, read from the working copy (loaded first). */
  snapshot(slots: readonly string[], condition: string): RuleState {
    const pairs = this.pairs.get(condition)!;
    const state = emptyRuleState();
    if (pairs.length > 0) state.conditions[condition] = [...pairs];
    for (const slot of new Set([...slots, ...pairs])) {
      const open = this.rows.open.get(slot);
      if (open) state.open[slot] = open;
      const window = this.rows.windows.get(slot);
      if (window) state.windows[slot] = window;
      const correlation = this.rows.correlations.get(slot);
      if (correlation) state.correlations[slot] = correlation;
    }
    return state;
  }

  /** Applies one step's evaluation (its warnings read first) and says what it opened and changed. */
  apply(evaluation: Evaluation): RulesRunResult {
    for (const change of evaluation.changes) this.change(change);
    const opened: string[] = [];
    const updated = new Set<string>();
    for (const effect of evaluation.effects) {
      const id = effect.kind === 'open' ? effect.warning.id : effect.warningId;
      const current = this.warnings.get(id);
      const next = applyRuleEffect(current, effect);
      if (!next) continue;
      this.warnings.set(id, next);
      if (!current) {
        this.inserted.add(id);
        opened.push(id);
      } else {
        if (!this.inserted.has(id)) this.updated.add(id);
        updated.add(id);
      }
      for (const entry of ruleNotifications(current, next, this.options.notify))
        this.outbox.push({ ...entry, warningId: id });
      for (const ref of effect.kind === 'open' ? effect.evidence : [effect.evidence])
        this.evidence.push({ warningId: id, ref });
    }
    return { opened, updated: [...updated].filter((id) => !opened.includes(id)) };
  }

  private change(change: RowChange): void {
    // evaluate() never releases a warning: releaseWarning's changes go through rowChangeWrites.
    if (change.table === 'slotConditions') throw new Error('a rules batch cannot release a warning');
    if (change.table === 'conditions') {
      this.applyPair(change.id, change.slot, change.row !== null);
      let slots = this.pairChanges.get(change.id);
      if (!slots) this.pairChanges.set(change.id, (slots = new Map()));
      slots.set(change.slot, change.row !== null);
      return;
    }
    this.rows[change.table].set(change.id, change.row as never);
    this.dirty[change.table].add(change.id);
  }

  private applyPair(cond: string, slot: string, present: boolean): void {
    const slots = this.pairs.get(cond);
    if (!slots) return;
    const at = slots.indexOf(slot);
    if (!present && at >= 0) slots.splice(at, 1);
    else if (present && at < 0) slots.push(slot);
  }

  /** Everything the batch changed, for the store to write back in one go at `now`. */
  writeSet(now: string): WarningWriteSet {
    const rows: NonNullable<NonNullable<WarningWriteSet['rules']>['rows']> = {};
    for (const table of RULE_TABLES) {
      const gone: string[] = [];
      const kept: [string, string][] = [];
      for (const slot of this.dirty[table]) {
        const row = this.rows[table].get(slot);
        if (row === null || row === undefined) gone.push(slot);
        else kept.push([slot, JSON.stringify(row)]);
      }
      rows[table] = { gone, kept };
    }
    const pairs = [...this.pairChanges].flatMap(([cond, slots]) =>
      [...slots].map(([slot, present]) => ({ cond, slot, present })),
    );
    return {
      rules: {
        rows,
        pairsGone: pairs.filter((p) => !p.present).map(({ cond, slot }) => ({ cond, slot })),
        pairsAdded: pairs.filter((p) => p.present).map(({ cond, slot }) => ({ cond, slot })),
      },
      warnings: {
        at: now,
        inserted: [...this.inserted].map((id) => this.warnings.get(id)!),
        updated: [...this.updated].map((id) => this.warnings.get(id)!),
        outbox: this.outbox,
        evidence: this.evidence,
      },
      cursor: this.cursor !== this.startCursor ? this.cursor : undefined,
    };
  }
}
