import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../collector/store/postgres-store.js';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from '../../collector/store/schema/migrations.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { tempDir } from '../support/collector-harness.js';
import { adminQuery, createTestSchema, postgresAvailable } from '../support/postgres.js';

/**
 * Migration 10: an open warning's row counts its raised conditions instead of listing them, and
 * the (condition, slot) pairs become exact. Rule state written before it must mean the same after.
 */
const c = (agent: string, key: string) => JSON.stringify([agent, key]);
const hit = (cond: string | null) => ({
  at: '2026-11-26T00:00:00.000Z',
  agent: 'ag-a',
  cond,
  severity: 'high',
  level: null,
  ref: { agent: 'ag-a', seq: 1, ts: '2026-11-26T00:00:00.000Z', state: 'raised' },
});
const OPEN = {
  slot: 'many:["u1"]',
  rule: 'many',
  warningId: 'w-1',
  count: 3,
  lastSeen: '2026-11-26T00:00:00.000Z',
  severity: 'high',
  level: null,
  agents: ['ag-a', 'ag-b'],
  raised: [c('ag-a', 'k1'), c('ag-b', 'k2')],
  resolvedAt: null,
};
const WINDOW = { slot: 'restarts:["u1","ag-a"]', rule: 'restarts', hits: [hit(c('ag-a', 'k4')), hit(null)] };
/** Before: the open warning's two conditions, one it no longer holds, the window's and one that left it. After: in byte order of cond. */
const PAIRS_BEFORE: [string, string][] = [
  [c('ag-a', 'k1'), OPEN.slot],
  [c('ag-b', 'k2'), OPEN.slot],
  [c('ag-c', 'k3'), OPEN.slot],
  [c('ag-a', 'k4'), WINDOW.slot],
  [c('ag-a', 'k5'), WINDOW.slot],
];
const PAIRS_AFTER = [0, 3, 1].map((i) => ({ cond: PAIRS_BEFORE[i]![0], slot: PAIRS_BEFORE[i]![1] }));
const { raised: _, ...openAfter } = { ...OPEN, raisedCount: 2 };

const seed: [sql: string, values: string[]][] = [
  ['INSERT INTO rule_open (slot, row) VALUES (?, ?)', [OPEN.slot, JSON.stringify(OPEN)]],
  ['INSERT INTO rule_windows (slot, row) VALUES (?, ?)', [WINDOW.slot, JSON.stringify(WINDOW)]],
  ...PAIRS_BEFORE.map(([cond, slot]): [string, string[]] => [
    'INSERT INTO rule_conditions (cond, slot) VALUES (?, ?)',
    [cond, slot],
  ]),
];

const withPostgres = await postgresAvailable();

describe('migration 10: raised conditions counted, condition pairs exact', () => {
  it('SQLite', async () => {
    const dir = tempDir('smew-migration-');
    try {
      const path = join(dir.path, 'smew.db');
      await openSqliteStore(path, { migrations: SQLITE_MIGRATIONS.filter((m) => m.version < 11) }).close();
      const db = new Database(path);
      for (const [sql, values] of seed) db.prepare(sql).run(...values);
      db.close();
      await openSqliteStore(path).close();
      const after = new Database(path, { readonly: true });
      const row = after.prepare('SELECT row FROM rule_open').get() as { row: string };
      const pairs = after.prepare('SELECT cond, slot FROM rule_conditions ORDER BY cond').all();
      after.close();
      expect(JSON.parse(row.row)).toEqual(openAfter);
      expect(pairs).toEqual(PAIRS_AFTER);
    } finally {
      dir.remove();
    }
  });

  it.runIf(withPostgres)('PostgreSQL', async () => {
    const schema = await createTestSchema();
    try {
      const older = POSTGRES_MIGRATIONS.filter((m) => m.version < 9);
      await (await openPostgresStore(schema.url, { migrations: older })).close();
      for (const [sql, values] of seed) {
        let n = 0;
        await adminQuery(
          sql.replace('INSERT INTO ', `INSERT INTO ${schema.name}.`).replace(/\?/g, () => `$${++n}`),
          values,
        );
      }
      await (await openPostgresStore(schema.url)).close();
      const [row] = await adminQuery<{ row: string }>(`SELECT row FROM ${schema.name}.rule_open`);
      const pairs = await adminQuery(
        `SELECT cond, slot FROM ${schema.name}.rule_conditions ORDER BY cond COLLATE "C"`,
      );
      expect(JSON.parse(row!.row)).toEqual(openAfter);
      expect(pairs).toEqual(PAIRS_AFTER);
    } finally {
      await schema.drop();
    }
  });
});
