import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { requireService } from './services.js';

/**
 * The machine's PostgreSQL (127.0.0.1:5432, trust auth, database `test`; SMEW_TEST_PG_URL
 * overrides) with one fresh schema per test run, selected through the URL's search_path, so
 * parallel tests never see each other's rows. `drop()` removes the schema and all in it.
 */
export const TEST_PG_URL = process.env.SMEW_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  name: string;
  /** store.url for a store living in this schema. */
  url: string;
  drop(): Promise<void>;
}

export async function postgresAvailable(): Promise<boolean> {
  return requireService('PostgreSQL', Number(new URL(TEST_PG_URL).port || 5432));
}

export async function createTestSchema(): Promise<TestSchema> {
  const name = `smew_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE SCHEMA ${name}`);
  const url = new URL(TEST_PG_URL);
  url.searchParams.set('options', `-c search_path=${name}`);
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await adminQuery(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    },
  };
}

/** Runs one statement on its own connection, outside any store (to inspect or prepare a schema). */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  params: unknown[] = [],
  url = TEST_PG_URL,
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
