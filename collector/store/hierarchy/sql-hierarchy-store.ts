import type { SignatureAlg } from '../../../shared/crypto/suite.js';
import type {
  ChildCert,
  CollectorLevel,
  RelayedNotice,
  Report,
  ReportRecord,
} from '../../hierarchy/messages.js';
import { flag, type Database } from '../sql/database.js';
import { bytewise, forUpdate, greatest, list, raw, sql, when, type Query } from '../sql/query.js';
import { tokenRefusal, type EnrollmentTokenRow } from '../store.js';
import { markReceipt as markReceiptInBulk } from './postgres-receipt.js';
import { markReceipt as markReceiptEach } from './sqlite-receipt.js';
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

const PARENT_COLUMNS = raw(
  'url, id, alg, public_key, unit, level, cert, enrolled_at, last_contact_at, last_error',
);
const COLLECTOR_COLUMNS = raw(
  'id, unit, level, alg, public_key, parent, direct, cert, enrolled_at, last_seen_at, path_units',
);
const REPORT_COLUMNS = raw(
  'id, origin, seq, unit, level, type, key, via, path_units, received_at, report, chain',
);
const NOTICE_COLUMNS = raw(
  'id, source, notice, issuer_alg, issuer_public_key, received_at, acked_at, result, result_at',
);

/** Path units as each database keeps them: a JSON array in SQLite, a text[] in PostgreSQL. */
function pathUnitsValue(db: Database, units: readonly string[]): unknown {
  return db.dialect === 'sqlite' ? JSON.stringify(units) : [...units];
}

/** ` AND path_units shares a unit with units`; nothing for undefined (every unit). */
function sharesUnit(db: Database, units: readonly string[] | undefined): Query {
  if (units === undefined) return sql``;
  if (units.length === 0) return sql` AND FALSE`;
  return db.dialect === 'sqlite'
    ? sql` AND EXISTS (SELECT 1 FROM json_each(path_units) WHERE value IN ${list(units)})`
    : sql` AND path_units && ${[...units]}::text[]`;
}

/**
 * The collector hierarchy in either database, also for several collectors sharing one PostgreSQL
 * database as one node of the hierarchy:
 * - own reports take their seq under the counter row's lock, and look for their producer key only
 *   once they hold it, so each producer key is queued once and no seq is skipped or reused;
 * - received reports are stored `ON CONFLICT (origin, seq) DO NOTHING`: the collector that stores
 *   one first also applies and forwards it, the other answers "duplicate";
 * - a receipt delivers an entry in an `UPDATE … WHERE done_at IS NULL`, so exactly one caller sees it.
 * Rows another collector may write at once are locked in one order (origin and seq, link seq), so
 * two collectors doing the same work never deadlock. Outbox rows are never deleted, so an origin's
 * seq is never reused. On SQLite, BEGIN IMMEDIATE makes each transaction the only writer.
 */
export class SqlHierarchyStore implements HierarchyStore {
  constructor(private readonly db: Database) {}

  async getParent(): Promise<ParentState | undefined> {
    const row = await this.db.get<ParentRow>(
      sql`SELECT ${PARENT_COLUMNS} FROM hierarchy_parent WHERE one = 1`,
    );
    return row && toParent(row);
  }

  async setParent(parent: ParentRecord): Promise<void> {
    await this.db.run(
      sql`INSERT INTO hierarchy_parent (one, url, id, alg, public_key, unit, level, cert, enrolled_at)
          VALUES (1, ${parent.url}, ${parent.id}, ${parent.alg}, ${parent.publicKey}, ${parent.unit},
            ${parent.level}, ${JSON.stringify(parent.cert)}, ${parent.enrolledAt})
          ON CONFLICT (one) DO UPDATE SET url = excluded.url, id = excluded.id, alg = excluded.alg,
            public_key = excluded.public_key, unit = excluded.unit, level = excluded.level,
            cert = excluded.cert, enrolled_at = excluded.enrolled_at, last_error = NULL`,
    );
  }

