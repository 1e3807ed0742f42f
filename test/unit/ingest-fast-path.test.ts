import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { EventWriter } from '../../collector/ingest/event-writer.js';
import type { IngestPipeline } from '../../collector/ingest/pipeline.js';
import { ingestClientSession, ingestTopics, subscribeIngest } from '../../collector/ingest/subscription.js';
import { threadOf, VerifyPool } from '../../collector/ingest/verify-pool.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { sm2Suite } from '../../shared/crypto/sm2.js';
import { signMessage } from '../../shared/envelope.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import { makeTestAgent, signedEvent } from '../support/collector-harness.js';
import { eventually } from '../support/eventually.js';
import { AGENT, enrollAgentIn, event } from './store-contract.js';

describe('VerifyPool (signature checks on worker threads)', () => {
  const pool = new VerifyPool(2);
  afterAll(() => pool.close());

  it('accepts good signatures and refuses tampered, foreign-key and garbage ones, in one batch', async () => {
    const agent = makeTestAgent();
    const other = makeTestAgent();
    const good = JSON.stringify(signedEvent(agent, 1));
    const tampered = good.replace('"seq":1', '"seq":2');
    const sm2Keys = sm2Suite.generateKeyPair();
    const sm2Signed = JSON.stringify(
      signMessage({ v: 1, agent: 'x', alg: 'sm2-sm3' }, sm2Suite.signer(sm2Keys.privateKey)),
    );
    const answers = await Promise.all([
      pool.verify({ alg: 'ed25519', publicKey: agent.keys.publicKey, text: good }),
      pool.verify({ alg: 'ed25519', publicKey: agent.keys.publicKey, text: tampered }),
      pool.verify({ alg: 'ed25519', publicKey: other.keys.publicKey, text: good }),
      pool.verify({ alg: 'ed25519', publicKey: agent.keys.publicKey, text: '{not json' }),
      pool.verify({ alg: 'ed25519', publicKey: 'not a key', text: good }),
      pool.verify({ alg: 'sm2-sm3', publicKey: sm2Keys.publicKey, text: sm2Signed }),
    ]);
    expect(answers).toEqual([true, false, false, false, false, true]);
  });

  it('keeps every answer with its request across many batches', async () => {
    const agents = [makeTestAgent(), makeTestAgent(), makeTestAgent()];
    const requests = Array.from({ length: 300 }, (_, i) => {
      const agent = agents[i % 3]!;
      const text = JSON.stringify(signedEvent(agent, i + 1));
      // Every fifth is checked against the wrong key.
      const key = i % 5 === 0 ? agents[(i + 1) % 3]!.keys.publicKey : agent.keys.publicKey;
      return { request: { alg: 'ed25519', publicKey: key, text }, expected: i % 5 !== 0 };
    });
    const answers = await Promise.all(requests.map((r) => pool.verify(r.request)));
    expect(answers).toEqual(requests.map((r) => r.expected));
  });

  it('gives each key one thread, and spreads many keys evenly over the threads', () => {
    const keys = Array.from({ length: 2000 }, () => ed25519Suite.generateKeyPair().publicKey);
    for (const threads of [2, 3, 8]) {
      const counts = Array<number>(threads).fill(0);
      for (const key of keys) {
        const thread = threadOf(key, threads);
        expect(threadOf(key, threads)).toBe(thread);
        counts[thread]! += 1;
      }
      const even = keys.length / threads;
      for (const count of counts) expect(Math.abs(count - even)).toBeLessThan(even * 0.2);
    }
  });

  it('refuses work once closed', async () => {
    const closed = new VerifyPool(1);
    await closed.close();
    await expect(closed.verify({ alg: 'ed25519', publicKey: 'k', text: '{}' })).rejects.toThrow(/closed/);
  });
});

