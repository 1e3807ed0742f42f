import { describe, it } from 'vitest';
import { openPostgresStore } from '../../collector/store/postgres-store.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { createTestSchema, postgresAvailable } from '../support/postgres.js';
import { describeSessionStoreContract } from './dashboard-session-store-contract.js';

describeSessionStoreContract('SQLite', async () => {
  const store = openSqliteStore(':memory:');
  return { store, dispose: () => store.close() };
});

if (await postgresAvailable()) {
  describeSessionStoreContract('PostgreSQL', async () => {
    const schema = await createTestSchema();
    const store = await openPostgresStore(schema.url);
    return {
      store,
      dispose: async () => {
        await store.close();
        await schema.drop();
      },
    };
  });
} else {
  describe.skip('SessionStore contract (PostgreSQL, not running)', () => {
    it('needs PostgreSQL on 127.0.0.1:5432', () => {});
  });
}
