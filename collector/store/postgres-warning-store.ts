import type pg from 'pg';
import {
  emptyRuleState,
  releaseWarning,
  type Evaluation,
  type RowChange,
  type RuleState,
} from '../rules/evaluate.js';
import { stepNotifications, type NotifyRoute, type OutboxEntry } from '../notify/occasion.js';
import type { Notice, NoticeResult } from '../warnings/notices.js';
import type { Silence, SilenceResult } from '../warnings/silences.js';
import type { Warning } from '../warnings/warning.js';
import { transaction } from './postgres-transaction.js';
import { RULE_TABLES, RuleWorkingCopy, type LoadedRuleRow, type RuleTable } from './rule-working-copy.js';
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

/** The advisory lock the events trigger takes shared; its first key is in the migration above. */
const RULES_HORIZON_LOCK = 0x736d6572;

export interface PostgresWarningStoreOptions {
  /** How long a claimed notification stays with its collector before another may send it. */
  notificationLeaseMs?: number;
}

type Db = pg.Pool | pg.PoolClient;

/**
 * WarningStore on PostgreSQL, for several collectors sharing one database (migration 2).
 *
 * - Rule evaluation is serialised by the lock on the `rule_cursor` row: every transaction that
 *   reads or writes rule state (runRules, sweeps, a final transition freeing a slot) takes it
 *   first, so two collectors seeing the same condition fold it into one warning.
 * - Event ids come from a sequence and commit out of order when collectors insert at once; a
 *   cursor moved past an id whose row is not yet visible would skip that event for good. Every
 *   insert into `events` holds a shared advisory lock from before it draws its id (a statement
 *   trigger), and the rules stage reads past the cursor under the exclusive one, so it sees every
 *   id below the highest it sees.
 * - The notification outbox is claimed (`FOR UPDATE SKIP LOCKED`, due time pushed out by a
 *   lease), so one collector delivers each row; a collector that dies mid-send leaves the row to
 *   another once the lease ends.
 */
export class PostgresWarningStore implements WarningStore {
  private readonly notificationLeaseMs: number;
  /** Outbox rows this collector claimed and has not finished: id → when it fell due, lease end. */
  private readonly claims = new Map<number, { dueAt: string; leaseEnd: string }>();

  constructor(
    private readonly pool: pg.Pool,
    options: PostgresWarningStoreOptions = {},
  ) {
    this.notificationLeaseMs = options.notificationLeaseMs ?? 5 * 60_000;
  }

  async runRules(
    input: RulesInput,
    evaluate: EvaluateStep,
    options: RulesRunOptions,
  ): Promise<RulesRunResult | undefined> {
    const [result] = await this.runRulesBatch([{ input, evaluate }], options);
    return result;
  }

  /**
   * The batch reads the rule rows and open warnings of all its steps in one query each, runs the
   * steps against that working copy (each sees the previous one's writes) and writes back once
   * per table: a round trip costs as much as a whole evaluation, so per-event queries would cap
   * the rules stage far below ingest.
   */
  async runRulesBatch(
    steps: readonly { input: RulesInput; evaluate: EvaluateStep }[],
    options: RulesRunOptions,
  ): Promise<(RulesRunResult | undefined)[]> {
    return transaction(this.pool, async (db) => {
      const batch = new RuleBatch(db, await lockRules(db), options);
      await batch.load(
        steps.flatMap((s) => s.input.needed.slots),
        steps.map((s) => s.input.needed.condition),
      );
      const results: (RulesRunResult | undefined)[] = [];
      for (const step of steps) results.push(await batch.run(step.input, step.evaluate));
      await batch.flush();
      return results;
    });
  }

