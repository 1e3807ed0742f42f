/**
 * Databases written by the smew of before the migration lists became one (test/fixtures/store-upgrade,
 * remade by make-fixtures.ts there) open with today's code: they upgrade in place, keep the versions
 * recorded then, read back through the Store API, and end with the schema a fresh database gets.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../collector/audit/audit-log.js';
import { openStore } from '../../collector/store/open-store.js';
import { migrationsFor, type SchemaMigration } from '../../collector/store/schema/ddl.js';
import {
  POSTGRES_MIGRATIONS,
  SCHEMA_MIGRATIONS,
  SQLITE_MIGRATIONS,
} from '../../collector/store/schema/migrations.js';
import { openPostgresStore } from '../../collector/store/postgres-store.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import type { Database } from '../../collector/store/sql/database.js';
import { raw, sql } from '../../collector/store/sql/query.js';
import type { Store } from '../../collector/store/store.js';
import { tempDir } from '../support/collector-harness.js';
import {
  adminQuery,
  createTestSchema,
  postgresAvailable,
  TEST_PG_URL,
  type TestSchema,
} from '../support/postgres.js';
import { postgresSchema, sqliteSchema } from '../support/schema-dump.js';
import {
  POSTGRES_FIXTURE,
  POSTGRES_FIXTURE_SCHEMA,
  SQLITE_FIXTURE,
} from '../fixtures/store-upgrade/make-fixtures.js';

const postgres = await postgresAvailable();

interface Recorded {
  version: number;
  name: string;
  applied_at: string;
}

const RECORDED = 'SELECT version, name, applied_at FROM schema_migrations ORDER BY version';

interface UpgradeCase {
  /** store.url of a copy of the old database. */
  old(): Promise<string>;
  /** store.url of an empty database. */
  fresh(): Promise<string>;
  schema(db: Database, url: string): Promise<string[]>;
  /** schema_migrations as the old smew left it, read without opening a store. */
  recorded(url: string): Promise<Recorded[]>;
  /** The versions the old smew recorded (the lists had diverged). */
  oldVersions: number[];
  /** Every version this smew's list has for the database. */
  steps: number[];
  newest: number;
  /** A store on `url` migrated with these steps instead of the list. */
  openWith(url: string, steps: readonly SchemaMigration[]): Promise<Store>;
  cleanup(): Promise<void>;
}

function sqliteCase(): UpgradeCase {
  const dir = tempDir('smew-upgrade-');
  return {
    old: async () => {
      copyFileSync(SQLITE_FIXTURE, join(dir.path, 'old.db'));
      return `sqlite:${join(dir.path, 'old.db')}`;
    },
    fresh: async () => `sqlite:${join(dir.path, 'fresh.db')}`,
    schema: (db) => sqliteSchema(db),
    recorded: async (url) => {
      const handle = new BetterSqlite3(url.slice('sqlite:'.length), { readonly: true });
      try {
        return handle.prepare(RECORDED).all() as Recorded[];
      } finally {
        handle.close();
      }
    },
    oldVersions: [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12],
    steps: SQLITE_MIGRATIONS.map((m) => m.version),
    newest: Math.max(...SQLITE_MIGRATIONS.map((m) => m.version)),
    openWith: async (url, steps) =>
      openSqliteStore(url.slice('sqlite:'.length), { migrations: migrationsFor('sqlite', steps) }),
    cleanup: async () => dir.remove(),
  };
}

/** The plain-SQL dump restored under a new schema name (the dump names its schema everywhere). */
async function restoreDump(schema: TestSchema): Promise<void> {
  const dump = readFileSync(POSTGRES_FIXTURE, 'utf8')
    .split('\n')
    // psql's own commands (\restrict) and the schema the test made already.
    .filter((line) => !line.startsWith('\\') && line !== `CREATE SCHEMA ${POSTGRES_FIXTURE_SCHEMA};`)
    .join('\n')
    .replaceAll(POSTGRES_FIXTURE_SCHEMA, schema.name);
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    await client.query(dump);
  } finally {
    await client.end();
  }
}

function postgresCase(): UpgradeCase {
  const schemas: TestSchema[] = [];
  const schemaOf = (url: string): string => schemas.find((s) => s.url === url)!.name;
  return {
    old: async () => {
      const schema = await createTestSchema();
      schemas.push(schema);
      await restoreDump(schema);
      return schema.url;
    },
    fresh: async () => {
      const schema = await createTestSchema();
      schemas.push(schema);
      return schema.url;
    },
    schema: (db, url) => postgresSchema(db, schemaOf(url)),
    recorded: (url) =>
      adminQuery<Recorded>(RECORDED.replace('schema_migrations', `${schemaOf(url)}.schema_migrations`)),
    oldVersions: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    steps: POSTGRES_MIGRATIONS.map((m) => m.version),
    newest: Math.max(...POSTGRES_MIGRATIONS.map((m) => m.version)),
    openWith: (url, steps) => openPostgresStore(url, { migrations: migrationsFor('postgres', steps) }),
    cleanup: async () => {
      for (const schema of schemas) await schema.drop();
    },
  };
}

