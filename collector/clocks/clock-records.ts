import { shanghaiDate } from '../../shared/calendar.js';
import { severityForLevel } from '../../shared/levels.js';
import type {
  ClockSubject,
  DeadlineRow,
  DeadlineSpec,
  IncidentRecord,
  SystemRecord,
} from '../store/clocks/clock-store.js';
import type { RectificationRecord } from '../store/rectifications/rectification-store.js';
import type { CollectorCondition } from '../warnings/conditions.js';
import { rectificationConditionType } from '../rectifications/rectification-clock.js';
import {
  type AssessedSystem,
  type AssessmentClockOptions,
  type AssessmentSchedule,
  assessmentDeadlines,
  assessmentSchedule,
  type SystemChange,
  type SystemLevel,
} from './assessment-schedule.js';
import {
  type ChainLevel,
  type ChainReport,
  END_TO_END,
  type IncidentClock,
  OFF_SYSTEM_ADVICE,
  offSystemReportDue,
  type ReportChain,
  type ReportChainOptions,
  reportChain,
  reportChainDeadlines,
} from './report-chain.js';

/**
 * The bridge between stored records and the pure clocks: records become the clocks' inputs,
 * the clocks' deadlines become rows, and a fired row becomes the condition the warnings see.
 * Pure, so the scheduler and the API read the same answers from the same facts.
 */

export interface ClockOptions {
  assessment: AssessmentClockOptions;
  chain: ReportChainOptions;
}

export function assessedSystem(record: SystemRecord): AssessedSystem {
  return {
    level: record.level,
    commissionedAt: record.commissionedAt,
    approvedAt: record.approvedAt ?? undefined,
    status: record.status,
    filedAt: record.filedAt ?? undefined,
    assessments: record.assessments.map((a) => ({ completedAt: a.completedAt, result: a.result })),
    changes: record.changes.flatMap((c): SystemChange[] => {
      if (c.kind === 'status') return [];
      if (c.kind === 'level') {
        return [
          {
            kind: 'level' as const,
            at: new Date(c.at),
            from: (c.from ?? undefined) as SystemLevel | undefined,
            to: (c.to ?? undefined) as SystemLevel | undefined,
            newRisk: c.newRisk ?? undefined,
          },
        ];
      }
      const { kind, from, to } = c;
      return [
        {
          kind,
          at: new Date(c.at),
          from: from ?? undefined,
          to: to ?? undefined,
          newRisk: c.newRisk ?? undefined,
        },
      ];
    }),
  };
}

export function systemSchedule(record: SystemRecord, now: Date, options: ClockOptions): AssessmentSchedule {
  return assessmentSchedule(assessedSystem(record), shanghaiDate(now), options.assessment);
}

export function systemDeadlineSpecs(record: SystemRecord, options: ClockOptions): DeadlineSpec[] {
  return assessmentDeadlines(assessedSystem(record), options.assessment).map((row) => ({
    target: '',
    kind: row.kind,
    forDue: row.forDue,
    dueAt: row.dueAt.toISOString(),
    repeats: raisesOverdue(row) || row.kind === 'unapproved',
    escalatesTo: null,
  }));
}

export function incidentClock(record: IncidentRecord): IncidentClock {
  return {
    discoveredAt: new Date(record.discoveredAt),
    unitLevel: record.unitLevel as ChainLevel,
    ...(record.closedAt ? { closedAt: new Date(record.closedAt) } : {}),
  };
}

/**
 * 第61条 "应当立即采取补救措施，并在24小时内…报告": the measures come first. Every way a first report
 * leaves (a hand-recorded report, the system report to the parent) asks this one question.
 */
export function measuresMissing(record: Pick<IncidentRecord, 'measures'>): boolean {
  return record.measures.length === 0;
}

export const MEASURES_FIRST = {
  en: 'measures: record at least one remedial measure (what, by, at) before the first report (第61条: 应当立即采取补救措施，并在24小时内…报告)',
  zh: '请先登记至少一项补救措施（措施、实施人、时间）再报告：第六十一条要求“应当立即采取补救措施，并在24小时内……报告”',
} as const;