  async recordParentContact(at: string, error: string | null): Promise<void> {
    await this.db.run(
      error === null
        ? sql`UPDATE hierarchy_parent SET last_contact_at = ${at}, last_error = NULL WHERE one = 1`
        : sql`UPDATE hierarchy_parent SET last_error = ${error} WHERE one = 1`,
    );
  }

  async enrollChild(request: EnrollChildRequest): Promise<EnrollChildResult> {
    return this.db.transaction(async (tx): Promise<EnrollChildResult> => {
      // The row lock makes a token single-use even when two collectors receive it at once.
      const token = await tx.get<EnrollmentTokenRow>(
        sql`SELECT unit, kind, expires_at, used_at FROM enrollment_tokens
            WHERE token_hash = ${request.tokenHash}${forUpdate}`,
      );
      const refused = tokenRefusal(token, 'collector', request.now);
      if (refused || !token) return { ok: false, reason: refused ?? 'token-unknown' };
      if (token.unit !== request.unit) return { ok: false, reason: 'unit-mismatch', unit: token.unit };
      const existing = await tx.get<{ public_key: string; unit: string; direct: number | boolean }>(
        sql`SELECT public_key, unit, direct FROM hierarchy_collectors WHERE id = ${request.id}${forUpdate}`,
      );
      const known = existingChildRefusal(existing, request.publicKey, token.unit);
      if (known) return known;
      const cert = request.certify(token.unit);
      await tx.run(
        sql`UPDATE enrollment_tokens SET used_at = ${request.now}, used_by = ${request.id}
            WHERE token_hash = ${request.tokenHash}`,
      );
      const row = (await tx.get<CollectorRow>(
        sql`INSERT INTO hierarchy_collectors
              (id, unit, level, alg, public_key, parent, direct, cert, enrolled_at, path_units)
            VALUES (${request.id}, ${token.unit}, ${request.level}, ${request.alg}, ${request.publicKey},
              ${cert.parent}, TRUE, ${JSON.stringify(cert)}, ${request.now},
              ${pathUnitsValue(tx, [token.unit])})
            ON CONFLICT (id) DO UPDATE SET unit = excluded.unit, level = excluded.level,
              parent = excluded.parent, direct = TRUE, cert = excluded.cert,
              enrolled_at = excluded.enrolled_at, path_units = excluded.path_units
            RETURNING ${COLLECTOR_COLUMNS}`,
      ))!;
      return { ok: true, child: toSubordinate(row), reenrolled: existing !== undefined };
    });
  }

  async getSubordinate(id: string): Promise<SubordinateRecord | undefined> {
    const row = await this.db.get<CollectorRow>(
      sql`SELECT ${COLLECTOR_COLUMNS} FROM hierarchy_collectors WHERE id = ${id}`,
    );
    return row && toSubordinate(row);
  }

  async listSubordinates(filter: { units?: readonly string[] }): Promise<SubordinateRecord[]> {
    const rows = await this.db.all<CollectorRow>(
      sql`SELECT ${COLLECTOR_COLUMNS} FROM hierarchy_collectors WHERE TRUE${sharesUnit(this.db, filter.units)}
          ORDER BY direct DESC, unit${bytewise}, id${bytewise}`,
    );
    return rows.map(toSubordinate);
  }

  private async hasParent(tx: Database): Promise<boolean> {
    return (await tx.get(sql`SELECT 1 AS one FROM hierarchy_parent WHERE one = 1`)) !== undefined;
  }

