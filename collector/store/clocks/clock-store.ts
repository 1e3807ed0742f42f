/**
 * Persistence of the legal clocks (SPEC §7): the 第35条 register of classified information
 * systems with their assessments and change history, the 第61条 incidents with their reports,
 * and the clocks themselves — one row per deadline with its due time, a fire record for each
 * time a row fires (which doubles as the outbox of conditions to deliver), and a record of each
 * scheduler pass. Dates are `YYYY-MM-DD` (Asia/Shanghai civil dates), times ISO 8601 UTC text.
 */
import type { AssessmentResult, ChangeKind, SystemLevel } from '../../clocks/assessment-schedule.js';
import type { ReportChannel } from '../../clocks/report-chain.js';
import type { RectificationRecord } from '../rectifications/rectification-store.js';
import type { CollectorCondition } from '../warnings/records.js';

export type SystemStatus = 'in-use' | 'decommissioned';

export interface NewSystem {
  id: string;
  name: string;
  level: SystemLevel;
  unit: string;
  scope: string | null;
  environment: string | null;
  commissionedAt: string;
  /** 第33条: the test-and-review approval that allowed the system into use. */
  approvalRef: string | null;
  approvedBy: string | null;
  approvedAt: string | null;
  createdAt: string;
  createdBy: string;
}

export interface AssessmentEntry {
  id: number;
  completedAt: string;
  assessor: string;
  result: AssessmentResult;
  note: string | null;
  recordedAt: string;
  recordedBy: string;
}

/** One field changed on the register; `status` changes are kept too, though they start no clock. */
export interface SystemChangeEntry {
  id: number;
  kind: ChangeKind | 'status';
  at: string;
  from: string | null;
  to: string | null;
  by: string;
  /** Whether the officer judged it "可能产生新的安全保密风险隐患" (第35条); null on older records. */
  newRisk: boolean | null;
  /** The protective measures recorded with a change that may bring new risk. */
  measures: string | null;
}

export interface SystemRecord extends NewSystem {
  status: SystemStatus;
  /** The filing (备案) date of a decommissioned system (第35条 ¶3). */
  filedAt: string | null;
  /** What was done with a decommissioned system's equipment (destroyed, handed over, reused…). */
  disposal: string | null;
  assessments: AssessmentEntry[];
  changes: SystemChangeEntry[];
}

export interface SystemPatch {
  level?: SystemLevel;
  scope?: string | null;
  environment?: string | null;
  status?: SystemStatus;
  filedAt?: string | null;
  disposal?: string | null;
  /** Recorded on each level, scope or environment change this patch makes. */
  newRisk?: boolean;
  measures?: string | null;
  /** 第33条: the 测评审查 approval, recorded (or corrected) after registration. */
  approval?: { ref: string | null; by: string | null; at: string | null };
}

export interface NewAssessment {
  completedAt: string;
  assessor: string;
  result: AssessmentResult;
  note: string | null;
  recordedAt: string;
  recordedBy: string;
}

export interface NewIncident {
  id: string;
  title: string;
  level: SystemLevel;
  unit: string;
  /** The reporting unit's place in the hierarchy; fixes the chain's hops. */
  unitLevel: string;
  /** When the unit found it (第61条 发现): the 24 h start here. */
  discoveredAt: string;
  /** identified: the warning's 识别 time; manual: entered; evidence: the earliest event (before issue 16). */
  discoverySource: 'identified' | 'manual' | 'evidence';
  description: string | null;
  /** Remedial measures taken at once (第61条 应当立即采取补救措施), stored with the incident. */
  measures: NewMeasure[];
  evidence: number[];
  createdAt: string;
  createdBy: string;
  /** When the warning it was opened from was identified (识别). */
  identifiedAt?: string | null;
  /** The attested times of the earliest and latest evidence events, shown beside discovery. */
  evidenceFrom?: string | null;
  evidenceTo?: string | null;
}

/** One remedial measure: what was done, by whom, when; and who recorded it here, when. */
export interface NewMeasure {
  what: string;
  by: string;
  at: string;
  recordedAt: string;
  recordedBy: string;
}

