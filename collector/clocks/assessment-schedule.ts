import { ASSESSMENT_RESULTS, SYSTEM_LEVELS, type AssessmentResult } from '../../shared/api/clocks.js';
import { z } from 'zod';
import {
  addCalendarDays,
  addCalendarYears,
  type CalendarDate,
  calendarDateSchema,
  compareDates,
  daysBetween,
  instantSchema,
  shanghaiDate,
  startOfShanghaiDay,
} from '../../shared/calendar.js';

/**
 * The 第33条 gate and the 第35条 risk-assessment clock, as pure functions of a system's record:
 * what is due when, and the deadline rows the scheduler stores (`due_at`) and claims. This file is
 * the one home of the reading; the scheduler, the API and the dashboard's data all call it.
 *
 * - 第33条 "经…审查合格，方可投入使用": a system in use (from its commissioning day) without a
 *   recorded 测评审查 approval raises 未经测评审查投入使用 at once, repeated daily until recorded.
 * - 第35条 "绝密级…每年至少开展一次…机密级及以下…每两年至少开展一次", read per period
 *   (`calendar`, the default): 绝密 one completed assessment in each calendar year (Asia/Shanghai);
 *   机密/秘密 one in each two-year period counted from the year of the 第33条 approval (or of
 *   commissioning when none is recorded): [Y0, Y0+1], [Y0+2, Y0+3], … The deadline is 31 December
 *   of the last year of the first period after the last one with an assessment in it; the
 *   approval's own 检测评估 counts for the period it falls in. A period already missed stays missed:
 *   a late assessment counts for the period it falls in and the next deadline follows from it.
 *   The rolling date (below) is shown as the recommended date (建议日期) and reminded before, but
 *   only the period deadline makes a system overdue.
 * - `rolling`: last assessment + 1 or 2 calendar years (29 February → 28 February) is the deadline;
 *   with no assessment yet, the commissioning date (第33条 allows use only after 检测评估).
 * - An assessment counts whatever it found (SPEC §7): risks found open 整改 items of their own.
 * - A change of level, scope of use or environment (第35条 second sentence) makes a reassessment
 *   due only when the officer recorded that it "可能产生新的安全保密风险隐患" (`newRisk`; a change
 *   recorded before the question was asked counts as one that may). It falls due `reassessWithin`
 *   days after the change, the protective measures being recorded with it (state `reassess`). A
 *   change recorded on the same date as an assessment counts as covered by it: the two cannot be
 *   ordered within a day. A change without new risk leaves the calendar as it was.
 * - A raised level applies its own period from the change on, never retroactively: the deadline
 *   is the earlier of the old level's and the new level's period around the change. If the system
 *   was already overdue before the change, the older due date stands and the state is `overdue`.
 * - Decommissioned (¶3): no reminders; the filing (备案) date is required.
 */

export { SYSTEM_LEVELS };
export const systemLevelSchema = z.enum(SYSTEM_LEVELS);
export type SystemLevel = z.infer<typeof systemLevelSchema>;

export { ASSESSMENT_RESULTS, type AssessmentResult };

export const CHANGE_KINDS = ['level', 'scope', 'environment'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export const assessmentRecordSchema = z.object({
  completedAt: calendarDateSchema,
  result: z.enum(ASSESSMENT_RESULTS),
});

export const ASSESSMENT_PERIODS = ['calendar', 'rolling'] as const;
export type AssessmentPeriod = (typeof ASSESSMENT_PERIODS)[number];

/** Whether the officer judged the change may bring new risk; absent on changes recorded before asking. */
const changeRisk = { newRisk: z.boolean().optional() };

export const systemChangeSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('level'),
    at: instantSchema,
    from: systemLevelSchema.optional(),
    to: systemLevelSchema.optional(),
    ...changeRisk,
  }),
  z.object({
    kind: z.enum(['scope', 'environment']),
    at: instantSchema,
    from: z.string().optional(),
    to: z.string().optional(),
    ...changeRisk,
  }),
]);

export const assessedSystemSchema = z
  .object({
    level: systemLevelSchema,
    commissionedAt: calendarDateSchema,
    /** The date of the 第33条 测评审查 approval; absent when none is recorded. */
    approvedAt: calendarDateSchema.optional(),
    status: z.enum(['in-use', 'decommissioned']),
    filedAt: calendarDateSchema.optional(),
    assessments: z.array(assessmentRecordSchema).default([]),
    changes: z.array(systemChangeSchema).default([]),
  })
  .refine((system) => system.status !== 'decommissioned' || system.filedAt !== undefined, {
    message: 'a decommissioned system must carry its filing (备案) date, filedAt (第35条)',
    path: ['filedAt'],
  });

