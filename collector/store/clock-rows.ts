import type { AssessmentResult, ChangeKind, SystemLevel } from '../clocks/assessment-schedule.js';
import type { ReportChannel } from '../clocks/report-chain.js';
import type { CollectorCondition } from '../warnings/conditions.js';
import type {
  AssessmentEntry,
  ClockSubjectType,
  DeadlineRow,
  FireOutcome,
  FireRecord,
  IncidentRecord,
  ReportEntry,
  RunRecord,
  SystemChangeEntry,
  SystemRecord,
  SystemStatus,
} from './clock-store.js';

/**
 * The legal-clock rows as both SQL stores read them, and their mapping to records: SQLite hands
 * booleans back as 0/1, PostgreSQL as true/false; JSON (evidence, conditions) is text in both.
 */
export interface SystemRow {
  id: string;
  name: string;
  level: string;
  unit: string;
  scope: string | null;
  environment: string | null;
  commissioned_at: string;
  approval_ref: string | null;
  approved_by: string | null;
  approved_at: string | null;
  status: string;
  filed_at: string | null;
  created_at: string;
  created_by: string;
}

export interface AssessmentRow {
  id: number;
  completed_at: string;
  assessor: string;
  result: string;
  note: string | null;
  recorded_at: string;
  recorded_by: string;
}

export interface SystemChangeRow {
  id: number;
  kind: string;
  at: string;
  from_value: string | null;
  to_value: string | null;
  by: string;
}

export interface IncidentRow {
  id: string;
  title: string;
  level: string;
  unit: string;
  unit_level: string;
  discovered_at: string;
  discovery_source: string;
  description: string | null;
  measures: string | null;
  evidence: string;
  created_at: string;
  created_by: string;
}

export interface ReportRow {
  id: number;
  from_level: string;
  to_recipient: string;
  reported_at: string;
  received_at: string | null;
  channel: string;
  by: string;
  receipt: string | null;
  recorded_at: string;
  recorded_by: string;
}

export interface DeadlineDbRow {
  id: number;
  subject_type: string;
  subject_id: string;
  target: string;
  kind: string;
  for_due: string;
  due_at: string;
  repeats: number | boolean;
  escalates_to: string | null;
  created_at: string;
  fired_count: number;
  last_fired_at: string | null;
  done_at: string | null;
  superseded: number | boolean;
}

export interface FireDbRow {
  id: number;
  deadline_id: number;
  subject_type: string;
  subject_id: string;
  target: string;
  kind: string;
  due_at: string;
  fired_at: string;
  late: number | boolean;
  late_by_ms: number;
  outcome: string;
  condition: string | null;
  delivered_at: string | null;
}

export interface RunRow {
  id: number;
  trigger: string;
  owner: string;
  started_at: string;
  finished_at: string | null;
  fired: number;
  late: number;
  stale: number;
  delivered: number;
  error: string | null;
}

export const ASSESSMENT_COLUMNS = 'id, completed_at, assessor, result, note, recorded_at, recorded_by';
export const SYSTEM_CHANGE_COLUMNS = 'id, kind, at, from_value, to_value, by';

/** A fire (`f`) with the row it belongs to (`d`), as FireDbRow. */
export const FIRE_COLUMNS = `f.id, f.deadline_id, d.subject_type, d.subject_id, d.target, d.kind, f.due_at,
  f.fired_at, f.late, f.late_by_ms, f.outcome, f.condition, f.delivered_at`;

/** Fires with their rows; callers append WHERE / ORDER BY. */
export const FIRE_SELECT = `SELECT ${FIRE_COLUMNS} FROM clock_fires f JOIN clock_deadlines d ON d.id = f.deadline_id`;

const truthy = (value: number | boolean): boolean => value === true || value === 1;

export function toAssessment(row: AssessmentRow): AssessmentEntry {
  return {
    id: row.id,
    completedAt: row.completed_at,
    assessor: row.assessor,
    result: row.result as AssessmentResult,
    note: row.note,
    recordedAt: row.recorded_at,
    recordedBy: row.recorded_by,
  };
}

export function toSystemChange(row: SystemChangeRow): SystemChangeEntry {
  return {
    id: row.id,
    kind: row.kind as ChangeKind | 'status',
    at: row.at,
    from: row.from_value,
    to: row.to_value,
    by: row.by,
  };
}

export function toSystem(
  row: SystemRow,
  assessments: AssessmentEntry[],
  changes: SystemChangeEntry[],
): SystemRecord {
  return {
    id: row.id,
    name: row.name,
    level: row.level as SystemLevel,
    unit: row.unit,
    scope: row.scope,
    environment: row.environment,
    commissionedAt: row.commissioned_at,
    approvalRef: row.approval_ref,
    approvedBy: row.approved_by,
    approvedAt: row.approved_at,
    status: row.status as SystemStatus,
    filedAt: row.filed_at,
    createdAt: row.created_at,
    createdBy: row.created_by,
    assessments,
    changes,
  };
}

export function toReport(row: ReportRow): ReportEntry {
  return {
    id: row.id,
    fromLevel: row.from_level,
    to: row.to_recipient,
    reportedAt: row.reported_at,
    receivedAt: row.received_at,
    channel: row.channel as ReportChannel,
    by: row.by,
    receipt: row.receipt,
    recordedAt: row.recorded_at,
    recordedBy: row.recorded_by,
  };
}

export function toIncident(row: IncidentRow, reports: ReportEntry[]): IncidentRecord {
  return {
    id: row.id,
    title: row.title,
    level: row.level as SystemLevel,
    unit: row.unit,
    unitLevel: row.unit_level,
    discoveredAt: row.discovered_at,
    discoverySource: row.discovery_source as 'evidence' | 'manual',
    description: row.description,
    measures: row.measures,
    evidence: JSON.parse(row.evidence) as number[],
    createdAt: row.created_at,
    createdBy: row.created_by,
    reports,
  };
}

export function toDeadline(row: DeadlineDbRow): DeadlineRow {
  return {
    id: row.id,
    subject: { type: row.subject_type as ClockSubjectType, id: row.subject_id },
    target: row.target,
    kind: row.kind,
    forDue: row.for_due,
    dueAt: row.due_at,
    repeats: truthy(row.repeats),
    escalatesTo: row.escalates_to,
    createdAt: row.created_at,
    firedCount: row.fired_count,
    lastFiredAt: row.last_fired_at,
    doneAt: row.done_at,
    superseded: truthy(row.superseded),
  };
}

export function toFire(row: FireDbRow): FireRecord {
  return {
    id: row.id,
    deadlineId: row.deadline_id,
    subject: { type: row.subject_type as ClockSubjectType, id: row.subject_id },
    target: row.target,
    kind: row.kind,
    dueAt: row.due_at,
    firedAt: row.fired_at,
    late: truthy(row.late),
    lateByMs: row.late_by_ms,
    outcome: row.outcome as FireOutcome,
    condition: row.condition === null ? null : (JSON.parse(row.condition) as CollectorCondition),
    deliveredAt: row.delivered_at,
  };
}

export function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    trigger: row.trigger,
    owner: row.owner,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    fired: row.fired,
    late: row.late,
    stale: row.stale,
    delivered: row.delivered,
    error: row.error,
  };
}

/** Orders claimed rows as the scheduler fires them: by due time, then by id. */
export function byDueTime(a: DeadlineRow, b: DeadlineRow): number {
  return a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : a.id - b.id;
}
