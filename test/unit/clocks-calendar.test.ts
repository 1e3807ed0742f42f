import { describe, expect, it } from 'vitest';
import {
  type AssessedSystem,
  assessedSystemSchema,
  assessmentDeadlines,
  assessmentPeriodOf,
  assessmentSchedule,
} from '../../collector/clocks/assessment-schedule.js';

/**
 * 第35条 read per period (SPEC §7, `clocks.assessmentPeriod: calendar`, the default) and the
 * 第33条 gate. "绝密级信息系统每年至少开展一次" — one completed assessment in each calendar year;
 * "机密级及以下…每两年至少开展一次" — one in each two-year period counted from the approval's year
 * ([Y0, Y0+1], [Y0+2, Y0+3], …); the deadline is 31 December of the period's last year; the
 * approval's own 检测评估 counts for its period. The rolling date is the recommended date (建议日期).
 *
 * | case                                         | level | approved   | assessments            | change                        | today      | nextDue    | daysLeft | state    | recommended |
 * | -------------------------------------------- | ----- | ---------- | ---------------------- | ----------------------------- | ---------- | ---------- | -------- | -------- | ----------- |
 * | approval counts for its year                 | 绝密  | 2025-03-10 | —                      | —                             | 2025-12-01 | 2026-12-31 | 395      | ok       | 2026-03-10  |
 * | year unassessed, last day                    | 绝密  | 2024-05-01 | 2025-06-01             | —                             | 2026-12-31 | 2026-12-31 | 0        | due-soon | 2026-06-01  |
 * | year unassessed, a day after                 | 绝密  | 2024-05-01 | 2025-06-01             | —                             | 2027-01-01 | 2026-12-31 | -1       | overdue  | 2026-06-01  |
 * | past the rolling date, not overdue           | 绝密  | 2024-05-01 | 2025-03-01             | —                             | 2026-06-01 | 2026-12-31 | 213      | ok       | 2026-03-01  |
 * | late assessment counts for its own year      | 绝密  | 2024-05-01 | 2026-01-10             | —                             | 2026-02-01 | 2027-12-31 | 698      | ok       | 2027-01-10  |
 * | approval in December, yearly                 | 绝密  | 2026-12-20 | —                      | —                             | 2026-12-25 | 2027-12-31 | 371      | ok       | 2027-12-20  |
 * | approval in December, two-yearly             | 机密  | 2026-12-20 | —                      | —                             | 2026-12-25 | 2029-12-31 | 1102     | ok       | 2028-12-20  |
 * | approval's period, last day                  | 机密  | 2025-04-01 | —                      | —                             | 2026-12-31 | 2028-12-31 | 731      | ok       | 2027-04-01  |
 * | period [2027, 2028] missed                   | 机密  | 2025-04-01 | —                      | —                             | 2029-01-01 | 2028-12-31 | -1       | overdue  | 2027-04-01  |
 * | early: second in the approval's period       | 机密  | 2025-04-01 | 2025-11-01             | —                             | 2026-01-05 | 2028-12-31 | 1091     | ok       | 2027-11-01  |
 * | early: first year of the next period         | 秘密  | 2025-04-01 | 2027-01-15             | —                             | 2027-02-01 | 2030-12-31 | 1429     | ok       | 2029-01-15  |
 * | failed assessment still counts               | 绝密  | 2024-05-01 | 2026-02-01 (fail)      | —                             | 2026-06-01 | 2027-12-31 | 578      | ok       | 2027-02-01  |
 * | no approval: commissioning year is Y0        | 秘密  | —          | —                      | —                             | 2026-03-01 | 2027-12-31 | 670      | ok       | 2026-03-01  |
 * | change with new risk: due within 30 days     | 机密  | 2025-04-01 | —                      | scope 2026-05-10 10:00, risk  | 2026-05-20 | 2026-06-09 | 20       | reassess | 2027-04-01  |
 * | change without new risk: calendar unchanged  | 机密  | 2025-04-01 | —                      | scope 2026-05-10 10:00, none  | 2026-05-20 | 2028-12-31 | 956      | ok       | 2027-04-01  |
 * | level raised 机密→绝密, no new risk            | 绝密  | 2025-04-01 | —                      | level 2026-05-10 10:00, none  | 2026-05-20 | 2026-12-31 | 225      | ok       | 2027-04-01  |
 * | level raised 机密→绝密, new risk               | 绝密  | 2025-04-01 | —                      | level 2026-05-10 10:00, risk  | 2026-05-20 | 2026-06-09 | 20       | reassess | 2027-04-01  |
 * | … then reassessed: yearly from then on       | 绝密  | 2025-04-01 | 2026-06-01             | level 2026-05-10 10:00, risk  | 2026-06-02 | 2027-12-31 | 577      | ok       | 2027-06-01  |
 * | change after the period deadline passed      | 机密  | 2025-04-01 | —                      | scope 2029-02-01, risk        | 2029-02-02 | 2028-12-31 | -33      | overdue  | 2027-04-01  |
 */