describe('EventWriter (batched inserts)', () => {
  it('writes calls made together as one batch and answers each caller', async () => {
    const store = openSqliteStore(':memory:');
    await enrollAgentIn(store);
    const batches: number[] = [];
    const writer = new EventWriter({
      insertEvents: (events) => {
        batches.push(events.length);
        return store.insertEvents(events);
      },
    });
    const results = await Promise.all([1, 2, 3, 2].map((seq) => writer.insertEvent(event(seq))));
    expect(results.map((r) => r.outcome)).toEqual(['inserted', 'inserted', 'inserted', 'exists']);
    expect(batches).toEqual([4]);
    // Calls arriving while a batch is written form the next one.
    const more = await Promise.all([4, 5].map((seq) => writer.insertEvent(event(seq))));
    expect(more.map((r) => r.outcome)).toEqual(['inserted', 'inserted']);
    expect(await store.advanceAckedSeq(AGENT)).toBe(5);
    await store.close();
  });

  it('fails every caller of a batch the store refused', async () => {
    const writer = new EventWriter({ insertEvents: () => Promise.reject(new Error('database gone')) });
    const results = await Promise.allSettled([writer.insertEvent(event(1)), writer.insertEvent(event(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});

/** Stands in for mqtt.js's client: delivers packets one at a time, each after the previous `done`. */
class FakeClient extends EventEmitter {
  handleMessage: (packet: { topic: string; payload: Buffer }, done: () => void) => void = (_p, done) =>
    done();
  subscribed: string[] = [];
  async subscribeAsync(topics: string[]) {
    this.subscribed = topics;
    return topics.map((topic) => ({ topic, qos: 1 }));
  }
  /** Delivers the packets like mqtt.js: the next only when the previous one's callback ran. */
  deliver(packets: { topic: string; payload: Buffer }[]): { taken: () => number; handedBack: () => number } {
    let taken = 0;
    let handedBack = 0;
    const next = () => {
      const packet = packets[taken];
      if (!packet) return;
      taken += 1;
      this.handleMessage(packet, () => {
        handedBack += 1;
        setImmediate(next);
      });
    };
    next();
    return { taken: () => taken, handedBack: () => handedBack };
  }
}

describe('subscribeIngest (bounded window, shared subscriptions)', () => {
  const logger = createLogger('test', 'silent');

  it('handles up to maxInFlight messages at once and stops taking more until one finishes', async () => {
    const client = new FakeClient();
    const releases: (() => void)[] = [];
    const order: string[] = [];
    const pipeline = {
      handle: (topic: string, payload: Buffer) =>
        new Promise((resolve) => {
          order.push(`${topic.split('/')[3]}:${payload.toString()}`);
          releases.push(() => resolve({ kind: 'ignored' }));
        }),
    } as unknown as IngestPipeline;
    await subscribeIngest(client as unknown as MqttClient, pipeline, logger, { maxInFlight: 3 });
    expect(client.subscribed).toEqual(ingestTopics());

    const agents = ['ag-a', 'ag-b', 'ag-c', 'ag-d', 'ag-e'];
    const delivery = client.deliver(
      agents.map((agent, i) => ({ topic: agentTopic(agent, 'events'), payload: Buffer.from(String(i)) })),
    );
    await eventually(() => order.length === 3, { what: 'three messages in hand' });
    // The first two callbacks came back at once; the third's is held, so (like mqtt.js) the client
    // reads nothing more from the socket: three taken, two handed back.
    await eventually(() => delivery.handedBack() === 2, { what: 'two callbacks handed back' });
    expect(delivery.taken()).toBe(3);
    expect(order).toHaveLength(3);
    releases.shift()!();
    await eventually(() => order.length === 4, { what: 'a fourth message once one finished' });
    expect(delivery.taken()).toBe(4);
  });

  it("keeps one agent's messages in order while others go ahead", async () => {
    const client = new FakeClient();
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    const pipeline = {
      handle: (topic: string, payload: Buffer) =>
        new Promise((resolve) => {
          const name = `${topic.split('/')[3]}#${payload.toString()}`;
          started.push(name);
          finish.set(name, () => resolve({ kind: 'ignored' }));
        }),
    } as unknown as IngestPipeline;
    await subscribeIngest(client as unknown as MqttClient, pipeline, logger, { maxInFlight: 10 });
    client.deliver([
      { topic: agentTopic('ag-a', 'heartbeat'), payload: Buffer.from('1') },
      { topic: agentTopic('ag-a', 'status'), payload: Buffer.from('2') },
      { topic: agentTopic('ag-b', 'events'), payload: Buffer.from('1') },
    ]);
    // ag-b is not held up by ag-a; ag-a's status waits for its heartbeat.
    await eventually(() => started.includes('ag-b#1'), { what: "ag-b's event started" });
    expect(started).toEqual(['ag-a#1', 'ag-b#1']);
    finish.get('ag-a#1')!();
    await eventually(() => started.length === 3, { what: "ag-a's status after its heartbeat" });
    expect(started).toEqual(['ag-a#1', 'ag-b#1', 'ag-a#2']);
  });

  it('subscribes as $share/<group>/… with a client id and clean session of its own', async () => {
    const client = new FakeClient();
    const pipeline = { handle: async () => ({ kind: 'ignored' }) } as unknown as IngestPipeline;
    await subscribeIngest(client as unknown as MqttClient, pipeline, logger, {
      sharedGroup: 'smew',
      maxInFlight: 1,
    });
    expect(client.subscribed).toEqual([
      '$share/smew/smew/v1/agents/+/events',
      '$share/smew/smew/v1/agents/+/heartbeat',
      '$share/smew/smew/v1/agents/+/status',
    ]);
    expect(ingestClientSession('co-x')).toEqual({ clientId: 'smew-co-x', clean: false });
    const a = ingestClientSession('co-x', 'smew');
    const b = ingestClientSession('co-x', 'smew');
    expect(a.clean).toBe(true);
    expect(a.clientId).toMatch(/^smew-co-x-[0-9a-f]{8}$/);
    expect(a.clientId).not.toBe(b.clientId);
  });
});
