import type Database from 'better-sqlite3';
import {
  emptyRuleState,
  releaseWarning,
  type Evaluation,
  type RowChange,
  type RuleState,
} from '../rules/evaluate.js';
import { stepNotifications, type NotifyRoute, type OutboxEntry } from '../notify/occasion.js';
import type { Notice, NoticeRecipient, NoticeResult } from '../warnings/notices.js';
import type { Silence, SilenceResult } from '../warnings/silences.js';
import type { EvidenceRef, Warning } from '../warnings/warning.js';
import {
  WARNING_COLUMNS,
  docOf,
  evidenceConditionId,
  jsonOrNull,
  recipientValues,
  toEvidence,
  toNotice,
  toNotification,
  toSilence,
  toTransition,
  toWarning,
  warningValues,
  type EvidenceRow,
  type NoticeRow,
  type NotificationRow,
  type RecipientRow,
  type SilenceRow,
  type TransitionRow,
  type WarningRow,
} from './warning-rows.js';
import {
  RULE_TABLES,
  RuleWorkingCopy,
  type LoadedRuleRow,
  type RuleTable,
  type RuleWriteSet,
} from './rule-working-copy.js';
import type {
  EvaluateStep,
  EvidenceRecord,
  NotificationOutcome,
  NotificationRecord,
  RulesInput,
  RulesRunOptions,
  RulesRunResult,
  SilenceFilter,
  StoredSilence,
  WarningFilter,
  WarningStep,
  WarningStore,
} from './warning-store.js';

/** SQLite implementation of WarningStore on the collector's better-sqlite3 handle. */