  async sweepRuleState(sweep: (state: RuleState) => Evaluation): Promise<number> {
    return transaction(this.pool, async (db) => {
      await lockRules(db);
      const state = emptyRuleState();
      const { rows } = await db.query<{ kind: string; slot: string; row: string }>(
        `SELECT 'windows' AS kind, slot, row FROM rule_windows
         UNION ALL SELECT 'correlations', slot, row FROM rule_correlations
         UNION ALL SELECT 'open', slot, row FROM rule_open
         UNION ALL SELECT 'pair', slot, cond FROM rule_conditions
         ORDER BY 2`,
      );
      for (const r of rows) {
        if (r.kind === 'windows') state.windows[r.slot] = JSON.parse(r.row) as RuleState['windows'][string];
        else if (r.kind === 'correlations')
          state.correlations[r.slot] = JSON.parse(r.row) as RuleState['correlations'][string];
        else if (r.kind === 'open') state.open[r.slot] = JSON.parse(r.row) as RuleState['open'][string];
        else (state.conditions[r.row] ??= []).push(r.slot);
      }
      const { changes } = sweep(state);
      for (const change of changes) await writeRowChange(db, change);
      return changes.length;
    });
  }

  /**
   * Under the exclusive horizon lock no insert is between drawing an id and committing it, so
   * every event id at or below the highest one read here is either visible or never will be.
   */
  async eventsAfterRulesCursor(limit: number): Promise<{ id: number; unit: string; envelope: string }[]> {
    return transaction(this.pool, async (db) => {
      await db.query('SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))', [RULES_HORIZON_LOCK]);
      // A statement after the lock: READ COMMITTED gives it a snapshot with every such insert done.
      const { rows } = await db.query<{ id: number; unit: string; envelope: string }>(
        `SELECT e.id, a.unit, e.envelope FROM events e JOIN agents a ON a.id = e.agent_id
         WHERE e.id > COALESCE((SELECT event_id FROM rule_cursor WHERE id = 1), 0) ORDER BY e.id LIMIT $1`,
        [limit],
      );
      return rows;
    });
  }

  async getWarning(id: string): Promise<Warning | undefined> {
    return readWarning(this.pool, id);
  }

