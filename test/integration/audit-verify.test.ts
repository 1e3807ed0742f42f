/**
 * `smew audit verify` and `smew audit export` as an operator runs them, on SQLite and PostgreSQL: a
 * collector writes the log (each request of both administrators) and signs its head when it stops;
 * verify then says the chain holds and exits 0; after a row is edited, deleted or two are swapped in
 * the database it names the first bad entry and the kind of break and exits 1; export writes the
 * entries with their chain and the heads.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { startCollector } from '../../collector/server.js';
import { openStore } from '../../collector/store/open-store.js';
import type { Database } from '../../collector/store/sql/database.js';
import { sql, type Query } from '../../collector/store/sql/query.js';
import { createLogger } from '../../shared/log.js';
import { tempDir, testCollectorConfig } from '../support/collector-harness.js';
import { collectorStores } from '../support/postgres-shared-schema.js';
import { eventually } from '../support/eventually.js';
import { runSmew } from '../support/processes.js';

const { stores, empty, drop } = await collectorStores();
afterAll(drop);

describe.each(stores)('smew audit verify and export (%s)', (_name, storeConfig) => {
  let dir: ReturnType<typeof tempDir>;
  let configFile: string;
  let storeUrl: string;
  afterEach(async () => {
    dir.remove();
    await empty();
  });

  /** A collector on this store: both administrators act over HTTP, then it stops (signing the head). */
  async function writeLog(): Promise<void> {
    dir = tempDir('smew-audit-verify-');
    const config = testCollectorConfig(dir.path, await storeConfig());
    storeUrl = config.store.url;
    configFile = join(dir.path, 'collector.yaml');
    writeFileSync(
      configFile,
      `store:\n  url: ${JSON.stringify(storeUrl)}\nidentity:\n  dir: ${JSON.stringify(config.identity.dir)}\n`,
    );
    const collector = await startCollector(config, { logger: createLogger('test', 'silent') });
    try {
      const sys = await createApiKey(collector.store, { name: 'sys', role: 'sysadmin' });
      const sec = await createApiKey(collector.store, { name: 'sec', role: 'secadmin' });
      const post = (key: string, path: string, body: unknown) =>
        fetch(`${collector.httpUrl}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      for (let i = 0; i < 3; i++) {
        await post(sys, '/api/v1/users', { name: `u${i}`, role: 'viewer', password: 'a long passphrase' });
        await post(sec, '/api/v1/systems', { name: `系统${i}`, level: '秘密', commissionedAt: '2026-01-05' });
      }
      // Each entry is written once its response has gone: all six are in before the stop signs.
      await eventually(async () => (await collector.store.audit.head())?.seq === 6, { what: 'six entries' });
    } finally {
      await collector.stop();
    }
  }

  async function tamper(...queries: Query[]): Promise<void> {
    const store = await openStore(storeUrl);
    try {
      const db = (store as unknown as { database: Database }).database;
      for (const query of queries) await db.run(query);
    } finally {
      await store.close();
    }
  }

  const verify = () => runSmew(['audit', 'verify', '--config', configFile]);

  it('says the chain holds and was signed, and exports it', async () => {
    await writeLog();
    const ok = await verify();
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^audit log: 6 entries, 1 signed heads\n/);
    expect(ok.stdout).toMatch(/newest signed head: seq 6, .*, collector co-/);
    expect(ok.stdout).toContain('chain intact through seq 6');

    const out = join(dir.path, 'audit.json');
    const exported = await runSmew(['audit', 'export', '--out', out, '--config', configFile]);
    expect(exported.code).toBe(0);
    const file = JSON.parse(readFileSync(out, 'utf8')) as {
      format: string;
      verification: { ok: boolean };
      heads: { seq: number; signature: string }[];
      entries: { actor: string; seq: number; prevHash: string; hash: string }[];
    };
    expect(file).toMatchObject({ format: 'smew-audit-export/1', verification: { ok: true } });
    expect(file.heads).toMatchObject([{ seq: 6 }]);
    expect(file.entries.map((e) => e.actor)).toEqual(['sys', 'sec', 'sys', 'sec', 'sys', 'sec']);
    expect(file.entries[1]!.prevHash).toBe(file.entries[0]!.hash);
  });

  it('names an edited entry and exits 1', async () => {
    await writeLog();
    await tamper(sql`UPDATE audit_log SET actor = ${'someone'} WHERE seq = 3`);
    const broken = await verify();
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(
      /BROKEN at entry \d+ \(seq 3\): edited — entry \d+ does not match its hash/,
    );
    expect(broken.stderr).toContain('chain verified through seq 2');
  });

  it('names a deleted entry and exits 1', async () => {
    await writeLog();
    await tamper(sql`DELETE FROM audit_log WHERE seq = 4`);
    const broken = await verify();
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/BROKEN at entry \d+ \(seq 5\): deleted — 1 entry \(seq 4\) missing/);
  });

  it('names reordered entries and exits 1', async () => {
    await writeLog();
    const store = await openStore(storeUrl);
    const ids = (await store.audit.list({ limit: 10 })).map((e) => e.id).reverse();
    await store.close();
    await tamper(
      sql`UPDATE audit_log SET id = ${-1} WHERE id = ${ids[3]}`,
      sql`UPDATE audit_log SET id = ${ids[3]} WHERE id = ${ids[4]}`,
      sql`UPDATE audit_log SET id = ${ids[4]} WHERE id = ${-1}`,
    );
    const broken = await verify();
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/BROKEN at entry \d+ \(seq 5\): reordered — .* follows seq 3/);
  });
});