function placeholders(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

export class SqliteWarningStore implements WarningStore {
  /** Prepared once: the rules stage runs these statements for every event. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  async runRules(
    input: RulesInput,
    evaluate: EvaluateStep,
    options: RulesRunOptions,
  ): Promise<RulesRunResult | undefined> {
    const [result] = await this.runRulesBatch([{ input, evaluate }], options);
    return result;
  }

  /** One transaction, on a working copy read once per slot and written back once (rule-working-copy.ts). */
  async runRulesBatch(
    steps: readonly { input: RulesInput; evaluate: EvaluateStep }[],
    options: RulesRunOptions,
  ): Promise<(RulesRunResult | undefined)[]> {
    return this.db
      .transaction(() => {
        const copy = new RuleWorkingCopy(this.rulesCursor(), options);
        const results = steps.map((step) => this.runStep(copy, step.input, step.evaluate, options));
        this.writeBack(copy.writeSet(), options.now);
        return results;
      })
      .immediate();
  }

  private runStep(
    copy: RuleWorkingCopy,
    input: RulesInput,
    evaluate: EvaluateStep,
    options: RulesRunOptions,
  ): RulesRunResult | undefined {
    if (copy.alreadySeen(input)) return undefined;
    let conditionId: number | undefined;
    if (input.kind === 'condition') {
      const c = input.condition;
      const result = this.sql(
        `INSERT INTO collector_conditions (type, state, key, unit, agent, severity, data, at, received_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        c.type,
        c.state,
        c.key,
        c.unit,
        c.agent ?? null,
        c.severity,
        JSON.stringify(c.data),
        c.at,
        options.now,
      );
      conditionId = Number(result.lastInsertRowid);
    }
    const { slots, condition } = input.needed;
    this.loadInto(copy, slots, [condition]);
    this.loadInto(copy, copy.pairSlots(condition), []);
    const evaluation = evaluate(copy.snapshot(slots, condition), conditionId);
    this.readWarningsInto(copy, copy.unreadWarnings(evaluation));
    return copy.apply(evaluation);
  }

  /** Reads what the working copy lacks of these slots and conditions (and the conditions' slots). */
  private loadInto(copy: RuleWorkingCopy, slots: readonly string[], conditions: readonly string[]): void {
    const asked = copy.missing(slots, conditions);
    if (!asked) return;
    const rows: LoadedRuleRow[] = [];
    const wanted = new Set(asked.slots);
    for (const cond of asked.conditions) {
      for (const { slot } of this.sql('SELECT slot FROM rule_conditions WHERE cond = ?').all(cond) as {
        slot: string;
      }[]) {
        rows.push({ kind: 'pair', cond, slot });
        wanted.add(slot);
      }
    }
    for (const slot of wanted) {
      rows.push({ kind: 'slot', slot });
      for (const table of Object.keys(RULE_TABLES) as RuleTable[]) {
        const found = this.sql(`SELECT row FROM ${RULE_TABLES[table]} WHERE slot = ?`).get(slot) as
          { row: string } | undefined;
        if (found) rows.push({ kind: table, slot, row: found.row });
      }
    }
    this.readWarningsInto(copy, copy.absorb(asked, rows));
  }

  private readWarningsInto(copy: RuleWorkingCopy, ids: readonly string[]): void {
    // The rules never touch the audit trail: skip reading it on this hot path.
    const found = ids.flatMap((id) => this.readWarning(id, false) ?? []);
    copy.absorbWarnings(ids, found);
  }

  /** Writes a batch's changes, warnings before the rows that refer to them. */
  private writeBack(changes: RuleWriteSet, now: string): void {
    for (const table of Object.keys(RULE_TABLES) as RuleTable[]) {
      for (const slot of changes.rows[table].gone) this.writeRowChange({ table, id: slot, row: null });
      for (const [slot, row] of changes.rows[table].kept) {
        this.sql(
          `INSERT INTO ${RULE_TABLES[table]} (slot, row) VALUES (?, ?) ON CONFLICT (slot) DO UPDATE SET row = excluded.row`,
        ).run(slot, row);
      }
    }
    for (const { cond, slot } of changes.pairsGone)
      this.writeRowChange({ table: 'conditions', id: cond, slot, row: null });
    for (const { cond, slot } of changes.pairsAdded)
      this.writeRowChange({ table: 'conditions', id: cond, slot, row: true });
    for (const warning of changes.insertedWarnings) this.insertWarning(warning, now);
    for (const warning of changes.updatedWarnings) this.updateWarningRow(warning, now);
    for (const { warningId, channel, occasion } of changes.outbox)
      this.insertNotifications(warningId, [{ channel, occasion }], now);
    for (const { warningId, ref } of changes.evidence) this.insertEvidence(warningId, ref);
    if (changes.cursor !== undefined)
      this.sql('UPDATE rule_cursor SET event_id = ? WHERE id = 1').run(changes.cursor);
  }

  async sweepRuleState(sweep: (state: RuleState) => Evaluation): Promise<number> {
    return this.db
      .transaction(() => {
        const state = emptyRuleState();
        const load = <T>(table: string) =>
          (this.sql(`SELECT slot, row FROM ${table}`).all() as { slot: string; row: string }[]).map(
            (r): [string, T] => [r.slot, JSON.parse(r.row) as T],
          );
        state.windows = Object.fromEntries(load<RuleState['windows'][string]>('rule_windows'));
        state.correlations = Object.fromEntries(load<RuleState['correlations'][string]>('rule_correlations'));
        state.open = Object.fromEntries(load<RuleState['open'][string]>('rule_open'));
        for (const { cond, slot } of this.sql('SELECT cond, slot FROM rule_conditions').all() as {
          cond: string;
          slot: string;
        }[]) {
          (state.conditions[cond] ??= []).push(slot);
        }
        const { changes } = sweep(state);
        for (const change of changes) this.writeRowChange(change);
        return changes.length;
      })
      .immediate();
  }

  async eventsAfterRulesCursor(limit: number): Promise<{ id: number; unit: string; envelope: string }[]> {
    return this.sql(
      `SELECT e.id, a.unit, e.envelope FROM events e JOIN agents a ON a.id = e.agent_id
         WHERE e.id > (SELECT event_id FROM rule_cursor WHERE id = 1) ORDER BY e.id LIMIT ?`,
    ).all(limit) as { id: number; unit: string; envelope: string }[];
  }

  async getWarning(id: string): Promise<Warning | undefined> {
    return this.readWarning(id);
  }

  async listWarnings(filter: WarningFilter): Promise<Warning[]> {
    const params: unknown[] = [];
    let where = '';
    const inList = (column: string, values: readonly string[] | undefined) => {
      if (values === undefined) return;
      if (values.length === 0) {
        where += ' AND 0';
        return;
      }
      where += ` AND ${column} IN (${placeholders(values)})`;
      params.push(...values);
    };
    inList('severity', filter.severities);
    inList('unit', filter.units);
    if (filter.after !== undefined) {
      // Spelled out (not a row value) because the order is mixed: last_seen down, id up.
      where += ' AND last_seen <= ? AND (last_seen < ? OR id > ?)';
      params.push(filter.after.lastSeen, filter.after.lastSeen, filter.after.id);
    }
    const offset = filter.offset ?? 0;
    const order = 'ORDER BY last_seen DESC, id';
    let rows: WarningRow[];
    if (filter.states === undefined) {
      rows = this.sql(
        `SELECT ${WARNING_COLUMNS} FROM warnings WHERE 1${where} ${order} LIMIT ? OFFSET ?`,
      ).all(...params, filter.limit, offset) as WarningRow[];
    } else if (filter.states.length === 0) {
      rows = [];
    } else {
      // One ordered read per state from warnings_state_last_seen_id, merged: a page costs at most
      // (limit + offset) rows per state, however many warnings are in other states. A single
      // `state IN (…)` would, without planner statistics, sort every warning of those states.
      const states = [...new Set(filter.states)];
      const perState = `SELECT * FROM (SELECT ${WARNING_COLUMNS} FROM warnings WHERE state = ?${where}
        ${order} LIMIT ?)`;
      rows = this.sql(`${states.map(() => perState).join(' UNION ALL ')} ${order} LIMIT ? OFFSET ?`).all(
        ...states.flatMap((state) => [state, ...params, filter.limit + offset]),
        filter.limit,
        offset,
      ) as WarningRow[];
    }
    return rows.map((row) => this.toWarning(row));
  }

  async listEvidence(warningId: string, limit: number): Promise<EvidenceRecord[]> {
    const rows = this.sql(
      `SELECT w.event_id, w.condition_id, w.agent, w.seq, w.ts, w.state, e.envelope,
                c.type AS c_type, c.key AS c_key, c.data AS c_data, c.at AS c_at
         FROM warning_evidence w
         LEFT JOIN events e ON e.id = w.event_id
         LEFT JOIN collector_conditions c ON c.id = w.condition_id
         WHERE w.warning_id = ? ORDER BY w.id LIMIT ?`,
    ).all(warningId, limit) as EvidenceRow[];
    return rows.map(toEvidence);
  }

  async updateWarning<R extends WarningStep>(
    id: string,
    decide: (warning: Warning) => R,
    notify?: NotifyRoute,
  ): Promise<R | undefined> {
    const step = this.db.transaction((): R | undefined => {
      const warning = this.readWarning(id);
      if (!warning) return undefined;
      const result = decide(warning);
      if (!result.ok) return result;
      const record = result.record;
      this.sql(
        `INSERT INTO warning_transitions (warning_id, action, from_state, to_state, by_name, by_role, by_unit, at, note,
             incident_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        id,
        record.action,
        record.from,
        record.to,
        record.by.name,
        record.by.role,
        record.by.unit,
        record.at,
        record.note,
        record.incidentId ?? null,
      );
      this.sql('UPDATE warnings SET state = ?, updated_at = ? WHERE id = ?').run(
        result.warning.state,
        record.at,
        id,
      );
      this.insertNotifications(id, stepNotifications(result, notify), record.at);
      if ('release' in result && result.release) {
        const state = this.loadRuleState([warning.slot], '');
        for (const change of releaseWarning(state, warning).changes) this.writeRowChange(change);
      }
      return result;
    });
    return step.immediate();
  }

  async addSilence(silence: Silence): Promise<void> {
    this.sql(
      `INSERT INTO silences (id, matcher, starts_at, ends_at, author, reason, created_at, approved_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      silence.id,
      JSON.stringify(silence.matcher),
      silence.startsAt,
      silence.endsAt,
      JSON.stringify(silence.author),
      silence.reason,
      silence.createdAt,
      jsonOrNull(silence.approvedBy),
    );
  }

  async getSilence(id: string): Promise<StoredSilence | undefined> {
    const row = this.sql('SELECT * FROM silences WHERE id = ?').get(id) as SilenceRow | undefined;
    return row ? toSilence(row) : undefined;
  }

  async listSilences(filter: SilenceFilter): Promise<StoredSilence[]> {
    const params: unknown[] = [];
    let where = '';
    if (filter.activeAt !== undefined) {
      where = ' AND ends_at > ? AND expired_by IS NULL';
      params.push(filter.activeAt);
    }
    params.push(filter.limit);
    const rows = this.sql(`SELECT * FROM silences WHERE 1${where} ORDER BY created_at DESC, id LIMIT ?`).all(
      ...params,
    ) as SilenceRow[];
    return rows.map(toSilence);
  }

  async updateSilence(
    id: string,
    decide: (silence: StoredSilence) => SilenceResult,
  ): Promise<SilenceResult | undefined> {
    const step = this.db.transaction((): SilenceResult | undefined => {
      const row = this.sql('SELECT * FROM silences WHERE id = ?').get(id) as SilenceRow | undefined;
      if (!row) return undefined;
      const result = decide(toSilence(row));
      if (result.ok) {
        const s = result.silence;
        this.sql(
          'UPDATE silences SET matcher = ?, starts_at = ?, ends_at = ?, reason = ?, approved_by = ? WHERE id = ?',
        ).run(JSON.stringify(s.matcher), s.startsAt, s.endsAt, s.reason, jsonOrNull(s.approvedBy), id);
      }
      return result;
    });
    return step.immediate();
  }

  async expireSilence(
    id: string,
    by: { name: string; role: string; unit: string | null },
    at: string,
  ): Promise<boolean> {
    const result = this.sql(
      `UPDATE silences SET expired_by = ?, ends_at = MIN(ends_at, ?)
         WHERE id = ? AND expired_by IS NULL AND ends_at > ?`,
    ).run(JSON.stringify({ ...by, at }), at, id, at);
    return result.changes === 1;
  }

  async addNotice(notice: Notice): Promise<void> {
    this.db.transaction(() => {
      this.sql(
        `INSERT INTO notices (id, title, text, required_action, deadline, issuer_unit, issued_by, issued_at, warning_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        notice.id,
        notice.title,
        notice.text,
        notice.requiredAction,
        notice.deadline,
        notice.issuerUnit,
        JSON.stringify(notice.issuedBy),
        notice.issuedAt,
        notice.warningId,
      );
      for (const recipient of notice.recipients) this.writeRecipient(notice.id, recipient, true);
    })();
  }

  async getNotice(id: string): Promise<Notice | undefined> {
    return this.readNotice(id);
  }

  async listNotices(filter: { units?: readonly string[]; limit: number }): Promise<Notice[]> {
    let ids: { id: string }[];
    if (filter.units === undefined) {
      ids = this.sql('SELECT id FROM notices ORDER BY issued_at DESC, id LIMIT ?').all(filter.limit) as {
        id: string;
      }[];
    } else if (filter.units.length === 0) {
      ids = [];
    } else {
      const units = filter.units;
      ids = this.sql(
        `SELECT id FROM notices WHERE issuer_unit IN (${placeholders(units)})
             OR id IN (SELECT notice_id FROM notice_recipients WHERE unit IN (${placeholders(units)}))
           ORDER BY issued_at DESC, id LIMIT ?`,
      ).all(...units, ...units, filter.limit) as { id: string }[];
    }
    return ids.map(({ id }) => this.readNotice(id)!);
  }

  async updateNotice(
    id: string,
    decide: (notice: Notice) => NoticeResult,
  ): Promise<NoticeResult | undefined> {
    const step = this.db.transaction((): NoticeResult | undefined => {
      const notice = this.readNotice(id);
      if (!notice) return undefined;
      const result = decide(notice);
      if (result.ok)
        for (const recipient of result.notice.recipients) this.writeRecipient(id, recipient, false);
      return result;
    });
    return step.immediate();
  }

  async dueNotifications(now: string, limit: number): Promise<NotificationRecord[]> {
    const rows = this.sql(
      `SELECT * FROM notifications WHERE state = 'pending' AND next_attempt_at <= ?
         ORDER BY next_attempt_at, id LIMIT ?`,
    ).all(now, limit) as NotificationRow[];
    return rows.map(toNotification);
  }

  async nextNotificationDue(): Promise<string | undefined> {
    const row = this.sql(
      `SELECT MIN(next_attempt_at) AS due FROM notifications WHERE state = 'pending'`,
    ).get() as { due: string | null };
    return row.due ?? undefined;
  }

  async finishNotification(id: number, outcome: NotificationOutcome): Promise<void> {
    if (outcome.state === 'sent') {
      this.sql(
        `UPDATE notifications SET state = 'sent', attempts = attempts + 1, done_at = ? WHERE id = ?`,
      ).run(outcome.at, id);
    } else if (outcome.state === 'muted') {
      this.sql(`UPDATE notifications SET state = 'muted', muted_by = ?, done_at = ? WHERE id = ?`).run(
        outcome.silenceId,
        outcome.at,
        id,
      );
    } else if (outcome.nextAttemptAt === null) {
      this.sql(
        `UPDATE notifications SET state = 'failed', attempts = attempts + 1, last_error = ?, done_at = ? WHERE id = ?`,
      ).run(outcome.error.slice(0, 1000), outcome.at, id);
    } else {
      this.sql(
        `UPDATE notifications SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?`,
      ).run(outcome.error.slice(0, 1000), outcome.nextAttemptAt, id);
    }
  }

  async listNotifications(filter: { warningId?: string; limit: number }): Promise<NotificationRecord[]> {
    const rows = (
      filter.warningId === undefined
        ? this.sql('SELECT * FROM notifications ORDER BY id LIMIT ?').all(filter.limit)
        : this.sql('SELECT * FROM notifications WHERE warning_id = ? ORDER BY id LIMIT ?').all(
            filter.warningId,
            filter.limit,
          )
    ) as NotificationRow[];
    return rows.map(toNotification);
  }

  // ── rows ────────────────────────────────────────────────────────────────────────────────

  private rulesCursor(): number {
    return (this.sql('SELECT event_id FROM rule_cursor WHERE id = 1').get() as { event_id: number }).event_id;
  }

  /** The snapshot an evaluation needs: the slots' rows, the condition's pairs and their slots' rows. */
  private loadRuleState(slots: readonly string[], condition: string): RuleState {
    const state = emptyRuleState();
    const pairs = this.sql('SELECT slot FROM rule_conditions WHERE cond = ?').all(condition) as {
      slot: string;
    }[];
    if (pairs.length > 0) state.conditions[condition] = pairs.map((p) => p.slot);
    const all = [...new Set([...slots, ...pairs.map((p) => p.slot)])];
    const open = this.sql('SELECT row FROM rule_open WHERE slot = ?');
    const windows = this.sql('SELECT row FROM rule_windows WHERE slot = ?');
    const correlations = this.sql('SELECT row FROM rule_correlations WHERE slot = ?');
    for (const slot of all) {
      const o = open.get(slot) as { row: string } | undefined;
      if (o) state.open[slot] = JSON.parse(o.row) as RuleState['open'][string];
      const w = windows.get(slot) as { row: string } | undefined;
      if (w) state.windows[slot] = JSON.parse(w.row) as RuleState['windows'][string];
      const c = correlations.get(slot) as { row: string } | undefined;
      if (c) state.correlations[slot] = JSON.parse(c.row) as RuleState['correlations'][string];
    }
    return state;
  }

  private writeRowChange(change: RowChange): void {
    if (change.table === 'slotConditions') {
      this.sql('DELETE FROM rule_conditions WHERE slot = ?').run(change.id);
      return;
    }
    if (change.table === 'conditions') {
      if (change.row === null) {
        this.sql('DELETE FROM rule_conditions WHERE cond = ? AND slot = ?').run(change.id, change.slot);
      } else {
        this.sql('INSERT INTO rule_conditions (cond, slot) VALUES (?, ?) ON CONFLICT DO NOTHING').run(
          change.id,
          change.slot,
        );
      }
      return;
    }
    const table = { open: 'rule_open', windows: 'rule_windows', correlations: 'rule_correlations' }[
      change.table
    ];
    if (change.row === null) this.sql(`DELETE FROM ${table} WHERE slot = ?`).run(change.id);
    else {
      this.sql(
        `INSERT INTO ${table} (slot, row) VALUES (?, ?) ON CONFLICT (slot) DO UPDATE SET row = excluded.row`,
      ).run(change.id, JSON.stringify(change.row));
    }
  }

  private readWarning(id: string, withHistory = true): Warning | undefined {
    const row = this.sql(`SELECT ${WARNING_COLUMNS} FROM warnings WHERE id = ?`).get(id) as
      WarningRow | undefined;
    return row ? this.toWarning(row, withHistory) : undefined;
  }

  private toWarning(row: WarningRow, withHistory = true): Warning {
    const history = !withHistory
      ? []
      : (
          this.sql(
            `SELECT action, from_state, to_state, by_name, by_role, by_unit, at, note, incident_id
           FROM warning_transitions WHERE warning_id = ? ORDER BY id`,
          ).all(row.id) as TransitionRow[]
        ).map(toTransition);
    return toWarning(row, history);
  }

  private insertWarning(w: Warning, now: string): void {
    this.sql(
      `INSERT INTO warnings (${WARNING_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(...warningValues(w, now));
  }

  private updateWarningRow(w: Warning, now: string): void {
    this.sql(
      `UPDATE warnings SET severity = ?, level = ?, count = ?, last_seen = ?, resolved_at = ?, doc = ?,
           updated_at = ? WHERE id = ?`,
    ).run(w.severity, w.level, w.count, w.lastSeen, w.resolvedAt, JSON.stringify(docOf(w)), now, w.id);
  }

  private insertNotifications(warningId: string, entries: readonly OutboxEntry[], now: string): void {
    for (const { channel, occasion } of entries) {
      this.sql(
        `INSERT INTO notifications (warning_id, channel, occasion, state, next_attempt_at, created_at)
             VALUES (?, ?, ?, 'pending', ?, ?) ON CONFLICT (warning_id, channel, occasion) DO NOTHING`,
      ).run(warningId, channel, occasion, now, now);
    }
  }

  private insertEvidence(warningId: string, ref: EvidenceRef): void {
    this.sql(
      `INSERT INTO warning_evidence (warning_id, event_id, condition_id, agent, seq, ts, state)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (warning_id, agent, seq) DO NOTHING`,
    ).run(warningId, ref.eventId ?? null, evidenceConditionId(ref), ref.agent, ref.seq, ref.ts, ref.state);
  }

  private readNotice(id: string): Notice | undefined {
    const row = this.sql('SELECT * FROM notices WHERE id = ?').get(id) as NoticeRow | undefined;
    if (!row) return undefined;
    const recipients = this.sql('SELECT * FROM notice_recipients WHERE notice_id = ? ORDER BY rowid').all(
      id,
    ) as RecipientRow[];
    return toNotice(row, recipients);
  }

  private writeRecipient(noticeId: string, r: NoticeRecipient, insert: boolean): void {
    const values = recipientValues(r);
    if (insert) {
      this.sql(
        `INSERT INTO notice_recipients (notice_id, unit, acknowledged_at, acknowledged_by, result, result_at, result_by)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(noticeId, r.unit, ...values);
    } else {
      this.sql(
        `UPDATE notice_recipients SET acknowledged_at = ?, acknowledged_by = ?, result = ?, result_at = ?, result_by = ?
           WHERE notice_id = ? AND unit = ?`,
      ).run(...values, noticeId, r.unit);
    }
  }
}
