import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../collector/store/open-store.js';
import { POSTGRES_MIGRATIONS } from '../../collector/store/schema/migrations.js';
import { openPostgresStore } from '../../collector/store/postgres-store.js';
import { adminQuery, createTestSchema, postgresAvailable, type TestSchema } from '../support/postgres.js';

/** PostgreSQL-only behaviour: the migration runner under concurrent starts, and store.url. */
describe.runIf(await postgresAvailable())('PostgreSQL store', () => {
  let schema: TestSchema;
  beforeEach(async () => {
    schema = await createTestSchema();
  });
  afterEach(async () => {
    await schema.drop();
  });

  it('migrates once when several collectors start at the same moment', async () => {
    const stores = await Promise.all([1, 2, 3, 4].map(() => openPostgresStore(schema.url)));
    for (const store of stores)
      expect(await store.schemaVersion()).toBe(Math.max(...POSTGRES_MIGRATIONS.map((m) => m.version)));
    await Promise.all(stores.map((s) => s.close()));
    const rows = await adminQuery(`SELECT version FROM ${schema.name}.schema_migrations`);
    expect(rows).toHaveLength(POSTGRES_MIGRATIONS.length);
  });

  it('applies only the migrations a database lacks, and refuses one written by a newer smew', async () => {
    const next = { version: 999, name: 'test column', sql: 'ALTER TABLE agents ADD COLUMN note TEXT' };
    let store = await openPostgresStore(schema.url, { migrations: [...POSTGRES_MIGRATIONS, next] });
    expect(await store.schemaVersion()).toBe(999);
    await store.close();
    // The same list again: nothing to do (ALTER TABLE twice would fail).
    store = await openPostgresStore(schema.url, { migrations: [...POSTGRES_MIGRATIONS, next] });
    await store.close();
    await expect(openPostgresStore(schema.url)).rejects.toThrow(/store\.url: .* schema version 999/);
  });

  it('is what store.url postgres://… opens', async () => {
    const store = await openStore(schema.url);
    expect(await store.schemaVersion()).toBe(Math.max(...POSTGRES_MIGRATIONS.map((m) => m.version)));
    await store.close();
    const tables = await adminQuery<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [schema.name],
    );
    expect(tables.map((t) => t.table_name)).toContain('events');
  });
});
