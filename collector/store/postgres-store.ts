import { postgresDeadlines } from './clocks/postgres-deadlines.js';
import { SqlClockStore } from './clocks/sql-clock-store.js';
import { SqlHierarchyStore } from './hierarchy/sql-hierarchy-store.js';
import { PostgresIngestWrites } from './ingest-writes/postgres-ingest-writes.js';
import { openPostgresDatabase, type PostgresOpenOptions } from './schema/open-database.js';
import { SqlSessionStore } from './sessions/session-store.js';
import type { PostgresDatabase } from './sql/database.js';
import { SqlStore } from './sql-store.js';
import { PostgresLivenessUpdater } from './transport/postgres-liveness.js';
import { SqlTransportStore } from './transport/transport-store.js';
import { PostgresWarningStore } from './warnings/postgres-warning-store.js';

/**
 * PostgreSQL behind the async Store interface, for a province's worth of agents and for several
 * collectors sharing one database. Every multi-step method is one transaction with row locks
 * (`FOR UPDATE`), so two collectors enrolling, storing or moving a watermark at once agree.
 */
export type PostgresStoreOptions = PostgresOpenOptions;

export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  return new PostgresStore(await openPostgresDatabase(url, options));
}

/** The store on a PostgreSQL database: the shared domain stores and PostgreSQL's own parts. */
export class PostgresStore extends SqlStore<PostgresDatabase> {
  declare readonly warnings: PostgresWarningStore;

  constructor(database: PostgresDatabase) {
    super(database, {
      clocks: new SqlClockStore(database, postgresDeadlines),
      warnings: new PostgresWarningStore(database),
      sessions: new SqlSessionStore(database),
      transport: new SqlTransportStore(database, new PostgresLivenessUpdater(database)),
      hierarchy: new SqlHierarchyStore(database),
      writes: new PostgresIngestWrites(database),
    });
  }

  private closing: Promise<void> | undefined;

  async close(): Promise<void> {
    // Claimed notifications not sent go back first, so a restart does not wait out their lease.
    this.closing ??= this.warnings
      .releaseClaims()
      .catch(() => {})
      .then(() => this.database.close());
    await this.closing;
  }
}