const TEN_AM = 'T02:00:00Z'; // 10:00 in Shanghai

function system(overrides: Record<string, unknown> = {}): AssessedSystem {
  return assessedSystemSchema.parse({
    level: '机密',
    commissionedAt: '2024-05-01',
    status: 'in-use',
    ...overrides,
  });
}

const pass = (completedAt: string) => ({ completedAt, result: 'pass' as const });
const yearly = (
  approvedAt: string,
  assessments: { completedAt: string; result: 'pass' | 'major-risks' }[] = [],
) => ({
  level: '绝密' as const,
  approvedAt,
  assessments,
});
const scope = (day: string, newRisk: boolean) => ({ kind: 'scope' as const, at: `${day}${TEN_AM}`, newRisk });
const raised = (day: string, newRisk: boolean) => ({
  kind: 'level' as const,
  at: `${day}${TEN_AM}`,
  from: '机密' as const,
  to: '绝密' as const,
  newRisk,
});

describe('第35条 per period (calendar)', () => {
  it.each([
    [
      'approval counts for its year',
      yearly('2025-03-10'),
      '2025-12-01',
      '2026-12-31',
      395,
      'ok',
      '2026-03-10',
    ],
    [
      'a year with no assessment: due on its last day',
      yearly('2024-05-01', [pass('2025-06-01')]),
      '2026-12-31',
      '2026-12-31',
      0,
      'due-soon',
      '2026-06-01',
    ],
    [
      'a year with no assessment: overdue the day after',
      yearly('2024-05-01', [pass('2025-06-01')]),
      '2027-01-01',
      '2026-12-31',
      -1,
      'overdue',
      '2026-06-01',
    ],
    [
      'past the rolling date but inside the year: recommended, not overdue',
      yearly('2024-05-01', [pass('2025-03-01')]),
      '2026-06-01',
      '2026-12-31',
      213,
      'ok',
      '2026-03-01',
    ],
    [
      'a late assessment counts for the year it falls in',
      yearly('2024-05-01', [pass('2026-01-10')]),
      '2026-02-01',
      '2027-12-31',
      698,
      'ok',
      '2027-01-10',
    ],
    ['approval in December, 绝密', yearly('2026-12-20'), '2026-12-25', '2027-12-31', 371, 'ok', '2027-12-20'],
    [
      'approval in December, 机密: the approval covers [2026, 2027]',
      { approvedAt: '2026-12-20', commissionedAt: '2026-12-28' },
      '2026-12-25',
      '2029-12-31',
      1102,
      'ok',
      '2028-12-20',
    ],
    [
      'the approval’s period, last day: next period [2027, 2028]',
      { approvedAt: '2025-04-01' },
      '2026-12-31',
      '2028-12-31',
      731,
      'ok',
      '2027-04-01',
    ],
    [
      'period [2027, 2028] missed',
      { approvedAt: '2025-04-01' },
      '2029-01-01',
      '2028-12-31',
      -1,
      'overdue',
      '2027-04-01',
    ],
    [
      'an early assessment in the approval’s own period moves nothing',
      { approvedAt: '2025-04-01', assessments: [pass('2025-11-01')] },
      '2026-01-05',
      '2028-12-31',
      1091,
      'ok',
      '2027-11-01',
    ],
    [
      'an early assessment in the first year of a period covers the period',
      { level: '秘密', approvedAt: '2025-04-01', assessments: [pass('2027-01-15')] },
      '2027-02-01',
      '2030-12-31',
      1429,
      'ok',
      '2029-01-15',
    ],
    [
      'a failed assessment still counts for its period',
      yearly('2024-05-01', [{ completedAt: '2026-02-01', result: 'major-risks' }]),
      '2026-06-01',
      '2027-12-31',
      578,
      'ok',
      '2027-02-01',
    ],
    [
      'no approval recorded: periods count from the commissioning year',
      { level: '秘密', commissionedAt: '2026-03-01' },
      '2026-03-01',
      '2027-12-31',
      670,
      'ok',
      '2026-03-01',
    ],
    [
      'a change that may bring new risk: reassessment within 30 days',
      { approvedAt: '2025-04-01', changes: [scope('2026-05-10', true)] },
      '2026-05-20',
      '2026-06-09',
      20,
      'reassess',
      '2027-04-01',
    ],
    [
      'a change without new risk: the calendar goes on unchanged',
      { approvedAt: '2025-04-01', changes: [scope('2026-05-10', false)] },
      '2026-05-20',
      '2028-12-31',
      956,
      'ok',
      '2027-04-01',
    ],
    [
      'level raised 机密→绝密 without new risk: the yearly period applies from the change on',
      { level: '绝密', approvedAt: '2025-04-01', changes: [raised('2026-05-10', false)] },
      '2026-05-20',
      '2026-12-31',
      225,
      'ok',
      '2027-04-01',
    ],
    [
      'level raised 机密→绝密 with new risk: reassessment within 30 days',
      { level: '绝密', approvedAt: '2025-04-01', changes: [raised('2026-05-10', true)] },
      '2026-05-20',
      '2026-06-09',
      20,
      'reassess',
      '2027-04-01',
    ],
    [
      '… then reassessed: yearly from the reassessment',
      {
        level: '绝密',
        approvedAt: '2025-04-01',
        assessments: [pass('2026-06-01')],
        changes: [raised('2026-05-10', true)],
      },
      '2026-06-02',
      '2027-12-31',
      577,
      'ok',
      '2027-06-01',
    ],
    [
      'a change after the period deadline passed: the older deadline stands',
      { approvedAt: '2025-04-01', changes: [scope('2029-02-01', true)] },
      '2029-02-02',
      '2028-12-31',
      -33,
      'overdue',
      '2027-04-01',
    ],
  ] as const)('%s', (_name, overrides, today, nextDue, daysLeft, state, recommended) => {
    const schedule = assessmentSchedule(system(overrides), today);
    expect({
      nextDue: schedule.nextDue,
      daysLeft: schedule.daysLeft,
      state: schedule.state,
      recommended: schedule.recommended,
    }).toEqual({ nextDue, daysLeft, state, recommended });
  });

  it('counts two-year periods from the approval’s year, both ways', () => {
    expect(assessmentPeriodOf('机密', 2025, 2025)).toEqual({
      firstYear: 2025,
      lastYear: 2026,
      deadline: '2026-12-31',
    });
    expect(assessmentPeriodOf('秘密', 2025, 2026)).toEqual({
      firstYear: 2025,
      lastYear: 2026,
      deadline: '2026-12-31',
    });
    expect(assessmentPeriodOf('机密', 2025, 2027)).toEqual({
      firstYear: 2027,
      lastYear: 2028,
      deadline: '2028-12-31',
    });
    expect(assessmentPeriodOf('机密', 2025, 2024)).toEqual({
      firstYear: 2023,
      lastYear: 2024,
      deadline: '2024-12-31',
    });
    expect(assessmentPeriodOf('绝密', 2025, 2030)).toEqual({
      firstYear: 2030,
      lastYear: 2030,
      deadline: '2030-12-31',
    });
  });

  it('29 February under rolling: 28 February a year or two on; under calendar the recommended date', () => {
    const leap = { approvedAt: '2023-06-01', assessments: [pass('2024-02-29')] };
    const rolling = { period: 'rolling' } as const;
    expect(assessmentSchedule(system({ ...leap, level: '绝密' }), '2025-01-01', rolling)).toMatchObject({
      nextDue: '2025-02-28',
      recommended: null,
    });
    expect(assessmentSchedule(system(leap), '2025-01-01', rolling)).toMatchObject({ nextDue: '2026-02-28' });
    expect(assessmentSchedule(system({ ...leap, level: '绝密' }), '2025-01-01')).toMatchObject({
      nextDue: '2025-12-31',
      recommended: '2025-02-28',
    });
  });

  it('reassessWithin is configurable; 0 makes the reassessment due at the change', () => {
    const changed = system({ approvedAt: '2025-04-01', changes: [scope('2026-05-10', true)] });
    expect(assessmentSchedule(changed, '2026-05-20', { reassessWithinDays: 10 })).toMatchObject({
      nextDue: '2026-05-20',
      daysLeft: 0,
      state: 'reassess',
    });
    expect(assessmentSchedule(changed, '2026-05-20', { reassessWithinDays: 0 })).toMatchObject({
      nextDue: '2026-05-10',
      daysLeft: -10,
    });
  });
});

