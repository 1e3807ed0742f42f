import { join } from 'node:path';
import { describe, it } from 'vitest';
import { openPostgresStore } from '../../collector/store/postgres-store.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { createTestSchema, postgresAvailable } from '../support/postgres.js';
import { tempDir } from '../support/collector-harness.js';
import { describeStoreContract } from '../unit/store-contract.js';

/** One contract, two databases: SQLite in a temp file and the machine's PostgreSQL in a fresh schema. */
describeStoreContract('SQLite', async () => {
  const dir = tempDir('smew-store-');
  const path = join(dir.path, 'nested', 'smew.db');
  return {
    open: async () => openSqliteStore(path),
    dispose: async () => dir.remove(),
  };
});

if (await postgresAvailable()) {
  describeStoreContract('PostgreSQL', async () => {
    const schema = await createTestSchema();
    return {
      open: () => openPostgresStore(schema.url),
      dispose: () => schema.drop(),
    };
  });
} else {
  describe.skip('Store contract: PostgreSQL (not running)', () => {
    it('needs PostgreSQL on 127.0.0.1:5432', () => {});
  });
}
