import type { Dialect } from '../sql/query.js';

/**
 * Table definitions are written once, in SQL both databases accept except for these few tokens,
 * each rendered per dialect. Everything else in a migration's text is plain SQL.
 */
const TOKENS: Readonly<Record<string, Readonly<Record<Dialect, string>>>> = {
  /** A generated row id: SQLite's rowid alias (AUTOINCREMENT: never reused), a BIGINT sequence. */
  id: { sqlite: 'INTEGER PRIMARY KEY AUTOINCREMENT', postgres: 'BIGSERIAL PRIMARY KEY' },
  /** Ids, seqs and milliseconds; SQLite's INTEGER is 64-bit already. */
  bigint: { sqlite: 'INTEGER', postgres: 'BIGINT' },
  bool: { sqlite: 'INTEGER', postgres: 'BOOLEAN' },
  false: { sqlite: '0', postgres: 'FALSE' },
  bytes: { sqlite: 'BLOB', postgres: 'BYTEA' },
  /** After TEXT: compared and ordered byte by byte (ISO times, ids, keys), SQLite's default already. */
  bytewise: { sqlite: '', postgres: ' COLLATE "C"' },
  /** A list of strings: a JSON array in SQLite, a text[] in PostgreSQL. */
  texts: { sqlite: 'TEXT', postgres: 'TEXT[]' },
};

/** `{token}` replaced for one dialect; an unknown token is a mistake in the migration, not SQL. */
export function renderDdl(text: string, dialect: Dialect): string {
  return text.replace(/\{(\w+)\}/g, (_, token: string) => {
    const texts = TOKENS[token];
    if (!texts) throw new Error(`migration DDL: unknown token {${token}}`);
    return texts[dialect];
  });
}

/**
 * One step of the schema, for both databases. Until version 12 (SQLite) and 10 (PostgreSQL) the
 * two lists were kept apart and their numbers diverged: such a step carries the number it has on
 * each (or on one only, when the other database got the change inside another step). From 13 on a
 * step has one number for both. Never edit a released step: add the next number instead.
 */
export interface SchemaMigration {
  version: number | Partial<Record<Dialect, number>>;
  name: string;
  /** DDL for both databases, with the tokens above. */
  sql?: string;
  /** What belongs to one database only (a partial index, a table rebuild), run after `sql`. */
  sqlite?: string;
  postgres?: string;
}

/** A step as one database runs it and records it in `schema_migrations`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The steps one database runs, in order, with their SQL rendered for it. */
export function migrationsFor(dialect: Dialect, steps: readonly SchemaMigration[]): Migration[] {
  const migrations: Migration[] = [];
  for (const step of steps) {
    const version = typeof step.version === 'number' ? step.version : step.version[dialect];
    if (version === undefined) continue;
    const text = [step.sql, step[dialect]].filter((part) => part !== undefined).join('\n');
    migrations.push({ version, name: step.name, sql: renderDdl(text, dialect) });
  }
  return migrations.sort((a, b) => a.version - b.version);
}
