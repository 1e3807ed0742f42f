import { ASSESSMENT_RESULTS, SYSTEM_LEVELS } from '../../shared/api/clocks.js';
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
 * The 第35条 risk-assessment clock, as pure functions of a system's record: what is due when,
 * and the deadline rows the scheduler stores (`due_at`) and claims. Readings of the article:
 *
 * - Interval: 绝密 at least once a year, 机密 and 秘密 at least once every two years, counted
 *   in calendar years from the last assessment (29 February → 28 February).
 * - No assessment yet: due on the commissioning date, because 第33条 allows use only after
 *   检测评估 and review; an assessment dated before commissioning is that pre-use assessment.
 * - A change of level, scope of use or environment (第35条 ¶1 second sentence) after the last
 *   assessment makes a reassessment due on the day of the change (state `reassess`). The law
 *   sets no grace period, so none is invented. A change recorded on the same date as an
 *   assessment counts as covered by it: the two cannot be ordered within a day, and the other
 *   choice would leave a `reassess` that no assessment on that day could clear.
 * - A raised level shortens the interval from then on, never retroactively: 机密→绝密 with the
 *   last assessment 14 months before the change is not "2 months overdue under the 1-year rule";
 *   it is due at once because of the change, and the 1-year interval runs from the reassessment.
 *   If the system was already overdue under its old interval before the change, the older due
 *   date stands and the state is `overdue`.
 * - A failed assessment (`fail`) does not reset the clock — the risks it found still stand — and
 *   acts like a change: a reassessment is due from its date. `pass-with-findings` counts.
 * - Decommissioned (¶3): no reminders; the filing (备案) date is required.
 */

export { SYSTEM_LEVELS };
export const systemLevelSchema = z.enum(SYSTEM_LEVELS);
export type SystemLevel = z.infer<typeof systemLevelSchema>;

export { ASSESSMENT_RESULTS };
export type AssessmentResult = (typeof ASSESSMENT_RESULTS)[number];

export const CHANGE_KINDS = ['level', 'scope', 'environment'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export const assessmentRecordSchema = z.object({
  completedAt: calendarDateSchema,
  result: z.enum(ASSESSMENT_RESULTS),
});

export const systemChangeSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('level'),
    at: instantSchema,
    from: systemLevelSchema.optional(),
    to: systemLevelSchema.optional(),
  }),
  z.object({
    kind: z.enum(['scope', 'environment']),
    at: instantSchema,
    from: z.string().optional(),
    to: z.string().optional(),
  }),
]);

export const assessedSystemSchema = z
  .object({
    level: systemLevelSchema,
    commissionedAt: calendarDateSchema,
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
  /** The last assessment that counts (not failed). */
  lastAssessedAt: CalendarDate | null;
  filedAt: CalendarDate | null;
}

export type AssessmentDeadlineKind = `reminder-${number}` | 'overdue' | 'reassess';

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
}

export const DEFAULT_REMINDER_DAYS: readonly number[] = [30, 7, 1];

export function assessmentInterval(level: SystemLevel): 1 | 2 {
  return level === '绝密' ? 1 : 2;
}

interface Due {
  nextDue: CalendarDate;
  basis: DueBasis;
  /** When a reassessment became due: the change's instant, or the failed assessment's day. */
  triggeredAt: Date | null;
  lastAssessedAt: CalendarDate | null;
}

