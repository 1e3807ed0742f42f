import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { tempDir } from '../support/collector-harness.js';
import { describeWarningStoreContract } from '../support/warning-store-contract.js';
import { join } from 'node:path';

describeWarningStoreContract('SQLite', async () => {
  const dir = tempDir('smew-warnings-');
  const store = openSqliteStore(join(dir.path, 'smew.db'));
  return {
    store,
    close: async () => {
      await store.close();
      dir.remove();
    },
  };
});