export type AssessmentRecord = z.infer<typeof assessmentRecordSchema>;
export type SystemChange = z.infer<typeof systemChangeSchema>;
export type AssessedSystem = z.infer<typeof assessedSystemSchema>;
type LevelChange = Extract<SystemChange, { kind: 'level' }>;

export type AssessmentState = 'ok' | 'due-soon' | 'overdue' | 'reassess' | 'decommissioned';

/** Why the next assessment is due when it is. */
export type DueBasis = 'first-assessment' | 'periodic' | 'change' | 'failed-assessment';

export interface AssessmentSchedule {
  state: AssessmentState;
  /** Last day on which the assessment is on time; null once decommissioned. */
  nextDue: CalendarDate | null;
  /** Days from today to nextDue: 0 on the day, negative when overdue; null once decommissioned. */
  daysLeft: number | null;
  /** Years between assessments at the current level, from the next assessment on. */
  interval: 1 | 2;
  basis: DueBasis | null;
  /** The last assessment (any result). */
  lastAssessedAt: CalendarDate | null;
  filedAt: CalendarDate | null;
  /** Under `calendar`, the rolling date (建议日期): reminded, never overdue. Null under `rolling`. */
  recommended: CalendarDate | null;
  /** In use (commissioned by today) without a recorded 第33条 approval: 未经测评审查投入使用. */
  unapproved: boolean;
}

export type AssessmentDeadlineKind =
  `reminder-${number}` | `advice-${number}` | 'overdue' | 'reassess' | 'unapproved';

/**
 * One row for the scheduler. `forDue` names the due date the row serves: when the row fires,
 * the handler recomputes the schedule and drops the row as stale if nextDue has moved on.
 */
export interface AssessmentDeadline {
  kind: AssessmentDeadlineKind;
  dueAt: Date;
  forDue: CalendarDate;
}

export interface AssessmentClockOptions {
  /** Days before nextDue to remind; the largest also bounds `due-soon`. */
  reminderDays?: readonly number[];
  /** `calendar` (default): per period; `rolling`: last assessment + 1 or 2 years. */
  period?: AssessmentPeriod;
  /** Days after a change that may bring new risk within which the reassessment falls due (default 30). */
  reassessWithinDays?: number;
}

export const DEFAULT_REMINDER_DAYS: readonly number[] = [30, 7, 1];
export const DEFAULT_REASSESS_WITHIN_DAYS = 30;

export function assessmentInterval(level: SystemLevel): 1 | 2 {
  return level === '绝密' ? 1 : 2;
}

/** A period of 第35条 under `calendar`: its first and last years and its deadline. */
export interface AssessmentPeriodSpan {
  firstYear: number;
  lastYear: number;
  deadline: CalendarDate;
}

/**
 * The period `year` falls in, for a system of `level` whose periods count from `baseYear` (the
 * year of its 第33条 approval, or of commissioning): a calendar year for 绝密, [Y0+2k, Y0+2k+1]
 * otherwise. Years before the base belong to the period they would have by the same count.
 */
export function assessmentPeriodOf(level: SystemLevel, baseYear: number, year: number): AssessmentPeriodSpan {
  const length = assessmentInterval(level);
  const firstYear = baseYear + Math.floor((year - baseYear) / length) * length;
  const lastYear = firstYear + length - 1;
  return { firstYear, lastYear, deadline: `${String(lastYear).padStart(4, '0')}-12-31` };
}

const yearOf = (date: CalendarDate) => Number(date.slice(0, 4));

interface Due {
  nextDue: CalendarDate;
  basis: DueBasis;
  /** When a reassessment became due: the change's instant. */
  triggeredAt: Date | null;
  lastAssessedAt: CalendarDate | null;
  recommended: CalendarDate | null;
}

/** The rolling due date: last + interval, or commissioning when never assessed. */
function rollingDue(
  system: AssessedSystem,
  last: CalendarDate | undefined,
  level: SystemLevel,
): CalendarDate {
  return last === undefined ? system.commissionedAt : addCalendarYears(last, assessmentInterval(level));
}

/**
 * The calendar deadline: the end of the period after the one `last` falls in (the last assessment
 * or the approval, whose 检测评估 counts for its period), or of the base period when there is neither. A raised level
 * applies its own period from the change on: the deadline is then no later than the end of the
 * new level's period that holds the change, unless an assessment on or after the change covers it.
 */
