import { afterAll, describe, it } from 'vitest';
import { openPostgresStore, type PostgresStore } from '../../collector/store/postgres-store.js';
import { adminQuery, createTestSchema, postgresAvailable, type TestSchema } from '../support/postgres.js';
import { describeClockStoreContract } from './clocks-store-contract.js';

/**
 * The ClockStore contract on the machine's PostgreSQL. One schema for the file, migrated once;
 * each test starts from empty clock tables, and `another` is a second pool on the same schema —
 * a second collector — so the claims race over real connections.
 */
const CLOCK_TABLES = `clock_fires, clock_deadlines, clock_runs, incident_reports, incidents, assessments,
  info_system_changes, info_systems`;

if (await postgresAvailable()) {
  let schema: Promise<TestSchema> | undefined;
  afterAll(async () => {
    if (schema) await (await schema).drop();
  });

  describeClockStoreContract('PostgreSQL', async () => {
    schema ??= createTestSchema();
    const { name, url } = await schema;
    const store = await openPostgresStore(url);
    await adminQuery(`SET search_path = ${name}; TRUNCATE ${CLOCK_TABLES} RESTART IDENTITY CASCADE`);
    const handles: PostgresStore[] = [store];
    return {
      store: store.clocks,
      another: async () => {
        const handle = await openPostgresStore(url);
        handles.push(handle);
        return handle.clocks;
      },
      close: async () => {
        for (const handle of handles) await handle.close();
      },
    };
  });
} else {
  describe.skip('ClockStore contract: PostgreSQL (not running)', () => {
    it('needs PostgreSQL on 127.0.0.1:5432', () => {});
  });
}
