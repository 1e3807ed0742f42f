/**
 * The ClockStore contract on SQLite and PostgreSQL: the register and its history, incidents and
 * reports, and the deadline rows — replaced idempotently, leased to one owner, fired once per due
 * time, also when several collectors claim, fire and replace at the same moment.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClockStore, DeadlineSpec } from '../../collector/store/clocks/clock-store.js';
import type { Store } from '../../collector/store/store.js';
import type { CollectorCondition } from '../../collector/warnings/conditions.js';
import { incident, system } from '../support/clock-records.js';
import { describeEachDialect, type DialectFixture } from './dialects.js';

const T0 = '2026-03-01T00:00:00.000Z';

function spec(kind: string, dueAt: string, overrides: Partial<DeadlineSpec> = {}): DeadlineSpec {
  return {
    target: '',
    kind,
    forDue: '2026-03-10',
    dueAt,
    repeats: kind === 'overdue',
    escalatesTo: null,
    ...overrides,
  };
}

const condition = (key: string): CollectorCondition => ({
  type: 'assessment.overdue',
  state: 'raised',
  key,
  unit: '一处',
  severity: 'high',
  data: {},
  at: T0,
});

describeEachDialect('ClockStore contract', (makeFixture) => {
  let fixture: DialectFixture;
  let store: ClockStore;
  const handles: Store[] = [];
  /** A handle on this test's database, closed after the test. */
  async function open(): Promise<Store> {
    const handle = await fixture.open();
    handles.push(handle);
    return handle;
  }
  beforeEach(async () => {
    fixture = await makeFixture();
    store = (await open()).clocks;
  });
  afterEach(async () => {
    for (const handle of handles.splice(0)) await handle.close();
    await fixture.dispose();
  });

  it('keeps the register, each changed field in the history, and the filing date', async () => {
    const created = await store.createSystem(system());
    expect(created).toMatchObject({
      id: 'sys-1',
      status: 'in-use',
      filedAt: null,
      assessments: [],
      changes: [],
    });
    await store.createSystem(system({ id: 'sys-2', unit: '二处', name: '档案系统' }));
    expect((await store.listSystems({ units: ['二处'] })).map((s) => s.id)).toEqual(['sys-2']);
    expect(await store.listSystems({ units: [] })).toEqual([]);
    expect(await store.listSystems({})).toHaveLength(2);

    const raised = await store.updateSystem(
      'sys-1',
      { level: '绝密', scope: '本单位' },
      '2026-03-02T01:00:00.000Z',
      'admin',
    );
    expect(raised?.level).toBe('绝密');
    expect(raised?.changes).toEqual([
      {
        id: expect.any(Number),
        kind: 'level',
        at: '2026-03-02T01:00:00.000Z',
        from: '机密',
        to: '绝密',
        by: 'admin',
        newRisk: null,
        measures: null,
      },
    ]);
    const retired = await store.updateSystem(
      'sys-1',
      { status: 'decommissioned', filedAt: '2026-04-01', disposal: '硬盘送销毁中心销毁' },
      '2026-04-01T02:00:00.000Z',
      'admin',
    );
    expect(retired).toMatchObject({
      status: 'decommissioned',
      filedAt: '2026-04-01',
      disposal: '硬盘送销毁中心销毁',
    });
    expect(retired?.changes.map((c) => c.kind)).toEqual(['level', 'status']);
    expect(await store.updateSystem('nope', { level: '秘密' }, T0, 'admin')).toBeUndefined();
    // The store refuses a decommission without its filing date, whatever the caller checked.
    await expect(store.updateSystem('sys-2', { status: 'decommissioned' }, T0, 'admin')).rejects.toThrow();
    expect((await store.getSystem('sys-2'))?.status).toBe('in-use');
  });

  it('keeps whether a change may bring new risk, its protective measures, and an approval recorded late', async () => {
    await store.createSystem(system({ id: 'sys-3', approvalRef: null, approvedBy: null, approvedAt: null }));
    const changed = await store.updateSystem(
      'sys-3',
      { environment: '机房B', newRisk: true, measures: '门禁、视频监控' },
      '2026-03-03T01:00:00.000Z',
      'officer',
    );
    expect(changed?.changes).toEqual([
      expect.objectContaining({
        kind: 'environment',
        to: '机房B',
        newRisk: true,
        measures: '门禁、视频监控',
      }),
    ]);
    const calm = await store.updateSystem(
      'sys-3',
      { scope: '二处', newRisk: false },
      '2026-03-04T01:00:00.000Z',
      'officer',
    );
    expect(calm?.changes.map((c) => [c.kind, c.newRisk, c.measures])).toEqual([
      ['environment', true, '门禁、视频监控'],
      ['scope', false, null],
    ]);
    const approved = await store.updateSystem(
      'sys-3',
      { approval: { ref: '审查〔2026〕9号', by: '市保密局', at: '2026-03-05' } },
      '2026-03-05T01:00:00.000Z',
      'officer',
    );
    expect(approved).toMatchObject({
      approvalRef: '审查〔2026〕9号',
      approvedBy: '市保密局',
      approvedAt: '2026-03-05',
    });
    expect(approved?.changes).toHaveLength(2);
  });

  it('keeps assessments in date order and refuses them for an unknown system', async () => {
    await store.createSystem(system());
    const entry = {
      assessor: '测评中心',
      result: 'pass' as const,
      note: null,
      recordedAt: T0,
      recordedBy: 'admin',
    };
    await store.addAssessment('sys-1', { ...entry, completedAt: '2026-02-01' });
    await store.addAssessment('sys-1', { ...entry, completedAt: '2025-02-01', result: 'major-risks' });
    expect((await store.getSystem('sys-1'))?.assessments.map((a) => [a.completedAt, a.result])).toEqual([
      ['2025-02-01', 'major-risks'],
      ['2026-02-01', 'pass'],
    ]);
    expect(await store.addAssessment('nope', { ...entry, completedAt: '2026-02-01' })).toBeUndefined();
  });

  it('keeps incidents with their evidence, reports and receipts', async () => {
    await store.createIncident(incident());
    await store.createIncident(
      incident({ id: 'inc-2', unit: '二处', discoveredAt: '2026-03-02T00:00:00.000Z' }),
    );
    const report = await store.addReport('inc-1', {
      fromLevel: 'unit',
      to: 'same-level-admin',
      reportedAt: '2026-03-01T05:00:00.000Z',
      receivedAt: null,
      channel: 'phone',
      by: '张保密',
      receipt: null,
      recordedAt: '2026-03-01T05:01:00.000Z',
      recordedBy: 'officer',
    });
    expect(report?.id).toEqual(expect.any(Number));
    expect(await store.setReportReceipt('inc-1', report!.id, '2026-03-01T05:30:00.000Z', '回执001')).toBe(
      true,
    );
    expect(await store.setReportReceipt('inc-2', report!.id, '2026-03-01T05:30:00.000Z', null)).toBe(false);
    const stored = await store.getIncident('inc-1');
    expect(stored).toMatchObject({
      evidence: [3, 5],
      measures: [{ id: expect.any(Number), what: '断网、收回', by: 'officer', at: T0 }],
      unitLevel: 'unit',
      closedAt: null,
    });
    expect(stored?.reports).toEqual([
      expect.objectContaining({
        channel: 'phone',
        receivedAt: '2026-03-01T05:30:00.000Z',
        receipt: '回执001',
      }),
    ]);
    expect((await store.listIncidents({})).map((i) => i.id)).toEqual(['inc-2', 'inc-1']);
    expect((await store.listIncidents({ units: ['一处'] })).map((i) => i.id)).toEqual(['inc-1']);
    expect(await store.addReport('nope', { ...report!, recordedBy: 'x' })).toBeUndefined();
  });

  it('keeps an incident’s measures in order, its closure once, and its closure report apart', async () => {
    await store.createIncident(incident({ measures: [] }));
    const later = {
      what: '封存终端',
      by: '李四',
      at: '2026-03-01T03:00:00.000Z',
      recordedAt: T0,
      recordedBy: 'officer',
    };
    const sooner = { ...later, what: '断网', at: '2026-03-01T01:00:00.000Z' };
    expect(await store.addMeasure('inc-1', later)).toMatchObject({
      id: expect.any(Number),
      what: '封存终端',
    });
    await store.addMeasure('inc-1', sooner);
    expect(await store.addMeasure('nope', sooner)).toBeUndefined();
    expect((await store.getIncident('inc-1'))?.measures.map((m) => m.what)).toEqual(['断网', '封存终端']);
    const closure = {
      closedAt: '2026-03-05T00:00:00.000Z',
      outcome: '已追回，责任人已处理',
      closedBy: 'officer',
    };
    expect(await store.closeIncident('inc-1', closure)).toBe(true);
    expect(await store.closeIncident('inc-1', { ...closure, outcome: '再次' })).toBe(false);
    await store.addReport('inc-1', {
      about: 'closure',
      fromLevel: 'unit',
      to: 'county',
      reportedAt: '2026-03-05T01:00:00.000Z',
      receivedAt: null,
      channel: 'paper',
      by: '张保密',
      receipt: null,
      recordedAt: '2026-03-05T01:00:00.000Z',
      recordedBy: 'officer',
    });
    const stored = await store.getIncident('inc-1');
    expect(stored).toMatchObject(closure);
    expect(stored?.reports.map((r) => r.about)).toEqual(['closure']);
  });

  it('replaces a subject’s rows idempotently: saving twice adds nothing, a fired row never comes back', async () => {
    const subject = { type: 'system' as const, id: 'sys-1' };
    const specs = [
      spec('reminder-7', '2026-03-02T16:00:00.000Z'),
      spec('overdue', '2026-03-10T16:00:00.000Z'),
    ];
    expect(await store.replaceDeadlines(subject, specs, T0, () => null)).toMatchObject({
      added: 2,
      superseded: 0,
    });
    expect(await store.replaceDeadlines(subject, specs, T0, () => null)).toMatchObject({
      added: 0,
      superseded: 0,
    });

    const [reminder] = await store.claimDueDeadlines({
      now: '2026-03-03T00:00:00.000Z',
      owner: 'a',
      leaseUntil: '2026-03-03T00:05:00.000Z',
      limit: 10,
    });
    expect(reminder?.kind).toBe('reminder-7');
    await store.completeDeadline({
      deadlineId: reminder!.id,
      owner: 'a',
      dueAt: reminder!.dueAt,
      firedAt: '2026-03-03T00:00:00.000Z',
      outcome: 'fired',
      late: true,
      lateByMs: 28_800_000,
      condition: condition('assessment.reminder:sys-1'),
      nextDueAt: null,
    });
    // Saved again: the fired reminder stays done.
    expect(await store.replaceDeadlines(subject, specs, T0, () => null)).toMatchObject({ added: 0 });
    expect(
      await store.claimDueDeadlines({
        now: '2026-03-03T00:00:00.000Z',
        owner: 'a',
        leaseUntil: '2026-03-03T00:05:00.000Z',
        limit: 10,
      }),
    ).toEqual([]);

    // A new due date supersedes the old rows; only the fired one asks for a clear.
    const asked: number[] = [];
    const moved = [spec('reminder-7', '2027-03-02T16:00:00.000Z', { forDue: '2027-03-10' })];
    const result = await store.replaceDeadlines(subject, moved, '2026-03-04T00:00:00.000Z', (row) => {
      asked.push(row.id);
      return { ...condition('assessment.reminder:sys-1'), state: 'cleared' };
    });
    expect(result).toMatchObject({ added: 1, superseded: 2 });
    expect(asked).toEqual([reminder!.id]);
    expect(result.clears).toEqual([
      expect.objectContaining({
        outcome: 'cleared',
        deliveredAt: null,
        condition: expect.objectContaining({ state: 'cleared' }),
      }),
    ]);
    const rows = await store.listDeadlines(subject);
    expect(rows.filter((r) => r.doneAt === null).map((r) => r.forDue)).toEqual(['2027-03-10']);
    expect(rows.filter((r) => r.superseded)).toHaveLength(2);
  });

  it('leases due rows to one owner until the lease runs out', async () => {
    const subject = { type: 'incident' as const, id: 'inc-1' };
    await store.replaceDeadlines(
      subject,
      [
        spec('missed', '2026-03-02T00:00:00.001Z', { target: 'unit>county', escalatesTo: 'county' }),
        spec('reminder-2h', '2026-03-01T22:00:00.000Z', { target: 'unit>county' }),
        spec('missed', '2026-03-05T00:00:00.001Z', { target: 'county>city' }),
      ],
      T0,
      () => null,
    );
    const now = '2026-03-02T01:00:00.000Z';
    const first = await store.claimDueDeadlines({
      now,
      owner: 'a',
      leaseUntil: '2026-03-02T01:05:00.000Z',
      limit: 10,
    });
    expect(first.map((r) => r.kind)).toEqual(['reminder-2h', 'missed']);
    expect(first[1]).toMatchObject({ target: 'unit>county', escalatesTo: 'county', subject });
    expect(
      await store.claimDueDeadlines({ now, owner: 'b', leaseUntil: '2026-03-02T01:05:00.000Z', limit: 10 }),
    ).toEqual([]);
    const later = await store.claimDueDeadlines({
      now: '2026-03-02T01:05:00.000Z',
      owner: 'b',
      leaseUntil: '2026-03-02T01:10:00.000Z',
      limit: 1,
    });
    expect(later.map((r) => r.kind)).toEqual(['reminder-2h']);
  });

  it('fires a row once per due time; a repeating row moves on; undelivered fires wait for delivery', async () => {
    const subject = { type: 'system' as const, id: 'sys-1' };
    await store.replaceDeadlines(subject, [spec('overdue', '2026-03-10T16:00:00.000Z')], T0, () => null);
    const [row] = await store.claimDueDeadlines({
      now: '2026-03-11T00:00:00.000Z',
      owner: 'a',
      leaseUntil: '2026-03-11T00:05:00.000Z',
      limit: 5,
    });
    const complete = {
      deadlineId: row!.id,
      owner: 'a',
      dueAt: row!.dueAt,
      firedAt: '2026-03-11T00:00:00.000Z',
      outcome: 'fired' as const,
      late: false,
      lateByMs: 28_800_000,
      condition: condition('assessment.overdue:sys-1'),
      nextDueAt: '2026-03-11T16:00:00.000Z',
    };
    const fire = await store.completeDeadline(complete);
    expect(fire).toMatchObject({
      kind: 'overdue',
      dueAt: '2026-03-10T16:00:00.000Z',
      outcome: 'fired',
      deliveredAt: null,
    });
    // Another process that held a stale claim on the same (row, dueAt) records nothing.
    expect(await store.completeDeadline({ ...complete, owner: 'b' })).toBeNull();
    const [moved] = await store.listDeadlines(subject);
    expect(moved).toMatchObject({ dueAt: '2026-03-11T16:00:00.000Z', firedCount: 1, doneAt: null });

    expect((await store.listUndelivered(10)).map((f) => f.id)).toEqual([fire!.id]);
    await store.markDelivered([fire!.id], '2026-03-11T00:00:01.000Z');
    expect(await store.listUndelivered(10)).toEqual([]);
    expect(await store.listFires(subject)).toEqual([
      expect.objectContaining({
        id: fire!.id,
        deliveredAt: '2026-03-11T00:00:01.000Z',
        condition: condition('assessment.overdue:sys-1'),
      }),
    ]);
  });

  it('fires a batch in one transaction: claim, fires and next states together, each row with its record', async () => {
    await store.createSystem(system());
    await store.createIncident(incident());
    await store.replaceDeadlines(
      { type: 'system', id: 'sys-1' },
      [spec('overdue', '2026-03-10T16:00:00.000Z'), spec('reminder-1', '2026-03-09T16:00:00.000Z')],
      T0,
      () => null,
    );
    await store.replaceDeadlines(
      { type: 'incident', id: 'inc-1' },
      [spec('missed', '2026-03-02T00:00:00.001Z', { target: 'unit>county' })],
      T0,
      () => null,
    );
    // A row whose record is gone is handed over with no record.
    await store.replaceDeadlines(
      { type: 'system', id: 'sys-gone' },
      [spec('overdue', '2026-03-10T17:00:00.000Z')],
      T0,
      () => null,
    );
    const now = '2026-03-11T00:00:00.000Z';
    const seen: [string, string | undefined][] = [];
    const batch = await store.fireDueDeadlines(
      { now, owner: 'a', leaseUntil: '2026-03-11T00:05:00.000Z', limit: 10 },
      (row, record) => {
        seen.push([row.kind, record?.id]);
        if (row.kind === 'reminder-1') return null; // could not decide: stays leased
        if (!record) return { outcome: 'stale', late: false, lateByMs: 0, condition: null, nextDueAt: null };
        return {
          outcome: 'fired',
          late: row.kind === 'missed',
          lateByMs: 1000,
          condition: condition(`${row.kind}:${record.id}`),
          nextDueAt: row.repeats ? '2026-03-11T16:00:00.000Z' : null,
        };
      },
    );
    // In firing order (due time, then id), each with its record, read once per subject.
    expect(seen).toEqual([
      ['missed', 'inc-1'],
      ['reminder-1', 'sys-1'],
      ['overdue', 'sys-1'],
      ['overdue', undefined],
    ]);
    expect(batch.claimed).toBe(4);
    expect(batch.fires.map((f) => [f.kind, f.outcome, f.late, f.firedAt, f.condition?.key ?? null])).toEqual([
      ['missed', 'fired', true, now, 'missed:inc-1'],
      ['overdue', 'fired', false, now, 'overdue:sys-1'],
      ['overdue', 'stale', false, now, null],
    ]);
    expect(batch.fires.map((f) => f.id)).toEqual([...batch.fires.map((f) => f.id)].sort((x, y) => x - y));
    const rows = await store.listDeadlines({ type: 'system', id: 'sys-1' });
    expect(rows.map((r) => [r.kind, r.dueAt, r.firedCount, r.doneAt])).toEqual([
      ['reminder-1', '2026-03-09T16:00:00.000Z', 0, null],
      ['overdue', '2026-03-11T16:00:00.000Z', 1, null],
    ]);
    expect((await store.listDeadlines({ type: 'system', id: 'sys-gone' }))[0]).toMatchObject({
      firedCount: 1,
      doneAt: now,
    });
    // The undecided row is leased to `a` until the lease runs out; nothing else is due.
    const claim = { owner: 'b', leaseUntil: '2026-03-11T00:10:00.000Z', limit: 10 };
    const decideAll = () => ({
      outcome: 'stale' as const,
      late: false,
      lateByMs: 0,
      condition: null,
      nextDueAt: null,
    });
    expect(await store.fireDueDeadlines({ ...claim, now: '2026-03-11T00:04:59.999Z' }, decideAll)).toEqual({
      claimed: 0,
      fires: [],
    });
    const after = await store.fireDueDeadlines({ ...claim, now: '2026-03-11T00:05:00.000Z' }, decideAll);
    expect(after.fires.map((f) => f.kind)).toEqual(['reminder-1']);
  });

  it('leaves nothing behind, not even a lease, when a batch fails before its commit', async () => {
    await store.createIncident(incident());
    const specs = Array.from({ length: 5 }, (_, i) => {
      const due = new Date(Date.parse(T0) + i * 60_000).toISOString();
      return spec('missed', due, { target: 'unit>county', forDue: due });
    });
    await store.replaceDeadlines({ type: 'incident', id: 'inc-1' }, specs, T0, () => null);
    const claim = { now: '2026-03-02T00:00:00.000Z', leaseUntil: '2026-03-02T00:05:00.000Z', limit: 10 };
    const fire = (row: { kind: string; dueAt: string }) => ({
      outcome: 'fired' as const,
      late: true,
      lateByMs: 1,
      condition: condition(`${row.kind}:${row.dueAt}`),
      nextDueAt: null,
    });
    let decided = 0;
    await expect(
      store.fireDueDeadlines({ ...claim, owner: 'a' }, (row) => {
        // The collector dies after deciding part of the batch.
        if (++decided === 3) throw new Error('collector died');
        return fire(row);
      }),
    ).rejects.toThrow('collector died');
    expect(await store.listFires({ type: 'incident', id: 'inc-1' })).toEqual([]);
    // Another collector fires every row at once, without waiting for a lease.
    const batch = await store.fireDueDeadlines({ ...claim, owner: 'b' }, fire);
    expect(batch).toMatchObject({ claimed: 5 });
    expect(batch.fires.map((f) => f.dueAt)).toEqual(specs.map((s) => s.dueAt));
    expect(await store.listUndelivered(10)).toHaveLength(5);
  });

  describe('several collectors at once', () => {
    let other: ClockStore;
    beforeEach(async () => {
      // Another handle on the same database, as a second collector has. On SQLite the store is its
      // own second handle (one process writes at a time): concurrent calls on it must agree all the same.
      other = fixture.dialect === 'PostgreSQL' ? (await open()).clocks : store;
    });

    /** `count` missed-report rows of one incident, due one minute apart from T0. */
    async function dueRows(count: number): Promise<void> {
      const specs = Array.from({ length: count }, (_, i) => {
        const due = new Date(Date.parse(T0) + i * 60_000).toISOString();
        return spec('missed', due, { target: 'unit>county', forDue: due });
      });
      await store.replaceDeadlines({ type: 'incident', id: 'inc-1' }, specs, T0, () => null);
    }

    it('claims every due row exactly once when collectors claim at the same moment', async () => {
      await dueRows(60);
      const now = '2026-03-02T00:00:00.000Z';
      const claimed = new Map<number, string>();
      const collector = async (owner: string, handle: ClockStore) => {
        for (;;) {
          const rows = await handle.claimDueDeadlines({
            now,
            owner,
            leaseUntil: '2026-03-02T00:05:00.000Z',
            limit: 7,
          });
          expect(rows.length).toBeLessThanOrEqual(7);
          // Each batch comes in firing order: due time, then id.
          expect(rows.map((r) => r.dueAt)).toEqual(rows.map((r) => r.dueAt).sort());
          for (const row of rows) {
            expect(claimed.get(row.id), `row ${row.id} claimed by ${owner} too`).toBeUndefined();
            claimed.set(row.id, owner);
          }
          if (rows.length === 0) return;
        }
      };
      await Promise.all([
        collector('a', store),
        collector('b', other),
        collector('c', store),
        collector('d', other),
      ]);
      expect(claimed.size).toBe(60);
      // Leased rows stay with their owner, whoever asks (the owner itself included) …
      for (const [owner, handle] of [
        ['a', store],
        ['e', other],
      ] as const) {
        expect(
          await handle.claimDueDeadlines({
            now,
            owner,
            leaseUntil: '2026-03-02T00:10:00.000Z',
            limit: 100,
          }),
        ).toEqual([]);
      }
      // … until the lease runs out: then another collector takes them all over, once.
      const takeover = await other.claimDueDeadlines({
        now: '2026-03-02T00:05:00.000Z',
        owner: 'e',
        leaseUntil: '2026-03-02T00:10:00.000Z',
        limit: 100,
      });
      expect(takeover.map((r) => r.id).sort((x, y) => x - y)).toEqual(
        [...claimed.keys()].sort((x, y) => x - y),
      );
    });

    it('fires every due row exactly once when collectors fire batches at the same moment', async () => {
      await dueRows(60);
      const now = '2026-03-02T00:00:00.000Z';
      const decidedBy = new Map<number, string>();
      const collector = async (owner: string, handle: ClockStore) => {
        for (;;) {
          const batch = await handle.fireDueDeadlines(
            { now, owner, leaseUntil: '2026-03-02T00:05:00.000Z', limit: 7 },
            (row) => {
              expect(decidedBy.get(row.id), `row ${row.id} fired by ${owner} too`).toBeUndefined();
              decidedBy.set(row.id, owner);
              return {
                outcome: 'fired',
                late: false,
                lateByMs: 0,
                condition: condition(owner),
                nextDueAt: null,
              };
            },
          );
          expect(batch.fires).toHaveLength(batch.claimed);
          if (batch.claimed < 7) return;
        }
      };
      await Promise.all([
        collector('a', store),
        collector('b', other),
        collector('c', store),
        collector('d', other),
      ]);
      // Whoever came last may have stopped early on rows others held: a later pass finds the rest.
      await collector('e', other);
      expect(decidedBy.size).toBe(60);
      const fires = await store.listFires({ type: 'incident', id: 'inc-1' });
      expect(fires).toHaveLength(60);
      expect(new Set(fires.map((f) => f.deadlineId)).size).toBe(60);
      expect(
        (await store.listDeadlines({ type: 'incident', id: 'inc-1' })).every((r) => r.firedCount === 1),
      ).toBe(true);
    });

    it('records one fire when two collectors complete the same row and due time at once', async () => {
      await dueRows(1);
      const [row] = await store.claimDueDeadlines({
        now: '2026-03-02T00:00:00.000Z',
        owner: 'a',
        leaseUntil: '2026-03-02T00:05:00.000Z',
        limit: 1,
      });
      const complete = (owner: string, handle: ClockStore) =>
        handle.completeDeadline({
          deadlineId: row!.id,
          owner,
          dueAt: row!.dueAt,
          firedAt: '2026-03-02T00:00:00.000Z',
          outcome: 'fired',
          late: false,
          lateByMs: 0,
          condition: condition(`incident.report.late:${owner}`),
          nextDueAt: null,
        });
      const fires = await Promise.all([complete('a', store), complete('b', other), complete('a', store)]);
      expect(fires.filter((f) => f !== null)).toHaveLength(1);
      const [done] = await store.listDeadlines(row!.subject);
      expect(done).toMatchObject({ firedCount: 1, doneAt: '2026-03-02T00:00:00.000Z' });
      expect(await store.listFires(row!.subject)).toHaveLength(1);
      // A done row is never claimed again, however late it gets.
      expect(
        await other.claimDueDeadlines({
          now: '2027-01-01T00:00:00.000Z',
          owner: 'b',
          leaseUntil: '2027-01-01T00:05:00.000Z',
          limit: 10,
        }),
      ).toEqual([]);
    });

    it('supersedes and clears a fired row once when two collectors replace its subject at once', async () => {
      const subject = { type: 'system' as const, id: 'sys-1' };
      await store.replaceDeadlines(subject, [spec('overdue', '2026-03-10T16:00:00.000Z')], T0, () => null);
      const [row] = await store.claimDueDeadlines({
        now: '2026-03-11T00:00:00.000Z',
        owner: 'a',
        leaseUntil: '2026-03-11T00:05:00.000Z',
        limit: 1,
      });
      await store.completeDeadline({
        deadlineId: row!.id,
        owner: 'a',
        dueAt: row!.dueAt,
        firedAt: '2026-03-11T00:00:00.000Z',
        outcome: 'fired',
        late: false,
        lateByMs: 0,
        condition: condition('assessment.overdue:sys-1'),
        nextDueAt: '2026-03-11T16:00:00.000Z',
      });
      // Both collectors saw the new assessment and moved the due date, a moment apart.
      const moved = [spec('reminder-30', '2028-01-30T16:00:00.000Z', { forDue: '2028-03-01' })];
      const cleared = { ...condition('assessment.overdue:sys-1'), state: 'cleared' as const };
      const results = await Promise.all([
        store.replaceDeadlines(subject, moved, '2026-03-12T00:00:00.000Z', () => cleared),
        other.replaceDeadlines(subject, moved, '2026-03-12T00:00:01.000Z', () => cleared),
      ]);
      expect(results.map((r) => r.superseded).sort()).toEqual([0, 1]);
      expect(results.map((r) => r.added).sort()).toEqual([0, 1]);
      expect(results.flatMap((r) => r.clears)).toHaveLength(1);
      const fires = await store.listFires(subject);
      expect(fires.map((f) => f.outcome)).toEqual(['fired', 'cleared']);
      const rows = await store.listDeadlines(subject);
      expect(rows.map((r) => [r.kind, r.superseded, r.doneAt === null])).toEqual([
        ['overdue', true, false],
        ['reminder-30', false, true],
      ]);
    });
  });

  it('records scheduler passes', async () => {
    expect(await store.lastRun()).toBeUndefined();
    const id = await store.startRun({ trigger: 'startup', owner: 'a', startedAt: T0 });
    expect(await store.lastRun()).toMatchObject({ id, trigger: 'startup', finishedAt: null });
    await store.finishRun(id, { finishedAt: T0, fired: 3, late: 2, stale: 1, delivered: 3, error: null });
    expect(await store.lastRun()).toMatchObject({
      id,
      fired: 3,
      late: 2,
      stale: 1,
      delivered: 3,
      finishedAt: T0,
    });
  });
});
