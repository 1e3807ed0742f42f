import { resolve } from 'node:path';
import { UserError } from '../../shared/errors.js';
import { openSqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/**
 * Opens the store named by `store.url`: `sqlite:PATH` (relative paths from the working
 * directory). PostgreSQL (`postgres://…`) comes behind the same Store interface.
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
    throw new UserError(
      `store.url: found ${JSON.stringify(redactPassword(url))}; this build of smew has no PostgreSQL store yet, ` +
        'expected sqlite:PATH',
    );
  }
  throw new UserError(
    `store.url: found ${JSON.stringify(redactPassword(url))}; expected sqlite:PATH or postgres://USER@HOST/DB`,
  );
}

/** Store URLs may carry a password; error messages must not print it. */
function redactPassword(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
