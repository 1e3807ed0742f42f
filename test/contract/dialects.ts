/**
 * Every store contract runs over every dialect from here (kysely's DIALECTS loop): SQLite in a new
 * file per test, PostgreSQL in one schema per test file, emptied between tests. Where PostgreSQL is
 * not running, its half is a skipped placeholder that says so (in CI, requireService fails instead).
 */
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { openStore } from '../../collector/store/open-store.js';
import type { Store } from '../../collector/store/store.js';
import { tempDir } from '../support/collector-harness.js';
import { postgresAvailable } from '../support/postgres.js';
import { sharedTestSchema } from '../support/postgres-shared-schema.js';

export type DialectName = 'SQLite' | 'PostgreSQL';

/** One test's database: `open` may be called more than once (a second handle, a reopen after close). */
export interface DialectFixture {
  dialect: DialectName;
  /** store.url of this test's database. */
  url(): Promise<string>;
  open(): Promise<Store>;
  /** Removes the database (SQLite) or its rows (PostgreSQL); every handle is closed by then. */
  dispose(): Promise<void>;
}

const postgres = await postgresAvailable();

/**
 * `describe(title: dialect)` once per dialect; `suite` gets a factory for each test's fixture
 * (call it in beforeEach, dispose in afterEach after closing every store it opened).
 */
export function describeEachDialect(
  title: string,
  suite: (fixture: () => Promise<DialectFixture>) => void,
): void {
  describe(`${title}: SQLite`, () => {
    suite(async () => {
      const dir = tempDir('smew-contract-');
      const url = `sqlite:${join(dir.path, 'smew.db')}`;
      return {
        dialect: 'SQLite',
        url: async () => url,
        open: () => openStore(url),
        dispose: async () => dir.remove(),
      };
    });
  });
  if (!postgres) {
    describe.skip(`${title}: PostgreSQL (not running)`, () => {
      it('needs PostgreSQL on 127.0.0.1:5432', () => {});
    });
    return;
  }
  describe(`${title}: PostgreSQL`, () => {
    const schema = sharedTestSchema();
    afterAll(() => schema.drop());
    suite(async () => ({
      dialect: 'PostgreSQL',
      url: () => schema.url(),
      open: async () => openStore(await schema.url()),
      dispose: () => schema.empty(),
    }));
  });
}
