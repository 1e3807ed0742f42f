import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { OFF_SYSTEM_ADVICE } from '../../shared/api/clocks.js';
import { ManualClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';
import { tempDir, testCollectorConfig } from '../support/collector-harness.js';
import { TODAYS_READING_CONFIG } from '../support/clock-records.js';
import { apiClient, type Json, keyFor } from './clocks-harness.js';

/**
 * The clocks' conditions through the collector's own warnings stage (no test sink): an overdue
 * assessment and a missed 24 h deadline become warnings by the shipped rules, and clear.
 */
describe('clocks → warnings', () => {
  const clock = new ManualClock('2026-03-01T02:00:00Z');
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector;
  let call: ReturnType<typeof apiClient>;
  let officer: string;

  beforeAll(async () => {
    dir = tempDir('smew-clocks-warnings-');
    collector = await startCollector(
      testCollectorConfig(dir.path, { unit: '一处', clocks: TODAYS_READING_CONFIG }),
      {
        clock,
        logger: createLogger('test', 'silent'),
      },
    );
    call = apiClient(collector);
    officer = await keyFor(collector, 'secadmin', '一处');
  });
  afterAll(async () => {
    await collector.stop();
    dir.remove();
  });

  const warnings = async () => ((await call('GET', '/api/v1/warnings', officer)).body.items as Json[]) ?? [];

  it('an overdue assessment and a missed report deadline become warnings', async () => {
    const system = await call('POST', '/api/v1/systems', officer, {
      name: '财务系统',
      level: '绝密',
      commissionedAt: '2025-01-10',
      approval: { ref: '审查〔2025〕1号', by: '市保密局', at: '2025-01-10' },
    });
    await call('POST', `/api/v1/systems/${system.body.id}/assessments`, officer, {
      completedAt: '2025-01-10',
      assessor: '测评中心',
      result: 'pass',
    });
    const overdue = (await warnings()).filter((w) => w.rule === 'assessment-overdue');
    expect(overdue).toEqual([
      expect.objectContaining({
        key: `assessment.overdue:${system.body.id}`,
        severity: 'critical',
        unit: '一处',
      }),
    ]);

    const incident = await call('POST', '/api/v1/incidents', officer, {
      title: '涉密载体丢失',
      level: '秘密',
      discoveredAt: '2026-03-01T01:00:00Z',
    });
    clock.set('2026-03-02T01:00:30Z');
    await collector.clocks.runPass('test');
    const late = (await warnings()).filter((w) => w.rule === 'incident-report-late');
    expect(late.map((w) => [w.key, w.severity])).toEqual(
      expect.arrayContaining([
        [`incident.report.late:${incident.body.id}:unit>county`, 'critical'],
        [`incident.report.late:${incident.body.id}:unit>superior-dept`, 'critical'],
      ]),
    );
  });

  it('the T−2 h reminder is a warning of its own whose notice says to report by phone or on paper', async () => {
    clock.set('2026-03-03T00:00:00Z');
    const incident = await call('POST', '/api/v1/incidents', officer, {
      title: '涉密文件误发',
      level: '机密',
      discoveredAt: '2026-03-02T23:00:00Z',
    });
    const id = incident.body.id as string;
    const reminders = async () =>
      (await warnings()).filter(
        (w) => w.rule === 'incident-report-reminder' && w.key.includes(`${id}:unit>county`),
      );
    clock.set('2026-03-03T11:00:00Z');
    await collector.clocks.runPass('test');
    expect((await reminders()).map((w) => w.key)).toEqual([
      `incident.report.reminder:${id}:unit>county:reminder-12h`,
    ]);
    clock.set('2026-03-03T21:00:00Z');
    await collector.clocks.runPass('test');
    const last = (await reminders()).find((w) => w.key.endsWith(':reminder-2h'));
    expect(last).toBeDefined();
    const detail = await call('GET', `/api/v1/warnings/${last.id}`, officer);
    expect(detail.body.sample.data).toMatchObject({ hop: 'unit>county', advice: OFF_SYSTEM_ADVICE.zh });
  });

  it('reminders reach the warnings stage too (no rule turns them into warnings yet)', async () => {
    clock.set('2026-03-02T02:00:00Z');
    const system = await call('POST', '/api/v1/systems', officer, {
      name: '邮件系统',
      level: '机密',
      commissionedAt: '2026-03-20',
      approval: { ref: '审查〔2026〕2号', by: '市保密局', at: '2026-03-10' },
    });
    expect(system.body.schedule).toMatchObject({ state: 'due-soon', nextDue: '2026-03-20' });
    const fires = (await collector.store.clocks.listFires({ type: 'system', id: system.body.id })).filter(
      (f) => f.outcome === 'fired',
    );
    expect(fires.map((f) => [f.kind, f.deliveredAt !== null])).toEqual([['reminder-30', true]]);
    expect(await collector.store.clocks.listUndelivered(10)).toEqual([]);
  });

  it('an overdue 整改 item is a warning by the shipped rule, and closing the item clears it', async () => {
    clock.set('2026-03-04T02:00:00Z');
    const opened = await call('POST', '/api/v1/rectifications', officer, {
      what: '补办涉密人员保密承诺书',
      who: '人事处 王五',
      deadline: '2026-03-05',
    });
    expect(opened.status).toBe(201);
    const id = opened.body.id as string;
    const about = async (rule: string) =>
      (await warnings()).filter((w) => w.rule === rule && w.key.includes(id));
    // The day before: the 1-day reminder (the 7-day one was already past when it was opened).
    expect((await about('rectification-reminder')).map((w) => [w.key, w.severity])).toEqual([
      [`rectification.reminder:${id}`, 'medium'],
    ]);
    clock.set('2026-03-05T16:00:00Z'); // 03-06 00:00 in Shanghai
    await collector.clocks.runPass('test');
    const [overdue] = await about('rectification-overdue');
    expect(overdue).toMatchObject({ key: `rectification.overdue:${id}`, severity: 'high', unit: '一处' });
    expect(overdue.title.zh).toBe('整改事项逾期未完成');
    expect(overdue.resolvedAt).toBeNull();
    const closed = await call('POST', `/api/v1/rectifications/${id}/close`, officer, { note: '已补办' });
    expect(closed.status).toBe(200);
    const after = await call('GET', `/api/v1/warnings/${overdue.id}`, officer);
    expect(after.body.resolvedAt).toBe('2026-03-05T16:00:00.000Z');
  });
});
