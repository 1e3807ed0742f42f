import type { Severity } from '../../../shared/levels.js';
import type {
  CollectorCondition,
  EvidenceRecord,
  EvidenceRef,
  Notice,
  NotificationOutcome,
  NotificationRecord,
  Silence,
  StoredSilence,
  TransitionRecord,
  Warning,
  WarningState,
} from './records.js';

/**
 * Persistence of 第64条 early warning: the rules' state rows, warnings with their evidence and
 * audit trail, silences, notices and the notification outbox. The store loads and applies; every
 * decision is the pipeline's (collector/warnings runs the rules in a WarningTransaction: load the
 * rule rows, evaluate, apply the write set), so the store imports nothing from rules, warnings or
 * notify (Alertmanager's stages outside storage, storage behind an interface).
 */

/** The rule-state tables: a row of JSON per slot, read and written whole. */
export const RULE_TABLES = ['open', 'windows', 'correlations'] as const;
export type RuleTable = (typeof RULE_TABLES)[number];

/** One row read for the rules: a (condition, slot) pair, a slot asked for, or a slot's rule row. */
export type LoadedRuleRow =
  | { kind: 'pair'; cond: string; slot: string }
  | { kind: 'slot'; slot: string }
  | { kind: RuleTable; slot: string; row: string };

export interface RulePair {
  cond: string;
  slot: string;
}

/** The rule rows a step leaves: each slot's final row (JSON) or its removal, and pair changes. */
export interface RuleRowWrites {
  rows?: Partial<Record<RuleTable, { gone: string[]; kept: [slot: string, row: string][] }>>;
  /** Slots that lose every pair (a released warning's raised conditions); applied before the pairs. */
  slotsUnpaired?: string[];
  pairsGone?: RulePair[];
  pairsAdded?: RulePair[];
}

/** Warning rows a step leaves, all written at `at` (their updated_at, an outbox row's due time). */
export interface WarningWrites {
  at: string;
  inserted?: Warning[];
  /** What the rules change of a warning: severity, level, count, lastSeen, resolvedAt and its doc. */
  updated?: Warning[];
  /** Lifecycle steps: the audit record and the state it leaves. */
  steps?: { warningId: string; record: TransitionRecord; state: WarningState }[];
  /** Outbox rows, one per warning, channel and occasion (a repeat is ignored). */
  outbox?: { warningId: string; channel: string; occasion: string }[];
  evidence?: { warningId: string; ref: EvidenceRef }[];
}

/** Everything one transaction writes, in an order that keeps references valid (warnings first). */
export interface WarningWriteSet {
  rules?: RuleRowWrites;
  warnings?: WarningWrites;
  /** The rules cursor, when the stored events up to it were evaluated. */
  cursor?: number;
}

/**
 * One transaction over the warnings' rows. On PostgreSQL it holds the rules lock from its start
 * (the `rule_cursor` row), so collectors sharing the database evaluate one at a time and two of
 * them seeing the same condition fold it into one warning; on SQLite BEGIN IMMEDIATE does that.
 */
export interface WarningTransaction {
  /** The last stored event the rules evaluated. */
  readonly cursor: number;
  /** Records a collector condition; its row id is what its evidence refs carry (conditionSeq). */
  recordCondition(condition: CollectorCondition, receivedAt: string): Promise<number>;
  /**
   * The rule rows of `slots`, the pairs of `conditions` and the rule rows of those pairs' slots,
   * with a `slot` row for every slot read (so an absent rule row reads as none).
   */
  loadRuleRows(slots: readonly string[], conditions: readonly string[]): Promise<LoadedRuleRow[]>;
  /** Every rule row and pair (housekeeping reads the whole state). */
  loadAllRuleRows(): Promise<LoadedRuleRow[]>;
  /** Warnings by id, without their audit trail (the rules never read it); unknown ids are left out. */
  readWarnings(ids: readonly string[]): Promise<Warning[]>;
  /** One warning with its audit trail, locked until the transaction ends. */
  readWarningForUpdate(id: string): Promise<Warning | undefined>;
  apply(writes: WarningWriteSet): Promise<void>;
}

export interface WarningFilter {
  states?: readonly WarningState[];
  severities?: readonly Severity[];
  /** Only warnings of these units; undefined = every unit. */
  units?: readonly string[];
  /** Keyset pagination: only warnings after this one in list order (lastSeen descending, then id). */
  after?: { lastSeen: string; id: string };
  limit: number;
  offset?: number;
}

export interface SilenceFilter {
  /** Only silences not yet ended (and not expired by hand) at this time. */
  activeAt?: string;
  limit: number;
}

/** A decision on a stored record: the record to write back, or a refusal that writes nothing. */
export type Decision<K extends string, T> = ({ ok: true } & { [key in K]: T }) | { ok: false };

export interface WarningStore {
  /** `work` in one WarningTransaction, rolled back when it throws. */
  transact<T>(work: (tx: WarningTransaction) => Promise<T>): Promise<T>;
  /** Stored events the rules have not seen yet, oldest first (after a crash or while behind). */
  eventsAfterRulesCursor(limit: number): Promise<{ id: number; unit: string; envelope: string }[]>;

  getWarning(id: string): Promise<Warning | undefined>;
  /** Most recent first: lastSeen descending, then id ascending. */
  listWarnings(filter: WarningFilter): Promise<Warning[]>;
  listEvidence(warningId: string, limit: number): Promise<EvidenceRecord[]>;

  addSilence(silence: Silence): Promise<void>;
  getSilence(id: string): Promise<StoredSilence | undefined>;
  listSilences(filter: SilenceFilter): Promise<StoredSilence[]>;
  /** Reads, decides (e.g. approveSilence) and writes back in one step. */
  updateSilence<R extends Decision<'silence', Silence>>(
    id: string,
    decide: (silence: StoredSilence) => R,
  ): Promise<R | undefined>;
  /** Ends a silence now; false when it is unknown or already over. */
  expireSilence(
    id: string,
    by: { name: string; role: string; unit: string | null },
    at: string,
  ): Promise<boolean>;

  addNotice(notice: Notice): Promise<void>;
  getNotice(id: string): Promise<Notice | undefined>;
  /** Notices issued by or sent to these units; undefined = all. Newest first. */
  listNotices(filter: { units?: readonly string[]; limit: number }): Promise<Notice[]>;
  updateNotice<R extends Decision<'notice', Notice>>(
    id: string,
    decide: (notice: Notice) => R,
  ): Promise<R | undefined>;

  /** Pending notifications due at `now`, oldest first. */
  dueNotifications(now: string, limit: number): Promise<NotificationRecord[]>;
  /** The next time a pending notification falls due, if any. */
  nextNotificationDue(): Promise<string | undefined>;
  finishNotification(id: number, outcome: NotificationOutcome): Promise<void>;
  listNotifications(filter: { warningId?: string; limit: number }): Promise<NotificationRecord[]>;
}
