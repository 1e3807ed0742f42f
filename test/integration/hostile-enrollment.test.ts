/**
 * Hostile enrollment (issue 14 item 1), against a real collector over HTTP and its embedded
 * broker, on SQLite and on PostgreSQL: nobody becomes an agent or a child collector without its
 * private key. An enrolled agent's public key is public (GET /api/v1/agents); before the fix, a
 * token of another unit and that key moved the agent and handed its broker login to the caller.
 * Every refusal is counted on /metrics by reason.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from '../../collector/store/schema/migrations.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { openPostgresStore } from '../../collector/store/postgres-store.js';
import { suiteFor } from '../../shared/crypto/suites.js';
import type { SignatureAlg } from '../../shared/crypto/suite.js';
import { agentIdFromPublicKey } from '../../shared/identity.js';
import { createLogger } from '../../shared/log.js';
import {
  connectAsAgent,
  enrollOverHttp,
  makeTestAgent,
  signedEnrollBody,
  tempDir,
  testCollectorConfig,
  type TestAgent,
} from '../support/collector-harness.js';
import { collectorKey } from '../support/hierarchy-keys.js';
import { eventually } from '../support/eventually.js';
import { metricSample } from '../support/metrics.js';
import { adminQuery, createTestSchema, postgresAvailable, type TestSchema } from '../support/postgres.js';

const logger = createLogger('test', 'silent');
const pgReady = await postgresAvailable();

function agentOf(alg: SignatureAlg): TestAgent {
  const suite = suiteFor(alg);
  const keys = suite.generateKeyPair();
  return { keys, id: agentIdFromPublicKey(keys.publicKey), sign: suite.signer(keys.privateKey) };
}

const dialects = [
  { name: 'SQLite', ready: true },
  { name: 'PostgreSQL', ready: pgReady },
] as const;

describe.each(dialects)('hostile enrollment on $name', ({ name, ready }) => {
  const dir = tempDir('smew-hostile-enroll-');
  let schema: TestSchema | undefined;
  let collector: RunningCollector;
  let adminKey: string;
  let victim: TestAgent;
  let victimPassword: string;

  const post = async (path: string, body: unknown, key?: string) => {
    const response = await fetch(`${collector.httpUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const rejected = (kind: string, reason: string) =>
    metricSample(collector.httpUrl, `smew_enroll_rejected_total{kind="${kind}",reason="${reason}"}`);
  const token = async (unit: string, kind: 'agent' | 'collector' = 'agent') =>
    (await createEnrollmentToken(collector.store, { unit, kind, ttlMs: 3_600_000 })).token;

  beforeAll(async () => {
    if (!ready) return;
    const store = name === 'PostgreSQL' ? { url: (schema = await createTestSchema()).url } : {};
    collector = await startCollector(
      testCollectorConfig(dir.path, {
        unit: '某县保密局',
        level: 'county',
        ingest: { ackDelay: 10, verifyWorkers: 0 },
        ...(name === 'PostgreSQL' ? { store } : {}),
      }),
      { logger },
    );
    adminKey = await createApiKey(collector.store, { name: 'admin', role: 'sysadmin' });
    victim = makeTestAgent();
    const reply = await enrollOverHttp(collector.httpUrl, victim, await token('一处'));
    victimPassword = reply.broker.password;
  }, 60_000);
  afterAll(async () => {
    await collector?.stop();
    await schema?.drop();
    dir.remove();
  });

  it.runIf(ready)('refuses an unsigned enrollment of a known key with another unit’s token', async () => {
    const stolen = await post('/api/v1/enroll', {
      token: await token('二处'),
      publicKey: victim.keys.publicKey,
      alg: 'ed25519',
    });
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toMatch(/carries no signature/);
    expect(await rejected('agent', 'unsigned')).toBe(1);
    expect((await collector.store.getAgent(victim.id))?.unit).toBe('一处');
    // The victim's broker login still works: nobody was handed a new one.
    const client = await connectAsAgent(collector.brokerUrl, victim.id, victimPassword);
    await client.endAsync();
  });

  it.runIf(ready)('refuses a request signed by another key, for another collector, or stale', async () => {
    const attacker = makeTestAgent();
    const forged = await signedEnrollBody(collector.httpUrl, attacker, await token('二处'));
    const wrongKey = await post('/api/v1/enroll', { ...forged, publicKey: victim.keys.publicKey });
    expect(wrongKey).toMatchObject({
      status: 401,
      body: { error: expect.stringMatching(/not signed by the key/) },
    });
    expect(await rejected('agent', 'bad-signature')).toBe(1);

    const elsewhere = await signedEnrollBody(collector.httpUrl, attacker, await token('二处'), {
      collector: collectorKey().id,
    });
    expect(await post('/api/v1/enroll', elsewhere)).toMatchObject({
      status: 401,
      body: { error: expect.stringMatching(/signed for another collector/) },
    });
    expect(await rejected('agent', 'wrong-collector')).toBe(1);

    const old = await signedEnrollBody(collector.httpUrl, attacker, await token('二处'), {
      ts: new Date(Date.now() - 10 * 60_000),
    });
    expect(await post('/api/v1/enroll', old)).toMatchObject({
      status: 401,
      body: { error: expect.stringMatching(/dated too far.*ingest\.maxSkew/) },
    });
    expect(await rejected('agent', 'stale')).toBe(1);
    expect(await collector.store.getAgent(attacker.id)).toBeUndefined();
  });

  it.runIf(ready)('enrolls with either suite when signed, and refuses either when not', async () => {
    for (const alg of ['ed25519', 'sm2-sm3'] as const) {
      const agent = agentOf(alg);
      const other = agentOf(alg);
      const body = await signedEnrollBody(collector.httpUrl, agent, await token('一处'));
      const bySomeoneElse = await signedEnrollBody(collector.httpUrl, other, body.token as string);
      expect(
        (await post('/api/v1/enroll', { ...bySomeoneElse, publicKey: agent.keys.publicKey })).status,
      ).toBe(401);
      const enrolled = await post('/api/v1/enroll', body);
      expect(enrolled).toMatchObject({ status: 200, body: { agentId: agent.id, unit: '一处' } });
    }
  });

  it.runIf(ready)(
    'keeps a re-enrolled key in its unit; a token of another unit is refused and stays unused',
    async () => {
      const other = await token('二处');
      const moved = await post('/api/v1/enroll', await signedEnrollBody(collector.httpUrl, victim, other));
      expect(moved.status).toBe(409);
      expect(moved.body.error).toMatch(/enrolled in unit 一处; a token of another unit does not move it/);
      expect(await rejected('agent', 'unit-moved')).toBe(1);
      expect((await collector.store.getAgent(victim.id))?.unit).toBe('一处');
      // The refused token was not spent: a new agent of 二处 still enrolls with it.
      const newcomer = makeTestAgent();
      expect((await enrollOverHttp(collector.httpUrl, newcomer, other)).unit).toBe('二处');

      const again = await enrollOverHttp(collector.httpUrl, victim, await token('一处'));
      expect(again.unit).toBe('一处');
      victimPassword = again.broker.password;
    },
  );

  it.runIf(ready)('moves an agent only by an admin’s action, which is audited', async () => {
    const viewer = await createApiKey(collector.store, { name: 'viewer', role: 'viewer' });
    expect((await post(`/api/v1/agents/${victim.id}/unit`, { unit: '二处' }, viewer)).status).toBe(403);
    const moved = await post(`/api/v1/agents/${victim.id}/unit`, { unit: '二处' }, adminKey);
    expect(moved).toMatchObject({ status: 200, body: { id: victim.id, unit: '二处' } });
    // The audit entry is written as the response goes out.
    const entry = await eventually(
      async () =>
        (await collector.store.audit.list({ limit: 10 })).find(
          (a) => a.action === `POST /api/v1/agents/${victim.id}/unit` && a.status === 200,
        ),
      { what: 'the audit entry of the move' },
    );
    expect(entry).toMatchObject({ actor: 'admin', status: 200, detail: JSON.stringify({ unit: '二处' }) });
  });

  it.runIf(ready)('an agent token cannot enroll a collector, nor a collector token an agent', async () => {
    const child = collectorKey();
    const asChild = { keys: { ...child, privateKey: '' }, sign: child.sign };
    const agentToken = await token('甲单位');
    const collectorWithAgentToken = await post('/api/v1/hierarchy/enroll', {
      ...(await signedEnrollBody(collector.httpUrl, asChild, agentToken)),
      unit: '甲单位',
      level: 'unit',
    });
    expect(collectorWithAgentToken).toMatchObject({
      status: 403,
      body: { error: expect.stringMatching(/enrolls an agent, not a child collector.*--for collector/) },
    });
    expect(await rejected('collector', 'token-kind')).toBe(1);

    const collectorToken = await token('甲单位', 'collector');
    const agentWithCollectorToken = await post(
      '/api/v1/enroll',
      await signedEnrollBody(collector.httpUrl, makeTestAgent(), collectorToken),
    );
    expect(agentWithCollectorToken).toMatchObject({
      status: 403,
      body: { error: expect.stringMatching(/smew token create --for agent/) },
    });
    expect(await rejected('agent', 'token-kind')).toBe(1);
    // Both tokens are still good for what they are for.
    const signed = await signedEnrollBody(collector.httpUrl, asChild, collectorToken);
    expect(
      (await post('/api/v1/hierarchy/enroll', { ...signed, unit: '甲单位', level: 'unit' })).status,
    ).toBe(200);
  });

  it.runIf(ready)(
    'refuses an unsigned, forged or stale child collector enrollment, counted by reason',
    async () => {
      const child = collectorKey();
      const asChild = { keys: { ...child, privateKey: '' }, sign: child.sign };
      const collectorToken = await token('乙单位', 'collector');
      const base = { unit: '乙单位', level: 'unit' };
      const unsigned = await post('/api/v1/hierarchy/enroll', {
        token: collectorToken,
        publicKey: child.publicKey,
        alg: 'ed25519',
        ...base,
      });
      expect(unsigned.status).toBe(400);
      expect(await rejected('collector', 'unsigned')).toBe(1);
      const impostor = collectorKey();
      const forged = await signedEnrollBody(
        collector.httpUrl,
        { keys: { ...impostor, privateKey: '' }, sign: impostor.sign },
        collectorToken,
      );
      expect(
        (await post('/api/v1/hierarchy/enroll', { ...forged, publicKey: child.publicKey, ...base })).status,
      ).toBe(401);
      expect(await rejected('collector', 'bad-signature')).toBe(1);
      const stale = await signedEnrollBody(collector.httpUrl, asChild, collectorToken, {
        ts: new Date(Date.now() + 3_600_000),
      });
      expect((await post('/api/v1/hierarchy/enroll', { ...stale, ...base })).status).toBe(401);
      expect(await rejected('collector', 'stale')).toBe(1);
      expect(await collector.store.hierarchy.getSubordinate(child.id)).toBeUndefined();
      // An SM2 child signs with SM2-with-SM3 and is enrolled; the same request unsigned is not.
      const sm2 = agentOf('sm2-sm3');
      const sm2Token = await token('丙单位', 'collector');
      const sm2Base = { unit: '丙单位', level: 'unit' };
      const sm2Unsigned = { token: sm2Token, publicKey: sm2.keys.publicKey, alg: 'sm2-sm3', ...sm2Base };
      expect((await post('/api/v1/hierarchy/enroll', sm2Unsigned)).status).toBe(400);
      const enrolled = await post('/api/v1/hierarchy/enroll', {
        ...(await signedEnrollBody(collector.httpUrl, sm2, sm2Token)),
        ...sm2Base,
      });
      expect(enrolled).toMatchObject({ status: 200, body: { child: { unit: '丙单位' } } });
    },
  );
});

describe('manual approval covers re-enrollment', () => {
  const dir = tempDir('smew-hostile-approval-');
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startCollector(
      testCollectorConfig(dir.path, {
        ingest: { ackDelay: 10, verifyWorkers: 0 },
        enroll: { approval: 'manual' },
      }),
      { logger },
    );
  });
  afterAll(async () => {
    await collector?.stop();
    dir.remove();
  });

  it('an approved agent that enrolls again waits for approval again', async () => {
    const agent = makeTestAgent();
    const token = async () =>
      (await createEnrollmentToken(collector.store, { unit: '测试单位', ttlMs: 3_600_000 })).token;
    const first = await fetch(`${collector.httpUrl}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(await signedEnrollBody(collector.httpUrl, agent, await token())),
    });
    expect(((await first.json()) as { approval: string }).approval).toBe('pending');
    await collector.store.approvals.decide(agent.id, 'approved', 'admin', new Date().toISOString());
    const again = await fetch(`${collector.httpUrl}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(await signedEnrollBody(collector.httpUrl, agent, await token())),
    });
    expect(((await again.json()) as { approval: string }).approval).toBe('pending');
    expect(await collector.store.approvals.isApproved(agent.id)).toBe(false);
  });
});

describe('stores from before token kinds', () => {
  const dir = tempDir('smew-token-kind-');
  afterAll(() => dir.remove());

  it('SQLite: an unused token made before kinds enrolls agents', async () => {
    const path = join(dir.path, 'old.db');
    const old = openSqliteStore(path, { migrations: SQLITE_MIGRATIONS.filter((m) => m.version < 10) });
    await old.close();
    const db = new Database(path);
    db.prepare(
      `INSERT INTO enrollment_tokens (token_hash, unit, created_at, expires_at) VALUES ('h', 'u', 'a', 'z')`,
    ).run();
    db.close();
    await (await Promise.resolve(openSqliteStore(path))).close();
    const upgraded = new Database(path, { readonly: true });
    const row = upgraded.prepare(`SELECT kind FROM enrollment_tokens WHERE token_hash = 'h'`).get() as {
      kind: string;
    };
    upgraded.close();
    expect(row.kind).toBe('agent');
  });

  it.runIf(pgReady)('PostgreSQL: an unused token made before kinds enrolls agents', async () => {
    const schema = await createTestSchema();
    try {
      const old = await openPostgresStore(schema.url, {
        migrations: POSTGRES_MIGRATIONS.filter((m) => m.version < 8),
      });
      await old.close();
      await adminQuery(
        `INSERT INTO enrollment_tokens (token_hash, unit, created_at, expires_at) VALUES ('h', 'u', 'a', 'z')`,
        [],
        schema.url,
      );
      await (await openPostgresStore(schema.url)).close();
      const rows = await adminQuery<{ kind: string }>(
        `SELECT kind FROM enrollment_tokens WHERE token_hash = 'h'`,
        [],
        schema.url,
      );
      expect(rows[0]?.kind).toBe('agent');
    } finally {
      await schema.drop();
    }
  });
});
