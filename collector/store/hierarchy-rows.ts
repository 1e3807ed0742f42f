import type { SignatureAlg } from '../../shared/crypto/suite.js';
import type {
  ChildCert,
  CollectorLevel,
  RelayedNotice,
  Report,
  ReportRecord,
} from '../hierarchy/messages.js';
import type {
  DeliveredEntry,
  NoticeResponse,
  OutboxEntry,
  ParentState,
  StoredNotice,
  StoredReport,
  SubordinateRecord,
} from './hierarchy-store.js';

/**
 * Hierarchy rows as both SQL stores read them, and their mapping to records. Messages and
 * certificates are kept as the JSON text they arrived in; SQLite hands booleans back as 0/1,
 * PostgreSQL as true/false; path units are a JSON array in SQLite and a text[] in PostgreSQL.
 */
export interface ParentRow {
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

export interface CollectorRow {
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

/** SQLite keeps a JSON array, PostgreSQL a TEXT[]. */
function units(value: string | string[]): string[] {
  return Array.isArray(value) ? value : (JSON.parse(value) as string[]);
}

export interface ReportRow {
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

export interface NoticeRow {
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

export interface OutboxRow {
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

export interface ResponseRow {
  collector: string;
  unit: string;
  level: string;
  acked_at: string | null;
  result: string | null;
  result_at: string | null;
}

export function toParent(row: ParentRow): ParentState {
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

export function toSubordinate(row: CollectorRow): SubordinateRecord {
  return {
    id: row.id,
    unit: row.unit,
    level: row.level as CollectorLevel,
    alg: row.alg as SignatureAlg,
    publicKey: row.public_key,
    parent: row.parent,
    direct: row.direct === 1 || row.direct === true,
    cert: JSON.parse(row.cert) as ChildCert,
    enrolledAt: row.enrolled_at,
    lastSeenAt: row.last_seen_at,
    pathUnits: units(row.path_units),
  };
}

export function toStoredReport(row: ReportRow): StoredReport {
  return {
    id: row.id,
    origin: row.origin,
    seq: row.seq,
    unit: row.unit,
    level: row.level as CollectorLevel,
    type: row.type,
    key: row.key,
    via: row.via,
    pathUnits: units(row.path_units),
    receivedAt: row.received_at,
    report: JSON.parse(row.report) as Report,
    chain: JSON.parse(row.chain) as ChildCert[],
  };
}

export function toNotice(row: NoticeRow): StoredNotice {
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

export function toOutboxEntry(row: OutboxRow): OutboxEntry {
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

export function toDelivered(row: DeliveredRow): DeliveredEntry {
  return {
    linkSeq: row.link_seq,
    report: JSON.parse(row.report) as Report,
    firstSentAt: row.first_sent_at,
    receivedAt: row.received_at,
  };
}

export function toResponse(row: ResponseRow): NoticeResponse {
  return {
    collector: row.collector,
    unit: row.unit,
    level: row.level as CollectorLevel,
    ackedAt: row.acked_at,
    result: row.result,
    resultAt: row.result_at,
  };
}

/** What a received report asks of the store besides keeping it (see `receive`). */
export type ReportEffect =
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
export function reportEffect(report: Report, pathUnits: readonly string[]): ReportEffect {
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
export function existingChildRefusal(
  existing: { public_key: string; unit: string; direct: number | boolean } | undefined,
  publicKey: string,
  unit: string,
): { ok: false; reason: 'key-mismatch' | 'unit-moved'; unit?: string } | undefined {
  if (!existing) return undefined;
  if (existing.public_key !== publicKey) return { ok: false, reason: 'key-mismatch' };
  if (Boolean(existing.direct) && existing.unit !== unit) {
    return { ok: false, reason: 'unit-moved', unit: existing.unit };
  }
  return undefined;
}
