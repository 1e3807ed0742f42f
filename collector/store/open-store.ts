import { resolve } from 'node:path';
import { UserError } from '../../shared/errors.js';
import { openPostgresStore } from './postgres-store.js';
import { redactPassword } from './schema/open-database.js';
import { openSqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/**
 * Opens the store named by `store.url`: `sqlite:PATH` (relative paths from the working
 * directory) or `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` (libpq-style query options such as
 * `?options=-c%20search_path%3Dsmew` pass through), both behind the same Store interface.
 */
export async function openStore(url: string): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '') {
      throw new UserError(
        'store.url: found "sqlite:" without a path; expected sqlite:PATH, e.g. sqlite:./data/smew.db',
      );
    }
    return openSqliteStore(path === ':memory:' ? path : resolve(path));
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return openPostgresStore(url);
  }
  throw new UserError(
    `store.url: found ${JSON.stringify(redactPassword(url))}; expected sqlite:PATH or postgres://USER@HOST/DB`,
  );
}
