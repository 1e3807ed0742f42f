import type pg from 'pg';
import type { SignatureAlg } from '../../shared/crypto/suite.js';
import type { ChildCert, RelayedNotice, Report } from '../hierarchy/messages.js';
import {
  existingChildRefusal,
  reportEffect,
  toDelivered,
  toNotice,
  toOutboxEntry,
  toParent,
  toResponse,
  toStoredReport,
  toSubordinate,
  type CollectorRow,
  type DeliveredRow,
  type NoticeRow,
  type OutboxRow,
  type ParentRow,
  type ReportRow,
  type ResponseRow,
} from './hierarchy-rows.js';
import type {
  Acceptance,
  DeliveredEntry,
  EnrollChildRequest,
  EnrollChildResult,
  HierarchyStore,
  NoticeResponse,
  OutboxEntry,
  OutboxStats,
  ParentRecord,
  ParentState,
  ReceivedRecord,
  ReportBuilder,
  StoredNotice,
  StoredReport,
  SubordinateRecord,
} from './hierarchy-store.js';
import { tokenRefusal, type EnrollmentTokenRow } from './store.js';
import { stripNul } from './postgres-text.js';
import { transaction } from './postgres-transaction.js';

const COLLECTOR_COLUMNS =
  'id, unit, level, alg, public_key, parent, direct, cert, enrolled_at, last_seen_at, path_units';

/** ` AND <column> shares a unit with units`; no clause for undefined (every unit). */
function pathClause(units: readonly string[] | undefined, column: string, params: unknown[]): string {
  if (units === undefined) return '';
  if (units.length === 0) return ' AND FALSE';
  params.push(units.map(stripNul));
  return ` AND ${column} && $${params.length}::text[]`;
}

type Db = pg.Pool | pg.PoolClient;

/**
 * The collector hierarchy on PostgreSQL (migration 6, the twin of SQLite's), for several collectors
 * sharing one database as one node of the hierarchy:
 * - own reports take their seq under the counter row's lock, and look for their producer key only
 *   once they hold it, so each producer key is queued once and no seq is skipped or reused;
 * - received reports are stored `ON CONFLICT (origin, seq) DO NOTHING`: the collector that stores
 *   one first also applies and forwards it, the other answers "duplicate";
 * - a receipt delivers an entry in an `UPDATE … WHERE done_at IS NULL`, so exactly one caller sees it.
 * Outbox rows are never deleted, so an origin's seq is never reused. Path units are a text[].
 */
export class PostgresHierarchyStore implements HierarchyStore {
  constructor(private readonly pool: pg.Pool) {}

  async getParent(): Promise<ParentState | undefined> {
    const { rows } = await this.pool.query<ParentRow>(
      `SELECT url, id, alg, public_key, unit, level, cert, enrolled_at, last_contact_at, last_error
       FROM hierarchy_parent WHERE one = 1`,
    );
    return rows[0] ? toParent(rows[0]) : undefined;
  }

