import pg from 'pg';
import { UserError } from '../../shared/errors.js';
import { PostgresIngestWrites } from './ingest-writes/postgres-ingest-writes.js';
import { PostgresDatabase } from './sql/database.js';
import { PostgresClockStore } from './postgres-clock-store.js';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import { transaction } from './postgres-transaction.js';
import { PostgresSessionStore } from './postgres-session-store.js';
import { PostgresHierarchyStore } from './postgres-hierarchy-store.js';
import { PostgresTransportStore } from './postgres-transport-store.js';
import { PostgresWarningStore } from './postgres-warning-store.js';
import type { Migration } from './sqlite-migrations.js';
import { SqlStore } from './sql-store.js';

/**
 * PostgreSQL behind the async Store interface, for a province's worth of agents and for several
 * collectors sharing one database. Every multi-step method is one transaction with row locks
 * (`FOR UPDATE`), so two collectors enrolling, storing or moving a watermark at once agree.
 */
export interface PostgresStoreOptions {
  /** For tests of the migration runner; production uses POSTGRES_MIGRATIONS. */
  migrations?: readonly Migration[];
  /** Connections in the pool; ingest batches writes, so a few suffice. */
  poolSize?: number;
}

/** Any fixed number: every smew migrating the same database takes this advisory lock first. */
const MIGRATION_LOCK = 0x736d6577; // "smew"

const INT8_OID = 20;

/** BIGINT comes back as a JS number: seqs and ids stay far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 4,
    connectionTimeoutMillis: 10_000,
    types,
  });
  // An idle connection the server dropped must not crash the collector; the next query reconnects.
  pool.on('error', () => {});
  try {
    await applyMigrations(pool, options.migrations ?? POSTGRES_MIGRATIONS, url);
  } catch (err) {
    await pool.end();
    if (err instanceof UserError) throw err;
    throw new UserError(
      `store.url: cannot use the PostgreSQL database at ${redactPassword(url)}: ${(err as Error).message}`,
    );
  }
  return new PostgresStore(pool);
}

/** Store URLs may carry a password; messages must not print it. */
export function redactPassword(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

async function applyMigrations(pool: pg.Pool, migrations: readonly Migration[], url: string): Promise<void> {
  await transaction(pool, async (client) => {
    // Serialises concurrent starts: the second collector waits, then finds nothing left to apply.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const known = Math.max(0, ...migrations.map((m) => m.version));
    const newest = Math.max(0, ...applied);
    if (newest > known) {
      throw new UserError(
        `store.url: ${redactPassword(url)} has schema version ${newest}, but this smew knows only up to ${known}; ` +
          'use the newer smew that wrote it',
      );
    }
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        new Date().toISOString(),
      ]);
    }
  });
}

/** The store on a PostgreSQL database: PostgreSQL's domain stores and ingest writes. */
export class PostgresStore extends SqlStore<PostgresDatabase> {
  declare readonly warnings: PostgresWarningStore;

  constructor(pool: pg.Pool) {
    const database = new PostgresDatabase(pool);
    super(database, {
      clocks: new PostgresClockStore(pool),
      warnings: new PostgresWarningStore(pool),
      sessions: new PostgresSessionStore(pool),
      transport: new PostgresTransportStore(pool),
      hierarchy: new PostgresHierarchyStore(pool),
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
