import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.js';
import { ManualClock } from '../../shared/clock.js';
import { TODAYS_READING_CONFIG } from '../support/clock-records.js';
import { tempDir } from '../support/collector-harness.js';
import { apiClient, type Json, keyFor, RecordingSink, startClockCollector } from './clocks-harness.js';

/**
 * The 第35条 register and the due list through the HTTP API of a real collector, on a ManualClock
 * set to 2026-03-01T02:00Z (2026-03-01 10:00 in Shanghai), under the rolling reading with a change
 * due at once (TODAYS_READING_CONFIG); the calendar reading and the 第33条 gate are in
 * clocks-calendar-api.test.ts. Each system here carries its approval, dated at commissioning.
 *
 * | system | level | commissioned | last assessed | next due   | days left | state    | why                         |
 * | A      | 绝密  | 2024-02-29   | 2025-02-28    | 2026-02-28 | −1        | overdue  | 1 year                      |
 * | B      | 机密  | 2024-02-29   | 2024-02-29    | 2026-02-28 | −1        | overdue  | 2 years, 29 Feb → 28 Feb    |
 * | C      | 秘密  | 2024-03-15   | 2024-03-15    | 2026-03-15 | 14        | due-soon | 2 years                     |
 * | D      | 秘密  | 2026-04-01   | —             | 2026-04-01 | 31        | ok       | none yet: due at commission |
 * | E      | 绝密  | 2020-02-29   | 2024-02-29    | 2025-02-28 | −366      | overdue  | 1 year from a leap day      |
 */
