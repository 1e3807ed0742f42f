import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { SQLITE_MIGRATIONS } from '../../collector/store/schema/migrations.js';
import { tempDir } from '../support/collector-harness.js';

/**
 * Migration 9 rebuilds the notification outbox with an occasion per row: a store written before
 * it keeps every row (as `opened`, still due or done as it was) and its transitions.
 */
const dir = tempDir('smew-migration-');
afterEach(() => dir.remove());

it('keeps the outbox and the audit trail of a store from before occasions', async () => {
  const path = join(dir.path, 'old.db');
  const old = openSqliteStore(path, { migrations: SQLITE_MIGRATIONS.filter((m) => m.version < 9) });
  await old.close();
  const db = new Database(path);
  db.prepare(
    `INSERT INTO warnings (id, rule, slot, unit, agent, state, severity, level, count, first_seen, last_seen,
       created_at, resolved_at, updated_at, doc) VALUES ('w-1', 'r', 's', 'u1', 'ag', 'discovered', 'high', NULL, 1,
       '2026-11-27T00:00:00.000Z', '2026-11-27T00:00:00.000Z', '2026-11-27T00:00:00.000Z', NULL,
       '2026-11-27T00:00:00.000Z', ?)`,
  ).run(
    JSON.stringify({
      title: { zh: '无线', en: 'wireless' },
      key: 'k',
      labels: {},
      origin: 'event',
      agents: ['ag'],
      type: 't',
      sample: { type: 't', key: 'k', data: {} },
    }),
  );
  db.prepare(
    `INSERT INTO notifications (warning_id, channel, state, next_attempt_at, created_at)
       VALUES ('w-1', 'hook', 'pending', '2026-11-27T00:00:00.000Z', '2026-11-27T00:00:00.000Z')`,
  ).run();
  db.prepare(
    `INSERT INTO warning_transitions (warning_id, action, from_state, to_state, by_name, by_role, by_unit, at, note)
       VALUES ('w-1', 'transition', 'discovered', 'identified', 'alice', 'officer', 'u1', '2026-11-27T01:00:00.000Z', 'ok')`,
  ).run();
  db.close();

  const store = openSqliteStore(path);
  try {
    expect(await store.schemaVersion()).toBe(SQLITE_MIGRATIONS.at(-1)!.version);
    expect(await store.warnings.dueNotifications('2026-11-27T02:00:00.000Z', 10)).toMatchObject([
      { warningId: 'w-1', channel: 'hook', occasion: 'opened', state: 'pending' },
    ]);
    const warning = await store.warnings.getWarning('w-1');
    expect(warning!.history).toEqual([
      expect.objectContaining({ action: 'transition', to: 'identified', note: 'ok' }),
    ]);
    expect(warning!.history[0]).not.toHaveProperty('incidentId');
  } finally {
    await store.close();
  }
});