describe('第33条 gate', () => {
  it('a system in use without its approval is unapproved from its commissioning day', () => {
    const unapproved = system({ level: '秘密', commissionedAt: '2026-03-01' });
    expect(assessmentSchedule(unapproved, '2026-02-28').unapproved).toBe(false);
    expect(assessmentSchedule(unapproved, '2026-03-01').unapproved).toBe(true);
    expect(assessmentSchedule({ ...unapproved, approvedAt: '2026-02-20' }, '2026-03-01').unapproved).toBe(
      false,
    );
    expect(assessmentDeadlines(unapproved)[0]).toEqual({
      kind: 'unapproved',
      dueAt: new Date('2026-02-28T16:00:00Z'),
      forDue: '2026-03-01',
    });
    expect(
      assessmentDeadlines({ ...unapproved, approvedAt: '2026-02-20' }).map((row) => row.kind),
    ).not.toContain('unapproved');
  });
});

describe('calendar deadline rows', () => {
  it('reminds before the recommended date (advice) and before the period deadline; only the deadline is overdue', () => {
    expect(assessmentDeadlines(system(yearly('2025-03-10')))).toEqual([
      { kind: 'advice-30', dueAt: new Date('2026-02-07T16:00:00Z'), forDue: '2026-03-10' },
      { kind: 'advice-7', dueAt: new Date('2026-03-02T16:00:00Z'), forDue: '2026-03-10' },
      { kind: 'advice-1', dueAt: new Date('2026-03-08T16:00:00Z'), forDue: '2026-03-10' },
      { kind: 'reminder-30', dueAt: new Date('2026-11-30T16:00:00Z'), forDue: '2026-12-31' },
      { kind: 'reminder-7', dueAt: new Date('2026-12-23T16:00:00Z'), forDue: '2026-12-31' },
      { kind: 'reminder-1', dueAt: new Date('2026-12-29T16:00:00Z'), forDue: '2026-12-31' },
      { kind: 'overdue', dueAt: new Date('2026-12-31T16:00:00Z'), forDue: '2026-12-31' },
    ]);
  });

  it('a change with new risk: told at the change, reminded before its date, overdue after it', () => {
    const changed = system({ approvedAt: '2025-04-01', changes: [scope('2026-05-10', true)] });
    expect(assessmentDeadlines(changed)).toEqual([
      { kind: 'reassess', dueAt: new Date(`2026-05-10${TEN_AM}`), forDue: '2026-06-09' },
      { kind: 'reminder-7', dueAt: new Date('2026-06-01T16:00:00Z'), forDue: '2026-06-09' },
      { kind: 'reminder-1', dueAt: new Date('2026-06-07T16:00:00Z'), forDue: '2026-06-09' },
      { kind: 'overdue', dueAt: new Date('2026-06-09T16:00:00Z'), forDue: '2026-06-09' },
    ]);
    const noRisk = system({ approvedAt: '2025-04-01', changes: [scope('2026-05-10', false)] });
    expect(assessmentDeadlines(noRisk).map((row) => row.kind)).not.toContain('reassess');
  });
});
