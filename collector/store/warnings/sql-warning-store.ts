import type { Database } from '../sql/database.js';
import { dialectText, forUpdate, join, list, raw, sql, when, type Query } from '../sql/query.js';
import type {
  Actor,
  EvidenceRecord,
  EvidenceRef,
  Notice,
  NoticeRecipient,
  NotificationOutcome,
  NotificationRecord,
  Silence,
  StoredSilence,
  Warning,
} from './records.js';
import {
  lockRules,
  SqlWarningTransaction,
  WARNING_COLUMNS,
  withHistory,
  type WarningRow,
} from './sql-warning-transaction.js';
import type {
  Decision,
  SilenceFilter,
  WarningFilter,
  WarningStore,
  WarningTransaction,
} from './warning-store.js';

interface EvidenceRow {
  event_id: number | null;
  condition_id: number | null;
  agent: string;
  seq: number;
  ts: string;
  state: string;
  envelope: string | null;
  c_type: string | null;
  c_key: string | null;
  c_data: string | null;
  c_at: string | null;
}

interface SilenceRow {
  id: string;
  matcher: string;
  starts_at: string;
  ends_at: string;
  author: string;
  reason: string;
  created_at: string;
  approved_by: string | null;
  expired_by: string | null;
}

interface NoticeRow {
  id: string;
  title: string;
  text: string;
  required_action: string;
  deadline: string;
  issuer_unit: string | null;
  issued_by: string;
  issued_at: string;
  warning_id: string | null;
}

interface RecipientRow {
  notice_id: string;
  unit: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  result: string | null;
  result_at: string | null;
  result_by: string | null;
}

export interface NotificationRow {
  id: number;
  warning_id: string;
  channel: string;
  occasion: string;
  state: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  done_at: string | null;
  muted_by: string | null;
}

function parseJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

/** JSON text for a nullable column. */
function jsonOrNull(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
}

function toEvidence(row: EvidenceRow): EvidenceRecord {
  const record: EvidenceRecord = {
    agent: row.agent,
    seq: Number(row.seq),
    ts: row.ts,
    state: row.state as EvidenceRef['state'],
  };
  if (row.event_id !== null) record.eventId = Number(row.event_id);
  if (row.envelope !== null) record.envelope = row.envelope;
  if (row.condition_id !== null && row.c_type !== null) {
    record.condition = {
      id: Number(row.condition_id),
      type: row.c_type,
      key: row.c_key ?? '',
      data: JSON.parse(row.c_data ?? '{}') as Record<string, unknown>,
      at: row.c_at ?? row.ts,
    };
  }
  return record;
}

function toSilence(row: SilenceRow): StoredSilence {
  return {
    id: row.id,
    matcher: JSON.parse(row.matcher) as Silence['matcher'],
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    author: JSON.parse(row.author) as Actor,
    reason: row.reason,
    createdAt: row.created_at,
    approvedBy: parseJson<Silence['approvedBy']>(row.approved_by),
    expiredBy: parseJson<StoredSilence['expiredBy']>(row.expired_by),
  };
}

function toNotice(row: NoticeRow, recipients: readonly RecipientRow[]): Notice {
  return {
    id: row.id,
    title: row.title,
    text: row.text,
    requiredAction: row.required_action,
    deadline: row.deadline,
    issuerUnit: row.issuer_unit,
    issuedBy: JSON.parse(row.issued_by) as Actor,
    issuedAt: row.issued_at,
    warningId: row.warning_id,
    recipients: recipients.map((r): NoticeRecipient => ({
      unit: r.unit,
      acknowledgedAt: r.acknowledged_at,
      acknowledgedBy: parseJson<Actor>(r.acknowledged_by),
      result: r.result,
      resultAt: r.result_at,
      resultBy: parseJson<Actor>(r.result_by),
    })),
  };
}

export function toNotification(row: NotificationRow): NotificationRecord {
  return {
    id: Number(row.id),
    warningId: row.warning_id,
    channel: row.channel,
    occasion: row.occasion,
    state: row.state as NotificationRecord['state'],
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    doneAt: row.done_at,
    mutedBy: row.muted_by,
  };
}