  async listWarnings(filter: WarningFilter): Promise<Warning[]> {
    const params: unknown[] = [];
    let where =
      anyOf('state', filter.states, params) +
      anyOf('severity', filter.severities, params) +
      anyOf('unit', filter.units, params);
    if (filter.after !== undefined) {
      // Spelled out (not a row value) because the order is mixed: last_seen down, id up.
      params.push(filter.after.lastSeen, filter.after.id);
      const [at, id] = [params.length - 1, params.length];
      where += ` AND last_seen <= $${at} AND (last_seen < $${at} OR id > $${id})`;
    }
    params.push(filter.limit, filter.offset ?? 0);
    const { rows } = await this.pool.query<WarningRow>(
      `SELECT ${WARNING_COLUMNS} FROM warnings WHERE TRUE${where}
       ORDER BY last_seen DESC, id LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    const history = await readHistory(
      this.pool,
      rows.map((r) => r.id),
    );
    return rows.map((row) => toWarning(row, history.get(row.id) ?? []));
  }

  async listEvidence(warningId: string, limit: number): Promise<EvidenceRecord[]> {
    const { rows } = await this.pool.query<EvidenceRow>(
      `SELECT w.event_id, w.condition_id, w.agent, w.seq, w.ts, w.state, e.envelope,
              c.type AS c_type, c.key AS c_key, c.data AS c_data, c.at AS c_at
       FROM warning_evidence w
       LEFT JOIN events e ON e.id = w.event_id
       LEFT JOIN collector_conditions c ON c.id = w.condition_id
       WHERE w.warning_id = $1 ORDER BY w.id LIMIT $2`,
      [warningId, limit],
    );
    return rows.map(toEvidence);
  }

  async updateWarning<R extends WarningStep>(
    id: string,
    decide: (warning: Warning) => R,
    notify?: NotifyRoute,
  ): Promise<R | undefined> {
    return transaction(this.pool, async (db): Promise<R | undefined> => {
      // Rules lock first, as runRules takes it before writing warnings: the same order everywhere
      // rules out a deadlock, and a final state can free the slot without a second lock.
      await lockRules(db);
      const { rows } = await db.query<WarningRow>(
        `SELECT ${WARNING_COLUMNS} FROM warnings WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (!rows[0]) return undefined;
      const warning = toWarning(rows[0], (await readHistory(db, [id])).get(id) ?? []);
      const result = decide(warning);
      if (!result.ok) return result;
      const record = result.record;
      await db.query(
        `INSERT INTO warning_transitions (warning_id, action, from_state, to_state, by_name, by_role, by_unit, at, note,
           incident_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
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
        ],
      );
      await db.query('UPDATE warnings SET state = $1, updated_at = $2 WHERE id = $3', [
        result.warning.state,
        record.at,
        id,
      ]);
      await insertNotifications(db, id, stepNotifications(result, notify), record.at);
      if ('release' in result && result.release) {
        const state = await loadRuleState(db, [warning.slot], '');
        for (const change of releaseWarning(state, warning).changes) await writeRowChange(db, change);
      }
      return result;
    });
  }

  async addSilence(silence: Silence): Promise<void> {
    await this.pool.query(
      `INSERT INTO silences (id, matcher, starts_at, ends_at, author, reason, created_at, approved_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        silence.id,
        JSON.stringify(silence.matcher),
        silence.startsAt,
        silence.endsAt,
        JSON.stringify(silence.author),
        silence.reason,
        silence.createdAt,
        jsonOrNull(silence.approvedBy),
      ],
    );
  }

  async getSilence(id: string): Promise<StoredSilence | undefined> {
    const { rows } = await this.pool.query<SilenceRow>('SELECT * FROM silences WHERE id = $1', [id]);
    return rows[0] ? toSilence(rows[0]) : undefined;
  }

  async listSilences(filter: SilenceFilter): Promise<StoredSilence[]> {
    const params: unknown[] = [];
    let where = '';
    if (filter.activeAt !== undefined) {
      params.push(filter.activeAt);
      where = ` AND ends_at > $${params.length} AND expired_by IS NULL`;
    }
    params.push(filter.limit);
    const { rows } = await this.pool.query<SilenceRow>(
      `SELECT * FROM silences WHERE TRUE${where} ORDER BY created_at DESC, id LIMIT $${params.length}`,
      params,
    );
    return rows.map(toSilence);
  }

  async updateSilence(
    id: string,
    decide: (silence: StoredSilence) => SilenceResult,
  ): Promise<SilenceResult | undefined> {
    return transaction(this.pool, async (db): Promise<SilenceResult | undefined> => {
      const { rows } = await db.query<SilenceRow>('SELECT * FROM silences WHERE id = $1 FOR UPDATE', [id]);
      if (!rows[0]) return undefined;
      const result = decide(toSilence(rows[0]));
      if (result.ok) {
        const s = result.silence;
        await db.query(
          'UPDATE silences SET matcher = $1, starts_at = $2, ends_at = $3, reason = $4, approved_by = $5 WHERE id = $6',
          [JSON.stringify(s.matcher), s.startsAt, s.endsAt, s.reason, jsonOrNull(s.approvedBy), id],
        );
      }
      return result;
    });
  }

  async expireSilence(
    id: string,
    by: { name: string; role: string; unit: string | null },
    at: string,
  ): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE silences SET expired_by = $1, ends_at = LEAST(ends_at, $2)
       WHERE id = $3 AND expired_by IS NULL AND ends_at > $2`,
      [JSON.stringify({ ...by, at }), at, id],
    );
    return result.rowCount === 1;
  }

  async addNotice(notice: Notice): Promise<void> {
    await transaction(this.pool, async (db) => {
      await db.query(
        `INSERT INTO notices (id, title, text, required_action, deadline, issuer_unit, issued_by, issued_at, warning_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          notice.id,
          notice.title,
          notice.text,
          notice.requiredAction,
          notice.deadline,
          notice.issuerUnit,
          JSON.stringify(notice.issuedBy),
          notice.issuedAt,
          notice.warningId,
        ],
      );
      for (const r of notice.recipients) {
        await db.query(
          `INSERT INTO notice_recipients (notice_id, unit, acknowledged_at, acknowledged_by, result, result_at, result_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [notice.id, r.unit, ...recipientValues(r)],
        );
      }
    });
  }

  async getNotice(id: string): Promise<Notice | undefined> {
    const [notice] = await readNotices(this.pool, [id]);
    return notice;
  }

  async listNotices(filter: { units?: readonly string[]; limit: number }): Promise<Notice[]> {
    const params: unknown[] = [];
    let where = '';
    if (filter.units !== undefined) {
      if (filter.units.length === 0) return [];
      params.push([...filter.units]);
      where = ` WHERE issuer_unit = ANY($1::text[])
        OR id IN (SELECT notice_id FROM notice_recipients WHERE unit = ANY($1::text[]))`;
    }
    params.push(filter.limit);
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM notices${where} ORDER BY issued_at DESC, id LIMIT $${params.length}`,
      params,
    );
    return readNotices(
      this.pool,
      rows.map((r) => r.id),
    );
  }