  /**
   * Inside a transaction. The counter row is locked before the producer key is looked up: a
   * second collector queueing the same key waits here, then (READ COMMITTED: a fresh snapshot per
   * statement) finds the first one's row and neither builds a report nor spends a seq.
   */
  private async enqueueOwnInTx(
    tx: Database,
    producerKey: string,
    now: string,
    build: ReportBuilder,
  ): Promise<{ linkSeq: number; created: boolean }> {
    await tx.run(
      sql`INSERT INTO hierarchy_state (name, value) VALUES ('report_seq', 0) ON CONFLICT (name) DO NOTHING`,
    );
    const counter = (await tx.get<{ value: number }>(
      sql`SELECT value FROM hierarchy_state WHERE name = 'report_seq'${forUpdate}`,
    ))!;
    const existing = await tx.get<{ link_seq: number }>(
      sql`SELECT link_seq FROM hierarchy_outbox WHERE producer_key = ${producerKey}`,
    );
    if (existing) return { linkSeq: existing.link_seq, created: false };
    const report = build(counter.value + 1);
    await tx.run(sql`UPDATE hierarchy_state SET value = ${report.seq} WHERE name = 'report_seq'`);
    const inserted = (await tx.get<{ link_seq: number }>(
      sql`INSERT INTO hierarchy_outbox (origin, origin_seq, type, producer_key, report, chain, created_at)
          VALUES (${report.origin}, ${report.seq}, ${report.type}, ${producerKey}, ${JSON.stringify(report)},
            '[]', ${now})
          RETURNING link_seq`,
    ))!;
    return { linkSeq: inserted.link_seq, created: true };
  }

  async enqueueOwn(
    producerKey: string,
    now: string,
    build: ReportBuilder,
  ): Promise<{ linkSeq: number; created: boolean } | undefined> {
    return this.db.transaction(async (tx) =>
      (await this.hasParent(tx)) ? this.enqueueOwnInTx(tx, producerKey, now, build) : undefined,
    );
  }

  async pendingOutbox(limit: number): Promise<OutboxEntry[]> {
    const rows = await this.db.all<OutboxRow>(
      sql`SELECT link_seq, type, report, chain, created_at, first_sent_at, attempts FROM hierarchy_outbox
          WHERE done_at IS NULL ORDER BY link_seq LIMIT ${limit}`,
    );
    return rows.map(toOutboxEntry);
  }

  async markAttempt(linkSeqs: readonly number[], at: string): Promise<void> {
    if (linkSeqs.length === 0) return;
    await this.db.run(
      sql`UPDATE hierarchy_outbox SET attempts = attempts + 1, first_sent_at = COALESCE(first_sent_at, ${at})
          WHERE link_seq IN ${list(linkSeqs)}`,
    );
  }

  async applyReceipt(
    accepted: readonly { linkSeq: number; receivedAt: string }[],
    rejected: readonly { linkSeq: number; reason: string }[],
    at: string,
  ): Promise<DeliveredEntry[]> {
    // In link_seq order, so two collectors applying one receipt lock its rows in one order.
    const byLinkSeq = <T extends { linkSeq: number }>(entries: readonly T[]): T[] =>
      [...entries].sort((a, b) => a.linkSeq - b.linkSeq);
    const lists = { accepted: byLinkSeq(accepted), rejected: byLinkSeq(rejected), at };
    return this.db.transaction(async (tx) => {
      const rows = await (tx.dialect === 'postgres' ? markReceiptInBulk : markReceiptEach)(tx, lists);
      await tx.run(sql`UPDATE hierarchy_parent SET last_contact_at = ${at}, last_error = NULL WHERE one = 1`);
      const delivered = new Map(rows.map((row) => [row.link_seq, toDelivered(row)]));
      return accepted.flatMap((a) => {
        const entry = delivered.get(a.linkSeq);
        delivered.delete(a.linkSeq);
        return entry ? [entry] : [];
      });
    });
  }

  async deliveredOutbox(type: string): Promise<DeliveredEntry[]> {
    const rows = await this.db.all<DeliveredRow>(
      sql`SELECT link_seq, report, first_sent_at, received_at FROM hierarchy_outbox
          WHERE type = ${type} AND received_at IS NOT NULL ORDER BY link_seq`,
    );
    return rows.map(toDelivered);
  }