/** `AND column IN (…)` when `values` is given; an empty list matches nothing. */
function inList(column: 'severity' | 'unit', values: readonly string[] | undefined): Query {
  return values === undefined ? sql`` : sql` AND ${raw(column)} IN ${list(values)}`;
}

/** Recipients keep the order the notice named them in: SQLite's rowid, PostgreSQL's position column. */
const RECIPIENT_ORDER = dialectText({ sqlite: 'rowid', postgres: 'position' });

/** Stored events past the rules cursor, oldest first, with the unit of the agent that sent each. */
export function eventsAfterCursor(limit: number): Query {
  return sql`SELECT e.id, a.unit, e.envelope FROM events e JOIN agents a ON a.id = e.agent_id
    WHERE e.id > COALESCE((SELECT event_id FROM rule_cursor WHERE id = 1), 0) ORDER BY e.id LIMIT ${limit}`;
}

/**
 * WarningStore in either database, written once over Database. What is one database's own sits
 * beside it: postgres-warning-store.ts (the event horizon lock, the outbox claims) and
 * postgres-warning-transaction.ts (a batch's reads and writes in one round trip each).
 */
export class SqlWarningStore implements WarningStore {
  constructor(protected readonly db: Database) {}

  async transact<T>(work: (tx: WarningTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => work(this.openTransaction(tx, await lockRules(tx))));
  }

  protected openTransaction(tx: Database, cursor: number): WarningTransaction {
    return new SqlWarningTransaction(tx, cursor);
  }

  async eventsAfterRulesCursor(limit: number): Promise<{ id: number; unit: string; envelope: string }[]> {
    return this.db.all(eventsAfterCursor(limit));
  }

  async getWarning(id: string): Promise<Warning | undefined> {
    const row = await this.db.get<WarningRow>(sql`SELECT ${WARNING_COLUMNS} FROM warnings WHERE id = ${id}`);
    return row ? (await withHistory(this.db, [row]))[0] : undefined;
  }

  async listWarnings(filter: WarningFilter): Promise<Warning[]> {
    let where = sql`${inList('severity', filter.severities)}${inList('unit', filter.units)}`;
    if (filter.after !== undefined) {
      // Spelled out (not a row value) because the order is mixed: last_seen down, id up.
      const { lastSeen, id } = filter.after;
      where = sql`${where} AND last_seen <= ${lastSeen} AND (last_seen < ${lastSeen} OR id > ${id})`;
    }
    const offset = filter.offset ?? 0;
    const order = sql`ORDER BY last_seen DESC, id`;
    if (filter.states?.length === 0) return [];
    let rows: WarningRow[];
    if (filter.states === undefined) {
      rows = await this.db.all<WarningRow>(
        sql`SELECT ${WARNING_COLUMNS} FROM warnings WHERE TRUE${where} ${order} LIMIT ${filter.limit} OFFSET ${offset}`,
      );
    } else {
      // One ordered read per state (warnings_state_last_seen_id on SQLite), merged: a page costs at
      // most (limit + offset) rows per state, however many warnings are in other states. A single
      // `state IN (…)` would, without planner statistics, sort every warning of those states.
      const perState = [...new Set(filter.states)].map(
        (state, i) =>
          sql`SELECT * FROM (SELECT ${WARNING_COLUMNS} FROM warnings WHERE state = ${state}${where}
                ${order} LIMIT ${filter.limit + offset}) AS ${raw(`s${i}`)}`,
      );
      rows = await this.db.all<WarningRow>(
        sql`${join(perState, ' UNION ALL ')} ${order} LIMIT ${filter.limit} OFFSET ${offset}`,
      );
    }
    return withHistory(this.db, rows);
  }

  async listEvidence(warningId: string, limit: number): Promise<EvidenceRecord[]> {
    const rows = await this.db.all<EvidenceRow>(
      sql`SELECT w.event_id, w.condition_id, w.agent, w.seq, w.ts, w.state, e.envelope,
            c.type AS c_type, c.key AS c_key, c.data AS c_data, c.at AS c_at
          FROM warning_evidence w
          LEFT JOIN events e ON e.id = w.event_id
          LEFT JOIN collector_conditions c ON c.id = w.condition_id
          WHERE w.warning_id = ${warningId} ORDER BY w.id LIMIT ${limit}`,
    );
    return rows.map(toEvidence);
  }