function dueOf(system: AssessedSystem): Due {
  const counted = system.assessments.filter((a) => a.result !== 'fail');
  const last = counted
    .map((a) => a.completedAt)
    .sort(compareDates)
    .at(-1);
  if (last === undefined) {
    return {
      nextDue: system.commissionedAt,
      basis: 'first-assessment',
      triggeredAt: null,
      lastAssessedAt: null,
    };
  }

  const after = (date: CalendarDate) => compareDates(date, last) > 0;
  const pendingChanges = system.changes
    .filter((c) => after(shanghaiDate(c.at)))
    .sort((a, b) => a.at.getTime() - b.at.getTime());
  const failed = system.assessments
    .filter((a) => a.result === 'fail' && after(a.completedAt))
    .map((a) => a.completedAt)
    .sort(compareDates);

  // The interval that ran from the last assessment is the level's before any pending change.
  const firstLevelChange = pendingChanges.find((c): c is LevelChange => c.kind === 'level');
  const levelAtLast = firstLevelChange?.from ?? system.level;
  const periodic = addCalendarYears(last, assessmentInterval(levelAtLast));

  const triggers: { date: CalendarDate; at: Date; basis: DueBasis }[] = [];
  const change = pendingChanges[0];
  if (change) triggers.push({ date: shanghaiDate(change.at), at: change.at, basis: 'change' });
  const fail = failed[0];
  if (fail) triggers.push({ date: fail, at: startOfShanghaiDay(fail), basis: 'failed-assessment' });
  const trigger = triggers.sort((a, b) => a.at.getTime() - b.at.getTime())[0];

  if (trigger && compareDates(trigger.date, periodic) <= 0) {
    return { nextDue: trigger.date, basis: trigger.basis, triggeredAt: trigger.at, lastAssessedAt: last };
  }
  return { nextDue: periodic, basis: 'periodic', triggeredAt: null, lastAssessedAt: last };
}

function reminderDays(options: AssessmentClockOptions): number[] {
  const days = options.reminderDays ?? DEFAULT_REMINDER_DAYS;
  for (const d of days) {
    if (!Number.isInteger(d) || d <= 0) throw new RangeError(`reminder days must be positive integers: ${d}`);
  }
  return [...new Set(days)].sort((a, b) => b - a);
}

/** Where a system stands on `today` (a Shanghai date). */
export function assessmentSchedule(
  system: AssessedSystem,
  today: CalendarDate,
  options: AssessmentClockOptions = {},
): AssessmentSchedule {
  const interval = assessmentInterval(system.level);
  if (system.status === 'decommissioned') {
    return {
      state: 'decommissioned',
      nextDue: null,
      daysLeft: null,
      interval,
      basis: null,
      lastAssessedAt: dueOf(system).lastAssessedAt,
      filedAt: system.filedAt ?? null,
    };
  }
  const due = dueOf(system);
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
 * due at once, so its row falls at the change itself. Rows already past when stored fire at once
 * (and are marked late by the scheduler); the handler drops those made stale by a later row.
 */
export function assessmentDeadlines(
  system: AssessedSystem,
  options: AssessmentClockOptions = {},
): AssessmentDeadline[] {
  if (system.status === 'decommissioned') return [];
  const due = dueOf(system);
  if (due.triggeredAt !== null) return [{ kind: 'reassess', dueAt: due.triggeredAt, forDue: due.nextDue }];
  return [
    ...reminderDays(options).map((days) => ({
      kind: `reminder-${days}` as const,
      dueAt: startOfShanghaiDay(addCalendarDays(due.nextDue, -days)),
      forDue: due.nextDue,
    })),
    { kind: 'overdue', dueAt: startOfShanghaiDay(addCalendarDays(due.nextDue, 1)), forDue: due.nextDue },
  ];
}

/**
 * The overdue and reassess warnings repeat daily (SPEC §7). The next repeat is the start of the
 * Shanghai day after the one it fired on — counted from the firing, not from the row's dueAt,
 * so a collector that was down for a week sends one late warning, not seven.
 */
export function nextDailyRepeat(row: AssessmentDeadline, firedAt: Date): AssessmentDeadline {
  if (row.kind !== 'overdue' && row.kind !== 'reassess') {
    throw new RangeError(`only overdue and reassess rows repeat, not ${row.kind}`);
  }
  return { ...row, dueAt: startOfShanghaiDay(addCalendarDays(shanghaiDate(firedAt), 1)) };
}
