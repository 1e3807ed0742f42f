/**
 * A database's schema as sorted text lines, for comparing two databases (or one with a committed
 * dump): what a migration made, not how its SQL was spelled or indented.
 */
import type { Database } from '../../collector/store/sql/database.js';
import { sql } from '../../collector/store/sql/query.js';

/** SQL text without comments or layout: `CREATE TABLE t ( a TEXT , …)` and `CREATE TABLE t(a TEXT,…)` agree. */
function normalizeSql(text: string): string {
  return text
    .replace(/--[^\n]*/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/\s*([(),])\s*/g, '$1')
    .trim();
}

/** sqlite_master without the migration table's own bookkeeping. */
export async function sqliteSchema(db: Database): Promise<string[]> {
  const rows = await db.all<{ type: string; name: string; tbl_name: string; sql: string | null }>(
    sql`SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`,
  );
  return rows.map((r) => `${r.type} ${r.name} on ${r.tbl_name}: ${normalizeSql(r.sql ?? '(implicit)')}`);
}

/** Columns, constraints, indexes, sequences, triggers and functions of one PostgreSQL schema. */
export async function postgresSchema(db: Database, schema: string): Promise<string[]> {
  const lines: string[] = [];
  const columns = await db.all<Record<string, unknown>>(sql`
    SELECT table_name, ordinal_position, column_name, data_type, udt_name, collation_name, is_nullable,
           column_default
      FROM information_schema.columns WHERE table_schema = ${schema}`);
  for (const c of columns) {
    lines.push(
      `column ${String(c.table_name)}.${String(c.ordinal_position).padStart(2, '0')} ${String(c.column_name)} ` +
        `${String(c.data_type)}/${String(c.udt_name)} collate=${String(c.collation_name)} ` +
        `nullable=${String(c.is_nullable)} default=${String(c.column_default)}`,
    );
  }
  const constraints = await db.all<{ rel: string; conname: string; def: string }>(sql`
    SELECT cl.relname AS rel, co.conname, pg_get_constraintdef(co.oid) AS def
      FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
     WHERE n.nspname = ${schema}`);
  for (const c of constraints) lines.push(`constraint ${c.rel}.${c.conname}: ${c.def}`);
  const indexes = await db.all<{ indexname: string; indexdef: string }>(
    sql`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = ${schema}`,
  );
  for (const i of indexes) lines.push(`index ${i.indexname}: ${i.indexdef.replaceAll(`${schema}.`, '')}`);
  const sequences = await db.all<{ sequence_name: string; data_type: string }>(
    sql`SELECT sequence_name, data_type FROM information_schema.sequences WHERE sequence_schema = ${schema}`,
  );
  for (const s of sequences) lines.push(`sequence ${s.sequence_name}: ${s.data_type}`);
  const triggers = await db.all<{ tgname: string; def: string }>(sql`
    SELECT t.tgname, pg_get_triggerdef(t.oid) AS def
      FROM pg_trigger t JOIN pg_class cl ON cl.oid = t.tgrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
     WHERE n.nspname = ${schema} AND NOT t.tgisinternal`);
  for (const t of triggers) lines.push(`trigger ${t.tgname}: ${t.def.replaceAll(`${schema}.`, '')}`);
  const functions = await db.all<{ proname: string; prosrc: string }>(sql`
    SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = ${schema}`);
  for (const f of functions) lines.push(`function ${f.proname}: ${normalizeSql(f.prosrc)}`);
  return lines.sort();
}
