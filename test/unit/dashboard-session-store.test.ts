import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { describeSessionStoreContract } from './dashboard-session-store-contract.js';

describeSessionStoreContract('SQLite', async () => {
  const store = openSqliteStore(':memory:');
  return { store, dispose: () => store.close() };
});
