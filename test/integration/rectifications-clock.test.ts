/**
 * 第35条 with 第59条: an assessment that found risks still counts for its period, and opens 整改
 * items (what, who, deadline) that the legal-clock scheduler reminds before the deadline and
 * warns of once overdue, daily, until closed — across a restart, since every clock is a row. A
 * real collector (SQLite file in a temp dir) on a ManualClock that the test moves; no sleeping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.js';
import { ManualClock } from '../../shared/clock.js';
import { tempDir } from '../support/collector-harness.js';
import { apiClient, keyFor, RecordingSink, startClockCollector } from './clocks-harness.js';

const DAY = 86_400_000;

describe('整改 items of an assessment with risks found, on the clocks', () => {
  // 2026-06-01 10:00 in Shanghai.
  const clock = new ManualClock('2026-06-01T02:00:00Z');
  const sink = new RecordingSink();
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector;
  let call: ReturnType<typeof apiClient>;
  let officer: string;
  let viewer: string;
  let systemId: string;

  const rectificationConditions = () => sink.take().filter((c) => c.type.startsWith('rectification.'));

  async function restart(): Promise<void> {
    await collector?.stop();
    collector = await startClockCollector(dir.path, clock, sink);
    call = apiClient(collector);
  }

  beforeAll(async () => {
    dir = tempDir('smew-rectify-');
    await restart();
    officer = await keyFor(collector, 'secadmin', '一处');
    viewer = await keyFor(collector, 'viewer', '一处');
    const created = await call('POST', '/api/v1/systems', officer, {
      name: '办公网',
      level: '机密',
      commissionedAt: '2025-03-01',
      approval: { ref: '审查-1', by: '市保密局', at: '2025-03-01' },
    });
    expect(created.status).toBe(201);
    systemId = created.body.id;
  });
  afterAll(async () => {
    await collector.stop();
    dir.remove();
  });

  it('an assessment with risks found counts, and opens the items given with it', async () => {
    const refused = await call('POST', `/api/v1/systems/${systemId}/assessments`, officer, {
      completedAt: '2026-05-30',
      assessor: '省测评中心',
      result: 'pass',
      rectifications: [{ what: '补装防护', who: '张三', deadline: '2026-06-20' }],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/found no risks/);

    const assessed = await call('POST', `/api/v1/systems/${systemId}/assessments`, officer, {
      completedAt: '2026-05-30',
      assessor: '省测评中心',
      result: 'pass-with-findings',
      rectifications: [{ what: '关闭两台终端的无线网卡', who: '张三（信息中心）', deadline: '2026-06-20' }],
    });
    expect(assessed.status).toBe(201);
    // It counts for its period: the system is not due again until the period after.
    expect(assessed.body.schedule.state).toBe('ok');
    expect(assessed.body.schedule.lastAssessedAt).toBe('2026-05-30');

    const list = await call('GET', '/api/v1/rectifications', viewer);
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      expect.objectContaining({
        what: '关闭两台终端的无线网卡',
        who: '张三（信息中心）',
        deadline: '2026-06-20',
        state: 'open',
        daysLeft: 19,
        unit: '一处',
        source: { kind: 'assessment', id: systemId, item: String(assessed.body.assessments[0].id) },
      }),
    ]);
    // The officer adds another after the assessment; a viewer may not.
    const after = { what: '修订运维制度', who: '李四', deadline: '2026-06-10', assessment: { systemId } };
    expect((await call('POST', '/api/v1/rectifications', viewer, after)).status).toBe(403);
    const added = await call('POST', '/api/v1/rectifications', officer, after);
    expect(added.status).toBe(201);
    expect(added.body.source).toMatchObject({ kind: 'assessment', id: systemId });
    // A past deadline is refused with what is expected.
    const past = await call('POST', '/api/v1/rectifications', officer, { ...after, deadline: '2026-05-31' });
    expect(past.status).toBe(400);
    expect(past.body.error).toMatch(/already past/);
    expect(rectificationConditions()).toEqual([]);
  });

  it('reminds before the deadline and warns when overdue, through the scheduler, across a restart', async () => {
    // 2026-06-03 00:00 Shanghai: the 7-day reminder of the item due 06-10.
    clock.set('2026-06-02T16:00:00Z');
    await collector.clocks.runPass('test');
    expect(rectificationConditions()).toEqual([
      expect.objectContaining({
        type: 'rectification.reminder',
        state: 'raised',
        severity: 'medium',
        unit: '一处',
        data: expect.objectContaining({
          what: '修订运维制度',
          dueDate: '2026-06-10',
          deadline: 'reminder-7',
        }),
      }),
    ]);
    // Down over the deadline: 06-11 00:00 Shanghai the item is overdue; the 1-day reminder it
    // overtook is not sent, and the warning is marked late.
    await collector.stop();
    clock.set('2026-06-11T01:00:00Z');
    await restart();
    const fired = rectificationConditions();
    expect(fired).toEqual([
      expect.objectContaining({
        type: 'rectification.overdue',
        severity: 'high',
        data: expect.objectContaining({ what: '修订运维制度', daysLeft: -1, late: true }),
      }),
    ]);
    const overdue = await call('GET', '/api/v1/rectifications?state=overdue', officer);
    expect(overdue.body.items.map((r: { what: string }) => r.what)).toEqual(['修订运维制度']);
    // The 7-day reminder of the other item (due 06-20) is due 06-13.
    clock.advance(2 * DAY);
    await collector.clocks.runPass('test');
    const next = rectificationConditions();
    expect(next.map((c) => [c.type, c.data.what])).toEqual([
      ['rectification.overdue', '修订运维制度'],
      ['rectification.reminder', '关闭两台终端的无线网卡'],
    ]);
  });

  it('closing an item stops its clock and clears its warning', async () => {
    const item = (await call('GET', '/api/v1/rectifications?state=overdue', officer)).body.items[0];
    expect(
      (await call('POST', `/api/v1/rectifications/${item.id}/close`, viewer, { note: 'x' })).status,
    ).toBe(403);
    const closed = await call('POST', `/api/v1/rectifications/${item.id}/close`, officer, {
      note: '制度已修订并印发',
    });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({
      state: 'done',
      closedBy: 'secadmin-一处',
      closeNote: '制度已修订并印发',
    });
    expect(rectificationConditions()).toEqual([
      expect.objectContaining({ type: 'rectification.overdue', state: 'cleared' }),
    ]);
    expect(
      (await call('POST', `/api/v1/rectifications/${item.id}/close`, officer, { note: '再次' })).status,
    ).toBe(409);
    clock.advance(3 * DAY);
    await collector.clocks.runPass('test');
    // Only the other item's clock goes on (its 1-day reminder is due 06-19 and it is now 06-16).
    expect(rectificationConditions()).toEqual([]);
    const done = await call('GET', '/api/v1/rectifications?state=done', officer);
    expect(done.body.items).toHaveLength(1);
  });
});
