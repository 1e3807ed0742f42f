import { createServer } from 'node:net';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../collector/auth/secrets.js';
import { mayPublish, maySubscribe } from '../../collector/broker/access-control.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../collector/broker/embedded-broker.js';
import { openSqliteStore, type SqliteStore } from '../../collector/store/sqlite-store.js';
import { UserError } from '../../shared/errors.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic, allAgentsTopic } from '../../shared/topics.js';
import { tempDir } from '../support/collector-harness.js';
import { eventually } from '../support/eventually.js';

const A = 'ag-aaaaaaaaaaaaaaaaaaaa';
const B = 'ag-bbbbbbbbbbbbbbbbbbbb';
const NOW = '2026-11-26T12:00:00.000Z';

describe('broker access rules', () => {
  const agentA = { kind: 'agent', agentId: A } as const;
  const collector = { kind: 'collector' } as const;

  it('lets an agent publish only its own events, heartbeat and status', () => {
    expect(mayPublish(agentA, agentTopic(A, 'events'))).toBe(true);
    expect(mayPublish(agentA, agentTopic(A, 'heartbeat'))).toBe(true);
    expect(mayPublish(agentA, agentTopic(A, 'status'))).toBe(true);
    expect(mayPublish(agentA, agentTopic(A, 'ack'))).toBe(false);
    expect(mayPublish(agentA, agentTopic(A, 'policy'))).toBe(false);
    expect(mayPublish(agentA, agentTopic(B, 'events'))).toBe(false);
    expect(mayPublish(agentA, '$SYS/broker/clients')).toBe(false);
    expect(mayPublish(agentA, 'smew/v1/agents/ag-aaaaaaaaaaaaaaaaaaaa/events/extra')).toBe(false);
  });

  it('lets an agent subscribe only to its own ack and policy, without wildcards', () => {
    expect(maySubscribe(agentA, agentTopic(A, 'ack'))).toBe(true);
    expect(maySubscribe(agentA, agentTopic(A, 'policy'))).toBe(true);
    expect(maySubscribe(agentA, agentTopic(B, 'ack'))).toBe(false);
    expect(maySubscribe(agentA, 'smew/v1/agents/+/ack')).toBe(false);
    expect(maySubscribe(agentA, `smew/v1/agents/${A}/#`)).toBe(false);
    expect(maySubscribe(agentA, '#')).toBe(false);
    expect(maySubscribe(agentA, '$SYS/#')).toBe(false);
  });

  it('lets the collector read every agent and write acks and policies', () => {
    expect(maySubscribe(collector, allAgentsTopic('events'))).toBe(true);
    expect(maySubscribe(collector, allAgentsTopic('status'))).toBe(true);
    expect(maySubscribe(collector, '#')).toBe(false);
    expect(mayPublish(collector, agentTopic(A, 'ack'))).toBe(true);
    expect(mayPublish(collector, agentTopic(A, 'policy'))).toBe(true);
    expect(mayPublish(collector, agentTopic(A, 'events'))).toBe(false);
    expect(mayPublish(collector, 'smew/v1/agents/+/ack')).toBe(false);
  });
});

