import { describe, expect, it } from 'vitest';
import type { OpenRow } from '../../collector/rules/evaluate.js';
import { rowChangeWrites, ruleStateOf } from '../../collector/warnings/rules-batch.js';

const open: OpenRow = {
  slot: 's1',
  rule: 'r',
  warningId: 'w-1',
  count: 1,
  lastSeen: '2026-11-26T00:00:00.000Z',
  severity: 'high',
  level: null,
  agents: ['ag-a'],
  raisedCount: 1,
  resolvedAt: null,
};

describe('the rule row changes a sweep or a release hands the store', () => {
  it('keeps the last change of each row and of each pair', () => {
    const writes = rowChangeWrites([
      { table: 'open', id: 's1', row: open },
      { table: 'windows', id: 's2', row: null },
      { table: 'open', id: 's1', row: null },
      { table: 'conditions', id: 'c1', slot: 's1', row: true },
      { table: 'conditions', id: 'c1', slot: 's1', row: null },
      { table: 'conditions', id: 'c2', slot: 's3', row: true },
    ]);
    expect(writes.rows).toEqual({ open: { gone: ['s1'], kept: [] }, windows: { gone: ['s2'], kept: [] } });
    expect(writes.pairsGone).toEqual([{ cond: 'c1', slot: 's1' }]);
    expect(writes.pairsAdded).toEqual([{ cond: 'c2', slot: 's3' }]);
  });

  it('a slot losing every pair voids the pair changes before it, not those after', () => {
    const writes = rowChangeWrites([
      { table: 'conditions', id: 'c1', slot: 's1', row: true },
      { table: 'conditions', id: 'c2', slot: 's2', row: true },
      { table: 'slotConditions', id: 's1', row: null },
      { table: 'conditions', id: 'c3', slot: 's1', row: true },
    ]);
    expect(writes.slotsUnpaired).toEqual(['s1']);
    expect(writes.pairsAdded).toEqual([
      { cond: 'c2', slot: 's2' },
      { cond: 'c3', slot: 's1' },
    ]);
    expect(writes.pairsGone).toEqual([]);
  });

  it('reads the loaded rows back as rule state', () => {
    expect(
      ruleStateOf([
        { kind: 'slot', slot: 's1' },
        { kind: 'open', slot: 's1', row: JSON.stringify(open) },
        { kind: 'pair', cond: 'c1', slot: 's1' },
        { kind: 'pair', cond: 'c1', slot: 's2' },
      ]),
    ).toEqual({ open: { s1: open }, windows: {}, correlations: {}, conditions: { c1: ['s1', 's2'] } });
  });
});