  async updateNotice(
    id: string,
    decide: (notice: Notice) => NoticeResult,
  ): Promise<NoticeResult | undefined> {
    return transaction(this.pool, async (db): Promise<NoticeResult | undefined> => {
      // The notice row lock orders two units answering at once; each sees the other's answer.
      const locked = await db.query('SELECT id FROM notices WHERE id = $1 FOR UPDATE', [id]);
      if (locked.rowCount !== 1) return undefined;
      const [notice] = await readNotices(db, [id]);
      const result = decide(notice!);
      if (result.ok) {
        for (const r of result.notice.recipients) {
          await db.query(
            `UPDATE notice_recipients SET acknowledged_at = $1, acknowledged_by = $2, result = $3, result_at = $4,
               result_by = $5 WHERE notice_id = $6 AND unit = $7`,
            [...recipientValues(r), id, r.unit],
          );
        }
      }
      return result;
    });
  }

  /**
   * Claims what is due: the rows come back with their due time moved out by the lease, so another
   * collector asking meanwhile skips them (locked rows are skipped, not waited for).
   */
  async dueNotifications(now: string, limit: number): Promise<NotificationRecord[]> {
    const leaseEnd = new Date(Date.parse(now) + this.notificationLeaseMs).toISOString();
    const { rows } = await this.pool.query<NotificationRow & { due_at: string }>(
      `WITH due AS (
         SELECT id, next_attempt_at AS due_at FROM notifications
         WHERE state = 'pending' AND next_attempt_at <= $1
         ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE notifications n SET next_attempt_at = $3 FROM due WHERE n.id = due.id
         RETURNING n.*, due.due_at
       )
       SELECT * FROM claimed ORDER BY due_at, id`,
      [now, limit, leaseEnd],
    );
    for (const row of rows) this.claims.set(row.id, { dueAt: row.due_at, leaseEnd });
    return rows.map(toNotification);
  }

  /**
   * Hands back what this collector claimed and has not finished (a send aborted by a stop), so
   * the next collector to look sends it at once instead of after the lease. A row whose lease
   * ran out and that another collector claimed since keeps that claim.
   */
  async releaseClaims(): Promise<void> {
    if (this.claims.size === 0) return;
    const claims = [...this.claims];
    this.claims.clear();
    await this.pool.query(
      `UPDATE notifications n SET next_attempt_at = c.due_at
       FROM UNNEST($1::bigint[], $2::text[], $3::text[]) AS c (id, due_at, lease_end)
       WHERE n.id = c.id AND n.state = 'pending' AND n.next_attempt_at = c.lease_end`,
      [claims.map(([id]) => id), claims.map(([, c]) => c.dueAt), claims.map(([, c]) => c.leaseEnd)],
    );
  }

