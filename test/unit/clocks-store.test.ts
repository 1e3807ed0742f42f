import { join } from 'node:path';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { tempDir } from '../support/collector-harness.js';
import { describeClockStoreContract } from './clocks-store-contract.js';

describeClockStoreContract('SQLite', async () => {
  const dir = tempDir('smew-clock-store-');
  const store = openSqliteStore(join(dir.path, 'smew.db'));
  return {
    store: store.clocks,
    close: async () => {
      await store.close();
      dir.remove();
    },
  };
});
