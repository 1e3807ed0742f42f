import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { UserError } from '../../../shared/errors.js';
import { PostgresDatabase, SqliteDatabase } from '../sql/database.js';
import type { Migration } from './ddl.js';
import { migrate, migrateNow } from './migrate.js';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from './migrations.js';

export interface SqliteOpenOptions {
  /** For tests of the migration runner; production uses SQLITE_MIGRATIONS. */
  migrations?: readonly Migration[];
  busyTimeoutMs?: number;
}

/**
 * A SQLite file (created with its folder when new), migrated before this returns. WAL and a busy
 * timeout let `smew token create` and friends write while a collector process has the file open.
 */
export function openSqliteDatabase(path: string, options: SqliteOpenOptions = {}): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let handle: BetterSqlite3.Database;
  try {
    handle = new BetterSqlite3(path);
  } catch (err) {
    throw new UserError(`store.url: cannot open SQLite database ${path}: ${(err as Error).message}`);
  }
  try {
    handle.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    handle.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode; only a power loss can drop the last commits.
    handle.pragma('synchronous = NORMAL');
    handle.pragma('foreign_keys = ON');
    const db = new SqliteDatabase(handle);
    migrateNow(db, options.migrations ?? SQLITE_MIGRATIONS, path);
    return db;
  } catch (err) {
    handle.close();
    throw err;
  }
}

export interface PostgresOpenOptions {
  /** For tests of the migration runner; production uses POSTGRES_MIGRATIONS. */
  migrations?: readonly Migration[];
  /** Connections in the pool; ingest batches writes, so a few suffice. */
  poolSize?: number;
}

const INT8_OID = 20;

/** BIGINT comes back as a JS number: seqs and ids stay far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** A pool on the PostgreSQL database at `url`, migrated before this resolves. */
export async function openPostgresDatabase(
  url: string,
  options: PostgresOpenOptions = {},
): Promise<PostgresDatabase> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 4,
    connectionTimeoutMillis: 10_000,
    types,
  });
  // An idle connection the server dropped must not crash the collector; the next query reconnects.
  pool.on('error', () => {});
  const db = new PostgresDatabase(pool);
  try {
    await migrate(db, options.migrations ?? POSTGRES_MIGRATIONS, redactPassword(url));
  } catch (err) {
    await pool.end();
    if (err instanceof UserError) throw err;
    throw new UserError(
      `store.url: cannot use the PostgreSQL database at ${redactPassword(url)}: ${(err as Error).message}`,
    );
  }
  return db;
}

/** Store URLs may carry a password; messages must not print it. */
export function redactPassword(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
