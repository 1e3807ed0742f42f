import { adminQuery, createTestSchema, postgresAvailable, type TestSchema } from './postgres.js';

/**
 * One migrated schema for a whole test file, emptied between tests: migrating a fresh schema per
 * test costs a second or more on a busy machine, emptying one a fraction of that. `url()` creates
 * the schema on first use; the caller migrates it by opening a store and drops it after all tests.
 */
export interface SharedTestSchema {
  url(): Promise<string>;
  /** Removes every row but the migration record (ids go on counting); every handle is closed by then. */
  empty(): Promise<void>;
  drop(): Promise<void>;
}

export function sharedTestSchema(): SharedTestSchema {
  let schema: Promise<TestSchema> | undefined;
  return {
    url: async () => (await (schema ??= createTestSchema())).url,
    empty: async () => {
      if (!schema) return;
      const { name } = await schema;
      const tables = await adminQuery<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables
         WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'`,
        [name],
      );
      // DELETE, not TRUNCATE: truncating gives every table a new file, which costs seconds; foreign
      // keys are not checked meanwhile (replica role), so the order of the tables does not matter.
      await adminQuery(
        [
          'BEGIN',
          'SET LOCAL session_replication_role = replica',
          ...tables.map((t) => `DELETE FROM ${name}."${t.table_name}"`),
          'COMMIT',
        ].join('; '),
      );
    },
    drop: async () => {
      if (schema) await (await schema).drop();
    },
  };
}

/**
 * The stores a collector test runs on: SQLite (the config's own) and, when PostgreSQL answers, a
 * schema shared by the file's tests — for `describe.each(stores)`, with `empty()` between tests
 * and `drop()` after all. Each entry is [name, config overrides].
 */
export async function collectorStores(): Promise<{
  stores: [string, () => Promise<Record<string, unknown>>][];
  empty(): Promise<void>;
  drop(): Promise<void>;
}> {
  const stores: [string, () => Promise<Record<string, unknown>>][] = [['SQLite', async () => ({})]];
  if (!(await postgresAvailable())) return { stores, empty: async () => {}, drop: async () => {} };
  const schema = sharedTestSchema();
  stores.push(['PostgreSQL', async () => ({ store: { url: await schema.url() } })]);
  return { stores, empty: () => schema.empty(), drop: () => schema.drop() };
}