export interface MeasureEntry extends NewMeasure {
  id: number;
}

/** A report about the leak (第61条), or the written report of its closure (第60条 处理结果). */
export type ReportAbout = 'leak' | 'closure';

export interface NewReport {
  about?: ReportAbout;
  fromLevel: string;
  to: string;
  reportedAt: string;
  receivedAt: string | null;
  channel: ReportChannel;
  by: string;
  receipt: string | null;
  recordedAt: string;
  recordedBy: string;
}

export interface ReportEntry extends NewReport {
  id: number;
  about: ReportAbout;
}

/** 第60条: the incident closed with its 处理结果. */
export interface IncidentClosure {
  closedAt: string;
  outcome: string;
  closedBy: string;
}

export interface IncidentRecord extends Omit<NewIncident, 'measures'> {
  measures: MeasureEntry[];
  reports: ReportEntry[];
  closedAt: string | null;
  outcome: string | null;
  closedBy: string | null;
}

export type ClockSubjectType = 'system' | 'incident' | 'rectification';

export interface ClockSubject {
  type: ClockSubjectType;
  id: string;
}

/** A deadline as the pure clocks compute it. `target` names the hop of an incident, '' for a system. */
export interface DeadlineSpec {
  target: string;
  kind: string;
  forDue: string;
  dueAt: string;
  /** Overdue warnings repeat daily until the matter is resolved. */
  repeats: boolean;
  escalatesTo: string | null;
}

export interface DeadlineRow extends DeadlineSpec {
  id: number;
  subject: ClockSubject;
  /** When the row was stored: a row stored after its due time (a record entered late) is not fired late. */
  createdAt: string;
  firedCount: number;
  lastFiredAt: string | null;
  /** Set when the row will not fire again: fired (not repeating) or superseded. */
  doneAt: string | null;
  superseded: boolean;
}

export type FireOutcome = 'fired' | 'stale' | 'cleared';

/** One firing of a deadline row, and the condition it reported (the outbox entry). */
export interface FireRecord {
  id: number;
  deadlineId: number;
  subject: ClockSubject;
  target: string;
  kind: string;
  dueAt: string;
  firedAt: string;
  /** Fired well after it could have been: the collector was not running when it fell due. */
  late: boolean;
  /** From the due time to the firing. */
  lateByMs: number;
  outcome: FireOutcome;
  condition: CollectorCondition | null;
  deliveredAt: string | null;
}

export interface CompleteDeadline {
  deadlineId: number;
  owner: string;
  /** The due time the row was claimed at; one fire per (row, dueAt). */
  dueAt: string;
  firedAt: string;
  outcome: 'fired' | 'stale';
  lateByMs: number;
  late: boolean;
  condition: CollectorCondition | null;
  /** Next due time of a repeating row; null ends the row. */
  nextDueAt: string | null;
}

/** What the scheduler decides for one claimed row: the fire to record, and the row's next state. */
export type FireDecision = Pick<
  CompleteDeadline,
  'outcome' | 'late' | 'lateByMs' | 'condition' | 'nextDueAt'
>;

/** The record a row's clock belongs to; undefined when it is gone. */
export type ClockRecord = SystemRecord | IncidentRecord | RectificationRecord | undefined;

export interface DueClaim {
  now: string;
  owner: string;
  leaseUntil: string;
  limit: number;
}

export interface FiredBatch {
  /** Rows claimed, fired or not: fewer than the limit means nothing else is due (for this owner). */
  claimed: number;
  /** The fires recorded, in firing order. */
  fires: FireRecord[];
}

export interface RunRecord {
  id: number;
  trigger: string;
  owner: string;
  startedAt: string;
  finishedAt: string | null;
  fired: number;
  late: number;
  stale: number;
  delivered: number;
  error: string | null;
}

export interface RunSummary {
  finishedAt: string;
  fired: number;
  late: number;
  stale: number;
  delivered: number;
  error: string | null;
}

