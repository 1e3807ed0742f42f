import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../../shared/errors.js';
import { SqliteIngestWrites } from './ingest-writes/sqlite-ingest-writes.js';
import { SqliteClockStore } from './sqlite-clock-store.js';
import { SqliteHierarchyStore } from './sqlite-hierarchy-store.js';
import { SQLITE_MIGRATIONS, type Migration } from './sqlite-migrations.js';
import { SqliteSessionStore } from './sqlite-session-store.js';
import { SqliteTransportStore } from './sqlite-transport-store.js';
import { SqliteDatabase } from './sql/database.js';
import { SqlStore } from './sql-store.js';
import { SqliteWarningStore } from './sqlite-warning-store.js';

/**
 * SQLite behind the async Store interface. better-sqlite3 is synchronous, so each method is one
 * atomic step; WAL and a busy timeout let `smew token create` and friends write while a
 * collector process has the same file open.
 */
export interface SqliteStoreOptions {
  /** For tests of the migration runner; production uses SQLITE_MIGRATIONS. */
  migrations?: readonly Migration[];
  busyTimeoutMs?: number;
}

export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (err) {
    throw new UserError(`store.url: cannot open SQLite database ${path}: ${(err as Error).message}`);
  }
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    db.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode; only a power loss can drop the last commits.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    applyMigrations(db, options.migrations ?? SQLITE_MIGRATIONS, path);
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteStore(db);
}

function applyMigrations(db: Database.Database, migrations: readonly Migration[], path: string): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  // IMMEDIATE takes the write lock first, so two processes opening a new file migrate once.
  db.transaction(() => {
    const applied = new Set(
      (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
        (r) => r.version,
      ),
    );
    const known = Math.max(0, ...migrations.map((m) => m.version));
    const newest = Math.max(0, ...applied);
    if (newest > known) {
      throw new UserError(
        `store.url: ${path} has schema version ${newest}, but this smew knows only up to ${known}; ` +
          'use the newer smew that wrote it',
      );
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, new Date().toISOString());
    }
  }).immediate();
}

/** The store on one SQLite file (or :memory:): SQLite's domain stores and ingest writes. */
export class SqliteStore extends SqlStore<SqliteDatabase> {
  declare readonly clocks: SqliteClockStore;
  declare readonly warnings: SqliteWarningStore;
  declare readonly sessions: SqliteSessionStore;
  declare readonly transport: SqliteTransportStore;
  declare readonly hierarchy: SqliteHierarchyStore;

  constructor(db: Database.Database) {
    const database = new SqliteDatabase(db);
    super(database, {
      hierarchy: new SqliteHierarchyStore(db),
      transport: new SqliteTransportStore(db),
      sessions: new SqliteSessionStore(db),
      clocks: new SqliteClockStore(db),
      warnings: new SqliteWarningStore(db),
      writes: new SqliteIngestWrites(database),
    });
  }

  async close(): Promise<void> {
    if (this.database.handle.open) await this.database.close();
  }
}
