import type Database from 'better-sqlite3';
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

/** ` AND <column's JSON array> shares a unit with units`; no clause for undefined (every unit). */
function pathClause(units: readonly string[] | undefined, column: string, params: unknown[]): string {
  if (units === undefined) return '';
  if (units.length === 0) return ' AND 0';
  params.push(...units);
  return ` AND EXISTS (SELECT 1 FROM json_each(${column}) WHERE value IN (${units.map(() => '?').join(', ')}))`;
}

export class SqliteHierarchyStore implements HierarchyStore {
  constructor(private readonly db: Database.Database) {}

  async getParent(): Promise<ParentState | undefined> {
    const row = this.db.prepare('SELECT * FROM hierarchy_parent WHERE one = 1').get() as
      ParentRow | undefined;
    return row ? toParent(row) : undefined;
  }

  async setParent(parent: ParentRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO hierarchy_parent (one, url, id, alg, public_key, unit, level, cert, enrolled_at)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (one) DO UPDATE SET url = excluded.url, id = excluded.id, alg = excluded.alg,
           public_key = excluded.public_key, unit = excluded.unit, level = excluded.level,
           cert = excluded.cert, enrolled_at = excluded.enrolled_at, last_error = NULL`,
      )
      .run(
        parent.url,
        parent.id,
        parent.alg,
        parent.publicKey,
        parent.unit,
        parent.level,
        JSON.stringify(parent.cert),
        parent.enrolledAt,
      );
  }

  async recordParentContact(at: string, error: string | null): Promise<void> {
    if (error === null) {
      this.db
        .prepare('UPDATE hierarchy_parent SET last_contact_at = ?, last_error = NULL WHERE one = 1')
        .run(at);
    } else {
      this.db.prepare('UPDATE hierarchy_parent SET last_error = ? WHERE one = 1').run(error);
    }
  }

  async enrollChild(request: EnrollChildRequest): Promise<EnrollChildResult> {
    return this.db
      .transaction((): EnrollChildResult => {
        const token = this.db
          .prepare('SELECT unit, kind, expires_at, used_at FROM enrollment_tokens WHERE token_hash = ?')
          .get(request.tokenHash) as EnrollmentTokenRow | undefined;
        const refused = tokenRefusal(token, 'collector', request.now);
        if (refused || !token) return { ok: false, reason: refused ?? 'token-unknown' };
        if (token.unit !== request.unit) return { ok: false, reason: 'unit-mismatch', unit: token.unit };
        const existing = this.db
          .prepare('SELECT * FROM hierarchy_collectors WHERE id = ?')
          .get(request.id) as CollectorRow | undefined;
        const known = existingChildRefusal(existing, request.publicKey, token.unit);
        if (known) return known;
        const cert = request.certify(token.unit);
        this.db
          .prepare('UPDATE enrollment_tokens SET used_at = ?, used_by = ? WHERE token_hash = ?')
          .run(request.now, request.id, request.tokenHash);
        this.db
          .prepare(
            `INSERT INTO hierarchy_collectors
               (id, unit, level, alg, public_key, parent, direct, cert, enrolled_at, path_units)
             VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET unit = excluded.unit, level = excluded.level,
               parent = excluded.parent, direct = 1, cert = excluded.cert,
               enrolled_at = excluded.enrolled_at, path_units = excluded.path_units`,
          )
          .run(
            request.id,
            token.unit,
            request.level,
            request.alg,
            request.publicKey,
            cert.parent,
            JSON.stringify(cert),
            request.now,
            JSON.stringify([token.unit]),
          );
        const row = this.db
          .prepare('SELECT * FROM hierarchy_collectors WHERE id = ?')
          .get(request.id) as CollectorRow;
        return { ok: true, child: toSubordinate(row), reenrolled: existing !== undefined };
      })
      .immediate();
  }

  async getSubordinate(id: string): Promise<SubordinateRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM hierarchy_collectors WHERE id = ?').get(id) as
      CollectorRow | undefined;
    return row ? toSubordinate(row) : undefined;
  }

  async listSubordinates(filter: { units?: readonly string[] }): Promise<SubordinateRecord[]> {
    const params: unknown[] = [];
    const rows = this.db
      .prepare(
        `SELECT * FROM hierarchy_collectors WHERE 1${pathClause(filter.units, 'path_units', params)}
         ORDER BY direct DESC, unit, id`,
      )
      .all(...params) as CollectorRow[];
    return rows.map(toSubordinate);
  }

  private hasParent(): boolean {
    return this.db.prepare('SELECT 1 FROM hierarchy_parent WHERE one = 1').get() !== undefined;
  }

  /** Inside a transaction: the next seq of this collector's own reports, never reused. */
  private nextOwnSeq(): number {
    const row = this.db
      .prepare(
        `INSERT INTO hierarchy_state (name, value) VALUES ('report_seq', 1)
         ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`,
      )
      .get() as { value: number };
    return row.value;
  }

  private enqueueOwnInTx(
    producerKey: string,
    now: string,
    build: ReportBuilder,
  ): { linkSeq: number; created: boolean } {
    const existing = this.db
      .prepare('SELECT link_seq FROM hierarchy_outbox WHERE producer_key = ?')
      .get(producerKey) as { link_seq: number } | undefined;
    if (existing) return { linkSeq: existing.link_seq, created: false };
    const report = build(this.nextOwnSeq());
    const info = this.db
      .prepare(
        `INSERT INTO hierarchy_outbox (origin, origin_seq, type, producer_key, report, chain, created_at)
         VALUES (?, ?, ?, ?, ?, '[]', ?)`,
      )
      .run(report.origin, report.seq, report.type, producerKey, JSON.stringify(report), now);
    return { linkSeq: Number(info.lastInsertRowid), created: true };
  }

  async enqueueOwn(
    producerKey: string,
    now: string,
    build: ReportBuilder,
  ): Promise<{ linkSeq: number; created: boolean } | undefined> {
    return this.db
      .transaction(() => (this.hasParent() ? this.enqueueOwnInTx(producerKey, now, build) : undefined))
      .immediate();
  }

  async pendingOutbox(limit: number): Promise<OutboxEntry[]> {
    const rows = this.db
      .prepare(
        `SELECT link_seq, type, report, chain, created_at, first_sent_at, attempts FROM hierarchy_outbox
         WHERE done_at IS NULL ORDER BY link_seq LIMIT ?`,
      )
      .all(limit) as OutboxRow[];
    return rows.map(toOutboxEntry);
  }

  async markAttempt(linkSeqs: readonly number[], at: string): Promise<void> {
    const update = this.db.prepare(
      `UPDATE hierarchy_outbox SET attempts = attempts + 1, first_sent_at = COALESCE(first_sent_at, ?)
       WHERE link_seq = ?`,
    );
    this.db.transaction(() => {
      for (const seq of linkSeqs) update.run(at, seq);
    })();
  }

  async applyReceipt(
    accepted: readonly { linkSeq: number; receivedAt: string }[],
    rejected: readonly { linkSeq: number; reason: string }[],
    at: string,
  ): Promise<DeliveredEntry[]> {
    return this.db.transaction(() => {
      const delivered: DeliveredEntry[] = [];
      const accept = this.db.prepare(
        `UPDATE hierarchy_outbox SET received_at = ?, done_at = ? WHERE link_seq = ? AND done_at IS NULL
         RETURNING link_seq, report, first_sent_at`,
      );
      for (const a of accepted) {
        const row = accept.get(a.receivedAt, at, a.linkSeq) as Omit<DeliveredRow, 'received_at'> | undefined;
        if (row) delivered.push(toDelivered({ ...row, received_at: a.receivedAt }));
      }
      const reject = this.db.prepare(
        'UPDATE hierarchy_outbox SET rejected = ?, done_at = ? WHERE link_seq = ? AND done_at IS NULL',
      );
      for (const r of rejected) reject.run(r.reason, at, r.linkSeq);
      this.db
        .prepare('UPDATE hierarchy_parent SET last_contact_at = ?, last_error = NULL WHERE one = 1')
        .run(at);
      return delivered;
    })();
  }

  async deliveredOutbox(type: string): Promise<DeliveredEntry[]> {
    const rows = this.db
      .prepare(
        `SELECT link_seq, report, first_sent_at, received_at FROM hierarchy_outbox
         WHERE type = ? AND received_at IS NOT NULL ORDER BY link_seq`,
      )
      .all(type) as DeliveredRow[];
    return rows.map(toDelivered);
  }

  async outboxStats(): Promise<OutboxStats> {
    const row = this.db
      .prepare(
        `SELECT
           SUM(CASE WHEN done_at IS NULL THEN 1 ELSE 0 END) AS pending,
           SUM(CASE WHEN received_at IS NOT NULL THEN 1 ELSE 0 END) AS delivered,
           SUM(CASE WHEN rejected IS NOT NULL THEN 1 ELSE 0 END) AS rejected,
           MIN(CASE WHEN done_at IS NULL THEN created_at END) AS oldest,
           MAX(done_at) AS last_receipt
         FROM hierarchy_outbox`,
      )
      .get() as {
      pending: number | null;
      delivered: number | null;
      rejected: number | null;
      oldest: string | null;
      last_receipt: string | null;
    };
    return {
      pending: row.pending ?? 0,
      delivered: row.delivered ?? 0,
      rejected: row.rejected ?? 0,
      oldestPendingAt: row.oldest,
      lastReceiptAt: row.last_receipt,
    };
  }

  async ownReport(
    producerKey: string,
  ): Promise<{ report: Report; receivedAt: string | null; firstSentAt: string | null } | undefined> {
    const row = this.db
      .prepare('SELECT report, received_at, first_sent_at FROM hierarchy_outbox WHERE producer_key = ?')
      .get(producerKey) as
      { report: string; received_at: string | null; first_sent_at: string | null } | undefined;
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
    return this.db
      .transaction(() => {
        const senderRow = this.db
          .prepare('SELECT cert FROM hierarchy_collectors WHERE id = ?')
          .get(sender) as { cert: string } | undefined;
        const senderCert = senderRow ? (JSON.parse(senderRow.cert) as ChildCert) : undefined;
        const forward = this.hasParent() && senderCert !== undefined;
        const find = this.db.prepare(
          'SELECT received_at FROM hierarchy_reports WHERE origin = ? AND seq = ?',
        );
        const insert = this.db.prepare(
          `INSERT INTO hierarchy_reports (origin, seq, unit, level, type, key, via, path_units, received_at, report, chain)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        const queue = this.db.prepare(
          `INSERT INTO hierarchy_outbox (origin, origin_seq, type, report, chain, created_at)
           VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        );
        const out: Acceptance[] = [];
        for (const record of records) {
          const { report } = record;
          const seen = find.get(report.origin, report.seq) as { received_at: string } | undefined;
          if (seen) {
            out.push({
              linkSeq: record.linkSeq,
              origin: report.origin,
              seq: report.seq,
              receivedAt: seen.received_at,
              duplicate: true,
            });
            continue;
          }
          insert.run(
            report.origin,
            report.seq,
            report.unit,
            report.level,
            report.type,
            report.key,
            sender,
            JSON.stringify(record.pathUnits),
            receivedAt,
            JSON.stringify(report),
            JSON.stringify(record.chain),
          );
          this.applyReport(record);
          if (forward) {
            queue.run(
              report.origin,
              report.seq,
              report.type,
              JSON.stringify(report),
              JSON.stringify([...record.chain, senderCert]),
              receivedAt,
            );
          }
          out.push({
            linkSeq: record.linkSeq,
            origin: report.origin,
            seq: report.seq,
            receivedAt,
            duplicate: false,
          });
        }
        this.db
          .prepare('UPDATE hierarchy_collectors SET last_seen_at = ? WHERE id = ?')
          .run(receivedAt, sender);
        return out;
      })
      .immediate();
  }

  /** What a report changes here besides being stored: a notice's answers, the subordinate register. */
  private applyReport(record: ReceivedRecord): void {
    const effect = reportEffect(record.report, record.pathUnits);
    if (effect?.kind === 'ack') {
      this.db
        .prepare(
          `INSERT INTO hierarchy_notice_responses (notice_id, collector, unit, level, acked_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (notice_id, collector) DO UPDATE SET acked_at = COALESCE(acked_at, excluded.acked_at)`,
        )
        .run(effect.noticeId, effect.collector, effect.unit, effect.level, effect.ackedAt);
    } else if (effect?.kind === 'result') {
      this.db
        .prepare(
          `INSERT INTO hierarchy_notice_responses (notice_id, collector, unit, level, acked_at, result, result_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (notice_id, collector) DO UPDATE SET acked_at = COALESCE(acked_at, excluded.acked_at),
             result = excluded.result, result_at = excluded.result_at`,
        )
        .run(
          effect.noticeId,
          effect.collector,
          effect.unit,
          effect.level,
          effect.at,
          effect.result,
          effect.at,
        );
    } else if (effect?.kind === 'subordinate') {
      const { cert } = effect;
      this.db
        .prepare(
          `INSERT INTO hierarchy_collectors (id, unit, level, alg, public_key, parent, direct, cert, enrolled_at, path_units)
           VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET unit = excluded.unit, level = excluded.level, parent = excluded.parent,
             cert = excluded.cert, enrolled_at = excluded.enrolled_at, path_units = excluded.path_units
           WHERE direct = 0`,
        )
        .run(
          cert.child,
          cert.unit,
          cert.level,
          cert.childAlg,
          cert.publicKey,
          cert.parent,
          JSON.stringify(cert),
          cert.enrolledAt,
          JSON.stringify(effect.pathUnits),
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
      where += ' AND type = ?';
      params.push(filter.type);
    }
    if (filter.origin !== undefined) {
      where += ' AND origin = ?';
      params.push(filter.origin);
    }
    const rows = this.db
      .prepare(`SELECT * FROM hierarchy_reports WHERE 1${where} ORDER BY id DESC LIMIT ?`)
      .all(...params, filter.limit) as ReportRow[];
    return rows.map(toStoredReport);
  }

  async addNotice(
    relayed: RelayedNotice,
    source: 'issued' | 'received',
    at: string,
    ack?: ReportBuilder,
  ): Promise<boolean> {
    return this.db
      .transaction(() => {
        const info = this.db
          .prepare(
            `INSERT INTO hierarchy_notices (id, source, notice, issuer_alg, issuer_public_key, received_at, acked_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
          )
          .run(
            relayed.notice.id,
            source,
            JSON.stringify(relayed),
            relayed.issuerAlg,
            relayed.issuerPublicKey,
            at,
            ack ? at : null,
          );
        if (info.changes === 0) return false;
        if (ack && this.hasParent()) this.enqueueOwnInTx(`notice.ack:${relayed.notice.id}`, at, ack);
        return true;
      })
      .immediate();
  }

  async getNotice(id: string): Promise<StoredNotice | undefined> {
    const row = this.db.prepare('SELECT * FROM hierarchy_notices WHERE id = ?').get(id) as
      NoticeRow | undefined;
    return row ? toNotice(row) : undefined;
  }

  async listNotices(limit: number): Promise<StoredNotice[]> {
    const rows = this.db
      .prepare('SELECT * FROM hierarchy_notices ORDER BY n DESC LIMIT ?')
      .all(limit) as NoticeRow[];
    return rows.map(toNotice);
  }

  async noticesFor(childId: string, limit: number): Promise<RelayedNotice[]> {
    const rows = this.db
      .prepare(
        `SELECT notice FROM hierarchy_notices n
         WHERE NOT EXISTS (SELECT 1 FROM hierarchy_notice_responses r
                           WHERE r.notice_id = n.id AND r.collector = ? AND r.acked_at IS NOT NULL)
         ORDER BY n.n LIMIT ?`,
      )
      .all(childId, limit) as { notice: string }[];
    return rows.map((row) => JSON.parse(row.notice) as RelayedNotice);
  }

  async setOwnResult(noticeId: string, result: string, at: string, build: ReportBuilder): Promise<boolean> {
    return this.db
      .transaction(() => {
        const info = this.db
          .prepare(
            `UPDATE hierarchy_notices SET result = ?, result_at = ?
             WHERE id = ? AND source = 'received' AND result IS NULL`,
          )
          .run(result, at, noticeId);
        if (info.changes === 0) return false;
        if (this.hasParent()) this.enqueueOwnInTx(`notice.result:${noticeId}`, at, build);
        return true;
      })
      .immediate();
  }

  async listResponses(noticeId: string): Promise<NoticeResponse[]> {
    const rows = this.db
      .prepare(
        `SELECT collector, unit, level, acked_at, result, result_at FROM hierarchy_notice_responses
         WHERE notice_id = ? ORDER BY unit, collector`,
      )
      .all(noticeId) as ResponseRow[];
    return rows.map(toResponse);
  }

  async evidenceEnvelopes(
    eventIds: readonly number[],
  ): Promise<{ envelope: string; agent: { id: string; alg: SignatureAlg; publicKey: string } }[]> {
    if (eventIds.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT e.envelope, a.id, a.alg, a.public_key FROM events e JOIN agents a ON a.id = e.agent_id
         WHERE e.id IN (${eventIds.map(() => '?').join(', ')}) ORDER BY e.id`,
      )
      .all(...eventIds) as { envelope: string; id: string; alg: string; public_key: string }[];
    return rows.map((row) => ({
      envelope: row.envelope,
      agent: { id: row.id, alg: row.alg as SignatureAlg, publicKey: row.public_key },
    }));
  }
}
