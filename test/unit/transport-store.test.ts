import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { openPostgresStore } from '../../collector/store/postgres-store.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { tempDir } from '../support/collector-harness.js';
import { postgresAvailable } from '../support/postgres.js';
import { sharedTestSchema } from '../support/postgres-shared-schema.js';
import { describeTransportStoreContract } from './transport-store-contract.js';

describeTransportStoreContract('SQLite', async () => {
  const dir = tempDir('smew-transport-store-');
  const path = join(dir.path, 'smew.db');
  return {
    open: async () => openSqliteStore(path),
    dispose: async () => dir.remove(),
  };
});

if (await postgresAvailable()) {
  const schema = sharedTestSchema();
  afterAll(() => schema.drop());
  describeTransportStoreContract('PostgreSQL', async () => ({
    open: async () => openPostgresStore(await schema.url()),
    dispose: () => schema.empty(),
  }));
} else {
  describe.skip('TransportStore contract: PostgreSQL (not running)', () => {
    it('needs PostgreSQL on 127.0.0.1:5432', () => {});
  });
}
