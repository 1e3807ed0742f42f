import { describe, expect, it } from 'vitest';
import { addCalendarDays, shanghaiDate } from '../../shared/calendar.js';
import {
  type AssessedSystem,
  assessedSystemSchema,
  assessmentDeadlines,
  assessmentSchedule,
  nextDailyRepeat,
} from '../../collector/clocks/assessment-schedule.js';

/**
 * 第35条 due dates under `rolling` tested here (reminders 30/7/1 days; rows at the start of the Shanghai day):
 *
 * | case                                   | level      | last counted assessment | event after it                 | today      | nextDue    | daysLeft | state          |
 * | -------------------------------------- | ---------- | ----------------------- | ------------------------------ | ---------- | ---------- | -------- | -------------- |
 * | leap day, yearly                       | 绝密       | 2024-02-29              | —                              | 2025-01-29 | 2025-02-28 | 30       | due-soon       |
 * | leap day, two-yearly                   | 秘密       | 2024-02-29              | —                              | 2026-01-28 | 2026-02-28 | 31       | ok             |
 * | year end, due today                    | 机密       | 2024-12-31              | —                              | 2026-12-31 | 2026-12-31 | 0        | due-soon       |
 * | year end, a day late                   | 机密       | 2024-12-31              | —                              | 2027-01-01 | 2026-12-31 | -1       | overdue        |
 * | no assessment, not yet in use          | 秘密       | — (commissioned 09-01)  | —                              | 2026-06-15 | 2026-09-01 | 78       | ok             |
 * | no assessment, in use                  | 秘密       | — (commissioned 03-01)  | —                              | 2026-03-02 | 2026-03-01 | -1       | overdue        |
 * | level raised 秘密→绝密 (14 months on)   | 绝密       | 2025-04-01              | level 2026-06-01 10:00 (+08)   | 2026-06-15 | 2026-06-01 | -14      | reassess       |
 * |   … then reassessed                    | 绝密       | 2026-06-20              | —                              | 2026-06-20 | 2027-06-20 | 365      | ok             |
 * | change 00:30 Shanghai, day after       | 机密       | 2026-03-01              | scope 2026-03-01T16:30Z        | 2026-03-02 | 2026-03-02 | 0        | reassess       |
 * | change 23:30 Shanghai, same day        | 机密       | 2026-03-01              | scope 2026-03-01T15:30Z        | 2026-03-02 | 2028-03-01 | 730      | ok             |
 * | overdue before the change              | 机密       | 2023-05-01              | environment 2026-02-01         | 2026-06-15 | 2025-05-01 | -410     | overdue        |
 * | failed assessment (counts, SPEC §7)    | 秘密       | 2026-05-20 (fail)       | —                              | 2026-06-15 | 2028-05-20 | 705      | ok             |
 * | level lowered 绝密→秘密, reassessed     | 秘密       | 2025-10-10              | (change 2025-09-01 before it)  | 2026-06-15 | 2027-10-10 | 482      | ok             |
 * | decommissioned, filed 2026-05-10       | 机密       | 2025-01-10              | —                              | 2026-06-15 | null       | null     | decommissioned |
 */

/**
 * Today's reading (SPEC §7 `clocks.assessmentPeriod: rolling`, a change due at once): the table
 * above. The calendar reading, the default, is tested in clocks-calendar.test.ts. The approval
 * date is set so the 第33条 gate stays out of these rows.
 */
const ROLLING = { period: 'rolling', reassessWithinDays: 0 } as const;

function system(overrides: Partial<AssessedSystem> = {}): AssessedSystem {
  return assessedSystemSchema.parse({
    level: '秘密',
    commissionedAt: '2023-01-10',
    approvedAt: '2023-01-05',
    status: 'in-use',
    assessments: [],
    changes: [],
    ...overrides,
  });
}

const pass = (completedAt: string) => ({ completedAt, result: 'pass' as const });