  async outboxStats(): Promise<OutboxStats> {
    const row = (await this.db.get<{
      pending: number;
      delivered: number;
      rejected: number;
      oldest: string | null;
      last_receipt: string | null;
    }>(
      sql`SELECT
            COUNT(*) FILTER (WHERE done_at IS NULL) AS pending,
            COUNT(*) FILTER (WHERE received_at IS NOT NULL) AS delivered,
            COUNT(*) FILTER (WHERE rejected IS NOT NULL) AS rejected,
            MIN(created_at) FILTER (WHERE done_at IS NULL) AS oldest,
            MAX(done_at) AS last_receipt
          FROM hierarchy_outbox`,
    ))!;
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
    const row = await this.db.get<{
      report: string;
      received_at: string | null;
      first_sent_at: string | null;
    }>(
      sql`SELECT report, received_at, first_sent_at FROM hierarchy_outbox WHERE producer_key = ${producerKey}`,
    );
    return (
      row && {
        report: JSON.parse(row.report) as Report,
        receivedAt: row.received_at,
        firstSentAt: row.first_sent_at,
      }
    );
  }

  async receive(
    sender: string,
    records: readonly ReceivedRecord[],
    receivedAt: string,
  ): Promise<Acceptance[]> {
    return this.db.transaction(async (tx) => {
      const senderCert = (
        await tx.get<{ cert: string }>(sql`SELECT cert FROM hierarchy_collectors WHERE id = ${sender}`)
      )?.cert;
      const forward = senderCert !== undefined && (await this.hasParent(tx));
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
        const head = { linkSeq: record.linkSeq, origin: report.origin, seq: report.seq };
        const stored = await tx.run(
          sql`INSERT INTO hierarchy_reports
                (origin, seq, unit, level, type, key, via, path_units, received_at, report, chain)
              VALUES (${report.origin}, ${report.seq}, ${report.unit}, ${report.level}, ${report.type},
                ${report.key}, ${sender}, ${pathUnitsValue(tx, record.pathUnits)}, ${receivedAt},
                ${JSON.stringify(report)}, ${JSON.stringify(record.chain)})
              ON CONFLICT (origin, seq) DO NOTHING`,
        );
        if (stored.changes === 0) {
          const seen = (await tx.get<{ received_at: string }>(
            sql`SELECT received_at FROM hierarchy_reports WHERE origin = ${report.origin} AND seq = ${report.seq}`,
          ))!;
          out[index] = { ...head, receivedAt: seen.received_at, duplicate: true };
          continue;
        }
        await applyReport(tx, record);
        if (forward) {
          const chain = [...record.chain, JSON.parse(senderCert) as ChildCert];
          await tx.run(
            sql`INSERT INTO hierarchy_outbox (origin, origin_seq, type, report, chain, created_at)
                VALUES (${report.origin}, ${report.seq}, ${report.type}, ${JSON.stringify(report)},
                  ${JSON.stringify(chain)}, ${receivedAt})
                ON CONFLICT DO NOTHING`,
          );
        }
        out[index] = { ...head, receivedAt, duplicate: false };
      }
      await tx.run(
        sql`UPDATE hierarchy_collectors SET last_seen_at = ${greatest}(COALESCE(last_seen_at, ''), ${receivedAt})
            WHERE id = ${sender}`,
      );
      return out;
    });
  }

  async listReports(filter: {
    units?: readonly string[];
    type?: string;
    origin?: string;
    limit: number;
  }): Promise<StoredReport[]> {
    const rows = await this.db.all<ReportRow>(
      sql`SELECT ${REPORT_COLUMNS} FROM hierarchy_reports WHERE TRUE${sharesUnit(this.db, filter.units)}
          ${when(filter.type !== undefined, sql`AND type = ${filter.type}`)}
          ${when(filter.origin !== undefined, sql`AND origin = ${filter.origin}`)}
          ORDER BY id DESC LIMIT ${filter.limit}`,
    );
    return rows.map(toStoredReport);
  }

  async addNotice(
    relayed: RelayedNotice,
    source: 'issued' | 'received',
    at: string,
    ack?: ReportBuilder,
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const inserted = await tx.run(
        sql`INSERT INTO hierarchy_notices (id, source, notice, issuer_alg, issuer_public_key, received_at, acked_at)
            VALUES (${relayed.notice.id}, ${source}, ${JSON.stringify(relayed)}, ${relayed.issuerAlg},
              ${relayed.issuerPublicKey}, ${at}, ${ack ? at : null})
            ON CONFLICT (id) DO NOTHING`,
      );
      if (inserted.changes === 0) return false;
      if (ack && (await this.hasParent(tx)))
        await this.enqueueOwnInTx(tx, `notice.ack:${relayed.notice.id}`, at, ack);
      return true;
    });
  }

  async getNotice(id: string): Promise<StoredNotice | undefined> {
    const row = await this.db.get<NoticeRow>(
      sql`SELECT ${NOTICE_COLUMNS} FROM hierarchy_notices WHERE id = ${id}`,
    );
    return row && toNotice(row);
  }

  async listNotices(limit: number): Promise<StoredNotice[]> {
    const rows = await this.db.all<NoticeRow>(
      sql`SELECT ${NOTICE_COLUMNS} FROM hierarchy_notices ORDER BY n DESC LIMIT ${limit}`,
    );
    return rows.map(toNotice);
  }

  async noticesFor(childId: string, limit: number): Promise<RelayedNotice[]> {
    const rows = await this.db.all<{ notice: string }>(
      sql`SELECT notice FROM hierarchy_notices n
          WHERE NOT EXISTS (SELECT 1 FROM hierarchy_notice_responses r
                            WHERE r.notice_id = n.id AND r.collector = ${childId} AND r.acked_at IS NOT NULL)
          ORDER BY n.n LIMIT ${limit}`,
    );
    return rows.map((row) => JSON.parse(row.notice) as RelayedNotice);
  }

  async setOwnResult(noticeId: string, result: string, at: string, build: ReportBuilder): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // The row lock and the re-checked `result IS NULL`: of two collectors, one records the result.
      const updated = await tx.run(
        sql`UPDATE hierarchy_notices SET result = ${result}, result_at = ${at}
            WHERE id = ${noticeId} AND source = 'received' AND result IS NULL`,
      );
      if (updated.changes === 0) return false;
      if (await this.hasParent(tx)) await this.enqueueOwnInTx(tx, `notice.result:${noticeId}`, at, build);
      return true;
    });
  }

  async listResponses(noticeId: string): Promise<NoticeResponse[]> {
    const rows = await this.db.all<ResponseRow>(
      sql`SELECT collector, unit, level, acked_at, result, result_at FROM hierarchy_notice_responses
          WHERE notice_id = ${noticeId} ORDER BY unit${bytewise}, collector${bytewise}`,
    );
    return rows.map(toResponse);
  }

  async evidenceEnvelopes(
    eventIds: readonly number[],
  ): Promise<{ envelope: string; agent: { id: string; alg: SignatureAlg; publicKey: string } }[]> {
    if (eventIds.length === 0) return [];
    const rows = await this.db.all<{ envelope: string; id: string; alg: string; public_key: string }>(
      sql`SELECT e.envelope, a.id, a.alg, a.public_key FROM events e JOIN agents a ON a.id = e.agent_id
          WHERE e.id IN ${list(eventIds)} ORDER BY e.id`,
    );
    return rows.map((row) => ({
      envelope: row.envelope,
      agent: { id: row.id, alg: row.alg as SignatureAlg, publicKey: row.public_key },
    }));
  }
}

