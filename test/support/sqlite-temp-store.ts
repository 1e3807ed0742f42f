import { join } from 'node:path';
import { openSqliteStore, type SqliteStore } from '../../collector/store/sqlite-store.js';
import { tempDir } from './collector-harness.js';

/** A migrated SQLite store in a new temp directory; `close` closes it and removes the directory. */
export function openTempSqliteStore(prefix: string): { store: SqliteStore; close(): Promise<void> } {
  const dir = tempDir(prefix);
  const store = openSqliteStore(join(dir.path, 'smew.db'));
  return {
    store,
    close: async () => {
      await store.close();
      dir.remove();
    },
  };
}
