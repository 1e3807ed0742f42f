import { UserError } from '../../../shared/errors.js';
import type { Database, SqliteDatabase } from '../sql/database.js';
import { sql, type Dialect, type Query } from '../sql/query.js';
import type { Migration } from './ddl.js';

/** Any fixed number: every smew migrating the same PostgreSQL database takes this advisory lock first. */
const MIGRATION_LOCK = 0x736d6577; // "smew"

type Statement = { read: Query } | { write: Query } | { script: string };

/**
 * The runner, written once as the statements it issues in one transaction; a driver below runs them
 * synchronously on SQLite (opening a SQLite store is synchronous) or awaits each on a `Database`.
 * `where` names the database in the message for a schema newer than this smew knows.
 */
function* migrationStatements(
  dialect: Dialect,
  migrations: readonly Migration[],
  where: string,
): Generator<Statement, void, unknown[]> {
  if (dialect === 'postgres') {
    // Serialises concurrent starts: the second collector waits, then finds nothing left to apply.
    // (On SQLite the driver's BEGIN IMMEDIATE does this: two processes opening a new file migrate once.)
    yield { read: sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})` };
  }
  yield {
    script: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`,
  };
  const rows = (yield { read: sql`SELECT version FROM schema_migrations` }) as { version: number }[];
  const applied = new Set(rows.map((r) => r.version));
  const known = Math.max(0, ...migrations.map((m) => m.version));
  const newest = Math.max(0, ...applied);
  if (newest > known) {
    throw new UserError(
      `store.url: ${where} has schema version ${newest}, but this smew knows only up to ${known}; ` +
        'use the newer smew that wrote it',
    );
  }
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(migration.version)) continue;
    yield { script: migration.sql };
    yield {
      write: sql`INSERT INTO schema_migrations (version, name, applied_at)
        VALUES (${migration.version}, ${migration.name}, ${new Date().toISOString()})`,
    };
  }
}

/** Applies the migrations `db` has not recorded yet, in one transaction. */
export async function migrate(db: Database, migrations: readonly Migration[], where: string): Promise<void> {
  await db.transaction(async (tx) => {
    const statements = migrationStatements(tx.dialect, migrations, where);
    let next = statements.next();
    while (!next.done) {
      const statement = next.value;
      let rows: unknown[] = [];
      if ('read' in statement) rows = await tx.all(statement.read);
      else if ('write' in statement) await tx.run(statement.write);
      else await tx.exec(statement.script);
      next = statements.next(rows);
    }
  });
}

/** `migrate` before the call returns, in one BEGIN IMMEDIATE transaction, for the synchronous SQLite open. */
export function migrateNow(db: SqliteDatabase, migrations: readonly Migration[], where: string): void {
  db.handle
    .transaction(() => {
      const statements = migrationStatements('sqlite', migrations, where);
      let next = statements.next();
      while (!next.done) {
        const statement = next.value;
        let rows: unknown[] = [];
        if ('read' in statement) rows = db.allNow(statement.read);
        else if ('write' in statement) db.runNow(statement.write);
        else db.handle.exec(statement.script);
        next = statements.next(rows);
      }
    })
    .immediate();
}