  async addSilence(silence: Silence): Promise<void> {
    await this.db.run(
      sql`INSERT INTO silences (id, matcher, starts_at, ends_at, author, reason, created_at, approved_by)
          VALUES (${silence.id}, ${JSON.stringify(silence.matcher)}, ${silence.startsAt}, ${silence.endsAt},
            ${JSON.stringify(silence.author)}, ${silence.reason}, ${silence.createdAt},
            ${jsonOrNull(silence.approvedBy)})`,
    );
  }

  async getSilence(id: string): Promise<StoredSilence | undefined> {
    const row = await this.db.get<SilenceRow>(sql`SELECT * FROM silences WHERE id = ${id}`);
    return row ? toSilence(row) : undefined;
  }

  async listSilences(filter: SilenceFilter): Promise<StoredSilence[]> {
    const active = filter.activeAt;
    const rows = await this.db.all<SilenceRow>(
      sql`SELECT * FROM silences WHERE TRUE
          ${when(active !== undefined, sql`AND ends_at > ${active} AND expired_by IS NULL`)}
          ORDER BY created_at DESC, id LIMIT ${filter.limit}`,
    );
    return rows.map(toSilence);
  }

  async updateSilence<R extends Decision<'silence', Silence>>(
    id: string,
    decide: (silence: StoredSilence) => R,
  ): Promise<R | undefined> {
    return this.db.transaction(async (tx) => {
      const row = await tx.get<SilenceRow>(sql`SELECT * FROM silences WHERE id = ${id}${forUpdate}`);
      if (!row) return undefined;
      const result = decide(toSilence(row));
      if (result.ok) {
        const s = (result as { silence: Silence }).silence;
        await tx.run(
          sql`UPDATE silences SET matcher = ${JSON.stringify(s.matcher)}, starts_at = ${s.startsAt},
                ends_at = ${s.endsAt}, reason = ${s.reason}, approved_by = ${jsonOrNull(s.approvedBy)}
              WHERE id = ${id}`,
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
    const { changes } = await this.db.run(
      sql`UPDATE silences SET expired_by = ${JSON.stringify({ ...by, at })},
            ends_at = CASE WHEN ends_at < ${at} THEN ends_at ELSE ${at} END
          WHERE id = ${id} AND expired_by IS NULL AND ends_at > ${at}`,
    );
    return changes === 1;
  }

  async addNotice(notice: Notice): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(
        sql`INSERT INTO notices (id, title, text, required_action, deadline, issuer_unit, issued_by, issued_at,
              warning_id)
            VALUES (${notice.id}, ${notice.title}, ${notice.text}, ${notice.requiredAction}, ${notice.deadline},
              ${notice.issuerUnit}, ${JSON.stringify(notice.issuedBy)}, ${notice.issuedAt}, ${notice.warningId})`,
      );
      for (const r of notice.recipients) {
        await tx.run(
          sql`INSERT INTO notice_recipients (notice_id, unit, acknowledged_at, acknowledged_by, result, result_at,
                result_by)
              VALUES (${notice.id}, ${r.unit}, ${r.acknowledgedAt}, ${jsonOrNull(r.acknowledgedBy)}, ${r.result},
                ${r.resultAt}, ${jsonOrNull(r.resultBy)})`,
        );
      }
    });
  }

  async getNotice(id: string): Promise<Notice | undefined> {
    const [notice] = await readNotices(this.db, [id]);
    return notice;
  }

  async listNotices(filter: { units?: readonly string[]; limit: number }): Promise<Notice[]> {
    const units = filter.units;
    if (units?.length === 0) return [];
    const rows = await this.db.all<{ id: string }>(
      sql`SELECT id FROM notices
          ${when(
            units !== undefined,
            sql`WHERE issuer_unit IN ${list(units ?? [])}
                  OR id IN (SELECT notice_id FROM notice_recipients WHERE unit IN ${list(units ?? [])})`,
          )}
          ORDER BY issued_at DESC, id LIMIT ${filter.limit}`,
    );
    return readNotices(
      this.db,
      rows.map((r) => r.id),
    );
  }

  async updateNotice<R extends Decision<'notice', Notice>>(
    id: string,
    decide: (notice: Notice) => R,
  ): Promise<R | undefined> {
    return this.db.transaction(async (tx) => {
      // The notice row lock orders two units answering at once; each sees the other's answer.
      const locked = await tx.get(sql`SELECT id FROM notices WHERE id = ${id}${forUpdate}`);
      if (!locked) return undefined;
      const [notice] = await readNotices(tx, [id]);
      const result = decide(notice!);
      if (result.ok) {
        for (const r of (result as { notice: Notice }).notice.recipients) {
          await tx.run(
            sql`UPDATE notice_recipients SET acknowledged_at = ${r.acknowledgedAt},
                  acknowledged_by = ${jsonOrNull(r.acknowledgedBy)}, result = ${r.result},
                  result_at = ${r.resultAt}, result_by = ${jsonOrNull(r.resultBy)}
                WHERE notice_id = ${id} AND unit = ${r.unit}`,
          );
        }
      }
      return result;
    });
  }

  /** Per dialect: on PostgreSQL a collector claims what it hands out (postgres-warning-store.ts). */
  async dueNotifications(now: string, limit: number): Promise<NotificationRecord[]> {
    const rows = await this.db.all<NotificationRow>(
      sql`SELECT * FROM notifications WHERE state = 'pending' AND next_attempt_at <= ${now}
          ORDER BY next_attempt_at, id LIMIT ${limit}`,
    );
    return rows.map(toNotification);
  }

  async nextNotificationDue(): Promise<string | undefined> {
    const row = await this.db.get<{ due: string | null }>(
      sql`SELECT MIN(next_attempt_at) AS due FROM notifications WHERE state = 'pending'`,
    );
    return row?.due ?? undefined;
  }

  /** Only a pending row changes: a late answer (a collector whose lease ran out) changes nothing done. */
  async finishNotification(id: number, outcome: NotificationOutcome): Promise<void> {
    let set: Query;
    if (outcome.state === 'sent') set = sql`state = 'sent', attempts = attempts + 1, done_at = ${outcome.at}`;
    else if (outcome.state === 'muted')
      set = sql`state = 'muted', muted_by = ${outcome.silenceId}, done_at = ${outcome.at}`;
    else if (outcome.nextAttemptAt === null) {
      set = sql`state = 'failed', attempts = attempts + 1, last_error = ${outcome.error.slice(0, 1000)},
        done_at = ${outcome.at}`;
    } else {
      set = sql`attempts = attempts + 1, last_error = ${outcome.error.slice(0, 1000)},
        next_attempt_at = ${outcome.nextAttemptAt}`;
    }
    await this.db.run(sql`UPDATE notifications SET ${set} WHERE id = ${id} AND state = 'pending'`);
  }

  async listNotifications(filter: { warningId?: string; limit: number }): Promise<NotificationRecord[]> {
    const rows = await this.db.all<NotificationRow>(
      sql`SELECT * FROM notifications
          ${when(filter.warningId !== undefined, sql`WHERE warning_id = ${filter.warningId}`)}
          ORDER BY id LIMIT ${filter.limit}`,
    );
    return rows.map(toNotification);
  }
}

/** Notices with their recipients, in the order of `ids`; two queries whatever the number. */
async function readNotices(db: Database, ids: readonly string[]): Promise<Notice[]> {
  if (ids.length === 0) return [];
  const notices = await db.all<NoticeRow>(sql`SELECT * FROM notices WHERE id IN ${list(ids)}`);
  const recipients = await db.all<RecipientRow>(
    sql`SELECT * FROM notice_recipients WHERE notice_id IN ${list(ids)} ORDER BY ${RECIPIENT_ORDER}`,
  );
  const byId = new Map(notices.map((row) => [row.id, row]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    return row
      ? [
          toNotice(
            row,
            recipients.filter((r) => r.notice_id === id),
          ),
        ]
      : [];
  });
}
