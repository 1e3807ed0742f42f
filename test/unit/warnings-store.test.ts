import { afterAll, describe, it } from 'vitest';
import { openPostgresStore } from '../../collector/store/postgres-store.js';
import { postgresAvailable } from '../support/postgres.js';
import { sharedTestSchema } from '../support/postgres-shared-schema.js';
import { openTempSqliteStore } from '../support/sqlite-temp-store.js';
import { describeWarningStoreContract } from '../support/warning-store-contract.js';

describeWarningStoreContract('SQLite', async () => openTempSqliteStore('smew-warnings-'));

if (await postgresAvailable()) {
  const schema = sharedTestSchema();
  afterAll(() => schema.drop());
  describeWarningStoreContract('PostgreSQL', async () => {
    const store = await openPostgresStore(await schema.url());
    return {
      store,
      close: async () => {
        await store.close();
        await schema.empty();
      },
    };
  });
} else {
  describe.skip('WarningStore contract: PostgreSQL (not running)', () => {
    it('needs PostgreSQL on 127.0.0.1:5432', () => {});
  });
}
