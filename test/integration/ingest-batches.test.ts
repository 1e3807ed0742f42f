import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { signEventBatch, verifyMessage } from '../../shared/envelope.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import {
  connectAsAgent,
  enrollOverHttp,
  makeTestAgent,
  nextAck,
  signedEvent,
  tempDir,
  testCollectorConfig,
  type TestAgent,
} from '../support/collector-harness.js';
import { eventually } from '../support/eventually.js';

/**
 * Batches (SPEC §5, an agent draining a backlog): one signature covers the events' own signed
 * texts. Through the embedded broker into a real collector: stored once each, each stored
 * envelope still verifiable alone, and a batch that was tampered with, or one bad event in it,
 * refused and quarantined without losing the rest.
 */
describe('signed event batches', () => {
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector;
  let apiKey: string;
  let agent: TestAgent;
  let client: MqttClient;

  beforeEach(async () => {
    dir = tempDir();
    collector = await startCollector(testCollectorConfig(dir.path), {
      logger: createLogger('test', 'fatal'),
    });
    const { token } = await createEnrollmentToken(collector.store, { unit: '测试单位' });
    apiKey = await createApiKey(collector.store, { name: 'test', role: 'viewer' });
    agent = makeTestAgent();
    const enrolled = await enrollOverHttp(collector.httpUrl, agent, token);
    client = await connectAsAgent(enrolled.broker.url, enrolled.broker.username, enrolled.broker.password);
    await client.subscribeAsync(agentTopic(agent.id, 'ack'), { qos: 1 });
  });
  afterEach(async () => {
    await client.endAsync();
    await collector.stop();
    dir.remove();
  });

  const texts = (from: number, to: number, overrides: Record<string, unknown> = {}) =>
    Array.from({ length: to - from + 1 }, (_, i) => JSON.stringify(signedEvent(agent, from + i, overrides)));
  const batchOf = (events: string[]) =>
    JSON.stringify(signEventBatch({ agent: agent.id, alg: 'ed25519', events }, agent.sign));
  const publish = (payload: string) =>
    client.publishAsync(agentTopic(agent.id, 'events'), payload, { qos: 1 });

  async function storedEnvelopes(): Promise<Record<string, unknown>[]> {
    const response = await fetch(`${collector.httpUrl}/api/v1/events?agent=${agent.id}&limit=500`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    const { items } = (await response.json()) as { items: { envelope: Record<string, unknown> }[] };
    return items.map((item) => item.envelope);
  }

  async function quarantined(): Promise<{ reason: string }[]> {
    const rows = await collector.store.listQuarantine({ limit: 50 });
    return rows.map((row) => ({ reason: row.reason }));
  }

  it('stores every event of a batch once, each still verifiable with the agent key alone', async () => {
    const acked = nextAck(client, agent.id, (ack) => ack.ack >= 40);
    const events = texts(1, 40);
    await publish(batchOf(events.slice(0, 32)));
    // A resend overlapping the first batch, as after an ack timeout: the repeats are dropped.
    await publish(batchOf(events.slice(24)));
    expect((await acked).ack).toBe(40);
    const stored = await storedEnvelopes();
    expect(stored.map((e) => e.seq).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    const verify = ed25519Suite.verifier(agent.keys.publicKey);
    expect(stored.every((envelope) => verifyMessage(envelope, verify))).toBe(true);
    expect(await quarantined()).toEqual([]);
  });

  it('refuses a batch whose signature no longer covers its events, and stores none of them', async () => {
    const events = texts(1, 3);
    const tampered = JSON.parse(batchOf(events)) as { events: string[] };
    // Each event still carries a good signature of its own; only the batch's is broken.
    tampered.events = [events[0]!, events[2]!];
    await publish(JSON.stringify(tampered));
    await eventually(async () => (await quarantined()).some((q) => q.reason === 'bad-signature'), {
      what: 'the tampered batch quarantined',
    });
    expect(await storedEnvelopes()).toEqual([]);
  });

  it('quarantines one bad event of a batch and stores the rest', async () => {
    const other = makeTestAgent();
    const events = [
      ...texts(1, 2),
      '{"not":"an event"}',
      JSON.stringify(signedEvent(other, 3)),
      JSON.stringify(signedEvent(agent, 4, { data: { iface: 42 } })),
      ...texts(5, 6),
    ];
    const acked = nextAck(client, agent.id, (ack) => ack.ack >= 2);
    await publish(batchOf(events));
    await acked;
    await eventually(async () => (await storedEnvelopes()).length === 4, { what: 'four events stored' });
    expect((await storedEnvelopes()).map((e) => e.seq).sort()).toEqual([1, 2, 5, 6]);
    expect((await quarantined()).map((q) => q.reason).sort()).toEqual(['schema', 'schema', 'topic-mismatch']);
  });

  it('quarantines an event whose own signature fails inside a validly signed batch', async () => {
    const forged = { ...signedEvent(agent, 2), sig: 'AAAA' };
    const altered = { ...signedEvent(agent, 3), severity: 'low' };
    const events = [...texts(1, 1), JSON.stringify(forged), JSON.stringify(altered), ...texts(4, 4)];
    await publish(batchOf(events));
    await eventually(async () => (await quarantined()).length === 2, {
      what: 'the two badly signed events quarantined',
    });
    expect((await quarantined()).map((q) => q.reason)).toEqual(['bad-signature', 'bad-signature']);
    await eventually(async () => (await storedEnvelopes()).length === 2, { what: 'the good events stored' });
    const stored = await storedEnvelopes();
    expect(stored.map((e) => e.seq).sort()).toEqual([1, 4]);
    const verify = ed25519Suite.verifier(agent.keys.publicKey);
    expect(stored.every((envelope) => verifyMessage(envelope, verify))).toBe(true);
    const metrics = await (await fetch(`${collector.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/smew_ingest_rejected_total\{reason="bad-signature"\} 2/);
  });

  it('refuses a batch too large or too long, and one sent under another agent’s topic', async () => {
    const tooMany = batchOf(texts(1, 65));
    await publish(tooMany);
    await eventually(async () => (await quarantined()).length === 1, { what: 'the long batch quarantined' });
    expect((await quarantined())[0]!.reason).toBe('schema');
    const impostor = makeTestAgent();
    const foreign = JSON.stringify(
      signEventBatch({ agent: impostor.id, alg: 'ed25519', events: texts(1, 2) }, impostor.sign),
    );
    await publish(foreign);
    await eventually(async () => (await quarantined()).length === 2, {
      what: 'the foreign batch quarantined',
    });
    expect((await quarantined()).map((q) => q.reason).sort()).toEqual(['schema', 'topic-mismatch']);
    expect(await storedEnvelopes()).toEqual([]);
  });
});