export function chainReports(record: IncidentRecord): ChainReport[] {
  return record.reports.map((r) => ({
    fromLevel: r.fromLevel as ChainLevel,
    to: r.to as ChainReport['to'],
    reportedAt: new Date(r.reportedAt),
    receivedAt: r.receivedAt === null ? undefined : new Date(r.receivedAt),
    channel: r.channel,
    by: r.by,
    receipt: r.receipt ?? undefined,
    about: r.about,
    viaParent: r.recordedBy === HIERARCHY_RECORDER,
  }));
}

/** Who records a hop from a parent collector's signed receipt (collector/hierarchy/hierarchy.ts). */
export const HIERARCHY_RECORDER = 'smew hierarchy';

export function incidentChain(record: IncidentRecord, now: Date): ReportChain {
  return reportChain(incidentClock(record), chainReports(record), now);
}

export function incidentDeadlineSpecs(record: IncidentRecord, options: ClockOptions): DeadlineSpec[] {
  return reportChainDeadlines(incidentClock(record), chainReports(record), options.chain).map((row) => ({
    target: row.hopId,
    kind: row.kind,
    forDue: row.forDue.toISOString(),
    dueAt: row.dueAt.toISOString(),
    repeats: false,
    escalatesTo: row.escalatesTo,
  }));
}

export function subjectOf(record: SystemRecord | IncidentRecord | RectificationRecord): ClockSubject {
  if ('commissionedAt' in record) return { type: 'system', id: record.id };
  return 'deadline' in record
    ? { type: 'rectification', id: record.id }
    : { type: 'incident', id: record.id };
}

/** The field of a condition's data that names its subject. */
const SUBJECT_FIELDS = {
  system: 'systemId',
  incident: 'incidentId',
  rectification: 'rectificationId',
} as const;

/**
 * Condition types the clocks report; the rules decide which become warnings. A reassessment after
 * a change that may bring new risk is told at the change (data.deadline `reassess`): as a reminder
 * while its `reassessWithin` days run, as `assessment.overdue` when it is due that very day. The
 * 第33条 gate has a type of its own. Reminders (`reminder-N` before the deadline, `advice-N`
 * before the recommended date) become warnings only where a rule matches them.
 */
export const CLOCK_CONDITION_TYPES = {
  assessmentReminder: 'assessment.reminder',
  assessmentOverdue: 'assessment.overdue',
  /** 第33条: in use without the 测评审查 approval (未经测评审查投入使用). */
  assessmentUnapproved: 'assessment.unapproved',
  reportReminder: 'incident.report.reminder',
  reportLate: 'incident.report.late',
  /** Not at the national level 24 h after the first administration received it (SPEC §7). */
  reportStuck: 'incident.report.stuck',
} as const;

/**
 * A reassessment row at the change is an overdue warning only when the reassessment is due that
 * very day (`reassessWithin` 0); with days to go it tells the officer, as a reminder does.
 */
function raisesOverdue(row: { kind: string; dueAt: string | Date; forDue: string }): boolean {
  if (row.kind === 'overdue') return true;
  return row.kind === 'reassess' && row.forDue <= shanghaiDate(new Date(row.dueAt));
}

function conditionTypeOf(row: Pick<DeadlineRow, 'subject' | 'kind' | 'target' | 'dueAt' | 'forDue'>): string {
  if (row.subject.type === 'rectification') return rectificationConditionType(row.kind);
  if (row.subject.type === 'system') {
    if (row.kind === 'unapproved') return CLOCK_CONDITION_TYPES.assessmentUnapproved;
    if (raisesOverdue(row)) return CLOCK_CONDITION_TYPES.assessmentOverdue;
    return CLOCK_CONDITION_TYPES.assessmentReminder;
  }
  if (row.target === END_TO_END) return CLOCK_CONDITION_TYPES.reportStuck;
  return row.kind === 'missed' ? CLOCK_CONDITION_TYPES.reportLate : CLOCK_CONDITION_TYPES.reportReminder;
}

/**
 * One key per system (or hop) and type, so `cleared` finds what `raised` opened. Each reminder
 * of a hop has its own: a later one (T−2 h, which says to report by phone or on paper) opens
 * its own warning and notice instead of folding silently into the first one's.
 */
export function conditionKey(
  row: Pick<DeadlineRow, 'subject' | 'kind' | 'target' | 'dueAt' | 'forDue'>,
): string {
  const type = conditionTypeOf(row);
  if (row.subject.type !== 'incident') return `${type}:${row.subject.id}`;
  const reminder = type === CLOCK_CONDITION_TYPES.reportReminder ? `:${row.kind}` : '';
  return `${type}:${row.subject.id}:${row.target}${reminder}`;
}