/** What a report changes here besides being stored: a notice's answers, the subordinate register. */
async function applyReport(tx: Database, record: ReceivedRecord): Promise<void> {
  const effect = reportEffect(record.report, record.pathUnits);
  if (effect?.kind === 'ack') {
    await tx.run(
      sql`INSERT INTO hierarchy_notice_responses (notice_id, collector, unit, level, acked_at)
          VALUES (${effect.noticeId}, ${effect.collector}, ${effect.unit}, ${effect.level}, ${effect.ackedAt})
          ON CONFLICT (notice_id, collector) DO UPDATE
            SET acked_at = COALESCE(hierarchy_notice_responses.acked_at, excluded.acked_at)`,
    );
  } else if (effect?.kind === 'result') {
    await tx.run(
      sql`INSERT INTO hierarchy_notice_responses (notice_id, collector, unit, level, acked_at, result, result_at)
          VALUES (${effect.noticeId}, ${effect.collector}, ${effect.unit}, ${effect.level}, ${effect.at},
            ${effect.result}, ${effect.at})
          ON CONFLICT (notice_id, collector) DO UPDATE
            SET acked_at = COALESCE(hierarchy_notice_responses.acked_at, excluded.acked_at),
              result = excluded.result, result_at = excluded.result_at`,
    );
  } else if (effect?.kind === 'subordinate') {
    const { cert } = effect;
    await tx.run(
      sql`INSERT INTO hierarchy_collectors
            (id, unit, level, alg, public_key, parent, direct, cert, enrolled_at, path_units)
          VALUES (${cert.child}, ${cert.unit}, ${cert.level}, ${cert.childAlg}, ${cert.publicKey}, ${cert.parent},
            FALSE, ${JSON.stringify(cert)}, ${cert.enrolledAt}, ${pathUnitsValue(tx, effect.pathUnits)})
          ON CONFLICT (id) DO UPDATE SET unit = excluded.unit, level = excluded.level, parent = excluded.parent,
            cert = excluded.cert, enrolled_at = excluded.enrolled_at, path_units = excluded.path_units
          WHERE hierarchy_collectors.direct = FALSE`,
    );
  }
}