describe('clocks API: systems, assessments, due list', () => {
  const clock = new ManualClock('2026-03-01T02:00:00Z');
  const sink = new RecordingSink();
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector;
  let call: ReturnType<typeof apiClient>;
  let admin: string;
  let officer: string;
  let viewer: string;
  let otherUnit: string;

  beforeAll(async () => {
    dir = tempDir('smew-clocks-api-');
    collector = await startClockCollector(dir.path, clock, sink, { clocks: TODAYS_READING_CONFIG });
    call = apiClient(collector);
    admin = await keyFor(collector, 'secadmin');
    officer = await keyFor(collector, 'secadmin', '一处');
    viewer = await keyFor(collector, 'viewer', '一处');
    otherUnit = await keyFor(collector, 'secadmin', '二处');
  });
  afterAll(async () => {
    await collector.stop();
    dir.remove();
  });

  async function register(name: string, level: string, commissionedAt: string, assessedAt?: string) {
    const approval = { ref: `审查-${name}`, by: '市保密局', at: commissionedAt };
    const created = await call('POST', '/api/v1/systems', officer, { name, level, commissionedAt, approval });
    expect(created.status).toBe(201);
    if (assessedAt) {
      const assessed = await call('POST', `/api/v1/systems/${created.body.id}/assessments`, officer, {
        completedAt: assessedAt,
        assessor: '省测评中心',
        result: 'pass',
      });
      expect(assessed.status).toBe(201);
      return assessed.body;
    }
    return created.body;
  }

  it('computes due dates by calendar years per level, leap days rolling to 28 February', async () => {
    await register('A', '绝密', '2024-02-29', '2025-02-28');
    await register('B', '机密', '2024-02-29', '2024-02-29');
    await register('C', '秘密', '2024-03-15', '2024-03-15');
    const d = await register('D', '秘密', '2026-04-01');
    expect(d).toMatchObject({
      status: 'in-use',
      schedule: { state: 'ok', nextDue: '2026-04-01', basis: 'first-assessment' },
    });
    await register('E', '绝密', '2020-02-29', '2024-02-29');

    const due = await call('GET', '/api/v1/assessments/due', viewer);
    expect(due.status).toBe(200);
    expect(due.body.items.map((i: Json) => [i.name, i.level, i.nextDue, i.daysLeft, i.state])).toEqual([
      ['E', '绝密', '2025-02-28', -366, 'overdue'],
      ['A', '绝密', '2026-02-28', -1, 'overdue'],
      ['B', '机密', '2026-02-28', -1, 'overdue'],
      ['C', '秘密', '2026-03-15', 14, 'due-soon'],
      ['D', '秘密', '2026-04-01', 31, 'ok'],
    ]);
    expect(due.body.items[0]).toEqual({
      systemId: expect.stringMatching(/^sys-/),
      name: 'E',
      level: '绝密',
      unit: '一处',
      nextDue: '2025-02-28',
      daysLeft: -366,
      state: 'overdue',
      basis: 'periodic',
      lastAssessedAt: '2024-02-29',
      recommended: null,
      unapproved: false,
    });
    const overdue = await call('GET', '/api/v1/assessments/due?state=overdue', viewer);
    expect(overdue.body.items).toHaveLength(3);

    // Registering them ran a pass: the overdue ones raised a warning at once. Not late: the rows
    // were stored already past due, the scheduler did not miss them.
    const raised = sink.take().filter((c) => c.type === 'assessment.overdue' && c.state === 'raised');
    expect(raised.map((c) => [c.data.name, c.data.nextDue, c.severity])).toEqual(
      expect.arrayContaining([
        ['A', '2026-02-28', 'critical'],
        ['B', '2026-02-28', 'high'],
        ['E', '2025-02-28', 'critical'],
      ]),
    );
    expect(raised.every((c) => c.data.late === false)).toBe(true);
  });

  it('a raised level makes a reassessment due at once and shortens the interval from then on', async () => {
    const system = await register('F', '机密', '2025-06-01', '2025-06-01');
    expect(system.schedule).toMatchObject({ nextDue: '2027-06-01', interval: 2, state: 'ok' });
    sink.take();

    const raised = await call('PATCH', `/api/v1/systems/${system.id}`, officer, {
      level: '绝密',
      newRisk: true,
      measures: '收紧访问控制',
    });
    expect(raised.status).toBe(200);
    expect(raised.body).toMatchObject({
      level: '绝密',
      schedule: { state: 'reassess', nextDue: '2026-03-01', daysLeft: 0, interval: 1, basis: 'change' },
      changes: [
        {
          kind: 'level',
          from: '机密',
          to: '绝密',
          by: 'secadmin-一处',
          newRisk: true,
          measures: '收紧访问控制',
        },
      ],
    });
    expect(raised.body.reminders).toContainEqual(
      expect.objectContaining({
        kind: 'reassess',
        outcome: 'fired',
        late: false,
        condition: 'assessment.overdue',
      }),
    );
    expect(sink.take()).toEqual([
      expect.objectContaining({
        type: 'assessment.overdue',
        state: 'raised',
        key: `assessment.overdue:${system.id}`,
        severity: 'critical',
        data: expect.objectContaining({ deadline: 'reassess', state: 'reassess' }),
      }),
    ]);

    const reassessed = await call('POST', `/api/v1/systems/${system.id}/assessments`, officer, {
      completedAt: '2026-03-01',
      assessor: '省测评中心',
      // An earlier version's word, read as SPEC §7 says (pass-with-findings → risks-found).
      result: 'pass-with-findings',
    });
    expect(reassessed.body.schedule).toMatchObject({ state: 'ok', nextDue: '2027-03-01', interval: 1 });
    expect(reassessed.body.assessments.at(-1)).toMatchObject({
      completedAt: '2026-03-01',
      result: 'risks-found',
    });
    expect(sink.take()).toEqual([expect.objectContaining({ type: 'assessment.overdue', state: 'cleared' })]);

    // A change on the day of an assessment counts as covered by it; the next day it is not.
    const sameDay = await call('PATCH', `/api/v1/systems/${system.id}`, officer, {
      scope: '全局',
      newRisk: true,
      measures: '扩大前复核授权',
    });
    expect(sameDay.body.schedule).toMatchObject({ state: 'ok', nextDue: '2027-03-01' });
    clock.set('2026-03-02T01:00:00Z');
    const moved = await call('PATCH', `/api/v1/systems/${system.id}`, officer, {
      environment: '新机房',
      newRisk: true,
      measures: '新机房门禁',
    });
    expect(moved.body.schedule).toMatchObject({ state: 'reassess', basis: 'change', nextDue: '2026-03-02' });
    clock.set('2026-03-01T02:00:00Z');
  });

  it('a decommissioned system shows its filing date and stops reminding', async () => {
    sink.take();
    const system = await register('G', '秘密', '2024-03-20', '2024-03-20');
    expect(system.schedule).toMatchObject({ nextDue: '2026-03-20', state: 'due-soon' });
    const reminded = sink.take().filter((c) => c.state === 'raised');
    expect(reminded.map((c) => [c.type, c.data.deadline, c.data.nextDue])).toContainEqual([
      'assessment.reminder',
      'reminder-30',
      '2026-03-20',
    ]);

    const missing = await call('PATCH', `/api/v1/systems/${system.id}`, officer, {
      status: 'decommissioned',
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/^filedAt: .*备案/);
    const noDisposal = await call('PATCH', `/api/v1/systems/${system.id}`, officer, {
      status: 'decommissioned',
      filedAt: '2026-03-01',
    });
    expect(noDisposal.status).toBe(400);
    expect(noDisposal.body.error).toMatch(/^disposal: .*equipment/);
    const viewerTry = await call('POST', `/api/v1/systems/${system.id}/decommission`, viewer, {
      filedAt: '2026-03-01',
      disposal: '硬盘交保密局销毁',
    });
    expect(viewerTry.status).toBe(403);
    const retired = await call('POST', `/api/v1/systems/${system.id}/decommission`, officer, {
      filedAt: '2026-03-01',
      disposal: '硬盘交保密局销毁，其余设备降密使用',
    });
    expect(retired.status).toBe(200);
    expect(retired.body).toMatchObject({
      status: 'decommissioned',
      filedAt: '2026-03-01',
      disposal: '硬盘交保密局销毁，其余设备降密使用',
      schedule: { state: 'decommissioned', nextDue: null },
    });
    const twice = await call('POST', `/api/v1/systems/${system.id}/decommission`, officer, {
      filedAt: '2026-03-01',
      disposal: '再次',
    });
    expect(twice.status).toBe(409);
    expect(sink.take()).toEqual([
      expect.objectContaining({
        type: 'assessment.reminder',
        state: 'cleared',
        data: expect.objectContaining({ reason: 'decommissioned' }),
      }),
    ]);
    const due = await call('GET', '/api/v1/assessments/due', officer);
    expect(due.body.items.map((i: Json) => i.name)).not.toContain('G');

    // Past what would have been its reminders and overdue date: nothing fires for it.
    const later = new ManualClock('2026-04-01T00:00:00Z');
    clock.set(later.now());
    await collector.clocks.runPass('test');
    expect(sink.take().filter((c) => c.data.systemId === system.id)).toEqual([]);
    const again = await call('PATCH', `/api/v1/systems/${system.id}`, officer, { level: '机密' });
    expect(again.status).toBe(409);
    clock.set('2026-03-01T02:00:00Z');
  });

  it('answers bad dates and levels with a 400 naming the field', async () => {
    const cases: [string, string, unknown, RegExp][] = [
      ['POST', '/api/v1/systems', { name: 'x', level: '绝密级', commissionedAt: '2026-01-01' }, /level/],
      ['POST', '/api/v1/systems', { name: 'x', level: '非密', commissionedAt: '2026-01-01' }, /level/],
      [
        'POST',
        '/api/v1/systems',
        { name: 'x', level: '秘密', commissionedAt: '2025-02-29' },
        /^commissionedAt: "2025-02-29" is not a calendar date/,
      ],
      [
        'POST',
        '/api/v1/systems',
        { name: 'x', level: '秘密', commissionedAt: '2026/01/01' },
        /commissionedAt/,
      ],
      ['POST', '/api/v1/systems', { name: 'x', level: '秘密' }, /commissionedAt/],
      [
        'POST',
        '/api/v1/incidents',
        { title: 'x', level: '秘密', discoveredAt: '2026-03-01 10:00' },
        /discoveredAt/,
      ],
      ['POST', '/api/v1/incidents', { title: 'x', level: '秘密' }, /^discoveredAt: required/],
      [
        'POST',
        '/api/v1/incidents',
        { title: 'x', level: '秘密', discoveredAt: '2027-01-01T00:00:00Z' },
        /^discoveredAt: .* in the future/,
      ],
      [
        'POST',
        '/api/v1/incidents',
        { title: 'x', level: '秘密', evidence: [999999] },
        /^evidence: no stored event 999999/,
      ],
    ];
    for (const [method, path, body, message] of cases) {
      const reply = await call(method, path, officer, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error).toMatch(message);
    }
    const system = await register('H', '秘密', '2026-01-01');
    for (const completedAt of ['2026-13-01', '2026-02-30', '2026-03-02']) {
      const reply = await call('POST', `/api/v1/systems/${system.id}/assessments`, officer, {
        completedAt,
        assessor: 'x',
        result: 'pass',
      });
      expect(reply.status).toBe(400);
      expect(reply.body.error).toMatch(/completedAt/);
    }
    const result = await call('POST', `/api/v1/systems/${system.id}/assessments`, officer, {
      completedAt: '2026-02-01',
      assessor: 'x',
      result: '合格',
    });
    expect(result.status).toBe(400);
    expect(result.body.error).toMatch(/result/);
  });

  it('requires a key, keeps viewers read-only and each unit to its own systems', async () => {
    expect((await call('GET', '/api/v1/systems')).status).toBe(401);
    expect((await call('GET', '/api/v1/assessments/due')).status).toBe(401);
    const denied = await call('POST', '/api/v1/systems', viewer, {
      name: 'v',
      level: '秘密',
      commissionedAt: '2026-01-01',
    });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatch(/role viewer may not do this \(register.manage: secadmin\)/);

    const elsewhere = await call('POST', '/api/v1/systems', otherUnit, {
      name: '二处系统',
      level: '秘密',
      commissionedAt: '2026-01-01',
    });
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.unit).toBe('二处');
    const mine = await call('GET', '/api/v1/systems', officer);
    expect(mine.body.items.map((s: Json) => s.unit)).not.toContain('二处');
    expect((await call('GET', `/api/v1/systems/${elsewhere.body.id}`, officer)).status).toBe(404);
    const foreign = await call('POST', '/api/v1/systems', officer, {
      name: 'x',
      level: '秘密',
      commissionedAt: '2026-01-01',
      unit: '二处',
    });
    expect(foreign.status).toBe(403);
    const all = await call('GET', '/api/v1/systems', admin);
    expect(new Set(all.body.items.map((s: Json) => s.unit))).toEqual(new Set(['一处', '二处']));
  });

  it('lists the clock routes in the OpenAPI document', async () => {
    const doc = await call('GET', '/api/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/systems',
        '/api/v1/systems/{id}',
        '/api/v1/systems/{id}/assessments',
        '/api/v1/assessments/due',
        '/api/v1/incidents',
        '/api/v1/incidents/{id}',
        '/api/v1/incidents/{id}/reports',
        '/api/v1/incidents/{id}/reports/{reportId}/receipt',
      ]),
    );
  });
});