export interface ClockStore {
  createSystem(system: NewSystem): Promise<SystemRecord>;
  getSystem(id: string): Promise<SystemRecord | undefined>;
  /** units undefined = every unit. */
  listSystems(filter: { units?: readonly string[] }): Promise<SystemRecord[]>;
  /** Applies the patch and records each changed field in the history, in one transaction. */
  updateSystem(id: string, patch: SystemPatch, at: string, by: string): Promise<SystemRecord | undefined>;
  addAssessment(systemId: string, assessment: NewAssessment): Promise<AssessmentEntry | undefined>;

  createIncident(incident: NewIncident): Promise<IncidentRecord>;
  getIncident(id: string): Promise<IncidentRecord | undefined>;
  listIncidents(filter: { units?: readonly string[] }): Promise<IncidentRecord[]>;
  /** The stored events an incident names as evidence, with their attested time and unit. */
  evidenceEvents(
    ids: readonly number[],
  ): Promise<{ id: number; ts: string; unit: string; type: string; agentId: string }[]>;
  addReport(incidentId: string, report: NewReport): Promise<ReportEntry | undefined>;
  addMeasure(incidentId: string, measure: NewMeasure): Promise<MeasureEntry | undefined>;
  /** Closes an open incident; false when there is none or it is closed already. */
  closeIncident(incidentId: string, closure: IncidentClosure): Promise<boolean>;
  /** Records the receipt of an earlier report; false when there is no such report. */
  setReportReceipt(
    incidentId: string,
    reportId: number,
    receivedAt: string,
    receipt: string | null,
  ): Promise<boolean>;

  /**
   * Makes the subject's pending rows equal `specs`: rows no longer wanted — pending, or fired and
   * still standing — are superseded (kept, never fire again), new ones are added, and rows that already exist keep their state — so a
   * reminder that fired is not fired again when the record is saved twice. For each superseded
   * row that had fired, `clearing` may return a condition that is recorded in the same
   * transaction as a `cleared` fire, for the scheduler to deliver.
   */
  replaceDeadlines(
    subject: ClockSubject,
    specs: readonly DeadlineSpec[],
    now: string,
    clearing: (row: DeadlineRow) => CollectorCondition | null,
  ): Promise<{ added: number; superseded: number; clears: FireRecord[] }>;
  /**
   * Leases due rows to `owner` until `leaseUntil`; a row leased by another owner whose lease has
   * not expired is skipped, so two collectors never handle the same row at once.
   */
  claimDueDeadlines(claim: DueClaim): Promise<DeadlineRow[]>;
  /**
   * One batch of a scheduler pass, in one transaction: claims up to `limit` due rows as
   * claimDueDeadlines does, loads each row's record, and records what `decide` returns for each
   * row in firing order — the fire (its condition, the outbox entry) and the row's next state, as
   * completeDeadline does, with `firedAt` = `now`. The claim, the fires and the rows' next states
   * commit together: a crash before the commit leaves nothing behind, not even a lease, so the
   * rows are due again at once for any collector. A row for which `decide` returns null stays
   * leased to `owner` until `leaseUntil`, and is retried after that; `decide` throwing rolls the
   * whole batch back.
   */
  fireDueDeadlines(
    claim: DueClaim,
    decide: (row: DeadlineRow, record: ClockRecord) => FireDecision | null,
  ): Promise<FiredBatch>;
  /**
   * Records the fire and moves the row on (next repeat, or done) in one transaction. Returns
   * null, recording nothing, when this (row, dueAt) has already fired.
   */
  completeDeadline(complete: CompleteDeadline): Promise<FireRecord | null>;
  listDeadlines(subject: ClockSubject): Promise<DeadlineRow[]>;
  listFires(subject: ClockSubject): Promise<FireRecord[]>;
  /** Fires whose condition has not reached the sink yet (the collector stopped in between). */
  listUndelivered(limit: number): Promise<FireRecord[]>;
  /** Marks the fires' conditions delivered, in one statement. */
  markDelivered(fireIds: readonly number[], at: string): Promise<void>;

  startRun(run: { trigger: string; owner: string; startedAt: string }): Promise<number>;
  finishRun(id: number, summary: RunSummary): Promise<void>;
  lastRun(): Promise<RunRecord | undefined>;
}