/** A receipt's lists, each in link_seq order. */
export interface ReceiptLists {
  accepted: readonly { linkSeq: number; receivedAt: string }[];
  rejected: readonly { linkSeq: number; reason: string }[];
  at: string;
}

/** What a received report asks of the store besides keeping it (see `receive`). */
type ReportEffect =
  | { kind: 'ack'; noticeId: string; collector: string; unit: string; level: string; ackedAt: string }
  | {
      kind: 'result';
      noticeId: string;
      collector: string;
      unit: string;
      level: string;
      result: string | null;
      at: string;
    }
  | { kind: 'subordinate'; cert: ChildCert; pathUnits: string[] }
  | undefined;

/** A notice's answer, or a new subordinate below this collector; undefined for any other report. */
function reportEffect(report: Report, pathUnits: readonly string[]): ReportEffect {
  const noticeId = typeof report.data.notice === 'string' ? report.data.notice : undefined;
  const from = { noticeId: noticeId ?? '', collector: report.origin, unit: report.unit, level: report.level };
  if (report.type === 'notice.ack' && noticeId) {
    const ackedAt = typeof report.data.ackedAt === 'string' ? report.data.ackedAt : report.ts;
    return { kind: 'ack', ...from, ackedAt };
  }
  if (report.type === 'notice.result' && noticeId) {
    const result =
      typeof report.data.result === 'string'
        ? report.data.result
        : (JSON.stringify(report.data.result) ?? null);
    return { kind: 'result', ...from, result, at: report.ts };
  }
  if (report.type === 'collector.enrolled') {
    // The caller checked that the certificate is signed by the report's origin (its parent).
    const cert = report.data.cert as ChildCert;
    return { kind: 'subordinate', cert, pathUnits: [cert.unit, ...pathUnits] };
  }
  return undefined;
}

/**
 * A direct child re-enrolling keeps its unit: a token of another unit does not move it (as for
 * agents). Its key must be the one it enrolled with.
 */
function existingChildRefusal(
  existing: { public_key: string; unit: string; direct: number | boolean } | undefined,
  publicKey: string,
  unit: string,
): { ok: false; reason: 'key-mismatch' | 'unit-moved'; unit?: string } | undefined {
  if (!existing) return undefined;
  if (existing.public_key !== publicKey) return { ok: false, reason: 'key-mismatch' };
  if (flag(existing.direct) && existing.unit !== unit) {
    return { ok: false, reason: 'unit-moved', unit: existing.unit };
  }
  return undefined;
}

/*
 * Rows as the store reads them. Messages and certificates are kept as the JSON text they arrived
 * in; path units are a JSON array in SQLite and a text[] in PostgreSQL.
 */
interface ParentRow {
  url: string;
  id: string;
  alg: string;
  public_key: string;
  unit: string;
  level: string;
  cert: string;
  enrolled_at: string;
  last_contact_at: string | null;
  last_error: string | null;
}