  async nextNotificationDue(): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ due: string | null }>(
      `SELECT MIN(next_attempt_at) AS due FROM notifications WHERE state = 'pending'`,
    );
    return rows[0]?.due ?? undefined;
  }

  /** Only a pending row changes: a late answer from a collector whose lease ran out changes nothing done. */
  async finishNotification(id: number, outcome: NotificationOutcome): Promise<void> {
    this.claims.delete(id);
    if (outcome.state === 'sent') {
      await this.pool.query(
        `UPDATE notifications SET state = 'sent', attempts = attempts + 1, done_at = $1
         WHERE id = $2 AND state = 'pending'`,
        [outcome.at, id],
      );
    } else if (outcome.state === 'muted') {
      await this.pool.query(
        `UPDATE notifications SET state = 'muted', muted_by = $1, done_at = $2 WHERE id = $3 AND state = 'pending'`,
        [outcome.silenceId, outcome.at, id],
      );
    } else if (outcome.nextAttemptAt === null) {
      await this.pool.query(
        `UPDATE notifications SET state = 'failed', attempts = attempts + 1, last_error = $1, done_at = $2
         WHERE id = $3 AND state = 'pending'`,
        [outcome.error.slice(0, 1000), outcome.at, id],
      );
    } else {
      await this.pool.query(
        `UPDATE notifications SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2
         WHERE id = $3 AND state = 'pending'`,
        [outcome.error.slice(0, 1000), outcome.nextAttemptAt, id],
      );
    }
  }

  async listNotifications(filter: { warningId?: string; limit: number }): Promise<NotificationRecord[]> {
    const { rows } =
      filter.warningId === undefined
        ? await this.pool.query<NotificationRow>('SELECT * FROM notifications ORDER BY id LIMIT $1', [
            filter.limit,
          ])
        : await this.pool.query<NotificationRow>(
            'SELECT * FROM notifications WHERE warning_id = $1 ORDER BY id LIMIT $2',
            [filter.warningId, filter.limit],
          );
    return rows.map(toNotification);
  }
}

/** Reads and writes one runRulesBatch's working copy (rule-working-copy.ts) on PostgreSQL. */
class RuleBatch {
  private readonly copy: RuleWorkingCopy;

  constructor(
    private readonly db: pg.PoolClient,
    cursor: number,
    private readonly options: RulesRunOptions,
  ) {
    this.copy = new RuleWorkingCopy(cursor, options);
  }

  /** Reads the rows of `slots`, the pairs of `conditions` and their slots' rows, and their open warnings, in one query. */
  async load(slots: readonly string[], conditions: readonly string[]): Promise<void> {
    const asked = this.copy.missing(slots, conditions);
    if (!asked) return;
    const { rows } = await this.db.query<{ kind: string; slot: string; row: string }>(
      `WITH pairs AS (SELECT cond, slot FROM rule_conditions WHERE cond = ANY($2::text[])),
            wanted AS (SELECT UNNEST($1::text[]) COLLATE "C" AS slot UNION SELECT slot FROM pairs)
       SELECT 'pair' AS kind, slot, cond AS row FROM pairs
       UNION ALL SELECT 'slot', slot, NULL FROM wanted
       UNION ALL SELECT 'open', slot, row FROM rule_open WHERE slot IN (SELECT slot FROM wanted)
       UNION ALL SELECT 'windows', slot, row FROM rule_windows WHERE slot IN (SELECT slot FROM wanted)
       UNION ALL SELECT 'correlations', slot, row FROM rule_correlations WHERE slot IN (SELECT slot FROM wanted)
       ORDER BY 2`,
      [asked.slots, asked.conditions],
    );
    const loaded = rows.map((r): LoadedRuleRow => {
      if (r.kind === 'pair') return { kind: 'pair', cond: r.row, slot: r.slot };
      if (r.kind === 'slot') return { kind: 'slot', slot: r.slot };
      return { kind: r.kind as RuleTable, slot: r.slot, row: r.row };
    });
    await this.loadWarnings(this.copy.absorb(asked, loaded));
  }

