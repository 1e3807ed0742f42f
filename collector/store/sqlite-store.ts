import { SqlClockStore } from './clocks/sql-clock-store.js';
import { sqliteDeadlines } from './clocks/sqlite-deadlines.js';
import { SqlHierarchyStore } from './hierarchy/sql-hierarchy-store.js';
import { SqliteIngestWrites } from './ingest-writes/sqlite-ingest-writes.js';
import { openSqliteDatabase, type SqliteOpenOptions } from './schema/open-database.js';
import { SqlSessionStore } from './sessions/session-store.js';
import type { SqliteDatabase } from './sql/database.js';
import { SqlStore } from './sql-store.js';
import { SqliteLivenessUpdater } from './transport/sqlite-liveness.js';
import { SqlTransportStore } from './transport/transport-store.js';
import { SqlWarningStore } from './warnings/sql-warning-store.js';

/**
 * SQLite behind the async Store interface. WAL and a busy timeout let `smew token create` and
 * friends write while a collector process has the same file open.
 */
export type SqliteStoreOptions = SqliteOpenOptions;

export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(openSqliteDatabase(path, options));
}

/** The store on one SQLite file (or :memory:): the shared domain stores and SQLite's own parts. */
export class SqliteStore extends SqlStore<SqliteDatabase> {
  constructor(database: SqliteDatabase) {
    super(database, {
      hierarchy: new SqlHierarchyStore(database),
      transport: new SqlTransportStore(database, new SqliteLivenessUpdater(database)),
      sessions: new SqlSessionStore(database),
      clocks: new SqlClockStore(database, sqliteDeadlines),
      warnings: new SqlWarningStore(database),
      writes: new SqliteIngestWrites(database),
    });
  }

  async close(): Promise<void> {
    if (this.database.handle.open) await this.database.close();
  }
}
