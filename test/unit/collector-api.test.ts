import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import type { SqliteStore } from '../../collector/store/sqlite-store.js';
import { ManualClock } from '../../shared/clock.js';
import { openApiFixture, type TestApi } from '../support/api-fixture.js';
import { makeTestAgent, tempDir, type TestAgent } from '../support/collector-harness.js';
import { signEnrollment } from '../../shared/enrollment-proof.js';
import { generateKeyPairSync } from 'node:crypto';

describe('collector HTTP API', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let api: TestApi;
  let clock: ManualClock;
  const invalidated: string[] = [];

  beforeEach(async () => {
    dir = tempDir('smew-api-');
    clock = new ManualClock('2026-11-26T12:00:00Z');
    ({ store, api } = await openApiFixture(dir.path, {
      clock,
      brokerUrl: 'mqtt://broker.example:1883',
      onCredentialsChanged: (id) => invalidated.push(id),
    }));
  });
  afterEach(async () => {
    await api.close();
    await store.close();
    dir.remove();
  });

  const enroll = (body: Record<string, unknown>) =>
    api.inject({ method: 'POST', url: '/api/v1/enroll', payload: body });
  /** A request signed by `agent` for this collector, as `smew agent enroll` sends it. */
  const signed = async (agent: TestAgent, token: string, extra: Record<string, unknown> = {}) => {
    const { collector } = (await api.inject({ url: '/api/v1/enroll' })).json() as { collector: string };
    const { alg, publicKey } = agent.keys;
    return { ...signEnrollment({ token, publicKey, alg, collector, ts: clock.now() }, agent.sign), ...extra };
  };

  it('answers health and metrics without authentication', async () => {
    const health = await api.inject({ url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok', collector: expect.stringMatching(/^co-/) });
    const metrics = await api.inject({ url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.body).toContain('smew_agents_online 0');
    expect(metrics.body).toContain('smew_ingest_events_accepted_total');
  });

  it('serves an OpenAPI document that lists every route', async () => {
    const response = await api.inject({ url: '/api/openapi.json' });
    expect(response.statusCode).toBe(200);
    const doc = response.json() as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/healthz', '/metrics', '/api/v1/enroll', '/api/v1/agents', '/api/v1/events']),
    );
  });

  it('requires a bearer key everywhere else, with JSON 401s', async () => {
    for (const url of ['/api/v1/agents', '/api/v1/events']) {
      const missing = await api.inject({ url });
      expect(missing.statusCode).toBe(401);
      expect(missing.json()).toEqual({ error: expect.stringContaining('Bearer') });
      const wrong = await api.inject({ url, headers: { authorization: 'Bearer smew-ak-nope' } });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json()).toEqual({ error: 'unknown or revoked api key' });
    }
    expect((await api.inject({ url: '/nowhere' })).json()).toEqual({ error: 'no route GET /nowhere' });
  });

  it('enrolls with a token once, and re-enrolls the same key under the same id', async () => {
    const agent = makeTestAgent();
    const { token } = await createEnrollmentToken(store, { unit: '一处', clock });
    const first = await enroll(await signed(agent, token, { hostname: 'ws-1' }));
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body).toMatchObject({
      agentId: agent.id,
      unit: '一处',
      collector: { id: expect.stringMatching(/^co-/), alg: 'ed25519' },
      broker: {
        url: 'mqtt://broker.example:1883',
        urls: ['mqtt://broker.example:1883'],
        username: agent.id,
        password: expect.stringMatching(/^smew-bs-/),
      },
    });
    expect(invalidated).toEqual([agent.id]);

    const reused = await enroll(await signed(agent, token));
    expect(reused.statusCode).toBe(401);
    expect(reused.json()).toEqual({ error: expect.stringContaining('already been used') });

    const { token: second } = await createEnrollmentToken(store, { unit: '一处', clock });
    const again = await enroll(await signed(agent, second));
    expect(again.json()).toMatchObject({ agentId: agent.id });
    expect(again.json().broker.password).not.toBe(body.broker.password);
  });

  it('refuses expired tokens, unknown tokens and unusable keys with a message', async () => {
    const agent = makeTestAgent();
    const { token } = await createEnrollmentToken(store, { unit: '一处', ttlMs: 60_000, clock });
    clock.advance(60_001);
    const expired = await enroll(await signed(agent, token));
    expect([expired.statusCode, expired.json().error]).toEqual([401, expect.stringContaining('expired')]);
    const unknown = await enroll(await signed(agent, 'made-up'));
    expect(unknown.statusCode).toBe(401);

    const { token: fresh } = await createEnrollmentToken(store, { unit: '一处', clock });
    const garbage = await enroll({ token: fresh, publicKey: 'not base64!', alg: 'ed25519' });
    expect([garbage.statusCode, garbage.json().error]).toEqual([400, expect.stringContaining('base64')]);
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      type: 'spki',
      format: 'der',
    });
    const wrongKind = await enroll({ token: fresh, publicKey: p256.toString('base64'), alg: 'ed25519' });
    expect([wrongKind.statusCode, wrongKind.json().error]).toEqual([400, expect.stringContaining('ec key')]);
    const missing = await enroll({ token: fresh });
    expect([missing.statusCode, missing.json().error]).toEqual([400, expect.stringContaining('publicKey')]);
    const badAlg = await enroll({ token: fresh, publicKey: agent.keys.publicKey, alg: 'rsa' });
    expect(badAlg.statusCode).toBe(400);
    // None of the refusals spent the token.
    expect((await enroll(await signed(agent, fresh))).statusCode).toBe(200);
  });

  it('lists agents and events of the key’s unit only, and validates query parameters', async () => {
    for (const unit of ['一处', '二处']) {
      const { token } = await createEnrollmentToken(store, { unit, clock });
      expect((await enroll(await signed(makeTestAgent(), token))).statusCode).toBe(200);
    }
    const all = await createApiKey(store, { name: 'all', role: 'secadmin' });
    const one = await createApiKey(store, { name: 'one', role: 'viewer', unit: '一处' });
    const get = (url: string, key: string) =>
      api.inject({ url, headers: { authorization: `Bearer ${key}` } });

    const everything = (await get('/api/v1/agents', all)).json() as { items: { unit: string }[] };
    expect(everything.items.map((a) => a.unit).sort()).toEqual(['一处', '二处']);
    const scoped = (await get('/api/v1/agents', one)).json() as { items: Record<string, unknown>[] };
    expect(scoped.items).toHaveLength(1);
    expect(Object.keys(scoped.items[0]!)).toEqual(
      expect.arrayContaining([
        'id',
        'unit',
        'alg',
        'publicKey',
        'hostname',
        'lastSeen',
        'online',
        'enrolledAt',
      ]),
    );
    expect(scoped.items[0]).not.toHaveProperty('brokerSecretHash');

    expect((await get('/api/v1/events', one)).json()).toEqual({ items: [], nextCursor: null });
    for (const bad of ['agent=bob', 'since=yesterday', 'limit=0', 'limit=100001', 'type=NOPE']) {
      const response = await get(`/api/v1/events?${bad}`, all);
      expect(response.statusCode, bad).toBe(400);
      expect(response.json(), bad).toEqual({ error: expect.stringContaining('querystring') });
    }
  });
});