  private async loadWarnings(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const { rows } = await this.db.query<WarningRow>(
      `SELECT ${WARNING_COLUMNS} FROM warnings WHERE id = ANY($1::text[])`,
      [[...ids]],
    );
    // The rules never touch the audit trail: it is not read on this hot path.
    this.copy.absorbWarnings(
      ids,
      rows.map((row) => toWarning(row, [])),
    );
  }

  async run(input: RulesInput, evaluate: EvaluateStep): Promise<RulesRunResult | undefined> {
    if (this.copy.alreadySeen(input)) return undefined;
    let conditionId: number | undefined;
    if (input.kind === 'condition') {
      const c = input.condition;
      const { rows } = await this.db.query<{ id: number }>(
        `INSERT INTO collector_conditions (type, state, key, unit, agent, severity, data, at, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
        [
          c.type,
          c.state,
          c.key,
          c.unit,
          c.agent ?? null,
          c.severity,
          JSON.stringify(c.data),
          c.at,
          this.options.now,
        ],
      );
      conditionId = rows[0]!.id;
    }
    const { slots, condition } = input.needed;
    await this.load(slots, [condition]);
    await this.load(this.copy.pairSlots(condition), []);
    const evaluation = evaluate(this.copy.snapshot(slots, condition), conditionId);
    await this.loadWarnings(this.copy.unreadWarnings(evaluation));
    return this.copy.apply(evaluation);
  }

  /** Writes the batch back: one statement per table, warnings before the rows that refer to them. */
  async flush(): Promise<void> {
    const db = this.db;
    const now = this.options.now;
    const changes = this.copy.writeSet();
    for (const table of Object.keys(RULE_TABLES) as RuleTable[]) {
      const { gone, kept } = changes.rows[table];
      if (gone.length > 0)
        await db.query(`DELETE FROM ${RULE_TABLES[table]} WHERE slot = ANY($1::text[])`, [gone]);
      if (kept.length > 0) {
        await db.query(
          `INSERT INTO ${RULE_TABLES[table]} (slot, row) SELECT * FROM UNNEST($1::text[], $2::text[])
           ON CONFLICT (slot) DO UPDATE SET row = EXCLUDED.row`,
          [kept.map(([slot]) => slot), kept.map(([, row]) => row)],
        );
      }
    }
    const { pairsGone: gone, pairsAdded: added } = changes;
    if (gone.length > 0) {
      await db.query(
        `DELETE FROM rule_conditions r USING UNNEST($1::text[], $2::text[]) AS g (cond, slot)
         WHERE r.cond = g.cond AND r.slot = g.slot`,
        [gone.map((c) => c.cond), gone.map((c) => c.slot)],
      );
    }
    if (added.length > 0) {
      await db.query(
        `INSERT INTO rule_conditions (cond, slot) SELECT * FROM UNNEST($1::text[], $2::text[]) ON CONFLICT DO NOTHING`,
        [added.map((c) => c.cond), added.map((c) => c.slot)],
      );
    }
    for (const warning of changes.insertedWarnings) {
      await db.query(
        `INSERT INTO warnings (${WARNING_COLUMNS}, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
        warningValues(warning, now),
      );
    }
    if (changes.updatedWarnings.length > 0) {
      const changed = changes.updatedWarnings;
      await db.query(
        `UPDATE warnings w SET severity = u.severity, level = u.level, count = u.count, last_seen = u.last_seen,
           resolved_at = u.resolved_at, doc = u.doc, updated_at = $8
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[])
           AS u (id, severity, level, count, last_seen, resolved_at, doc)
         WHERE w.id = u.id`,
        [
          changed.map((w) => w.id),
          changed.map((w) => w.severity),
          changed.map((w) => w.level),
          changed.map((w) => w.count),
          changed.map((w) => w.lastSeen),
          changed.map((w) => w.resolvedAt),
          changed.map((w) => JSON.stringify(docOf(w))),
          now,
        ],
      );
    }
    if (changes.outbox.length > 0) {
      await db.query(
        `INSERT INTO notifications (warning_id, channel, occasion, state, next_attempt_at, created_at)
         SELECT o.warning_id, o.channel, o.occasion, 'pending', $4, $4
         FROM UNNEST($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS o (warning_id, channel, occasion, n)
         ORDER BY o.n
         ON CONFLICT (warning_id, channel, occasion) DO NOTHING`,
        [
          changes.outbox.map((o) => o.warningId),
          changes.outbox.map((o) => o.channel),
          changes.outbox.map((o) => o.occasion),
          now,
        ],
      );
    }
    if (changes.evidence.length > 0) {
      const refs = changes.evidence;
      await db.query(
        `INSERT INTO warning_evidence (warning_id, event_id, condition_id, agent, seq, ts, state)
         SELECT e.warning_id, e.event_id, e.condition_id, e.agent, e.seq, e.ts, e.state
         FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::text[])
           WITH ORDINALITY AS e (warning_id, event_id, condition_id, agent, seq, ts, state, n)
         ORDER BY e.n
         ON CONFLICT (warning_id, agent, seq) DO NOTHING`,
        [
          refs.map((e) => e.warningId),
          refs.map((e) => e.ref.eventId ?? null),
          refs.map((e) => evidenceConditionId(e.ref)),
          refs.map((e) => e.ref.agent),
          refs.map((e) => e.ref.seq),
          refs.map((e) => e.ref.ts),
          refs.map((e) => e.ref.state),
        ],
      );
    }
    if (changes.cursor !== undefined) {
      await db.query('UPDATE rule_cursor SET event_id = $1 WHERE id = 1', [changes.cursor]);
    }
  }
}

// ── rows ──────────────────────────────────────────────────────────────────────────────────

/**
 * Takes the rule-state lock for this transaction and returns the rules cursor. An upsert rather
 * than SELECT … FOR UPDATE: it locks the row just the same and recreates it should it be missing.
 */
async function lockRules(db: pg.PoolClient): Promise<number> {
  const { rows } = await db.query<{ event_id: number }>(
    `INSERT INTO rule_cursor (id, event_id) VALUES (1, 0)
     ON CONFLICT (id) DO UPDATE SET event_id = rule_cursor.event_id RETURNING event_id`,
  );
  return rows[0]!.event_id;
}

function anyOf(column: string, values: readonly string[] | undefined, params: unknown[]): string {
  if (values === undefined) return '';
  if (values.length === 0) return ' AND FALSE';
  params.push([...values]);
  return ` AND ${column} = ANY($${params.length}::text[])`;
}

/** The snapshot an evaluation needs: the slots' rows, the condition's pairs and their slots' rows, in one query. */
async function loadRuleState(db: Db, slots: readonly string[], condition: string): Promise<RuleState> {
  const state = emptyRuleState();
  const { rows } = await db.query<{ kind: string; slot: string; row: string | null }>(
    `WITH pairs AS (SELECT slot FROM rule_conditions WHERE cond = $2),
          wanted AS (SELECT UNNEST($1::text[]) COLLATE "C" AS slot UNION SELECT slot FROM pairs)
     SELECT 'pair' AS kind, slot, NULL AS row FROM pairs
     UNION ALL SELECT 'open', slot, row FROM rule_open WHERE slot IN (SELECT slot FROM wanted)
     UNION ALL SELECT 'windows', slot, row FROM rule_windows WHERE slot IN (SELECT slot FROM wanted)
     UNION ALL SELECT 'correlations', slot, row FROM rule_correlations WHERE slot IN (SELECT slot FROM wanted)
     ORDER BY 2`,
    [[...slots], condition],
  );
  for (const r of rows) {
    if (r.kind === 'pair') (state.conditions[condition] ??= []).push(r.slot);
    else if (r.kind === 'open') state.open[r.slot] = JSON.parse(r.row!) as RuleState['open'][string];
    else if (r.kind === 'windows') state.windows[r.slot] = JSON.parse(r.row!) as RuleState['windows'][string];
    else state.correlations[r.slot] = JSON.parse(r.row!) as RuleState['correlations'][string];
  }
  return state;
}

async function writeRowChange(db: pg.PoolClient, change: RowChange): Promise<void> {
  if (change.table === 'slotConditions') {
    await db.query('DELETE FROM rule_conditions WHERE slot = $1', [change.id]);
    return;
  }
  if (change.table === 'conditions') {
    if (change.row === null) {
      await db.query('DELETE FROM rule_conditions WHERE cond = $1 AND slot = $2', [change.id, change.slot]);
    } else {
      await db.query('INSERT INTO rule_conditions (cond, slot) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        change.id,
        change.slot,
      ]);
    }
    return;
  }
  const table = { open: 'rule_open', windows: 'rule_windows', correlations: 'rule_correlations' }[
    change.table
  ];
  if (change.row === null) await db.query(`DELETE FROM ${table} WHERE slot = $1`, [change.id]);
  else {
    await db.query(
      `INSERT INTO ${table} (slot, row) VALUES ($1, $2) ON CONFLICT (slot) DO UPDATE SET row = EXCLUDED.row`,
      [change.id, JSON.stringify(change.row)],
    );
  }
}

