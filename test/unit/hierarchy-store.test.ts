import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HIERARCHY_VERSION, sign } from '../../collector/hierarchy/messages.js';
import { ownReport } from '../../collector/hierarchy/reports.js';
import { openPostgresStore } from '../../collector/store/postgres-store.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { collectorIdFromPublicKey } from '../../shared/identity.js';
import { tempDir } from '../support/collector-harness.js';
import { postgresAvailable } from '../support/postgres.js';
import { sharedTestSchema } from '../support/postgres-shared-schema.js';
import { describeHierarchyStoreContract } from './hierarchy-store-contract.js';

describeHierarchyStoreContract('SQLite', async () => {
  const dir = tempDir('smew-hierarchy-store-');
  const path = join(dir.path, 'smew.db');
  const handles = [openSqliteStore(path)];
  return {
    store: handles[0]!,
    second: async () => {
      const handle = openSqliteStore(path);
      handles.push(handle);
      return handle;
    },
    close: async () => {
      for (const handle of handles) await handle.close();
      dir.remove();
    },
  };
});

if (await postgresAvailable()) {
  const schema = sharedTestSchema();
  afterAll(() => schema.drop());
  describeHierarchyStoreContract('PostgreSQL', async () => {
    const url = await schema.url();
    const handles = [await openPostgresStore(url)];
    return {
      store: handles[0]!,
      second: async () => {
        const handle = await openPostgresStore(url);
        handles.push(handle);
        return handle;
      },
      close: async () => {
        for (const handle of handles) await handle.close();
        await schema.empty();
      },
    };
  });
} else {
  describe.skip('HierarchyStore contract: PostgreSQL (not running)', () => {
    it('needs PostgreSQL on 127.0.0.1:5432', () => {});
  });
}

it('SQLite: the outbox and the seq counter survive closing and reopening the file', async () => {
  const dir = tempDir('smew-hierarchy-reopen-');
  const path = join(dir.path, 'smew.db');
  const pair = ed25519Suite.generateKeyPair();
  const identity = {
    id: collectorIdFromPublicKey(pair.publicKey),
    alg: 'ed25519' as const,
    sign: ed25519Suite.signer(pair.privateKey),
  };
  const origin = { identity, unit: '甲单位', level: 'unit' as const };
  const cert = sign(
    {
      v: HIERARCHY_VERSION,
      kind: 'smew.hierarchy.child' as const,
      parent: identity.id,
      child: identity.id,
      unit: '甲单位',
      level: 'unit' as const,
      childAlg: 'ed25519' as const,
      publicKey: pair.publicKey,
      enrolledAt: '2026-11-27T00:00:00.000Z',
    },
    identity,
  );
  const t = '2026-11-27T00:00:00.000Z';
  let store = openSqliteStore(path);
  expect(await store.schemaVersion()).toBeGreaterThanOrEqual(6);
  await store.hierarchy.setParent({
    url: 'http://127.0.0.1:1',
    id: identity.id,
    alg: 'ed25519',
    publicKey: pair.publicKey,
    unit: '某县',
    level: 'county',
    cert,
    enrolledAt: t,
  });
  await store.hierarchy.enqueueOwn('one', t, (seq) => ownReport(origin, seq, t, 'agent.health', 'one', {}));
  await store.close();
  store = openSqliteStore(path);
  await store.hierarchy.enqueueOwn('two', t, (seq) => ownReport(origin, seq, t, 'agent.health', 'two', {}));
  const pending = await store.hierarchy.pendingOutbox(10);
  expect(pending.map((p) => [p.record.report.key, p.record.report.seq])).toEqual([
    ['one', 1],
    ['two', 2],
  ]);
  expect((await store.hierarchy.getParent())?.unit).toBe('某县');
  await store.close();
  dir.remove();
});