function calendarDue(
  system: AssessedSystem,
  last: CalendarDate | undefined,
  levelAtLast: SystemLevel,
  levelChange: LevelChange | undefined,
): CalendarDate {
  const baseYear = yearOf(system.approvedAt ?? system.commissionedAt);
  const counted = last;
  const periodic =
    counted === undefined
      ? assessmentPeriodOf(levelAtLast, baseYear, baseYear).deadline
      : nextPeriodDeadline(levelAtLast, baseYear, counted);
  if (!levelChange || levelAtLast === system.level) return periodic;
  const changeYear = yearOf(shanghaiDate(levelChange.at));
  const underNewLevel = assessmentPeriodOf(system.level, baseYear, changeYear).deadline;
  return compareDates(underNewLevel, periodic) < 0 ? underNewLevel : periodic;
}

function nextPeriodDeadline(level: SystemLevel, baseYear: number, assessed: CalendarDate): CalendarDate {
  const period = assessmentPeriodOf(level, baseYear, Math.max(baseYear, yearOf(assessed)));
  return assessmentPeriodOf(level, baseYear, period.lastYear + 1).deadline;
}

function dueOf(system: AssessedSystem, options: AssessmentClockOptions): Due {
  const period = options.period ?? 'calendar';
  const last = system.assessments
    .map((a) => a.completedAt)
    .sort(compareDates)
    .at(-1);
  // What a change is measured against: the last assessment, or under `calendar` the approval's own.
  const counted = period === 'rolling' ? last : latest(last, system.approvedAt);
  const after = (date: CalendarDate) => counted === undefined || compareDates(date, counted) > 0;
  const pendingChanges = system.changes
    .filter((c) => after(shanghaiDate(c.at)))
    .sort((a, b) => a.at.getTime() - b.at.getTime());

  // The period that ran from the last assessment is the level's before any pending change.
  const firstLevelChange = pendingChanges.find((c): c is LevelChange => c.kind === 'level');
  const levelAtLast = firstLevelChange?.from ?? system.level;
  const deadline =
    period === 'rolling'
      ? rollingDue(system, last, levelAtLast)
      : calendarDue(system, counted, levelAtLast, firstLevelChange);
  const recommended = period === 'rolling' ? null : rollingDue(system, counted, levelAtLast);
  const base = { lastAssessedAt: last ?? null, recommended };

  // Only a change that may bring new risk makes a reassessment due, and only once there is an
  // assessment to reassess; before that the first one is due anyway.
  const change = counted === undefined ? undefined : pendingChanges.find((c) => c.newRisk !== false);
  if (change && compareDates(shanghaiDate(change.at), deadline) <= 0) {
    const reassessBy = addCalendarDays(shanghaiDate(change.at), reassessWithin(options));
    const nextDue = compareDates(reassessBy, deadline) <= 0 ? reassessBy : deadline;
    return { ...base, nextDue, basis: 'change', triggeredAt: change.at };
  }
  const basis: DueBasis = counted === undefined ? 'first-assessment' : 'periodic';
  return { ...base, nextDue: deadline, basis, triggeredAt: null };
}

function latest(a: CalendarDate | undefined, b: CalendarDate | undefined): CalendarDate | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareDates(a, b) >= 0 ? a : b;
}

function reassessWithin(options: AssessmentClockOptions): number {
  const days = options.reassessWithinDays ?? DEFAULT_REASSESS_WITHIN_DAYS;
  if (!Number.isInteger(days) || days < 0) throw new RangeError(`reassessWithin must be whole days: ${days}`);
  return days;
}

function reminderDays(options: AssessmentClockOptions): number[] {
  const days = options.reminderDays ?? DEFAULT_REMINDER_DAYS;
  for (const d of days) {
    if (!Number.isInteger(d) || d <= 0) throw new RangeError(`reminder days must be positive integers: ${d}`);
  }
  return [...new Set(days)].sort((a, b) => b - a);
}

/** In use without the 第33条 approval: from its commissioning day until an approval is recorded. */
function unapprovedOn(system: AssessedSystem, today: CalendarDate): boolean {
  return (
    system.status === 'in-use' &&
    system.approvedAt === undefined &&
    compareDates(system.commissionedAt, today) <= 0
  );
}