export interface Lateness {
  late: boolean;
  lateByMs: number;
}

export function systemCondition(
  record: SystemRecord,
  row: DeadlineRow,
  schedule: AssessmentSchedule,
  at: Date,
  lateness: Lateness,
): CollectorCondition {
  const type = conditionTypeOf(row);
  const severity =
    type === CLOCK_CONDITION_TYPES.assessmentReminder ? 'medium' : severityForLevel('high', record.level);
  return {
    type,
    state: 'raised',
    key: conditionKey(row),
    unit: record.unit,
    severity,
    data: {
      systemId: record.id,
      name: record.name,
      level: record.level,
      nextDue: schedule.nextDue,
      daysLeft: schedule.daysLeft,
      state: schedule.state,
      recommended: schedule.recommended,
      approvedAt: record.approvedAt,
      basis: schedule.basis,
      deadline: row.kind,
      dueAt: row.dueAt,
      ...lateness,
    },
    at: at.toISOString(),
  };
}

export function incidentCondition(
  record: IncidentRecord,
  row: DeadlineRow,
  chain: ReportChain,
  at: Date,
  lateness: Lateness,
  remindersMs?: readonly number[],
): CollectorCondition {
  const type = conditionTypeOf(row);
  if (type === CLOCK_CONDITION_TYPES.reportStuck) return stuckCondition(record, row, chain, at, lateness);
  const hop = chain.hops.find((h) => h.id === row.target);
  const offSystem =
    hop !== undefined && offSystemReportDue({ dueAt: hop.dueAt, arrivedAt: hop.receivedAt }, at, remindersMs);
  return {
    type,
    state: 'raised',
    key: conditionKey(row),
    unit: record.unit,
    severity: type === CLOCK_CONDITION_TYPES.reportLate ? 'critical' : 'high',
    data: {
      incidentId: record.id,
      title: record.title,
      level: record.level,
      hop: row.target,
      from: hop?.from ?? null,
      to: hop?.to ?? null,
      hopDueAt: row.forDue,
      deadline: row.kind,
      dueAt: row.dueAt,
      /** A missed deadline is a warning at the next level up (第61条 chain, SPEC §7). */
      escalatesTo: row.escalatesTo,
      ...lateness,
      /** From T−2 h without a receipt: say to report by phone or on paper and record it (SPEC §7). */
      ...(offSystem ? { advice: OFF_SYSTEM_ADVICE.zh } : {}),
      /** The unit's own report waits for a measure (第61条): the reminder says so. */
      ...(hop?.from === 'unit' && measuresMissing(record) ? { waitingFor: MEASURES_FIRST.zh } : {}),
    },
    at: at.toISOString(),
  };
}

/**
 * The end-to-end warning, raised where the incident is a clock (the unit): it names the level
 * that holds the report as far as this collector's records go, and the hop it waits on.
 */
function stuckCondition(
  record: IncidentRecord,
  row: DeadlineRow,
  chain: ReportChain,
  at: Date,
  lateness: Lateness,
): CollectorCondition {
  return {
    type: CLOCK_CONDITION_TYPES.reportStuck,
    state: 'raised',
    key: conditionKey(row),
    unit: record.unit,
    severity: 'critical',
    data: {
      incidentId: record.id,
      title: record.title,
      level: record.level,
      hop: END_TO_END,
      firstReceivedAt: chain.endToEnd.startedAt?.toISOString() ?? null,
      endToEndDueAt: row.forDue,
      heldBy: chain.endToEnd.heldBy,
      waitingOn: chain.endToEnd.waitingOn,
      deadline: row.kind,
      dueAt: row.dueAt,
      escalatesTo: row.escalatesTo,
      ...lateness,
    },
    at: at.toISOString(),
  };
}

/** The `cleared` twin of a condition a fired row raised; the record's unit is not at hand, so it is passed. */
export function clearedCondition(
  row: DeadlineRow,
  unit: string,
  at: Date,
  reason: string,
): CollectorCondition {
  return {
    type: conditionTypeOf(row),
    state: 'cleared',
    key: conditionKey(row),
    unit,
    severity: 'info',
    data: {
      [SUBJECT_FIELDS[row.subject.type]]: row.subject.id,
      hop: row.target || undefined,
      reason,
    },
    at: at.toISOString(),
  };
}
