/**
 * 整改 items and 第58条 self-inspections on SQLite and PostgreSQL: one contract. Also that a
 * rectification is a clock subject: its deadline rows are stored and fired with its record.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { NewRectification } from '../../collector/store/rectifications/rectification-store.js';
import type { Store } from '../../collector/store/store.js';
import { describeEachDialect, type DialectFixture } from './dialects.js';

const T0 = '2026-11-27T00:00:00.000Z';
const T1 = '2026-11-27T01:00:00.000Z';

function item(id: string, overrides: Partial<NewRectification> = {}): NewRectification {
  return {
    id,
    unit: '甲单位',
    what: `整改 ${id}`,
    who: '张三',
    deadline: '2026-12-31',
    source: { kind: 'manual', id: null, item: null },
    createdAt: T0,
    createdBy: 'officer',
    ...overrides,
  };
}

describeEachDialect('RectificationStore and SelfInspectionStore contract', (makeFixture) => {
  let fixture: DialectFixture;
  let store: Store;
  beforeEach(async () => {
    fixture = await makeFixture();
    store = await fixture.open();
  });
  afterEach(async () => {
    await store.close();
    await fixture.dispose();
  });

  it('adds items with their source, lists them by deadline, unit, state and source', async () => {
    const added = await store.rectifications.add([
      item('r-b', { deadline: '2027-01-15', source: { kind: 'assessment', id: 'sys-1', item: '3' } }),
      item('r-a', { source: { kind: 'self-inspection', id: 'si-1', item: 'systems' } }),
      item('r-c', { unit: '乙单位' }),
    ]);
    expect(added.map((r) => r.id)).toEqual(['r-a', 'r-c', 'r-b']);
    expect(await store.rectifications.get('r-b')).toEqual({
      ...item('r-b', { deadline: '2027-01-15', source: { kind: 'assessment', id: 'sys-1', item: '3' } }),
      closedAt: null,
      closedBy: null,
      closeNote: null,
    });
    expect((await store.rectifications.list({ units: ['甲单位'] })).map((r) => r.id)).toEqual(['r-a', 'r-b']);
    expect((await store.rectifications.list({ units: [] })).map((r) => r.id)).toEqual([]);
    expect(
      (await store.rectifications.list({ source: { kind: 'self-inspection', id: 'si-1' } })).map((r) => r.id),
    ).toEqual(['r-a']);
    expect((await store.rectifications.list({ source: { kind: 'assessment' } })).map((r) => r.id)).toEqual([
      'r-b',
    ]);
    expect(await store.rectifications.get('nope')).toBeUndefined();
  });

  it('closes an open item once; a second close changes nothing', async () => {
    await store.rectifications.add([item('r-1'), item('r-2')]);
    const first = await store.rectifications.close('r-1', { at: T1, by: '李四', note: '已整改' });
    expect(first?.closed).toBe(true);
    expect(first?.record).toMatchObject({ closedAt: T1, closedBy: '李四', closeNote: '已整改' });
    const again = await store.rectifications.close('r-1', { at: T0, by: '王五', note: '再次' });
    expect(again).toMatchObject({ closed: false, record: { closedBy: '李四' } });
    expect(await store.rectifications.close('missing', { at: T1, by: 'x', note: 'y' })).toBeUndefined();
    expect((await store.rectifications.list({ open: true })).map((r) => r.id)).toEqual(['r-2']);
    expect((await store.rectifications.list({ open: false })).map((r) => r.id)).toEqual(['r-1']);
  });

  it('a rectification is a clock subject: its rows are stored and claimed with its record', async () => {
    await store.rectifications.add([item('r-clock')]);
    const subject = { type: 'rectification' as const, id: 'r-clock' };
    await store.clocks.replaceDeadlines(
      subject,
      [{ target: '', kind: 'overdue', forDue: '2026-12-31', dueAt: T0, repeats: true, escalatesTo: null }],
      T0,
      () => null,
    );
    const seen: unknown[] = [];
    const batch = await store.clocks.fireDueDeadlines(
      { now: T1, owner: 'test', leaseUntil: '2026-11-27T02:00:00.000Z', limit: 10 },
      (row, record) => {
        seen.push(record);
        return { outcome: 'stale', late: false, lateByMs: 0, condition: null, nextDueAt: null };
      },
    );
    expect(batch.claimed).toBe(1);
    expect(seen).toEqual([expect.objectContaining({ id: 'r-clock', what: '整改 r-clock' })]);
    expect(await store.clocks.listDeadlines(subject)).toEqual([expect.objectContaining({ kind: 'overdue' })]);
  });

  it('one self-inspection per unit and year; answers, files and finalising', async () => {
    const made = await store.selfInspections.create({
      id: 'si-1',
      unit: '甲单位',
      year: 2026,
      createdAt: T0,
      createdBy: 'officer',
    });
    expect(made.created).toBe(true);
    const twice = await store.selfInspections.create({
      id: 'si-2',
      unit: '甲单位',
      year: 2026,
      createdAt: T1,
      createdBy: 'other',
    });
    expect(twice).toMatchObject({ created: false, record: { id: 'si-1', createdBy: 'officer' } });

    const answer = {
      item: 'systems',
      answer: 'partly' as const,
      note: '两台终端未登记',
      links: ['terminals' as const],
      answeredAt: T0,
      answeredBy: 'officer',
    };
    expect(await store.selfInspections.answer('si-1', answer)).toBeUndefined();
    expect(
      await store.selfInspections.answer('si-1', { ...answer, answer: 'non-compliant' }),
    ).toBeUndefined();
    expect(await store.selfInspections.answer('nope', answer)).toBe('missing');

    const content = Buffer.from([0, 1, 2, 255, 0x89, 0x50]);
    const sha256 = createHash('sha256').update(content).digest('hex');
    const meta = await store.selfInspections.addFile('si-1', {
      item: 'systems',
      name: '台账.xlsx',
      mediaType: 'application/octet-stream',
      size: content.length,
      sha256,
      content,
      uploadedAt: T0,
      uploadedBy: 'officer',
    });
    expect(meta).toMatchObject({ item: 'systems', name: '台账.xlsx', size: 6, sha256 });
    const id = (meta as { id: number }).id;
    const file = await store.selfInspections.file('si-1', id);
    expect(file?.content.equals(content)).toBe(true);
    expect(await store.selfInspections.file('si-2', id)).toBeUndefined();

    expect(
      await store.selfInspections.finalize('si-1', {
        at: T1,
        by: 'officer',
        result: 'findings',
        summary: '总体良好',
        figures: { terminals: { enrolled: 3 } },
      }),
    ).toBeUndefined();
    expect(await store.selfInspections.answer('si-1', answer)).toBe('finalised');
    expect(
      await store.selfInspections.finalize('si-1', {
        at: T1,
        by: 'x',
        result: 'compliant',
        summary: null,
        figures: {},
      }),
    ).toBe('finalised');
    const record = await store.selfInspections.get('si-1');
    expect(record).toMatchObject({
      year: 2026,
      finalizedAt: T1,
      result: 'findings',
      summary: '总体良好',
      figures: { terminals: { enrolled: 3 } },
      answers: [{ ...answer, answer: 'non-compliant' }],
      files: [{ id, name: '台账.xlsx' }],
    });
    await store.selfInspections.create({
      id: 'si-3',
      unit: '乙单位',
      year: 2027,
      createdAt: T0,
      createdBy: 'o',
    });
    expect((await store.selfInspections.list({})).map((r) => r.id)).toEqual(['si-3', 'si-1']);
    expect((await store.selfInspections.list({ units: ['甲单位'] })).map((r) => r.id)).toEqual(['si-1']);
  });
});
