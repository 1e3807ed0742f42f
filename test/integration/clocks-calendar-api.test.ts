import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.js';
import { ManualClock } from '../../shared/clock.js';
import { tempDir } from '../support/collector-harness.js';
import { apiClient, keyFor, RecordingSink, startClockCollector } from './clocks-harness.js';

/**
 * The 第33条 gate and the calendar reading of 第35条 (SPEC §7, the default config) through the
 * HTTP API of a real collector on a ManualClock set to 2026-03-01T02:00Z (10:00 in Shanghai).
 */
describe('clocks API: the 第33条 gate and the assessment calendar', () => {
  const clock = new ManualClock('2026-03-01T02:00:00Z');
  const sink = new RecordingSink();
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector;
  let call: ReturnType<typeof apiClient>;
  let officer: string;

  beforeAll(async () => {
    dir = tempDir('smew-clocks-calendar-');
    collector = await startClockCollector(dir.path, clock, sink);
    call = apiClient(collector);
    officer = await keyFor(collector, 'secadmin', '一处');
  });
  afterAll(async () => {
    await collector.stop();
    dir.remove();
  });

  it('a system in use without its 测评审查 approval raises 未经测评审查投入使用 at once, daily, until recorded', async () => {
    sink.take();
    const created = await call('POST', '/api/v1/systems', officer, {
      name: '无审查系统',
      level: '绝密',
      commissionedAt: '2026-02-20',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ approval: null, schedule: { unapproved: true } });
    const raised = sink.take().filter((c) => c.type === 'assessment.unapproved');
    expect(raised).toEqual([
      expect.objectContaining({
        state: 'raised',
        key: `assessment.unapproved:${created.body.id}`,
        severity: 'critical',
        unit: '一处',
        data: expect.objectContaining({ deadline: 'unapproved', approvedAt: null, late: false }),
      }),
    ]);
    const shown = await call('GET', `/api/v1/systems/${created.body.id}`, officer);
    expect(shown.body.reminders).toContainEqual(
      expect.objectContaining({ kind: 'unapproved', outcome: 'fired', condition: 'assessment.unapproved' }),
    );

    clock.set('2026-03-02T01:00:00Z');
    await collector.clocks.runPass('test');
    expect(sink.take().map((c) => [c.type, c.state])).toContainEqual(['assessment.unapproved', 'raised']);

    const approved = await call('PATCH', `/api/v1/systems/${created.body.id}`, officer, {
      approval: { ref: '审查〔2026〕12号', by: '市保密局', at: '2026-03-02' },
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      approval: { ref: '审查〔2026〕12号', by: '市保密局', at: '2026-03-02' },
      schedule: { unapproved: false, state: 'ok', nextDue: '2027-12-31', recommended: '2027-03-02' },
    });
    expect(sink.take()).toContainEqual(
      expect.objectContaining({
        type: 'assessment.unapproved',
        state: 'cleared',
        key: `assessment.unapproved:${created.body.id}`,
      }),
    );
    clock.set('2026-03-03T01:00:00Z');
    await collector.clocks.runPass('test');
    expect(sink.take().filter((c) => c.type === 'assessment.unapproved')).toEqual([]);
    clock.set('2026-03-01T02:00:00Z');
  });

  it('a system registered with its approval, or not yet in use, raises nothing', async () => {
    sink.take();
    const approved = await call('POST', '/api/v1/systems', officer, {
      name: '已审查系统',
      level: '机密',
      commissionedAt: '2025-06-01',
      approval: { ref: '审查〔2025〕3号', by: '市保密局', at: '2025-05-20' },
    });
    expect(approved.body.schedule).toMatchObject({
      unapproved: false,
      state: 'ok',
      nextDue: '2028-12-31',
      recommended: '2027-05-20',
      basis: 'periodic',
    });
    const future = await call('POST', '/api/v1/systems', officer, {
      name: '未投用系统',
      level: '秘密',
      commissionedAt: '2026-09-01',
    });
    expect(future.body.schedule).toMatchObject({ unapproved: false, nextDue: '2027-12-31' });
    expect(sink.take().filter((c) => c.state === 'raised')).toEqual([]);
  });

  it('reminds before the recommended date (建议日期), never after it, and is overdue only after 31 December', async () => {
    sink.take();
    const soon = await call('POST', '/api/v1/systems', officer, {
      name: '建议日期将至',
      level: '绝密',
      commissionedAt: '2025-03-05',
      approval: { ref: '审查〔2025〕5号', by: '市保密局', at: '2025-03-05' },
    });
    expect(soon.body.schedule).toMatchObject({
      state: 'ok',
      nextDue: '2026-12-31',
      recommended: '2026-03-05',
    });
    // 4 days before it: the 7-day reminder, not the 30-day one it overtook.
    expect(sink.take().map((c) => [c.type, c.data.deadline, c.data.recommended])).toEqual([
      ['assessment.reminder', 'advice-7', '2026-03-05'],
    ]);
    const passed = await call('POST', '/api/v1/systems', officer, {
      name: '建议日期已过',
      level: '绝密',
      commissionedAt: '2025-02-10',
      approval: { ref: '审查〔2025〕2号', by: '市保密局', at: '2025-02-10' },
    });
    expect(passed.body.schedule).toMatchObject({
      state: 'ok',
      nextDue: '2026-12-31',
      recommended: '2026-02-10',
    });
    expect(sink.take()).toEqual([]);

    clock.set('2027-01-01T01:00:00Z');
    await collector.clocks.runPass('test');
    const overdue = sink.take().filter((c) => c.type === 'assessment.overdue' && c.state === 'raised');
    expect(overdue.map((c) => c.data.name)).toEqual(expect.arrayContaining(['建议日期将至', '建议日期已过']));
    clock.set('2026-03-01T02:00:00Z');
  });

  it('a change says whether it may bring new risk; if so measures first and a reassessment within 30 days', async () => {
    const system = await call('POST', '/api/v1/systems', officer, {
      name: '变更系统',
      level: '机密',
      commissionedAt: '2025-06-01',
      approval: { ref: '审查〔2025〕4号', by: '市保密局', at: '2025-05-20' },
    });
    const path = `/api/v1/systems/${system.body.id}`;
    const unanswered = await call('PATCH', path, officer, { scope: '全局' });
    expect(unanswered.status).toBe(400);
    expect(unanswered.body.error).toMatch(/^newRisk: .*可能产生新的安全保密风险隐患/);
    const noMeasures = await call('PATCH', path, officer, { scope: '全局', newRisk: true });
    expect(noMeasures.status).toBe(400);
    expect(noMeasures.body.error).toMatch(/^measures: .*防护措施/);

    const calm = await call('PATCH', path, officer, { scope: '全局', newRisk: false });
    expect(calm.body.schedule).toMatchObject({ state: 'ok', nextDue: '2028-12-31' });
    sink.take();
    const risky = await call('PATCH', path, officer, {
      environment: '新机房',
      newRisk: true,
      measures: '门禁与视频监控已启用',
    });
    expect(risky.status).toBe(200);
    expect(risky.body.schedule).toMatchObject({
      state: 'reassess',
      basis: 'change',
      nextDue: '2026-03-31',
      daysLeft: 30,
    });
    expect(risky.body.changes).toContainEqual(
      expect.objectContaining({ kind: 'environment', newRisk: true, measures: '门禁与视频监控已启用' }),
    );
    // Told at once, as a reminder: nothing is overdue until the 30 days have passed.
    expect(sink.take().map((c) => [c.type, c.data.deadline])).toEqual([['assessment.reminder', 'reassess']]);
  });
});