/** Internal access to the store's connection, to read what the Store API does not show. */
function databaseOf(store: Store): Database {
  return (store as unknown as { database: Database }).database;
}

async function recordedMigrations(store: Store): Promise<Recorded[]> {
  return databaseOf(store).all(raw(RECORDED));
}

/** What make-fixtures.ts wrote, read back through the Store API. */
async function expectFixtureRows(store: Store): Promise<void> {
  expect(await store.getAgent('agent-1')).toMatchObject({
    unit: 'unit-a',
    online: true,
    ackedSeq: 2,
    reportedSeq: 3,
  });
  const events = await store.listEvents({ agentId: 'agent-1', limit: 10 });
  expect(events.map((e) => [e.seq, e.skewed, e.data])).toEqual([
    [2, true, { vendor: 'acme', seq: 2 }],
    [1, false, { vendor: 'acme', seq: 1 }],
  ]);
  const [quarantined] = await store.listQuarantine({ limit: 10 });
  expect(Buffer.from(quarantined!.payload)).toEqual(Buffer.from([0, 1, 2, 250, 255]));
  // Migration 17's stated mapping (三员): admin → sysadmin, officer → secadmin, viewer stays viewer.
  expect((await store.listApiKeys()).map((k) => [k.name, k.role])).toEqual([
    ['ci', 'viewer'],
    ['old', 'sysadmin'],
  ]);
  expect((await store.listUsers()).map((u) => [u.name, u.role])).toEqual([
    ['admin', 'sysadmin'],
    ['officer1', 'secadmin'],
  ]);
  expect(await store.sessions.getSession('sess-1')).toMatchObject({ user: 'officer1', role: 'secadmin' });
  // The entry keeps the role its actor had then.
  expect(await store.audit.list({ limit: 10 })).toMatchObject([{ actor: 'officer1', role: 'officer' }]);
  expect(await store.approvals.get('agent-1')).toMatchObject({ state: 'approved', decidedBy: 'admin' });
  expect(await store.clocks.getSystem('sys-1')).toMatchObject({ name: 'Office network', level: '机密' });
  expect(await store.clocks.getIncident('inc-1')).toMatchObject({ title: 'Lost laptop' });
  const deadlines = await store.clocks.listDeadlines({ type: 'incident', id: 'inc-1' });
  expect(deadlines.map((d) => [d.repeats, d.superseded])).toEqual([[true, false]]);
  expect(await store.clocks.lastRun()).toMatchObject({ owner: 'collector-1' });
  expect(await store.transport.getLiveness('agent-1')).toMatchObject({ intervalMs: 60000, gapWatermark: 2 });
  expect((await store.transport.listKeys('agent-2')).map((k) => k.publicKey)).toContain('pk-agent-2-old');
  expect(await store.transport.listDeclaredDrops('agent-1')).toHaveLength(1);
  expect(await store.hierarchy.getParent()).toMatchObject({ id: 'parent-1' });
  expect((await store.hierarchy.listSubordinates({})).map((s) => [s.id, s.direct, s.pathUnits])).toEqual([
    ['child-1', true, ['unit-c']],
  ]);
  expect(await store.warnings.getWarning('w-1')).toMatchObject({
    state: 'open',
    count: 2,
    title: 'USB storage',
  });
  expect(await store.warnings.listEvidence('w-1', 10)).toHaveLength(1);
  expect(await store.warnings.listSilences({ limit: 10 })).toHaveLength(1);
  expect(await store.warnings.getNotice('n-1')).toMatchObject({ title: 'Check USB' });
  expect(await store.warnings.listNotifications({ warningId: 'w-1', limit: 10 })).toHaveLength(1);
}

