import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../collector/store/sqlite-store.js';
import { SQLITE_MIGRATIONS } from '../../collector/store/schema/migrations.js';
import { enrollment, LATER, NOW } from './store-contract.js';
import { openStore } from '../../collector/store/open-store.js';
import { UserError } from '../../shared/errors.js';
import { tempDir } from '../support/collector-harness.js';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** SQLite-only behaviour; what every store does is in store-contract.ts, run on SQLite and PostgreSQL. */
describe('SQLite store', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let path: string;

  beforeEach(async () => {
    dir = tempDir('smew-store-');
    path = join(dir.path, 'nested', 'smew.db');
    store = openSqliteStore(path);
    await store.createEnrollmentToken({
      tokenHash: 'token-1',
      unit: '一处',
      createdAt: NOW,
      expiresAt: LATER,
    });
  });
  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  describe('migrations', () => {
    it('creates the directory, applies every migration once and records it', async () => {
      expect(await store.schemaVersion()).toBe(SQLITE_MIGRATIONS.at(-1)!.version);
      await store.close();
      // Opening again applies nothing and keeps the data.
      store = openSqliteStore(path);
      expect(await store.schemaVersion()).toBe(SQLITE_MIGRATIONS.at(-1)!.version);
      const db = new Database(path, { readonly: true });
      const rows = db.prepare('SELECT version FROM schema_migrations').all();
      const mode = db.pragma('journal_mode', { simple: true });
      db.close();
      expect(rows).toHaveLength(SQLITE_MIGRATIONS.length);
      expect(mode).toBe('wal');
      expect((await store.enrollAgent(enrollment())).ok).toBe(true);
    });

    it('applies only the migrations a database lacks', async () => {
      await store.close();
      const next = { version: 999, name: 'test column', sql: 'ALTER TABLE agents ADD COLUMN note TEXT' };
      store = openSqliteStore(path, { migrations: [...SQLITE_MIGRATIONS, next] });
      expect(await store.schemaVersion()).toBe(999);
      await store.close();
      // The same list again: nothing to do (ALTER TABLE twice would fail).
      store = openSqliteStore(path, { migrations: [...SQLITE_MIGRATIONS, next] });
      expect(await store.schemaVersion()).toBe(999);
    });

    it('refuses a database written by a newer smew, naming the key', async () => {
      await store.close();
      const next = { version: 999, name: 'future', sql: 'SELECT 1' };
      store = openSqliteStore(path, { migrations: [...SQLITE_MIGRATIONS, next] });
      await store.close();
      expect(() => openSqliteStore(path)).toThrow(/store\.url: .* schema version 999/);
      store = openSqliteStore(path, { migrations: [...SQLITE_MIGRATIONS, next] });
    });
  });
});

describe('openStore', () => {
  it('explains a store.url it cannot use, without printing a password', async () => {
    await expect(openStore('mysql://x')).rejects.toThrow(UserError);
    await expect(openStore('sqlite:')).rejects.toThrow(/store\.url: .*sqlite:PATH/);
    // Nothing listens on port 1: the PostgreSQL store reports the URL it could not use, redacted.
    const refusal = openStore('postgres://smew:hunter2@127.0.0.1:1/smew');
    await expect(refusal).rejects.toThrow(UserError);
    await expect(refusal).rejects.toThrow(
      /store\.url: cannot use the PostgreSQL database at postgres:\/\/smew:\*\*\*@/,
    );
    await expect(refusal).rejects.not.toThrow(/hunter2/);
  });
});
