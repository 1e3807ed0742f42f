/**
 * The collector hierarchy (issue 7): this collector's parent, its subordinates, the durable
 * outbox of reports going up, the reports received from below, and notices going down with
 * each subordinate's acknowledgement and 排查 result. Times are ISO 8601 UTC text.
 */
import type { SignatureAlg } from '../../../shared/crypto/suite.js';
import type { TokenRefusal } from '../store.js';
import type {
  ChildCert,
  CollectorLevel,
  Notice,
  RelayedNotice,
  Report,
  ReportRecord,
} from '../../hierarchy/messages.js';

export interface ParentRecord {
  url: string;
  id: string;
  alg: SignatureAlg;
  publicKey: string;
  unit: string;
  level: CollectorLevel;
  /** This collector's certificate, as the parent signed it. */
  cert: ChildCert;
  enrolledAt: string;
}

export interface ParentState extends ParentRecord {
  lastContactAt: string | null;
  lastError: string | null;
}

export interface SubordinateRecord {
  id: string;
  unit: string;
  level: CollectorLevel;
  alg: SignatureAlg;
  publicKey: string;
  /** The collector this one is enrolled at (this collector for a direct child). */
  parent: string;
  direct: boolean;
  cert: ChildCert;
  enrolledAt: string;
  lastSeenAt: string | null;
  /** Units from this collector up to (and including) the direct child it sits below. */
  pathUnits: string[];
}

export type EnrollChildResult =
  | { ok: true; child: SubordinateRecord; reenrolled: boolean }
  | {
      ok: false;
      reason: TokenRefusal | 'unit-mismatch' | 'key-mismatch' | 'unit-moved';
      /** unit-mismatch: the token's unit; unit-moved: the unit the child is enrolled for. */
      unit?: string;
    };

export interface EnrollChildRequest {
  tokenHash: string;
  now: string;
  id: string;
  alg: SignatureAlg;
  publicKey: string;
  level: CollectorLevel;
  /** The unit the child is configured for; must equal the token's. */
  unit: string;
  /** Signs the certificate once the unit is known from the token. */
  certify(unit: string): ChildCert;
}

/** Builds the signed report once its seq is assigned (inside the store's transaction). */
export type ReportBuilder = (seq: number) => Report;

export interface OutboxEntry {
  linkSeq: number;
  type: string;
  record: ReportRecord;
  createdAt: string;
  firstSentAt: string | null;
  attempts: number;
}

export interface DeliveredEntry {
  linkSeq: number;
  report: Report;
  firstSentAt: string | null;
  receivedAt: string;
}

export interface OutboxStats {
  pending: number;
  delivered: number;
  rejected: number;
  oldestPendingAt: string | null;
  lastReceiptAt: string | null;
}

export interface ReceivedRecord {
  linkSeq: number;
  report: Report;
  chain: ChildCert[];
  /** Units from the origin up to the sender (the direct child), for scoped views. */
  pathUnits: string[];
}

export interface Acceptance {
  linkSeq: number;
  origin: string;
  seq: number;
  receivedAt: string;
  duplicate: boolean;
}

export interface StoredReport {
  id: number;
  origin: string;
  seq: number;
  unit: string;
  level: CollectorLevel;
  type: string;
  key: string;
  via: string;
  pathUnits: string[];
  receivedAt: string;
  report: Report;
  chain: ChildCert[];
}

export interface StoredNotice {
  id: string;
  source: 'issued' | 'received';
  notice: Notice;
  issuerAlg: SignatureAlg;
  issuerPublicKey: string;
  receivedAt: string;
  /** At a receiving collector: when it acknowledged, and the 排查 result it sent up. */
  ackedAt: string | null;
  result: string | null;
  resultAt: string | null;
}

export interface NoticeResponse {
  collector: string;
  unit: string;
  level: CollectorLevel;
  ackedAt: string | null;
  result: string | null;
  resultAt: string | null;
}

export interface HierarchyStore {
  getParent(): Promise<ParentState | undefined>;
  setParent(parent: ParentRecord): Promise<void>;
  recordParentContact(at: string, error: string | null): Promise<void>;

  enrollChild(request: EnrollChildRequest): Promise<EnrollChildResult>;
  getSubordinate(id: string): Promise<SubordinateRecord | undefined>;
  /** Every known collector below this one; `units` limits to those whose path passes a unit. */
  listSubordinates(filter: { units?: readonly string[] }): Promise<SubordinateRecord[]>;

  /**
   * Queues a report raised here, exactly once per `producerKey` (a repeat returns the first
   * one's seq). Undefined when no parent is enrolled: there is nowhere to send it.
   */
  enqueueOwn(
    producerKey: string,
    now: string,
    build: ReportBuilder,
  ): Promise<{ linkSeq: number; created: boolean } | undefined>;
  pendingOutbox(limit: number): Promise<OutboxEntry[]>;
  markAttempt(linkSeqs: readonly number[], at: string): Promise<void>;
  /** Records a verified receipt; returns the entries it delivered now (not those delivered before). */
  applyReceipt(
    accepted: readonly { linkSeq: number; receivedAt: string }[],
    rejected: readonly { linkSeq: number; reason: string }[],
    at: string,
  ): Promise<DeliveredEntry[]>;
  outboxStats(): Promise<OutboxStats>;
  /** Every report of `type` the parent has received, oldest first (to redo a receipt's follow-up after a crash). */
  deliveredOutbox(type: string): Promise<DeliveredEntry[]>;
  /** The own report queued under `producerKey`, delivered or not (`receivedAt` null until the parent has it). */
  ownReport(
    producerKey: string,
  ): Promise<{ report: Report; receivedAt: string | null; firstSentAt: string | null } | undefined>;

  /**
   * Stores records from the direct child `sender` (already verified), idempotently by (origin,
   * seq), and in the same transaction queues each new one for this collector's parent and applies
   * what it says (a notice answer, a new subordinate).
   */
  receive(sender: string, records: readonly ReceivedRecord[], receivedAt: string): Promise<Acceptance[]>;
  listReports(filter: {
    units?: readonly string[];
    type?: string;
    origin?: string;
    limit: number;
  }): Promise<StoredReport[]>;

  /** Adds a notice issued here or pulled from the parent; a received one is acknowledged upward in the same step. */
  addNotice(
    notice: RelayedNotice,
    source: 'issued' | 'received',
    at: string,
    ack?: ReportBuilder,
  ): Promise<boolean>;
  getNotice(id: string): Promise<StoredNotice | undefined>;
  listNotices(limit: number): Promise<StoredNotice[]>;
  /** Notices the direct child has not acknowledged yet, oldest first. */
  noticesFor(childId: string, limit: number): Promise<RelayedNotice[]>;
  /** Records this collector's 排查 result and queues it upward; false when already sent. */
  setOwnResult(noticeId: string, result: string, at: string, build: ReportBuilder): Promise<boolean>;
  listResponses(noticeId: string): Promise<NoticeResponse[]>;

  /** The stored envelopes of events with their agents' keys, for evidence that can be verified again. */
  evidenceEnvelopes(
    eventIds: readonly number[],
  ): Promise<{ envelope: string; agent: { id: string; alg: SignatureAlg; publicKey: string } }[]>;
}