/** Where a system stands on `today` (a Shanghai date). */
export function assessmentSchedule(
  system: AssessedSystem,
  today: CalendarDate,
  options: AssessmentClockOptions = {},
): AssessmentSchedule {
  const interval = assessmentInterval(system.level);
  const due = dueOf(system, options);
  if (system.status === 'decommissioned') {
    return {
      state: 'decommissioned',
      nextDue: null,
      daysLeft: null,
      interval,
      basis: null,
      lastAssessedAt: due.lastAssessedAt,
      filedAt: system.filedAt ?? null,
      recommended: null,
      unapproved: false,
    };
  }
  const daysLeft = daysBetween(today, due.nextDue);
  const soon = reminderDays(options)[0] ?? 0;
  const state: AssessmentState =
    due.triggeredAt !== null ? 'reassess' : daysLeft < 0 ? 'overdue' : daysLeft <= soon ? 'due-soon' : 'ok';
  return {
    state,
    nextDue: due.nextDue,
    daysLeft,
    interval,
    basis: due.basis,
    lastAssessedAt: due.lastAssessedAt,
    filedAt: null,
    recommended: due.recommended,
    unapproved: unapprovedOn(system, today),
  };
}

/**
 * The deadline rows for a system's current due date; a function of the record alone (not of
 * today), so the store can replace a system's rows whenever its record changes.
 *
 * Every row falls at the start of a Shanghai day (local midnight): `reminder-30` at the start of
 * nextDue − 30, `overdue` at the start of nextDue + 1. A row then fires exactly when
 * `assessmentSchedule` changes state, so a warning and the dashboard never disagree; when people
 * are told is the notifier's business (working hours), not the legal clock's. A reassessment is
 * told at the change itself (`reassess`), reminded before its date and overdue after it. Under
 * `calendar` the recommended date gets reminders of its own (`advice-N`), never an overdue row.
 * The 第33条 gate is a row at the start of the commissioning day (`unapproved`). Rows already past
 * when stored fire at once (and are marked late by the scheduler); the handler drops those made
 * stale by a later row.
 */
export function assessmentDeadlines(
  system: AssessedSystem,
  options: AssessmentClockOptions = {},
): AssessmentDeadline[] {
  if (system.status === 'decommissioned') return [];
  const due = dueOf(system, options);
  const gate: AssessmentDeadline[] =
    system.approvedAt === undefined
      ? [
          {
            kind: 'unapproved',
            dueAt: startOfShanghaiDay(system.commissionedAt),
            forDue: system.commissionedAt,
          },
        ]
      : [];
  const days = reminderDays(options);
  const before = (date: CalendarDate, d: number) => startOfShanghaiDay(addCalendarDays(date, -d));
  const reminders = days
    .map((d) => ({ kind: `reminder-${d}` as const, dueAt: before(due.nextDue, d), forDue: due.nextDue }))
    .filter((row) => due.triggeredAt === null || row.dueAt > due.triggeredAt);
  const advice =
    due.recommended !== null && due.triggeredAt === null && compareDates(due.recommended, due.nextDue) < 0
      ? days.map((d) => ({
          kind: `advice-${d}` as const,
          dueAt: before(due.recommended!, d),
          forDue: due.recommended!,
        }))
      : [];
  const overdue = {
    kind: 'overdue' as const,
    dueAt: startOfShanghaiDay(addCalendarDays(due.nextDue, 1)),
    forDue: due.nextDue,
  };
  if (due.triggeredAt !== null) {
    const told = { kind: 'reassess' as const, dueAt: due.triggeredAt, forDue: due.nextDue };
    // Due at once (reassessWithin 0): the row at the change is the overdue warning itself.
    return [...gate, told, ...(due.nextDue === shanghaiDate(due.triggeredAt) ? [] : [...reminders, overdue])];
  }
  return [...gate, ...advice, ...reminders, overdue];
}

/**
 * The overdue, reassess and unapproved warnings repeat daily (SPEC §7). The next repeat is the
 * start of the Shanghai day after the one it fired on — counted from the firing, not from the
 * row's dueAt, so a collector that was down for a week sends one late warning, not seven.
 */
export function nextDailyRepeat(row: AssessmentDeadline, firedAt: Date): AssessmentDeadline {
  if (!REPEATING_KINDS.includes(row.kind)) {
    throw new RangeError(`only overdue, reassess and unapproved rows repeat, not ${row.kind}`);
  }
  return { ...row, dueAt: startOfShanghaiDay(addCalendarDays(shanghaiDate(firedAt), 1)) };
}

export const REPEATING_KINDS: readonly string[] = ['overdue', 'reassess', 'unapproved'];
