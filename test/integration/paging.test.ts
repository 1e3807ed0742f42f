import { describe, it } from 'vitest';
import { openPostgresStore } from '../../collector/store/postgres-store.js';
import { describePagingContract } from '../support/paging-contract.js';
import { createTestSchema, postgresAvailable } from '../support/postgres.js';
import { openTempSqliteStore } from '../support/sqlite-temp-store.js';

/** Keyset pages of events and warnings, one contract on both databases. */
describePagingContract('SQLite', async () => openTempSqliteStore('smew-paging-'));

if (await postgresAvailable()) {
  describePagingContract('PostgreSQL', async () => {
    const schema = await createTestSchema();
    const store = await openPostgresStore(schema.url);
    return {
      store,
      close: async () => {
        await store.close();
        await schema.drop();
      },
    };
  });
} else {
  describe.skip('keyset pages: PostgreSQL (not running)', () => {
    it('needs PostgreSQL on 127.0.0.1:5432', () => {});
  });
}
