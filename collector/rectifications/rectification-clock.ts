import { addCalendarDays, daysBetween, shanghaiDate, startOfShanghaiDay } from '../../shared/calendar.js';
import type { RectificationState } from '../../shared/api/rectifications.js';
import type { DeadlineRow, DeadlineSpec } from '../store/clocks/clock-store.js';
import type { RectificationRecord } from '../store/rectifications/rectification-store.js';
import type { CollectorCondition } from '../warnings/conditions.js';

/**
 * The clock of one 整改 item, pure: reminders before its deadline and an overdue warning from the
 * day after it (Asia/Shanghai), repeated daily until the item is closed. The scheduler stores
 * these as rows (subject `rectification`) and fires them; closing the item takes them away and
 * clears what they raised.
 */

/** Days before the deadline a reminder goes out: a week ahead, and the day before. */
export const RECTIFICATION_REMINDER_DAYS: readonly number[] = [7, 1];

export const RECTIFICATION_CONDITION_TYPES = {
  reminder: 'rectification.reminder',
  overdue: 'rectification.overdue',
} as const;

/** Done once closed; overdue from the day after the deadline; open before. */
export function rectificationState(record: RectificationRecord, now: Date): RectificationState {
  if (record.closedAt !== null) return 'done';
  return daysLeft(record, now) < 0 ? 'overdue' : 'open';
}

/** Days from today (Asia/Shanghai) to the deadline; 0 on the last day, negative when overdue. */
export function daysLeft(record: RectificationRecord, now: Date): number {
  return daysBetween(shanghaiDate(now), record.deadline);
}

export function rectificationDeadlineSpecs(record: RectificationRecord): DeadlineSpec[] {
  if (record.closedAt !== null) return [];
  const reminders = RECTIFICATION_REMINDER_DAYS.map((days) => ({
    target: '',
    kind: `reminder-${days}`,
    forDue: record.deadline,
    dueAt: startOfShanghaiDay(addCalendarDays(record.deadline, -days)).toISOString(),
    repeats: false,
    escalatesTo: null,
  }));
  return [
    ...reminders,
    {
      target: '',
      kind: 'overdue',
      forDue: record.deadline,
      dueAt: startOfShanghaiDay(addCalendarDays(record.deadline, 1)).toISOString(),
      repeats: true,
      escalatesTo: null,
    },
  ];
}

export function rectificationConditionType(kind: string): string {
  return kind === 'overdue' ? RECTIFICATION_CONDITION_TYPES.overdue : RECTIFICATION_CONDITION_TYPES.reminder;
}

export function rectificationCondition(
  record: RectificationRecord,
  row: DeadlineRow,
  at: Date,
  lateness: { late: boolean; lateByMs: number },
): CollectorCondition {
  const type = rectificationConditionType(row.kind);
  return {
    type,
    state: 'raised',
    key: `${type}:${record.id}`,
    unit: record.unit,
    severity: type === RECTIFICATION_CONDITION_TYPES.overdue ? 'high' : 'medium',
    data: {
      rectificationId: record.id,
      what: record.what,
      who: record.who,
      dueDate: record.deadline,
      daysLeft: daysLeft(record, at),
      source: record.source.kind,
      sourceId: record.source.id,
      // As the other clocks' conditions name it: which row fired (reminder-7, overdue).
      deadline: row.kind,
      dueAt: row.dueAt,
      ...lateness,
    },
    at: at.toISOString(),
  };
}
