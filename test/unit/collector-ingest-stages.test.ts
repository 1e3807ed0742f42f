import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../collector/auth/secrets.js';
import type { CollectorIdentity } from '../../collector/identity.js';
import { AckPublisher } from '../../collector/ingest/ack-publisher.js';
import { IngestPipeline } from '../../collector/ingest/pipeline.js';
import { CollectorMetrics } from '../../collector/metrics.js';
import { openSqliteStore, type SqliteStore } from '../../collector/store/sqlite-store.js';
import { ManualClock } from '../../shared/clock.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import {
  ackSchema,
  MAX_ENVELOPE_BYTES,
  signEventBatch,
  signMessage,
  verifyMessage,
} from '../../shared/envelope.js';
import { collectorIdFromPublicKey } from '../../shared/identity.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import { makeTestAgent, signedEvent, tempDir, type TestAgent } from '../support/collector-harness.js';

const START = '2026-11-26T14:30:00.000Z';
/** Never enrolled: publishes under its own id, which the collector does not know. */
const stranger = makeTestAgent();

describe('ingest stages', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let clock: ManualClock;
  let metrics: CollectorMetrics;
  let published: { topic: string; payload: string }[];
  let acks: AckPublisher;
  let ingest: IngestPipeline;
  let agent: TestAgent;
  let collectorKeys: ReturnType<typeof ed25519Suite.generateKeyPair>;

  async function enroll(who: TestAgent, tokenHash: string): Promise<void> {
    await store.createEnrollmentToken({
      tokenHash,
      unit: '一处',
      createdAt: START,
      expiresAt: '2027-01-01T00:00:00Z',
    });
    const result = await store.enrollAgent({
      tokenHash,
      agentId: who.id,
      alg: 'ed25519',
      publicKey: who.keys.publicKey,
      hostname: undefined,
      version: undefined,
      brokerSecretHash: hashSecret('secret'),
      now: START,
    });
    expect(result.ok).toBe(true);
  }

  /** An event stamped by the test clock, so skew is under the test's control. */
  function eventAt(seq: number, overrides: Record<string, unknown> = {}) {
    return signedEvent(agent, seq, { ts: clock.now().toISOString(), ...overrides });
  }

  const eventsTopic = () => agentTopic(agent.id, 'events');
  const send = (payload: unknown, topic = eventsTopic()) =>
    ingest.handle(topic, Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload)));

  async function rejectedCount(reason: string): Promise<number> {
    const metric = await metrics.rejected.get();
    return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
  }

  beforeEach(async () => {
    dir = tempDir('smew-ingest-');
    store = openSqliteStore(join(dir.path, 'smew.db'));
    clock = new ManualClock(START);
    metrics = new CollectorMetrics(store);
    published = [];
    collectorKeys = ed25519Suite.generateKeyPair();
    const identity: CollectorIdentity = {
      id: collectorIdFromPublicKey(collectorKeys.publicKey),
      alg: 'ed25519',
      publicKey: collectorKeys.publicKey,
      sign: ed25519Suite.signer(collectorKeys.privateKey),
    };
    const logger = createLogger('test', 'silent');
    acks = new AckPublisher({
      store,
      identity,
      clock,
      delayMs: 60_000, // flushed by hand below
      logger,
      metrics,
      publish: async (topic, payload) => {
        published.push({ topic, payload });
      },
    });
    ingest = new IngestPipeline({ store, clock, logger, metrics, acks, maxSkewMs: 300_000 });
    agent = makeTestAgent();
    await enroll(agent, 'token-1');
  });
  afterEach(async () => {
    await acks.close();
    await store.close();
    dir.remove();
  });

  it('stores a valid event and acks it with a signed, verifiable watermark', async () => {
    const envelope = eventAt(1);
    expect(await send(envelope)).toEqual({ kind: 'event', agentId: agent.id, seq: 1, skewed: false });
    await acks.flush();
    expect(published).toHaveLength(1);
    expect(published[0]!.topic).toBe(agentTopic(agent.id, 'ack'));
    const ack = ackSchema.parse(JSON.parse(published[0]!.payload));
    expect(ack).toMatchObject({ agent: agent.id, ack: 1, ts: START });
    expect(verifyMessage(ack, ed25519Suite.verifier(collectorKeys.publicKey))).toBe(true);
    const [stored] = await store.listEvents({ limit: 1 });
    expect(JSON.parse(stored!.envelope)).toEqual(envelope);
    expect(await metrics.eventsAccepted.get()).toMatchObject({ values: [{ value: 1 }] });
  });

  it('batches acks: several events, one ack per agent carrying the contiguous watermark', async () => {
    await send(eventAt(1));
    await send(eventAt(3));
    await send(eventAt(2));
    await send(eventAt(5));
    await acks.flush();
    expect(published).toHaveLength(1);
    expect(JSON.parse(published[0]!.payload)).toMatchObject({ ack: 3 });
  });

  const rejections: [string, () => unknown, string?][] = [
    ['oversized', () => Buffer.alloc(MAX_ENVELOPE_BYTES + 1, 0x20)],
    ['malformed-json', () => Buffer.from('{"v":1,')],
    ['malformed-json', () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d])], // invalid UTF-8
    ['schema', () => ({ v: 1, agent: 'nobody' })],
    ['schema', () => [1, 2, 3]],
    ['schema', () => null],
    ['topic-mismatch', () => eventAt(1), agentTopic(stranger.id, 'events')],
    ['unknown-agent', () => signedEvent(stranger, 1), agentTopic(stranger.id, 'events')],
    ['bad-signature', () => ({ ...eventAt(1), severity: 'low' })],
    ['bad-signature', () => ({ ...eventAt(1), sig: 'AAAA' })],
    ['bad-signature', () => signMessage({ ...eventAt(1), sig: undefined, alg: 'sm2-sm3' }, agent.sign)],
    ['schema', () => eventAt(1, { data: { mac: 'no iface' } })], // catalogue: net.wireless.present needs iface
    ['bad-topic', () => eventAt(1), `smew/v1/agents/${'x'}/policy`],
    ['bad-topic', () => eventAt(1), '$SYS/broker/uptime'],
  ];

  it.each(rejections)('refuses %s, counts it and keeps it in quarantine', async (reason, payload, topic) => {
    const outcome = await send(payload(), topic);
    expect(outcome).toMatchObject({ kind: 'rejected', reason });
    expect(await rejectedCount(reason)).toBe(1);
    const [entry] = await store.listQuarantine({ limit: 1 });
    expect(entry).toMatchObject({ reason, topic: topic ?? eventsTopic(), receivedAt: START });
    expect(entry!.payload.length).toBeLessThanOrEqual(4096);
    expect(await store.listEvents({ limit: 10 })).toEqual([]);
  });

  it('refuses events of a revoked agent', async () => {
    await store.revokeAgent(agent.id, START);
    expect(await send(eventAt(1))).toMatchObject({ kind: 'rejected', reason: 'revoked' });
  });

  it('drops an identical repeat silently but counts it, and acks again', async () => {
    const envelope = eventAt(1);
    await send(envelope);
    await acks.flush();
    // Re-serialised with another key order: the same signed content is still a duplicate.
    const reordered = Object.fromEntries(Object.entries(envelope).reverse());
    expect(await send(reordered)).toEqual({ kind: 'duplicate', agentId: agent.id, seq: 1 });
    await acks.flush();
    expect(published).toHaveLength(2);
    expect(await metrics.duplicates.get()).toMatchObject({ values: [{ value: 1 }] });
    expect(await store.listQuarantine({ limit: 5 })).toEqual([]);
    expect(await store.listEvents({ limit: 10 })).toHaveLength(1);
  });

  it('quarantines a different event under a stored seq as seq-conflict and keeps the first', async () => {
    await send(eventAt(1));
    const other = eventAt(1, { state: 'cleared' });
    expect(await send(other)).toMatchObject({ kind: 'rejected', reason: 'seq-conflict' });
    const [stored] = await store.listEvents({ limit: 5 });
    expect(stored!.state).toBe('raised');
    expect(await rejectedCount('seq-conflict')).toBe(1);
  });

  it('stores an event whose clock is off by more than maxSkew, flagged', async () => {
    const envelope = signedEvent(agent, 1, { ts: '2026-11-26T14:24:59.000Z' }); // 5 min 1 s early
    expect(await send(envelope)).toMatchObject({ kind: 'event', skewed: true });
    const inside = signedEvent(agent, 2, { ts: '2026-11-26T14:34:59.000+00:00' });
    expect(await send(inside)).toMatchObject({ kind: 'event', skewed: false });
    const [second, first] = await store.listEvents({ limit: 5 });
    expect(first!.skewed).toBe(true);
    expect(second!.skewed).toBe(false);
    expect(second!.ts).toBe('2026-11-26T14:34:59.000Z');
    expect(await metrics.skewed.get()).toMatchObject({ values: [{ value: 1 }] });
  });

  it('passes event types newer than this collector (not in the catalogue) through', async () => {
    const envelope = eventAt(1, { type: 'net.future.thing', data: { anything: true } });
    expect(await send(envelope)).toMatchObject({ kind: 'event' });
  });

  it('verifies heartbeats and records liveness and the reported seq', async () => {
    clock.advance(1000);
    const heartbeat = signMessage(
      {
        v: 1,
        agent: agent.id,
        ts: clock.now().toISOString(),
        type: 'agent.heartbeat',
        lastSeq: 4,
        alg: 'ed25519',
      },
      agent.sign,
    );
    expect(await send(heartbeat, agentTopic(agent.id, 'heartbeat'))).toEqual({
      kind: 'heartbeat',
      agentId: agent.id,
    });
    expect(await store.getAgent(agent.id)).toMatchObject({
      online: true,
      reportedSeq: 4,
      lastSeen: '2026-11-26T14:30:01.000Z',
    });
    const forged = { ...heartbeat, lastSeq: 9 };
    expect(await send(forged, agentTopic(agent.id, 'heartbeat'))).toMatchObject({ reason: 'bad-signature' });
  });

  it('applies online/offline status and refuses other words', async () => {
    const status = agentTopic(agent.id, 'status');
    expect(await send(Buffer.from('online'), status)).toMatchObject({ kind: 'status', online: true });
    expect((await store.getAgent(agent.id))!.online).toBe(true);
    expect(await send(Buffer.from('offline'), status)).toMatchObject({ kind: 'status', online: false });
    expect((await store.getAgent(agent.id))!.online).toBe(false);
    expect(await send(Buffer.alloc(0), status)).toEqual({ kind: 'ignored' });
    expect(await send(Buffer.from('pwned'), status)).toMatchObject({ reason: 'schema' });
    expect(await send(Buffer.from('online'), agentTopic(makeTestAgent().id, 'status'))).toMatchObject({
      reason: 'unknown-agent',
    });
  });

  it('survives a store failure: counted as internal-error, never thrown', async () => {
    await store.close();
    const outcome = await send(eventAt(1));
    expect(outcome).toMatchObject({ kind: 'rejected', reason: 'internal-error' });
    expect(await rejectedCount('internal-error')).toBe(1);
    store = openSqliteStore(join(dir.path, 'smew.db'));
  });

  it('a batch whose store fails is refused whole as internal-error, then stored whole when resent', async () => {
    const batch = signEventBatch(
      { agent: agent.id, alg: 'ed25519', events: [1, 2, 3, 4, 5].map((seq) => JSON.stringify(eventAt(seq))) },
      agent.sign,
    );
    const insertEvents = store.insertEvents.bind(store);
    // Every insert of the batch fails (a full disk, say): none may be left as an unhandled rejection.
    store.insertEvents = () => Promise.reject(new Error('disk full'));
    expect(await send(batch)).toMatchObject({ kind: 'rejected', reason: 'internal-error' });
    expect(await rejectedCount('internal-error')).toBe(1);
    store.insertEvents = insertEvents;
    const resent = await send(batch);
    expect(resent.kind).toBe('batch');
    expect(resent.kind === 'batch' && resent.events.map((e) => e.outcome.kind)).toEqual(
      Array(5).fill('event'),
    );
    expect((await store.listEvents({ agentId: agent.id, limit: 10 })).map((e) => e.seq).sort()).toEqual([
      1, 2, 3, 4, 5,
    ]);
  });

  it('handles a flood of garbage without stalling', async () => {
    const junk = Array.from({ length: 500 }, (_, i) => Buffer.from(i % 2 ? `{"v":${i}` : `${'x'.repeat(i)}`));
    const outcomes = await Promise.all(junk.map((payload) => send(payload)));
    expect(outcomes.every((o) => o.kind === 'rejected')).toBe(true);
    expect(await send(eventAt(1))).toMatchObject({ kind: 'event' });
  });
});
