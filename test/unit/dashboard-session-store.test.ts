import { afterAll, describe, it } from 'vitest';
import { openPostgresStore } from '../../collector/store/postgres-store.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { postgresAvailable } from '../support/postgres.js';
import { sharedTestSchema } from '../support/postgres-shared-schema.js';
import { describeSessionStoreContract } from './dashboard-session-store-contract.js';

describeSessionStoreContract('SQLite', async () => {
  const store = openSqliteStore(':memory:');
  return { store, dispose: () => store.close() };
});

if (await postgresAvailable()) {
  const schema = sharedTestSchema();
  afterAll(() => schema.drop());
  describeSessionStoreContract('PostgreSQL', async () => {
    const store = await openPostgresStore(await schema.url());
    return {
      store,
      dispose: async () => {
        await store.close();
        await schema.empty();
      },
    };
  });
} else {
  describe.skip('SessionStore contract (PostgreSQL, not running)', () => {
    it('needs PostgreSQL on 127.0.0.1:5432', () => {});
  });
}