describe('第35条 schedule', () => {
  it.each([
    [
      'leap day, yearly',
      { level: '绝密', assessments: [pass('2024-02-29')] },
      '2025-01-29',
      '2025-02-28',
      30,
      'due-soon',
    ],
    ['leap day, two-yearly', { assessments: [pass('2024-02-29')] }, '2026-01-28', '2026-02-28', 31, 'ok'],
    [
      'year end, due today',
      { level: '机密', assessments: [pass('2024-12-31')] },
      '2026-12-31',
      '2026-12-31',
      0,
      'due-soon',
    ],
    [
      'year end, a day late',
      { level: '机密', assessments: [pass('2024-12-31')] },
      '2027-01-01',
      '2026-12-31',
      -1,
      'overdue',
    ],
    ['no assessment, not yet in use', { commissionedAt: '2026-09-01' }, '2026-06-15', '2026-09-01', 78, 'ok'],
    ['no assessment, in use', { commissionedAt: '2026-03-01' }, '2026-03-02', '2026-03-01', -1, 'overdue'],
    [
      'level raised 秘密→绝密 14 months after the last assessment: due at the change, not retroactively',
      {
        level: '绝密',
        assessments: [pass('2025-04-01')],
        changes: [{ kind: 'level', at: '2026-06-01T02:00:00Z', from: '秘密', to: '绝密' }],
      },
      '2026-06-15',
      '2026-06-01',
      -14,
      'reassess',
    ],
    [
      'level raised, then reassessed: the one-year interval runs from the reassessment',
      {
        level: '绝密',
        assessments: [pass('2025-04-01'), pass('2026-06-20')],
        changes: [{ kind: 'level', at: '2026-06-01T02:00:00Z', from: '秘密', to: '绝密' }],
      },
      '2026-06-20',
      '2027-06-20',
      365,
      'ok',
    ],
    [
      'a change at 00:30 Shanghai time is the day after an assessment dated the day before',
      {
        level: '机密',
        assessments: [pass('2026-03-01')],
        changes: [{ kind: 'scope', at: '2026-03-01T16:30:00Z' }],
      },
      '2026-03-02',
      '2026-03-02',
      0,
      'reassess',
    ],
    [
      'a change at 23:30 Shanghai time on the assessment day is covered by it',
      {
        level: '机密',
        assessments: [pass('2026-03-01')],
        changes: [{ kind: 'scope', at: '2026-03-01T15:30:00Z' }],
      },
      '2026-03-02',
      '2028-03-01',
      730,
      'ok',
    ],
    [
      'already overdue before a change: the older due date stands',
      {
        level: '机密',
        assessments: [pass('2023-05-01')],
        changes: [{ kind: 'environment', at: '2026-02-01T00:00:00Z' }],
      },
      '2026-06-15',
      '2025-05-01',
      -410,
      'overdue',
    ],
    [
      'a failed assessment counts, whatever it found (SPEC §7: risks found open 整改 items)',
      { assessments: [pass('2025-01-10'), { completedAt: '2026-05-20', result: 'major-risks' }] },
      '2026-06-15',
      '2028-05-20',
      705,
      'ok',
    ],
    [
      'level lowered 绝密→秘密 and reassessed: two years from the reassessment',
      {
        assessments: [pass('2025-10-10'), pass('2025-03-01')],
        changes: [{ kind: 'level', at: '2025-09-01T00:00:00Z', from: '绝密', to: '秘密' }],
      },
      '2026-06-15',
      '2027-10-10',
      482,
      'ok',
    ],
  ] as const)('%s', (_name, overrides, today, nextDue, daysLeft, state) => {
    const schedule = assessmentSchedule(system(overrides as Partial<AssessedSystem>), today, ROLLING);
    expect({ nextDue: schedule.nextDue, daysLeft: schedule.daysLeft, state: schedule.state }).toEqual({
      nextDue,
      daysLeft,
      state,
    });
  });

  it('reports the interval of the current level and why the assessment is due', () => {
    const raised = system({
      level: '绝密',
      assessments: [pass('2025-04-01')],
      changes: [{ kind: 'level', at: new Date('2026-06-01T02:00:00Z'), from: '秘密', to: '绝密' }],
    });
    expect(assessmentSchedule(raised, '2026-06-15', ROLLING)).toEqual({
      state: 'reassess',
      nextDue: '2026-06-01',
      daysLeft: -14,
      interval: 1,
      basis: 'change',
      lastAssessedAt: '2025-04-01',
      filedAt: null,
      recommended: null,
      unapproved: false,
    });
    expect(assessmentSchedule(system({ commissionedAt: '2026-09-01' }), '2026-06-15', ROLLING)).toMatchObject(
      {
        interval: 2,
        basis: 'first-assessment',
        lastAssessedAt: null,
      },
    );
  });

  it('a failed first assessment counts as the pre-use assessment, as one with findings does (SPEC §7)', () => {
    const failed = system({
      commissionedAt: '2026-03-01',
      assessments: [{ completedAt: '2026-02-20', result: 'major-risks' }],
    });
    expect(assessmentSchedule(failed, '2026-02-25', ROLLING)).toMatchObject({
      nextDue: '2028-02-20',
      state: 'ok',
      basis: 'periodic',
    });
    const findings = system({
      commissionedAt: '2026-03-01',
      assessments: [{ completedAt: '2026-02-20', result: 'risks-found' }],
    });
    expect(assessmentSchedule(findings, '2026-02-25', ROLLING)).toMatchObject({
      nextDue: '2028-02-20',
      state: 'ok',
    });
  });

  it('a decommissioned system has no due date and shows its filing date', () => {
    const retired = system({
      level: '机密',
      status: 'decommissioned',
      filedAt: '2026-05-10',
      assessments: [pass('2025-01-10')],
    });
    expect(assessmentSchedule(retired, '2026-06-15', ROLLING)).toEqual({
      state: 'decommissioned',
      nextDue: null,
      daysLeft: null,
      interval: 2,
      basis: null,
      lastAssessedAt: '2025-01-10',
      filedAt: '2026-05-10',
      recommended: null,
      unapproved: false,
    });
    expect(assessmentDeadlines(retired, ROLLING)).toEqual([]);
  });

  it('refuses a decommissioned system without its filing (备案) date', () => {
    const result = assessedSystemSchema.safeParse({
      level: '机密',
      commissionedAt: '2023-01-10',
      status: 'decommissioned',
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['filedAt']);
  });

  it('due-soon follows the largest configured reminder', () => {
    const s = system({ level: '绝密', assessments: [pass('2025-06-30')] }); // due 2026-06-30
    const options = { ...ROLLING, reminderDays: [3, 14] };
    expect(assessmentSchedule(s, '2026-06-15', options)).toMatchObject({ daysLeft: 15, state: 'ok' });
    expect(assessmentSchedule(s, '2026-06-16', options)).toMatchObject({ daysLeft: 14, state: 'due-soon' });
    expect(() => assessmentSchedule(s, '2026-06-16', { ...ROLLING, reminderDays: [0] })).toThrow(RangeError);
  });
});

describe('第35条 deadline rows', () => {
  it('reminds 30, 7 and 1 days before and warns the day after, at Shanghai midnight', () => {
    const s = system({ level: '绝密', assessments: [pass('2024-02-29')] }); // due 2025-02-28
    expect(assessmentDeadlines(s, ROLLING)).toEqual([
      { kind: 'reminder-30', dueAt: new Date('2025-01-28T16:00:00Z'), forDue: '2025-02-28' },
      { kind: 'reminder-7', dueAt: new Date('2025-02-20T16:00:00Z'), forDue: '2025-02-28' },
      { kind: 'reminder-1', dueAt: new Date('2025-02-26T16:00:00Z'), forDue: '2025-02-28' },
      { kind: 'overdue', dueAt: new Date('2025-02-28T16:00:00Z'), forDue: '2025-02-28' },
    ]);
  });

  it('crosses the year end', () => {
    const s = system({ level: '机密', assessments: [pass('2024-12-31')] }); // due 2026-12-31
    expect(assessmentDeadlines(s, { ...ROLLING, reminderDays: [1] })).toEqual([
      { kind: 'reminder-1', dueAt: new Date('2026-12-29T16:00:00Z'), forDue: '2026-12-31' },
      { kind: 'overdue', dueAt: new Date('2026-12-31T16:00:00Z'), forDue: '2026-12-31' },
    ]);
  });

  it('a reassessment is due at the change itself', () => {
    const s = system({
      level: '绝密',
      assessments: [pass('2025-04-01')],
      changes: [{ kind: 'level', at: new Date('2026-06-01T02:00:00Z'), from: '秘密', to: '绝密' }],
    });
    expect(assessmentDeadlines(s, ROLLING)).toEqual([
      { kind: 'reassess', dueAt: new Date('2026-06-01T02:00:00Z'), forDue: '2026-06-01' },
    ]);
  });

  it('each row fires on the Shanghai day the schedule changes state', () => {
    for (const s of [
      system({ level: '绝密', assessments: [pass('2024-02-29')] }),
      system({ level: '机密', assessments: [pass('2024-12-31')] }),
      system({ commissionedAt: '2026-09-01' }),
    ]) {
      for (const row of assessmentDeadlines(s, ROLLING)) {
        const day = shanghaiDate(row.dueAt);
        const before = assessmentSchedule(s, addCalendarDays(day, -1), ROLLING).state;
        const on = assessmentSchedule(s, day, ROLLING);
        if (row.kind === 'reminder-30') expect([before, on.state]).toEqual(['ok', 'due-soon']);
        if (row.kind === 'overdue') expect([before, on.state]).toEqual(['due-soon', 'overdue']);
        if (row.kind.startsWith('reminder-'))
          expect(on.daysLeft).toBe(Number(row.kind.slice('reminder-'.length)));
      }
    }
  });

  it('repeats overdue warnings daily from when they fired, not once per missed day', () => {
    const overdue = {
      kind: 'overdue' as const,
      dueAt: new Date('2025-02-28T16:00:00Z'),
      forDue: '2025-02-28',
    };
    // Fired a week late at 11:00 Shanghai on 03-07: the next repeat is the start of 03-08.
    expect(nextDailyRepeat(overdue, new Date('2025-03-07T03:00:00Z'))).toEqual({
      ...overdue,
      dueAt: new Date('2025-03-07T16:00:00Z'),
    });
    // 01:00 Shanghai on 03-08 is still 03-07 in UTC: the day is Shanghai's.
    expect(nextDailyRepeat(overdue, new Date('2025-03-07T17:00:00Z')).dueAt).toEqual(
      new Date('2025-03-08T16:00:00Z'),
    );
    expect(() =>
      nextDailyRepeat({ kind: 'reminder-7', dueAt: new Date(0), forDue: '2025-02-28' }, new Date()),
    ).toThrow(RangeError);
  });
});