interface CollectorRow {
  id: string;
  unit: string;
  level: string;
  alg: string;
  public_key: string;
  parent: string;
  direct: number | boolean;
  cert: string;
  enrolled_at: string;
  last_seen_at: string | null;
  path_units: string | string[];
}

interface ReportRow {
  id: number;
  origin: string;
  seq: number;
  unit: string;
  level: string;
  type: string;
  key: string;
  via: string;
  path_units: string | string[];
  received_at: string;
  report: string;
  chain: string;
}

interface NoticeRow {
  id: string;
  source: string;
  notice: string;
  issuer_alg: string;
  issuer_public_key: string;
  received_at: string;
  acked_at: string | null;
  result: string | null;
  result_at: string | null;
}

interface OutboxRow {
  link_seq: number;
  type: string;
  report: string;
  chain: string;
  created_at: string;
  first_sent_at: string | null;
  attempts: number;
}

export interface DeliveredRow {
  link_seq: number;
  report: string;
  first_sent_at: string | null;
  received_at: string;
}

interface ResponseRow {
  collector: string;
  unit: string;
  level: string;
  acked_at: string | null;
  result: string | null;
  result_at: string | null;
}

function pathUnits(value: string | string[]): string[] {
  return Array.isArray(value) ? value : (JSON.parse(value) as string[]);
}

function toParent(row: ParentRow): ParentState {
  return {
    url: row.url,
    id: row.id,
    alg: row.alg as SignatureAlg,
    publicKey: row.public_key,
    unit: row.unit,
    level: row.level as CollectorLevel,
    cert: JSON.parse(row.cert) as ChildCert,
    enrolledAt: row.enrolled_at,
    lastContactAt: row.last_contact_at,
    lastError: row.last_error,
  };
}

function toSubordinate(row: CollectorRow): SubordinateRecord {
  return {
    id: row.id,
    unit: row.unit,
    level: row.level as CollectorLevel,
    alg: row.alg as SignatureAlg,
    publicKey: row.public_key,
    parent: row.parent,
    direct: flag(row.direct),
    cert: JSON.parse(row.cert) as ChildCert,
    enrolledAt: row.enrolled_at,
    lastSeenAt: row.last_seen_at,
    pathUnits: pathUnits(row.path_units),
  };
}

function toStoredReport(row: ReportRow): StoredReport {
  return {
    id: row.id,
    origin: row.origin,
    seq: row.seq,
    unit: row.unit,
    level: row.level as CollectorLevel,
    type: row.type,
    key: row.key,
    via: row.via,
    pathUnits: pathUnits(row.path_units),
    receivedAt: row.received_at,
    report: JSON.parse(row.report) as Report,
    chain: JSON.parse(row.chain) as ChildCert[],
  };
}

function toNotice(row: NoticeRow): StoredNotice {
  const relayed = JSON.parse(row.notice) as RelayedNotice;
  return {
    id: row.id,
    source: row.source as 'issued' | 'received',
    notice: relayed.notice,
    issuerAlg: row.issuer_alg as SignatureAlg,
    issuerPublicKey: row.issuer_public_key,
    receivedAt: row.received_at,
    ackedAt: row.acked_at,
    result: row.result,
    resultAt: row.result_at,
  };
}

function toOutboxEntry(row: OutboxRow): OutboxEntry {
  return {
    linkSeq: row.link_seq,
    type: row.type,
    record: {
      linkSeq: row.link_seq,
      report: JSON.parse(row.report) as Report,
      chain: JSON.parse(row.chain) as ChildCert[],
    } satisfies ReportRecord,
    createdAt: row.created_at,
    firstSentAt: row.first_sent_at,
    attempts: row.attempts,
  };
}

function toDelivered(row: DeliveredRow): DeliveredEntry {
  return {
    linkSeq: row.link_seq,
    report: JSON.parse(row.report) as Report,
    firstSentAt: row.first_sent_at,
    receivedAt: row.received_at,
  };
}

function toResponse(row: ResponseRow): NoticeResponse {
  return {
    collector: row.collector,
    unit: row.unit,
    level: row.level as CollectorLevel,
    ackedAt: row.acked_at,
    result: row.result,
    resultAt: row.result_at,
  };
}
