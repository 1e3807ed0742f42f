import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.js';
import { ManualClock } from '../../shared/clock.js';
import { tempDir } from '../support/collector-harness.js';
import { TODAYS_READING_CONFIG } from '../support/clock-records.js';
import { apiClient, type Json, keyFor, RecordingSink, startClockCollector } from './clocks-harness.js';

/**
 * Legal clocks across restarts: a real collector (startCollector, SQLite file in a temp dir) is
 * stopped, time moves past deadlines while it is down, and a new collector on the same file
 * fires what fell due at once — marked late, exactly once, however often it is restarted.
 *
 * 秘密 system assessed 2024-03-05 → due 2026-03-05; reminder-1 at 2026-03-03T16:00Z (03-04 00:00
 * Shanghai); overdue at 2026-03-05T16:00Z. Incident discovered 2026-03-01T02:00Z: both first hops
 * due 2026-03-02T02:00Z.
 */
describe('clocks across a collector restart', () => {
  const clock = new ManualClock('2026-03-01T02:00:00Z');
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector | undefined;

  beforeEach(() => {
    dir = tempDir('smew-clocks-restart-');
  });
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
    dir.remove();
  });

  async function restart(sink: RecordingSink) {
    await collector?.stop();
    collector = await startClockCollector(dir.path, clock, sink, { clocks: TODAYS_READING_CONFIG });
    return collector;
  }

  // Four collector starts on a shared 2-core machine: more time than one test usually gets.
  it(
    'fires what fell due while it was down at once, marked late, exactly once',
    { timeout: 150_000 },
    async () => {
      const first = new RecordingSink();
      const running = await restart(first);
      const key = await keyFor(running, 'secadmin', '一处');
      let call = apiClient(running);
      const system = await call('POST', '/api/v1/systems', key, {
        name: '档案系统',
        level: '秘密',
        commissionedAt: '2024-03-05',
        approval: { ref: '审查〔2024〕5号', by: '市保密局', at: '2024-03-05' },
      });
      await call('POST', `/api/v1/systems/${system.body.id}/assessments`, key, {
        completedAt: '2024-03-05',
        assessor: '市测评中心',
        result: 'pass',
      });
      const incident = await call('POST', '/api/v1/incidents', key, {
        title: '疑似泄密',
        level: '秘密',
        discoveredAt: '2026-03-01T02:00:00Z',
        measures: '封存',
      });
      expect(incident.status).toBe(201);
      // While running: the 7-day reminder (already due at registration) fired, on time.
      expect(
        first
          .take()
          .filter((c) => c.state === 'raised')
          .map((c) => [c.type, c.data.deadline, c.data.late]),
      ).toContainEqual(['assessment.reminder', 'reminder-7', false]);
      await running.stop();
      collector = undefined;

      // Down from 03-01 10:00 to 03-04 17:00 Shanghai: reminder-1 and both 24 h deadlines pass.
      clock.set('2026-03-04T09:00:00Z');
      const second = new RecordingSink();
      await restart(second);
      const fired = second.take();
      expect(
        fired.map((c) => [c.type, c.data.deadline, c.data.hop ?? null, c.data.late, c.data.lateByMs]),
      ).toEqual([
        ['incident.report.late', 'missed', 'unit>county', true, 2 * 86_400_000 + 7 * 3_600_000 - 1],
        ['incident.report.late', 'missed', 'unit>superior-dept', true, 2 * 86_400_000 + 7 * 3_600_000 - 1],
        ['assessment.reminder', 'reminder-1', null, true, 17 * 3_600_000],
      ]);
      expect(fired[0]).toMatchObject({ severity: 'critical', data: { escalatesTo: 'county' } });
      const run = await collector!.store.clocks.lastRun();
      expect(run).toMatchObject({ trigger: 'startup', fired: 3, late: 3, delivered: 3, error: null });

      // Restarted again at the same instant: nothing fires twice, nothing is redelivered.
      const third = new RecordingSink();
      call = apiClient(await restart(third));
      expect(third.take()).toEqual([]);
      const reminders = (await call('GET', `/api/v1/systems/${system.body.id}`, key)).body
        .reminders as Json[];
      // (The overdue of the unassessed system between its registration and its first assessment fired too.)
      const fired2 = reminders.filter((r) => r.outcome === 'fired' && r.kind.startsWith('reminder-'));
      expect(fired2.map((r) => [r.kind, r.late])).toEqual([
        ['reminder-7', false],
        ['reminder-1', true],
      ]);
      const hops = (await call('GET', `/api/v1/incidents/${incident.body.id}`, key)).body;
      expect(
        hops.reminders.filter((r: Json) => r.outcome === 'fired').map((r: Json) => [r.hop, r.kind, r.late]),
      ).toEqual([
        ['unit>county', 'missed', true],
        ['unit>superior-dept', 'missed', true],
      ]);
      // The 12 h and 2 h reminders were overtaken by the misses: never sent, kept as superseded rows.
      const rows = await collector!.store.clocks.listDeadlines({ type: 'incident', id: incident.body.id });
      expect(
        rows.filter((r) => r.kind.startsWith('reminder-')).map((r) => [r.superseded, r.firedCount]),
      ).toEqual([
        [true, 0],
        [true, 0],
        [true, 0],
        [true, 0],
      ]);
      expect(hops.hops[0]).toMatchObject({ state: 'overdue', late: true });

      // Down across the due date for two days: one overdue warning, late, not one per missed day.
      await collector!.stop();
      collector = undefined;
      clock.set('2026-03-07T03:00:00Z');
      const fourth = new RecordingSink();
      await restart(fourth);
      expect(fourth.take().map((c) => [c.type, c.data.daysLeft, c.data.late, c.data.lateByMs])).toEqual([
        ['assessment.overdue', -2, true, 35 * 3_600_000],
      ]);
      // It repeats daily from when it fired: the next one at the following Shanghai midnight.
      clock.set('2026-03-07T15:59:00Z');
      await collector!.clocks.runPass('test');
      expect(fourth.take()).toEqual([]);
      clock.set('2026-03-07T16:00:10Z');
      await collector!.clocks.runPass('test');
      expect(fourth.take().map((c) => [c.type, c.data.daysLeft, c.data.late])).toEqual([
        ['assessment.overdue', -3, false],
      ]);
    },
  );

  it('delivers after a restart a condition it recorded but could not deliver', async () => {
    const refusing = { report: async () => Promise.reject(new Error('warnings stage down')) };
    collector = await startClockCollector(dir.path, clock, refusing, { clocks: TODAYS_READING_CONFIG });
    const key = await keyFor(collector, 'secadmin', '一处');
    const call = apiClient(collector);
    clock.set('2026-03-01T02:00:00Z');
    const created = await call('POST', '/api/v1/systems', key, {
      name: '未测评系统',
      level: '机密',
      commissionedAt: '2026-02-01',
      approval: { ref: '审查〔2026〕1号', by: '市保密局', at: '2026-02-01' },
    });
    expect(created.body.schedule).toMatchObject({ state: 'overdue', nextDue: '2026-02-01' });
    await collector.stop();
    collector = undefined;

    const sink = new RecordingSink();
    await restart(sink);
    expect(sink.take()).toEqual([
      expect.objectContaining({
        type: 'assessment.overdue',
        state: 'raised',
        data: expect.objectContaining({ systemId: created.body.id }),
      }),
    ]);
  });
});
