import type { Evaluation, RuleState } from '../rules/evaluate.js';
import type { CollectorCondition } from '../warnings/conditions.js';
import type { IncidentRequestResult, TransitionResult } from '../warnings/lifecycle.js';
import type { Notice, NoticeResult } from '../warnings/notices.js';
import type { Silence, SilenceResult } from '../warnings/silences.js';
import type { EvidenceRef, Warning, WarningState } from '../warnings/warning.js';
import type { Severity } from '../../shared/levels.js';
import type { NotifyRoute } from '../notify/occasion.js';

/**
 * Persistence of 第64条 early warning: the rules' state rows, warnings with their evidence and
 * audit trail, silences, notices and the notification outbox. Every decision is made by a pure
 * function (collector/rules, collector/warnings) that the store calls inside its transaction, so
 * the rows read, the decision and the rows written are one atomic step.
 */

/** The rule-state rows one evaluation reads (see rowsNeeded in collector/rules/evaluate.ts). */
export interface RowsNeeded {
  slots: string[];
  condition: string;
}

/** What the rules look at: a stored event (by id), or a condition the collector observed itself. */
export type RulesInput =
  | { kind: 'event'; eventId: number; needed: RowsNeeded }
  | { kind: 'condition'; condition: CollectorCondition; needed: RowsNeeded };

export interface RulesRunOptions {
  now: string;
  /**
   * The outbox rows owed (see ruleNotifications in collector/notify/occasion.ts): one row per
   * routed channel when a warning opens and when a resolved warning is raised again.
   */
  notify: NotifyRoute;
}

export interface RulesRunResult {
  opened: string[];
  updated: string[];
}

/**
 * The evaluation callback. `conditionId` is set for a collector condition: the row it was
 * recorded under, which its evidence refs carry as a negative `seq` (see conditionSeq).
 */
export type EvaluateStep = (state: RuleState, conditionId: number | undefined) => Evaluation;

/** Collector conditions have no agent seq: evidence refs carry −(condition row id) instead. */
export function conditionSeq(conditionId: number): number {
  return -conditionId;
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

export interface EvidenceRecord extends EvidenceRef {
  /** For a collector condition: its row id, type, key and data. */
  condition?: { id: number; type: string; key: string; data: Record<string, unknown>; at: string };
  /** The stored event's envelope exactly as received, when `eventId` is set and still stored. */
  envelope?: string;
}

export type WarningStep = TransitionResult | IncidentRequestResult;

export interface SilenceFilter {
  /** Only silences not yet ended (and not expired by hand) at this time. */
  activeAt?: string;
  limit: number;
}

export interface StoredSilence extends Silence {
  /** Set when someone ended it early. */
  expiredBy: { name: string; role: string; unit: string | null; at: string } | null;
}

export type NotificationState = 'pending' | 'sent' | 'muted' | 'failed';

export interface NotificationRecord {
  id: number;
  warningId: string;
  channel: string;
  /** occasionKey: `opened`, `reraised:<time>` or `state:<to>`; one row per warning, channel and occasion. */
  occasion: string;
  state: NotificationState;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  doneAt: string | null;
  mutedBy: string | null;
}

export type NotificationOutcome =
  | { state: 'sent'; at: string }
  | { state: 'muted'; at: string; silenceId: string }
  /** Not delivered; `nextAttemptAt` null gives up (state failed). */
  | { state: 'retry'; error: string; nextAttemptAt: string | null; at: string };

export interface WarningStore {
  /**
   * Records a collector condition when there is one, loads the rows `needed`, calls `evaluate`,
   * then writes its row changes, the warnings it opens or updates, their evidence and outbox rows
   * in one transaction. For an event it also moves the rules cursor past it; an event at or below
   * the cursor was evaluated already and returns undefined without calling `evaluate`.
   */
  runRules(
    input: RulesInput,
    evaluate: EvaluateStep,
    options: RulesRunOptions,
  ): Promise<RulesRunResult | undefined>;
  /**
   * Several runRules steps in one transaction, in order (each sees the rows the previous wrote):
   * the rules stage catching up with a burst pays for one commit, not one per event.
   */
  runRulesBatch(
    steps: readonly { input: RulesInput; evaluate: EvaluateStep }[],
    options: RulesRunOptions,
  ): Promise<(RulesRunResult | undefined)[]>;
  /**
   * Housekeeping: loads every window, correlation and condition pair (and the open rows they
   * refer to), calls `sweep` (expireWindows) and writes its changes, in one transaction.
   */
  sweepRuleState(sweep: (state: RuleState) => Evaluation): Promise<number>;
  /** Stored events the rules have not seen yet, oldest first (after a crash or while behind). */
  eventsAfterRulesCursor(limit: number): Promise<{ id: number; unit: string; envelope: string }[]>;

  getWarning(id: string): Promise<Warning | undefined>;
  /** Most recent first: lastSeen descending, then id ascending. */
  listWarnings(filter: WarningFilter): Promise<Warning[]>;
  listEvidence(warningId: string, limit: number): Promise<EvidenceRecord[]>;
  /**
   * Reads the warning, calls `decide` (a pure lifecycle step) and, when it succeeds, records the
   * step in the audit trail and the new state; a final state also frees the warning's rule slot,
   * so the next occurrence opens a new warning. With `notify`, the same transaction writes the
   * outbox rows the step owes (stepNotifications). Undefined when there is no such warning.
   */
  updateWarning<R extends WarningStep>(
    id: string,
    decide: (warning: Warning) => R,
    notify?: NotifyRoute,
  ): Promise<R | undefined>;

  addSilence(silence: Silence): Promise<void>;
  getSilence(id: string): Promise<StoredSilence | undefined>;
  listSilences(filter: SilenceFilter): Promise<StoredSilence[]>;
  /** Reads, decides (e.g. approveSilence) and writes back in one step. */
  updateSilence(
    id: string,
    decide: (silence: StoredSilence) => SilenceResult,
  ): Promise<SilenceResult | undefined>;
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
  updateNotice(id: string, decide: (notice: Notice) => NoticeResult): Promise<NoticeResult | undefined>;

  /** Pending notifications due at `now`, oldest first. */
  dueNotifications(now: string, limit: number): Promise<NotificationRecord[]>;
  /** The next time a pending notification falls due, if any. */
  nextNotificationDue(): Promise<string | undefined>;
  finishNotification(id: number, outcome: NotificationOutcome): Promise<void>;
  listNotifications(filter: { warningId?: string; limit: number }): Promise<NotificationRecord[]>;
}
