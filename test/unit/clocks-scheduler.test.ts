import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClockScheduler } from '../../collector/clocks/scheduler.js';
import type { ClockStore, SystemRecord } from '../../collector/store/clocks/clock-store.js';
import { openSqliteStore, type SqliteStore } from '../../collector/store/sqlite-store.js';
import type { CollectorCondition } from '../../collector/warnings/conditions.js';
import { ManualClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';
import { tempDir } from '../support/collector-harness.js';
import { incident, measuresDone, TODAYS_READING } from '../support/clock-records.js';

/**
 * The scheduler on a real SQLite store with a ManualClock: rows fire when the clock passes them,
 * once, late when the pass came long after; overdue repeats daily; resolving the matter clears.
 *
 * 机密 system assessed 2026-03-01 (Shanghai) → next due 2028-03-01 (2 calendar years).
 * | row          | dueAt (UTC)                 | Shanghai         |
 * | reminder-30  | 2028-01-30T16:00Z           | 2028-01-31 00:00 |
 * | reminder-7   | 2028-02-22T16:00Z           | 2028-02-23 00:00 |
 * | reminder-1   | 2028-02-28T16:00Z           | 2028-02-29 00:00 |
 * | overdue      | 2028-03-01T16:00Z           | 2028-03-02 00:00 |
 */
const H = 3_600_000;

class RecordingSink {
  readonly conditions: CollectorCondition[] = [];
  failing = false;
  async report(condition: CollectorCondition): Promise<void> {
    if (this.failing) throw new Error('sink down');
    this.conditions.push(condition);
  }
  take(): CollectorCondition[] {
    return this.conditions.splice(0);
  }
}

describe('clock scheduler', () => {
  let dir: ReturnType<typeof tempDir>;
  let sqlite: SqliteStore;
  let store: ClockStore;
  let clock: ManualClock;
  let sink: RecordingSink;
  let scheduler: ClockScheduler;

  const makeScheduler = () =>
    new ClockScheduler({
      store,
      clock,
      sink,
      logger: createLogger('test', 'silent'),
      options: {
        assessment: { reminderDays: [30, 7, 1], ...TODAYS_READING },
        chain: { remindersMs: [12 * H, 2 * H] },
      },
      lateAfterMs: 2 * 60_000,
    });

  beforeEach(() => {
    dir = tempDir('smew-clock-scheduler-');
    sqlite = openSqliteStore(join(dir.path, 'smew.db'));
    store = sqlite.clocks;
    clock = new ManualClock('2026-03-01T02:00:00Z');
    sink = new RecordingSink();
    scheduler = makeScheduler();
  });
  afterEach(async () => {
    await scheduler.stop();
    await sqlite.close();
    dir.remove();
  });

  async function assessedSystem(): Promise<SystemRecord> {
    await store.createSystem({
      id: 'sys-1',
      name: '办公内网',
      level: '机密',
      unit: '一处',
      scope: null,
      environment: null,
      commissionedAt: '2026-03-01',
      approvalRef: '审查〔2026〕3号',
      approvedBy: '市保密局',
      approvedAt: '2026-02-20',
      createdAt: clock.now().toISOString(),
      createdBy: 'admin',
    });
    await store.addAssessment('sys-1', {
      completedAt: '2026-03-01',
      assessor: '测评中心',
      result: 'pass',
      note: null,
      recordedAt: clock.now().toISOString(),
      recordedBy: 'admin',
    });
    const record = (await store.getSystem('sys-1'))!;
    await scheduler.refreshSystem(record);
    return record;
  }

  it('fires each reminder once, on time, then overdue daily until an assessment clears it', async () => {
    await assessedSystem();
    expect((await scheduler.runPass('test')).fired).toBe(0);

    clock.set('2028-01-30T16:00:30Z');
    expect(await scheduler.runPass('test')).toMatchObject({ fired: 1, late: 0 });
    expect(await scheduler.runPass('test')).toMatchObject({ fired: 0 });
    expect(sink.take()).toEqual([
      expect.objectContaining({
        type: 'assessment.reminder',
        state: 'raised',
        key: 'assessment.reminder:sys-1',
        unit: '一处',
        data: expect.objectContaining({
          deadline: 'reminder-30',
          nextDue: '2028-03-01',
          daysLeft: 30,
          late: false,
        }),
      }),
    ]);

    clock.set('2028-02-22T16:00:00Z');
    await scheduler.runPass('test');
    clock.set('2028-02-28T16:00:00Z');
    await scheduler.runPass('test');
    expect(sink.take().map((c) => c.data.deadline)).toEqual(['reminder-7', 'reminder-1']);

    clock.set('2028-03-01T16:01:00Z');
    await scheduler.runPass('test');
    const [overdue] = sink.take();
    expect(overdue).toMatchObject({
      type: 'assessment.overdue',
      key: 'assessment.overdue:sys-1',
      severity: 'high',
      data: expect.objectContaining({ state: 'overdue', daysLeft: -1, late: false }),
    });
    // Repeats the next Shanghai day, not before.
    clock.set('2028-03-02T15:59:59Z');
    expect((await scheduler.runPass('test')).fired).toBe(0);
    clock.set('2028-03-02T16:00:00Z');
    expect((await scheduler.runPass('test')).fired).toBe(1);
    expect(sink.take()).toEqual([
      expect.objectContaining({
        type: 'assessment.overdue',
        data: expect.objectContaining({ daysLeft: -2 }),
      }),
    ]);

    await store.addAssessment('sys-1', {
      completedAt: '2028-03-03',
      assessor: '测评中心',
      result: 'pass',
      note: null,
      recordedAt: clock.now().toISOString(),
      recordedBy: 'admin',
    });
    await scheduler.refreshSystem((await store.getSystem('sys-1'))!);
    expect(sink.take().map((c) => [c.type, c.state])).toEqual([
      ['assessment.reminder', 'cleared'],
      ['assessment.overdue', 'cleared'],
    ]);
    clock.set('2028-03-04T16:00:00Z');
    expect((await scheduler.runPass('test')).fired).toBe(0);
    expect(sink.take()).toEqual([]);
  });

  it('after downtime fires what fell due at once, marked late, and not the backlog it overtook', async () => {
    await assessedSystem();
    // Down from before reminder-30 until after reminder-7: one late reminder, the nearer one.
    clock.set('2028-02-25T03:00:00Z');
    expect(await scheduler.runPass('startup')).toMatchObject({ fired: 1, late: 1, stale: 1 });
    const [reminder] = sink.take();
    expect(reminder?.data).toMatchObject({
      deadline: 'reminder-7',
      late: true,
      lateByMs: 2 * 86_400_000 + 11 * H,
    });
    const fires = await store.listFires({ type: 'system', id: 'sys-1' });
    expect(fires.map((f) => [f.kind, f.outcome, f.late])).toEqual([
      ['reminder-30', 'stale', false],
      ['reminder-7', 'fired', true],
    ]);
    // A second scheduler (a restarted process) finds nothing left to fire.
    const again = makeScheduler();
    expect((await again.runPass('startup')).fired).toBe(0);
  });

  it('keeps a condition the sink refused and delivers it on the next pass', async () => {
    await assessedSystem();
    clock.set('2028-01-31T00:00:00Z');
    sink.failing = true;
    expect(await scheduler.runPass('test')).toMatchObject({ fired: 1, delivered: 0 });
    sink.failing = false;
    expect(await scheduler.runPass('test')).toMatchObject({ fired: 0, delivered: 1 });
    expect(sink.take().map((c) => c.data.deadline)).toEqual(['reminder-30']);
    expect((await store.lastRun())?.delivered).toBe(1);
  });

  it('delivers a batch to a sink that takes batches in one call, one by one if it refuses the batch', async () => {
    const batches: string[][] = [];
    const refused = new Set<string>();
    const batchSink = {
      reportAll: async (conditions: readonly CollectorCondition[]) => {
        if (conditions.some((c) => refused.has(c.key))) throw new Error('one of them is refused');
        batches.push(conditions.map((c) => c.key));
      },
      report: async (condition: CollectorCondition) => {
        if (refused.has(condition.key)) throw new Error('refused');
        batches.push([condition.key]);
      },
    };
    scheduler = new ClockScheduler({
      store,
      clock,
      sink: batchSink,
      logger: createLogger('test', 'silent'),
      options: {
        assessment: { reminderDays: [30, 7, 1], ...TODAYS_READING },
        chain: { remindersMs: [12 * H, 2 * H] },
      },
      lateAfterMs: 2 * 60_000,
    });
    // Three incidents, each with two missed first hops: six conditions in one pass.
    for (const id of ['inc-1', 'inc-2', 'inc-3']) {
      const record = await store.createIncident(
        incident({
          id,
          discoveredAt: '2026-03-01T02:00:00.000Z',
          createdAt: '2026-03-01T02:00:00.000Z',
          measures: [],
          evidence: [],
        }),
      );
      await scheduler.refreshIncident(record);
    }
    clock.set('2026-03-02T02:00:30Z');
    expect(await scheduler.runPass('test')).toMatchObject({ fired: 6, delivered: 6 });
    expect(batches).toHaveLength(1);
    expect(batches[0]!.map((key) => key.split(':')[1])).toEqual([
      'inc-1',
      'inc-1',
      'inc-2',
      'inc-2',
      'inc-3',
      'inc-3',
    ]);

    // A batch with a refused condition: the others go one by one; the refused one waits.
    batches.length = 0;
    for (const id of ['inc-4', 'inc-5']) {
      const record = await store.createIncident(
        incident({
          id,
          discoveredAt: '2026-03-02T00:00:00.000Z',
          createdAt: '2026-03-02T00:00:00.000Z',
          measures: [],
          evidence: [],
        }),
      );
      await scheduler.refreshIncident(record);
    }
    const stuck = 'incident.report.late:inc-4:unit>county';
    refused.add(stuck);
    clock.set('2026-03-03T00:00:30Z');
    expect(await scheduler.runPass('test')).toMatchObject({ fired: 4, delivered: 3 });
    expect(batches.map((keys) => keys.length)).toEqual([1, 1, 1]);
    expect(batches.flat()).not.toContain(stuck);
    refused.clear();
    expect(await scheduler.runPass('test')).toMatchObject({ fired: 0, delivered: 1 });
    expect(batches.at(-1)).toEqual([stuck]);
  });

  it('a 24 h chain: both first hops due at discovery + 24 h; a miss is critical, late, escalated', async () => {
    const discoveredAt = '2026-03-01T02:00:00.000Z';
    await store.createIncident(
      incident({
        id: 'inc-1',
        discoveredAt,
        createdAt: discoveredAt,
        measures: measuresDone('收回'),
        evidence: [],
      }),
    );
    const refresh = async () => scheduler.refreshIncident((await store.getIncident('inc-1'))!);
    await refresh();
    const rows = await store.listDeadlines({ type: 'incident', id: 'inc-1' });
    expect(rows.filter((r) => r.kind === 'missed').map((r) => [r.target, r.forDue])).toEqual([
      ['unit>county', '2026-03-02T02:00:00.000Z'],
      ['unit>superior-dept', '2026-03-02T02:00:00.000Z'],
    ]);

    clock.set('2026-03-01T14:00:00Z');
    await scheduler.runPass('test');
    expect(sink.take().map((c) => [c.type, c.data.hop])).toEqual([
      ['incident.report.reminder', 'unit>county'],
      ['incident.report.reminder', 'unit>superior-dept'],
    ]);

    await store.addReport('inc-1', {
      fromLevel: 'unit',
      to: 'same-level-admin',
      reportedAt: '2026-03-01T20:00:00.000Z',
      receivedAt: '2026-03-01T20:30:00.000Z',
      channel: 'system',
      by: '张保密',
      receipt: 'R-1',
      recordedAt: '2026-03-01T20:00:00.000Z',
      recordedBy: 'officer',
    });
    clock.set('2026-03-01T20:00:00Z');
    await refresh();
    expect(sink.take().map((c) => [c.type, c.state, c.data.hop])).toEqual([
      ['incident.report.reminder', 'cleared', 'unit>county'],
    ]);

    clock.set('2026-03-02T02:00:30Z');
    await scheduler.runPass('test');
    const conditions = sink.take();
    // The T−2 h reminder, due in the same pass as the miss, is overtaken by it.
    expect(conditions.map((c) => [c.type, c.data.hop])).toEqual([
      ['incident.report.late', 'unit>superior-dept'],
    ]);
    expect(conditions[0]).toMatchObject({
      severity: 'critical',
      key: 'incident.report.late:inc-1:unit>superior-dept',
      data: { escalatesTo: 'county', hopDueAt: '2026-03-02T02:00:00.000Z', late: false, lateByMs: 29_999 },
    });
    // The county's onward hop runs 24 h from its own receipt.
    const onward = (await store.listDeadlines({ type: 'incident', id: 'inc-1' })).find(
      (r) => r.target === 'county>city' && r.kind === 'missed',
    );
    expect(onward).toMatchObject({ forDue: '2026-03-02T20:30:00.000Z', escalatesTo: 'city' });
  });
});
