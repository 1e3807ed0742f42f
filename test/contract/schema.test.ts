/**
 * The schema a fresh database gets, per dialect, against the committed dumps beside the upgrade
 * fixtures: a migration that changes a table shows here as a diff to review. The dumps were first
 * taken from the two migration lists of before they became one, so the merged list provably builds
 * the same tables, columns, collations, defaults, constraints and indexes on each database.
 * SMEW_UPDATE_SCHEMA_DUMPS=1 rewrites the dumps (after adding a migration).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../collector/store/postgres-store.js';
import { migrationsFor, renderDdl } from '../../collector/store/schema/ddl.js';
import { SCHEMA_MIGRATIONS } from '../../collector/store/schema/migrations.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { tempDir } from '../support/collector-harness.js';
import { createTestSchema, postgresAvailable, type TestSchema } from '../support/postgres.js';
import { postgresSchema, sqliteSchema } from '../support/schema-dump.js';

const fixtures = join(import.meta.dirname, '../fixtures/store-upgrade');
const update = process.env.SMEW_UPDATE_SCHEMA_DUMPS === '1';
const postgres = await postgresAvailable();

function expectDump(lines: string[], file: string): void {
  const path = join(fixtures, file);
  const text = `${lines.join('\n')}\n`;
  if (update) writeFileSync(path, text);
  expect(text).toBe(readFileSync(path, 'utf8'));
}

describe('the migration list', () => {
  it("numbers each dialect's steps in rising order; from 13 on with one number for both", () => {
    for (const dialect of ['sqlite', 'postgres'] as const) {
      const versions = SCHEMA_MIGRATIONS.map((step) =>
        typeof step.version === 'number' ? step.version : step.version[dialect],
      ).filter((version) => version !== undefined);
      expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
      expect(migrationsFor(dialect, SCHEMA_MIGRATIONS).map((m) => m.version)).toEqual(versions);
    }
    for (const step of SCHEMA_MIGRATIONS) {
      if (typeof step.version !== 'number')
        expect(Math.max(...Object.values(step.version))).toBeLessThanOrEqual(12);
    }
  });

  it('refuses a token it does not know', () => {
    expect(() => renderDdl('CREATE TABLE t (a {text})', 'sqlite')).toThrow(/unknown token \{text\}/);
  });
});

describe('schema of a fresh database', () => {
  it('SQLite: matches schema-sqlite.txt', async () => {
    const dir = tempDir('smew-schema-');
    try {
      const store = openSqliteStore(join(dir.path, 'smew.db'));
      expectDump(await sqliteSchema(store.database), 'schema-sqlite.txt');
      await store.close();
    } finally {
      dir.remove();
    }
  });

  describe.runIf(postgres)('PostgreSQL', () => {
    let schema: TestSchema;
    beforeAll(async () => {
      schema = await createTestSchema();
    });
    afterAll(() => schema.drop());

    it('matches schema-postgres.txt', async () => {
      const store = await openPostgresStore(schema.url);
      try {
        expectDump(await postgresSchema(store.database, schema.name), 'schema-postgres.txt');
      } finally {
        await store.close();
      }
    });
  });
});