describe('embedded broker with a real MQTT client', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let broker: EmbeddedBroker;
  const clients: MqttClient[] = [];

  async function enroll(agentId: string, secret: string, tokenHash: string): Promise<void> {
    await store.createEnrollmentToken({
      tokenHash,
      unit: 'u',
      createdAt: NOW,
      expiresAt: '2099-01-01T00:00:00Z',
    });
    await store.enrollAgent({
      tokenHash,
      agentId,
      alg: 'ed25519',
      publicKey: `key-of-${agentId}`,
      hostname: undefined,
      version: undefined,
      brokerSecretHash: hashSecret(secret),
      now: NOW,
    });
  }

  async function connect(options: mqtt.IClientOptions): Promise<MqttClient> {
    const client = await mqtt.connectAsync(
      broker.url,
      { reconnectPeriod: 0, protocolVersion: 4, ...options },
      false,
    );
    clients.push(client);
    return client;
  }
  const asAgent = (id: string, secret: string) => connect({ clientId: id, username: id, password: secret });

  beforeEach(async () => {
    dir = tempDir('smew-broker-');
    store = openSqliteStore(join(dir.path, 'smew.db'));
    await enroll(A, 'secret-a', 't1');
    await enroll(B, 'secret-b', 't2');
    broker = await startEmbeddedBroker({
      listen: '127.0.0.1:0',
      store,
      logger: createLogger('test', 'silent'),
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await broker.close();
    await store.close();
    dir.remove();
  });

  it('listens on a free port and names it in its URL', () => {
    expect(broker.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(broker.url).not.toMatch(/:1883$/);
  });

  it('refuses connections without credentials, with a wrong secret, or as someone else', async () => {
    await expect(connect({ clientId: A })).rejects.toThrow(/Bad username or password/i);
    await expect(asAgent(A, 'secret-b')).rejects.toThrow(/Bad username or password/i);
    await expect(connect({ clientId: B, username: A, password: 'secret-a' })).rejects.toThrow(
      /Bad username/i,
    );
    await expect(asAgent('ag-cccccccccccccccccccc', 'x')).rejects.toThrow(/Bad username/i);
    await expect(connect({ clientId: 'c', username: 'smew-collector', password: 'guess' })).rejects.toThrow(
      /Bad username/i,
    );
    await expect(asAgent(A, 'secret-a')).resolves.toBeDefined();
  });

  it('refuses a revoked agent once its cached credential is dropped', async () => {
    await (await asAgent(A, 'secret-a')).endAsync();
    await store.revokeAgent(A, NOW);
    broker.credentials.invalidate(A);
    await expect(asAgent(A, 'secret-a')).rejects.toThrow(/Bad username/i);
  });

  it('never delivers a publication on another agent’s topic and drops the offender', async () => {
    const collector = await connect({ clientId: 'smew-test', ...broker.internalCredentials });
    const seen: string[] = [];
    collector.on('message', (topic) => seen.push(topic));
    await collector.subscribeAsync(allAgentsTopic('events'), { qos: 1 });

    const a = await asAgent(A, 'secret-a');
    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
    a.publish(agentTopic(B, 'events'), '{"forged":true}', { qos: 1 });
    await closed;

    const b = await asAgent(B, 'secret-b');
    await b.publishAsync(agentTopic(B, 'events'), '{"own":true}', { qos: 1 });
    // The forgery was refused (A dropped) before B connected: B's own message is the first to arrive.
    await eventually(() => seen.length > 0, { what: 'B’s own publication' });
    expect(seen).toEqual([agentTopic(B, 'events')]);
  });

  it('refuses publications outside smew ($SYS, acks)', async () => {
    const a = await asAgent(A, 'secret-a');
    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
    a.publish(agentTopic(A, 'ack'), '{"ack":999999}', { qos: 1 });
    await closed;
  });

  it('answers a subscription to another agent’s ack with a failure code', async () => {
    const a = await asAgent(A, 'secret-a');
    for (const forbidden of [
      agentTopic(B, 'ack'),
      agentTopic(B, 'policy'),
      'smew/v1/agents/+/ack',
      '#',
      '$SYS/#',
    ]) {
      // mqtt.js turns a SUBACK failure code (0x80) into a rejected subscribe.
      const refusal = await a
        .subscribeAsync(forbidden, { qos: 1 })
        .catch((err: { packet?: { granted?: number[] } }) => err);
      expect(refusal, forbidden).toMatchObject({ packet: { granted: [128] } });
    }
    expect(a.connected).toBe(true);
    const granted = await a.subscribeAsync([agentTopic(A, 'ack'), agentTopic(A, 'policy')], { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1, 1]);
  });

  it('refuses a busy port with a UserError naming the address and broker.listen', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as { port: number }).port;
    try {
      const attempt = startEmbeddedBroker({
        listen: `127.0.0.1:${port}`,
        store,
        logger: createLogger('t', 'silent'),
      });
      await expect(attempt).rejects.toThrow(UserError);
      await expect(attempt).rejects.toThrow(`broker.listen: 127.0.0.1:${port} is already in use`);
    } finally {
      squatter.close();
    }
  });
});
