import type Database from 'better-sqlite3';

/**
 * Prepares each SQL text once per database handle: for statements run per message (a heartbeat,
 * an event), preparing costs more than running.
 */
export function statementCache(db: Database.Database): (sql: string) => Database.Statement {
  const statements = new Map<string, Database.Statement>();
  return (sql) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
}