  async setParent(parent: ParentRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO hierarchy_parent (one, url, id, alg, public_key, unit, level, cert, enrolled_at)
       VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (one) DO UPDATE SET url = excluded.url, id = excluded.id, alg = excluded.alg,
         public_key = excluded.public_key, unit = excluded.unit, level = excluded.level,
         cert = excluded.cert, enrolled_at = excluded.enrolled_at, last_error = NULL`,
      [
        parent.url,
        parent.id,
        parent.alg,
        parent.publicKey,
        parent.unit,
        parent.level,
        JSON.stringify(parent.cert),
        parent.enrolledAt,
      ],
    );
  }

  async recordParentContact(at: string, error: string | null): Promise<void> {
    if (error === null) {
      await this.pool.query(
        'UPDATE hierarchy_parent SET last_contact_at = $1, last_error = NULL WHERE one = 1',
        [at],
      );
    } else {
      await this.pool.query('UPDATE hierarchy_parent SET last_error = $1 WHERE one = 1', [stripNul(error)]);
    }
  }

  async enrollChild(request: EnrollChildRequest): Promise<EnrollChildResult> {
    return transaction(this.pool, async (db): Promise<EnrollChildResult> => {
      // The row lock makes a token single-use even when two collectors receive it at once.
      const token = (
        await db.query<EnrollmentTokenRow>(
          'SELECT unit, kind, expires_at, used_at FROM enrollment_tokens WHERE token_hash = $1 FOR UPDATE',
          [request.tokenHash],
        )
      ).rows[0];
      const refused = tokenRefusal(token, 'collector', request.now);
      if (refused || !token) return { ok: false, reason: refused ?? 'token-unknown' };
      if (token.unit !== request.unit) return { ok: false, reason: 'unit-mismatch', unit: token.unit };
      const existing = (
        await db.query<{ public_key: string; unit: string; direct: boolean }>(
          'SELECT public_key, unit, direct FROM hierarchy_collectors WHERE id = $1 FOR UPDATE',
          [request.id],
        )
      ).rows[0];
      const known = existingChildRefusal(existing, request.publicKey, token.unit);
      if (known) return known;
      const cert = request.certify(token.unit);
      await db.query('UPDATE enrollment_tokens SET used_at = $1, used_by = $2 WHERE token_hash = $3', [
        request.now,
        request.id,
        request.tokenHash,
      ]);
      const row = (
        await db.query<CollectorRow>(
          `INSERT INTO hierarchy_collectors
             (id, unit, level, alg, public_key, parent, direct, cert, enrolled_at, path_units)
           VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8, $9)
           ON CONFLICT (id) DO UPDATE SET unit = excluded.unit, level = excluded.level,
             parent = excluded.parent, direct = TRUE, cert = excluded.cert,
             enrolled_at = excluded.enrolled_at, path_units = excluded.path_units
           RETURNING ${COLLECTOR_COLUMNS}`,
          [
            request.id,
            token.unit,
            request.level,
            request.alg,
            request.publicKey,
            cert.parent,
            JSON.stringify(cert),
            request.now,
            [token.unit],
          ],
        )
      ).rows[0]!;
      return { ok: true, child: toSubordinate(row), reenrolled: existing !== undefined };
    });
  }

  async getSubordinate(id: string): Promise<SubordinateRecord | undefined> {
    const { rows } = await this.pool.query<CollectorRow>(
      `SELECT ${COLLECTOR_COLUMNS} FROM hierarchy_collectors WHERE id = $1`,
      [id],
    );
    return rows[0] ? toSubordinate(rows[0]) : undefined;
  }

  async listSubordinates(filter: { units?: readonly string[] }): Promise<SubordinateRecord[]> {
    const params: unknown[] = [];
    const { rows } = await this.pool.query<CollectorRow>(
      `SELECT ${COLLECTOR_COLUMNS} FROM hierarchy_collectors WHERE TRUE${pathClause(filter.units, 'path_units', params)}
       ORDER BY direct DESC, unit COLLATE "C", id COLLATE "C"`,
      params,
    );
    return rows.map(toSubordinate);
  }

  private async hasParent(db: Db): Promise<boolean> {
    return (await db.query('SELECT 1 FROM hierarchy_parent WHERE one = 1')).rowCount === 1;
  }

  /**
   * Inside a transaction. The counter row is locked before the producer key is looked up: a
   * second collector queueing the same key waits here, then (READ COMMITTED: a fresh snapshot per
   * statement) finds the first one's row and neither builds a report nor spends a seq.
   */
  private async enqueueOwnInTx(
    db: pg.PoolClient,
    producerKey: string,
    now: string,
    build: ReportBuilder,
  ): Promise<{ linkSeq: number; created: boolean }> {
    await db.query(
      "INSERT INTO hierarchy_state (name, value) VALUES ('report_seq', 0) ON CONFLICT (name) DO NOTHING",
    );
    const counter = (
      await db.query<{ value: number }>(
        "SELECT value FROM hierarchy_state WHERE name = 'report_seq' FOR UPDATE",
      )
    ).rows[0]!;
    const key = stripNul(producerKey);
    const existing = (
      await db.query<{ link_seq: number }>('SELECT link_seq FROM hierarchy_outbox WHERE producer_key = $1', [
        key,
      ])
    ).rows[0];
    if (existing) return { linkSeq: existing.link_seq, created: false };
    const report = build(counter.value + 1);
    await db.query("UPDATE hierarchy_state SET value = $1 WHERE name = 'report_seq'", [report.seq]);
    const inserted = await db.query<{ link_seq: number }>(
      `INSERT INTO hierarchy_outbox (origin, origin_seq, type, producer_key, report, chain, created_at)
       VALUES ($1, $2, $3, $4, $5, '[]', $6) RETURNING link_seq`,
      [report.origin, report.seq, report.type, key, JSON.stringify(report), now],
    );
    return { linkSeq: inserted.rows[0]!.link_seq, created: true };
  }

  async enqueueOwn(
    producerKey: string,
    now: string,
    build: ReportBuilder,
  ): Promise<{ linkSeq: number; created: boolean } | undefined> {
    return transaction(this.pool, async (db) =>
      (await this.hasParent(db)) ? this.enqueueOwnInTx(db, producerKey, now, build) : undefined,
    );
  }

  async pendingOutbox(limit: number): Promise<OutboxEntry[]> {
    const { rows } = await this.pool.query<OutboxRow>(
      `SELECT link_seq, type, report, chain, created_at, first_sent_at, attempts FROM hierarchy_outbox
       WHERE done_at IS NULL ORDER BY link_seq LIMIT $1`,
      [limit],
    );
    return rows.map(toOutboxEntry);
  }

  async markAttempt(linkSeqs: readonly number[], at: string): Promise<void> {
    if (linkSeqs.length === 0) return;
    await this.pool.query(
      `UPDATE hierarchy_outbox SET attempts = attempts + 1, first_sent_at = COALESCE(first_sent_at, $1)
       WHERE link_seq = ANY($2::bigint[])`,
      [at, [...linkSeqs]],
    );
  }

  async applyReceipt(
    accepted: readonly { linkSeq: number; receivedAt: string }[],
    rejected: readonly { linkSeq: number; reason: string }[],
    at: string,
  ): Promise<DeliveredEntry[]> {
    return transaction(this.pool, async (db) => {
      // `done_at IS NULL` is checked again under the row lock: of two collectors applying one
      // receipt, only the first sees the entry delivered.
      const delivered = await db.query<DeliveredRow>(
        `UPDATE hierarchy_outbox o SET received_at = a.received_at, done_at = $3
         FROM UNNEST($1::bigint[], $2::text[]) AS a (link_seq, received_at)
         WHERE o.link_seq = a.link_seq AND o.done_at IS NULL
         RETURNING o.link_seq, o.report, o.first_sent_at, o.received_at`,
        [accepted.map((a) => a.linkSeq), accepted.map((a) => a.receivedAt), at],
      );
      if (rejected.length > 0) {
        await db.query(
          `UPDATE hierarchy_outbox o SET rejected = r.reason, done_at = $3
           FROM UNNEST($1::bigint[], $2::text[]) AS r (link_seq, reason)
           WHERE o.link_seq = r.link_seq AND o.done_at IS NULL`,
          [rejected.map((r) => r.linkSeq), rejected.map((r) => stripNul(r.reason)), at],
        );
      }
      await db.query('UPDATE hierarchy_parent SET last_contact_at = $1, last_error = NULL WHERE one = 1', [
        at,
      ]);
      const order = new Map(accepted.map((a, i) => [a.linkSeq, i]));
      return delivered.rows
        .map(toDelivered)
        .sort((a, b) => (order.get(a.linkSeq) ?? 0) - (order.get(b.linkSeq) ?? 0));
    });
  }

  async deliveredOutbox(type: string): Promise<DeliveredEntry[]> {
    const { rows } = await this.pool.query<DeliveredRow>(
      `SELECT link_seq, report, first_sent_at, received_at FROM hierarchy_outbox
       WHERE type = $1 AND received_at IS NOT NULL ORDER BY link_seq`,
      [type],
    );
    return rows.map(toDelivered);
  }

  async outboxStats(): Promise<OutboxStats> {
    const { rows } = await this.pool.query<{
      pending: number;
      delivered: number;
      rejected: number;
      oldest: string | null;
      last_receipt: string | null;
    }>(
      `SELECT
         COUNT(*) FILTER (WHERE done_at IS NULL)::int AS pending,
         COUNT(*) FILTER (WHERE received_at IS NOT NULL)::int AS delivered,
         COUNT(*) FILTER (WHERE rejected IS NOT NULL)::int AS rejected,
         MIN(created_at) FILTER (WHERE done_at IS NULL) AS oldest,
         MAX(done_at) AS last_receipt
       FROM hierarchy_outbox`,
    );
    const row = rows[0]!;
    return {
      pending: row.pending,
      delivered: row.delivered,
      rejected: row.rejected,
      oldestPendingAt: row.oldest,
      lastReceiptAt: row.last_receipt,
    };
  }

  async ownReport(
    producerKey: string,
  ): Promise<{ report: Report; receivedAt: string | null; firstSentAt: string | null } | undefined> {
    const { rows } = await this.pool.query<{
      report: string;
      received_at: string | null;
      first_sent_at: string | null;
    }>('SELECT report, received_at, first_sent_at FROM hierarchy_outbox WHERE producer_key = $1', [
      stripNul(producerKey),
    ]);
    const row = rows[0];
    return row
      ? {
          report: JSON.parse(row.report) as Report,
          receivedAt: row.received_at,
          firstSentAt: row.first_sent_at,
        }
      : undefined;
  }

  async receive(
    sender: string,
    records: readonly ReceivedRecord[],
    receivedAt: string,
  ): Promise<Acceptance[]> {
    return transaction(this.pool, async (db) => {
      const senderCert = (
        await db.query<{ cert: string }>('SELECT cert FROM hierarchy_collectors WHERE id = $1', [sender])
      ).rows[0]?.cert;
      const forward = senderCert !== undefined && (await this.hasParent(db));
      // Stored in (origin, seq) order: two collectors storing overlapping batches take the
      // unique-index locks in the same order and cannot deadlock each other.
      const order = records
        .map((record, index) => ({ record, index }))
        .sort((a, b) =>
          a.record.report.origin === b.record.report.origin
            ? a.record.report.seq - b.record.report.seq
            : a.record.report.origin < b.record.report.origin
              ? -1
              : 1,
        );
      const out: Acceptance[] = new Array<Acceptance>(records.length);
      for (const { record, index } of order) {
        const { report } = record;
        const stored = await db.query(
          `INSERT INTO hierarchy_reports (origin, seq, unit, level, type, key, via, path_units, received_at, report, chain)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (origin, seq) DO NOTHING`,
          [
            report.origin,
            report.seq,
            stripNul(report.unit),
            report.level,
            report.type,
            stripNul(report.key),
            sender,
            record.pathUnits.map(stripNul),
            receivedAt,
            JSON.stringify(report),
            JSON.stringify(record.chain),
          ],
        );
        const head = { linkSeq: record.linkSeq, origin: report.origin, seq: report.seq };
        if (stored.rowCount === 0) {
          const seen = (
            await db.query<{ received_at: string }>(
              'SELECT received_at FROM hierarchy_reports WHERE origin = $1 AND seq = $2',
              [report.origin, report.seq],
            )
          ).rows[0]!;
          out[index] = { ...head, receivedAt: seen.received_at, duplicate: true };
          continue;
        }
        await this.applyReport(db, record);
        if (forward) {
          await db.query(
            `INSERT INTO hierarchy_outbox (origin, origin_seq, type, report, chain, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
            [
              report.origin,
              report.seq,
              report.type,
              JSON.stringify(report),
              JSON.stringify([...record.chain, JSON.parse(senderCert) as ChildCert]),
              receivedAt,
            ],
          );
        }
        out[index] = { ...head, receivedAt, duplicate: false };
      }
      await db.query(
        `UPDATE hierarchy_collectors SET last_seen_at = GREATEST(COALESCE(last_seen_at, ''), $1) WHERE id = $2`,
        [receivedAt, sender],
      );
      return out;
    });
  }

  /** What a report changes here besides being stored: a notice's answers, the subordinate register. */
  private async applyReport(db: pg.PoolClient, record: ReceivedRecord): Promise<void> {
    const effect = reportEffect(record.report, record.pathUnits);
    if (effect?.kind === 'ack') {
      await db.query(
        `INSERT INTO hierarchy_notice_responses (notice_id, collector, unit, level, acked_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (notice_id, collector) DO UPDATE
           SET acked_at = COALESCE(hierarchy_notice_responses.acked_at, excluded.acked_at)`,
        [
          stripNul(effect.noticeId),
          effect.collector,
          stripNul(effect.unit),
          effect.level,
          stripNul(effect.ackedAt),
        ],
      );
    } else if (effect?.kind === 'result') {
      await db.query(
        `INSERT INTO hierarchy_notice_responses (notice_id, collector, unit, level, acked_at, result, result_at)
         VALUES ($1, $2, $3, $4, $5, $6, $5)
         ON CONFLICT (notice_id, collector) DO UPDATE
           SET acked_at = COALESCE(hierarchy_notice_responses.acked_at, excluded.acked_at),
             result = excluded.result, result_at = excluded.result_at`,
        [
          stripNul(effect.noticeId),
          effect.collector,
          stripNul(effect.unit),
          effect.level,
          effect.at,
          effect.result === null ? null : stripNul(effect.result),
        ],
      );
    } else if (effect?.kind === 'subordinate') {
      const { cert } = effect;
      await db.query(
        `INSERT INTO hierarchy_collectors (id, unit, level, alg, public_key, parent, direct, cert, enrolled_at, path_units)
         VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET unit = excluded.unit, level = excluded.level, parent = excluded.parent,
           cert = excluded.cert, enrolled_at = excluded.enrolled_at, path_units = excluded.path_units
         WHERE hierarchy_collectors.direct = FALSE`,
        [
          cert.child,
          stripNul(cert.unit),
          cert.level,
          cert.childAlg,
          cert.publicKey,
          cert.parent,
          JSON.stringify(cert),
          cert.enrolledAt,
          effect.pathUnits.map(stripNul),
        ],
      );
    }
  }

  async listReports(filter: {
    units?: readonly string[];
    type?: string;
    origin?: string;
    limit: number;
  }): Promise<StoredReport[]> {
    const params: unknown[] = [];
    let where = pathClause(filter.units, 'path_units', params);
    if (filter.type !== undefined) {
      params.push(filter.type);
      where += ` AND type = $${params.length}`;
    }
    if (filter.origin !== undefined) {
      params.push(filter.origin);
      where += ` AND origin = $${params.length}`;
    }
    params.push(filter.limit);
    const { rows } = await this.pool.query<ReportRow>(
      `SELECT id, origin, seq, unit, level, type, key, via, path_units, received_at, report, chain
       FROM hierarchy_reports WHERE TRUE${where} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toStoredReport);
  }

  async addNotice(
    relayed: RelayedNotice,
    source: 'issued' | 'received',
    at: string,
    ack?: ReportBuilder,
  ): Promise<boolean> {
    return transaction(this.pool, async (db) => {
      const inserted = await db.query(
        `INSERT INTO hierarchy_notices (id, source, notice, issuer_alg, issuer_public_key, received_at, acked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
        [
          stripNul(relayed.notice.id),
          source,
          JSON.stringify(relayed),
          relayed.issuerAlg,
          relayed.issuerPublicKey,
          at,
          ack ? at : null,
        ],
      );
      if (inserted.rowCount === 0) return false;
      if (ack && (await this.hasParent(db)))
        await this.enqueueOwnInTx(db, `notice.ack:${relayed.notice.id}`, at, ack);
      return true;
    });
  }

  async getNotice(id: string): Promise<StoredNotice | undefined> {
    const { rows } = await this.pool.query<NoticeRow>(
      `SELECT id, source, notice, issuer_alg, issuer_public_key, received_at, acked_at, result, result_at
       FROM hierarchy_notices WHERE id = $1`,
      [stripNul(id)],
    );
    return rows[0] ? toNotice(rows[0]) : undefined;
  }

  async listNotices(limit: number): Promise<StoredNotice[]> {
    const { rows } = await this.pool.query<NoticeRow>(
      `SELECT id, source, notice, issuer_alg, issuer_public_key, received_at, acked_at, result, result_at
       FROM hierarchy_notices ORDER BY n DESC LIMIT $1`,
      [limit],
    );
    return rows.map(toNotice);
  }

  async noticesFor(childId: string, limit: number): Promise<RelayedNotice[]> {
    const { rows } = await this.pool.query<{ notice: string }>(
      `SELECT notice FROM hierarchy_notices n
       WHERE NOT EXISTS (SELECT 1 FROM hierarchy_notice_responses r
                         WHERE r.notice_id = n.id AND r.collector = $1 AND r.acked_at IS NOT NULL)
       ORDER BY n.n LIMIT $2`,
      [childId, limit],
    );
    return rows.map((row) => JSON.parse(row.notice) as RelayedNotice);
  }

  async setOwnResult(noticeId: string, result: string, at: string, build: ReportBuilder): Promise<boolean> {
    return transaction(this.pool, async (db) => {
      // The row lock and the re-checked `result IS NULL`: of two collectors, one records the result.
      const updated = await db.query(
        `UPDATE hierarchy_notices SET result = $1, result_at = $2
         WHERE id = $3 AND source = 'received' AND result IS NULL`,
        [stripNul(result), at, stripNul(noticeId)],
      );
      if (updated.rowCount === 0) return false;
      if (await this.hasParent(db)) await this.enqueueOwnInTx(db, `notice.result:${noticeId}`, at, build);
      return true;
    });
  }

  async listResponses(noticeId: string): Promise<NoticeResponse[]> {
    const { rows } = await this.pool.query<ResponseRow>(
      `SELECT collector, unit, level, acked_at, result, result_at FROM hierarchy_notice_responses
       WHERE notice_id = $1 ORDER BY unit COLLATE "C", collector COLLATE "C"`,
      [stripNul(noticeId)],
    );
    return rows.map(toResponse);
  }

  async evidenceEnvelopes(
    eventIds: readonly number[],
  ): Promise<{ envelope: string; agent: { id: string; alg: SignatureAlg; publicKey: string } }[]> {
    if (eventIds.length === 0) return [];
    const { rows } = await this.pool.query<{ envelope: string; id: string; alg: string; public_key: string }>(
      `SELECT e.envelope, a.id, a.alg, a.public_key FROM events e JOIN agents a ON a.id = e.agent_id
       WHERE e.id = ANY($1::bigint[]) ORDER BY e.id`,
      [[...eventIds]],
    );
    return rows.map((row) => ({
      envelope: row.envelope,
      agent: { id: row.id, alg: row.alg as SignatureAlg, publicKey: row.public_key },
    }));
  }
}