async function readWarning(db: Db, id: string): Promise<Warning | undefined> {
  const { rows } = await db.query<WarningRow>(`SELECT ${WARNING_COLUMNS} FROM warnings WHERE id = $1`, [id]);
  return rows[0] ? toWarning(rows[0], (await readHistory(db, [id])).get(id) ?? []) : undefined;
}

/** The audit trails of several warnings in one query. */
async function readHistory(
  db: Db,
  ids: readonly string[],
): Promise<Map<string, ReturnType<typeof toTransition>[]>> {
  const history = new Map<string, ReturnType<typeof toTransition>[]>();
  if (ids.length === 0) return history;
  const { rows } = await db.query<TransitionRow & { warning_id: string }>(
    `SELECT warning_id, action, from_state, to_state, by_name, by_role, by_unit, at, note, incident_id
     FROM warning_transitions WHERE warning_id = ANY($1::text[]) ORDER BY id`,
    [[...ids]],
  );
  for (const row of rows) {
    let list = history.get(row.warning_id);
    if (!list) history.set(row.warning_id, (list = []));
    list.push(toTransition(row));
  }
  return history;
}

async function insertNotifications(
  db: pg.PoolClient,
  warningId: string,
  entries: readonly OutboxEntry[],
  now: string,
): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `INSERT INTO notifications (warning_id, channel, occasion, state, next_attempt_at, created_at)
     SELECT $1, entry.channel, entry.occasion, 'pending', $4, $4
     FROM UNNEST($2::text[], $3::text[]) AS entry (channel, occasion)
     ON CONFLICT (warning_id, channel, occasion) DO NOTHING`,
    [warningId, entries.map((e) => e.channel), entries.map((e) => e.occasion), now],
  );
}

/** Notices with their recipients, in the order of `ids`; two queries whatever the number. */
async function readNotices(db: Db, ids: readonly string[]): Promise<Notice[]> {
  if (ids.length === 0) return [];
  const notices = await db.query<NoticeRow>('SELECT * FROM notices WHERE id = ANY($1::text[])', [[...ids]]);
  const recipients = await db.query<RecipientRow>(
    'SELECT * FROM notice_recipients WHERE notice_id = ANY($1::text[]) ORDER BY position',
    [[...ids]],
  );
  const byId = new Map(notices.rows.map((row) => [row.id, row]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    return row
      ? [
          toNotice(
            row,
            recipients.rows.filter((r) => r.notice_id === id),
          ),
        ]
      : [];
  });
}