function upgradeSuite(title: string, makeCase: () => UpgradeCase): void {
  describe(title, () => {
    let upgrade: UpgradeCase;
    const stores: Store[] = [];
    const open = async (url: string): Promise<Store> => {
      const store = await openStore(url);
      stores.push(store);
      return store;
    };
    beforeEach(() => {
      upgrade = makeCase();
    });
    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
      await upgrade.cleanup();
    });

    it('upgrades in place: versions recorded then stay, rows read back, schema as a fresh database', async () => {
      const url = await upgrade.old();
      const recorded = await upgrade.recorded(url);
      expect(recorded.map((r) => r.version)).toEqual(upgrade.oldVersions);
      const store = await open(url);
      // The steps numbered from 13 on were added after the merge: they run on top of what was recorded.
      const added = SCHEMA_MIGRATIONS.map((m) => m.version).filter(
        (v): v is number => typeof v === 'number' && v >= 13,
      );
      const upgraded = await recordedMigrations(store);
      expect(upgraded.slice(0, recorded.length)).toEqual(recorded);
      expect(upgraded.slice(recorded.length).map((r) => r.version)).toEqual(added);
      await expectFixtureRows(store);
      // New rows continue the old ids.
      const inserted = await store.insertEvent({
        agentId: 'agent-1',
        seq: 3,
        ts: '2026-05-01T00:00:00.000Z',
        receivedAt: '2026-05-01T00:00:00.000Z',
        type: 'usb.storage',
        state: 'cleared',
        key: 'usb-1',
        severity: 'warning',
        data: {},
        envelope: '{}',
        skewed: false,
      });
      expect(inserted).toEqual({ outcome: 'inserted', id: 3 });
      await store.close();
      stores.length = 0;

      const reopened = await open(url);
      expect(await recordedMigrations(reopened)).toEqual(upgraded);
      expect(await reopened.schemaVersion()).toBe(upgrade.newest);
      const freshUrl = await upgrade.fresh();
      const fresh = await open(freshUrl);
      expect(await fresh.schemaVersion()).toBe(upgrade.newest);
      expect(await upgrade.schema(databaseOf(reopened), url)).toEqual(
        await upgrade.schema(databaseOf(fresh), freshUrl),
      );
    });

    it('runs a step added after the merge once, numbered alike on both, after the versions recorded', async () => {
      const url = await upgrade.old();
      const recorded = await upgrade.recorded(url);
      const next = Math.max(
        13,
        ...SCHEMA_MIGRATIONS.map((m) => (typeof m.version === 'number' ? m.version + 1 : 0)),
      );
      const step = {
        version: next,
        name: 'a note per agent',
        sql: 'ALTER TABLE agents ADD COLUMN note TEXT{bytewise};',
      };
      const store = await upgrade.openWith(url, [...SCHEMA_MIGRATIONS, step]);
      stores.push(store);
      const after = await recordedMigrations(store);
      expect(after.slice(0, recorded.length)).toEqual(recorded);
      expect(after.at(-1)).toMatchObject({ version: next, name: 'a note per agent' });
      expect(
        await databaseOf(store).run(sql`UPDATE agents SET note = ${'checked'} WHERE id = 'agent-1'`),
      ).toEqual({
        changes: 1,
      });
      await expectFixtureRows(store);
    });

    it('seals the audit entries written before the chain at the first append; the chain then verifies', async () => {
      const store = await open(await upgrade.old());
      expect(await verifyAuditLog(store, [])).toMatchObject({ ok: true, entries: 1, unchained: 1 });
      await store.audit.append({
        at: '2026-05-01T00:00:00.000Z',
        actor: 'admin',
        actorKind: 'user',
        role: 'sysadmin',
        unit: null,
        action: 'login',
        status: 200,
        ip: '127.0.0.1',
        detail: '',
      });
      expect(await verifyAuditLog(store, [])).toMatchObject({
        ok: true,
        entries: 2,
        unchained: 0,
        verifiedThrough: 2,
      });
      expect((await store.audit.list({ limit: 10 })).map((e) => [e.actor, e.seq])).toEqual([
        ['admin', 2],
        ['officer1', 1],
      ]);
    });

    it('refuses a database whose schema is newer than this smew knows', async () => {
      const url = await upgrade.old();
      const store = await open(url);
      await databaseOf(store).run(
        sql`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from the future', '2027-01-01')`,
      );
      await expect(openStore(url)).rejects.toThrow(
        new RegExp(
          `store\\.url: .* has schema version 999, but this smew knows only up to ${upgrade.newest}; `,
        ),
      );
    });
  });
}

upgradeSuite('upgrade from the old smew: SQLite', sqliteCase);
describe.runIf(postgres)('PostgreSQL', () => {
  upgradeSuite('upgrade from the old smew: PostgreSQL', postgresCase);
});

describe('migration 21 (SQLite): an incident’s free-text measures become one measure', () => {
  it('reads the older text back as a measure by whoever opened the incident, when', async () => {
    const dir = tempDir('smew-measures-upgrade-');
    try {
      const path = join(dir.path, 'smew.db');
      const before = SCHEMA_MIGRATIONS.filter((m) => (typeof m.version === 'number' ? m.version : 0) <= 14);
      const old = openSqliteStore(path, { migrations: migrationsFor('sqlite', before) });
      await old.close();
      const db = new BetterSqlite3(path);
      db.prepare(
        `INSERT INTO incidents (id, title, level, unit, unit_level, discovered_at, discovery_source, measures,
           evidence, created_at, created_by)
         VALUES ('inc-old', '旧事件', '秘密', '一处', 'unit', '2026-01-01T00:00:00.000Z', 'manual', '断网、收回',
           '[]', '2026-01-01T01:00:00.000Z', '张三')`,
      ).run();
      db.close();
      const store = openSqliteStore(path);
      try {
        expect((await store.clocks.getIncident('inc-old'))?.measures).toEqual([
          {
            id: expect.any(Number),
            what: '断网、收回',
            by: '张三',
            at: '2026-01-01T01:00:00.000Z',
            recordedAt: '2026-01-01T01:00:00.000Z',
            recordedBy: '张三',
          },
        ]);
      } finally {
        await store.close();
      }
    } finally {
      dir.remove();
    }
  });
});
