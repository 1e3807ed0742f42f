import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { connect, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { agentConfigSchema, type AgentConfig } from '../../agent/config.js';
import { wirelessPresentDetector } from '../../agent/detectors/wireless-present.js';
import { netdevProbe } from '../../agent/probes/netdev.js';
import { writeIdentity, type AgentIdentity } from '../../agent/identity.js';
import { reconnectDelay } from '../../agent/publisher.js';
import { startAgent, type RunningAgent } from '../../agent/runner.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { signMessage, verifyMessage, type EventEnvelope, type Heartbeat } from '../../shared/envelope.js';
import { agentIdFromPublicKey, collectorIdFromPublicKey } from '../../shared/identity.js';
import { agentTopic, allAgentsTopic } from '../../shared/topics.js';
import { eventsOf } from '../support/agent-events.js';
import { eventually } from '../support/eventually.js';
import { copyFixtureHost, type FixtureHost } from '../support/fixture-host.js';
import { subscribeUntilAcked } from '../support/mqtt-subscribe.js';

/**
 * The running agent against a real MQTT broker (aedes, in process) and a stand-in collector that
 * verifies events and answers with signed acks, as the real one does.
 */
const silent = pino({ level: 'silent' });
const collectorKeys = ed25519Suite.generateKeyPair();
const collectorId = collectorIdFromPublicKey(collectorKeys.publicKey);
const signAsCollector = ed25519Suite.signer(collectorKeys.privateKey);

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

interface Broker {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Drops one client's connection without a DISCONNECT, as a crash or a network cut would. */
  dropClient(clientId: string): void;
}

async function startBroker(port = 0): Promise<Broker> {
  const aedes = await Aedes.createBroker();
  const clients = new Map<string, import('aedes').Client>();
  aedes.on('client', (client) => clients.set(client.id, client));
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  let closed = false;
  const broker: Broker = {
    url: `mqtt://127.0.0.1:${bound}`,
    port: bound,
    async close() {
      if (closed) return;
      closed = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    dropClient(clientId) {
      clients.get(clientId)?.close();
    },
  };
  cleanup.push(() => broker.close());
  return broker;
}

/** Stores verified events, acks the highest contiguous seq, and records heartbeats and status. */
class StandInCollector {
  readonly events: EventEnvelope[] = [];
  readonly received: EventEnvelope[] = [];
  readonly heartbeats: Heartbeat[] = [];
  readonly status: string[] = [];
  acking = true;
  private client!: MqttClient;

  constructor(
    private readonly broker: Broker,
    private readonly agentPublicKey: string,
  ) {}

  async start(): Promise<void> {
    this.client = connect(this.broker.url, { clientId: 'stand-in-collector', reconnectPeriod: 100 });
    cleanup.push(() => this.client.endAsync(true));
    const verify = ed25519Suite.verifier(this.agentPublicKey);
    this.client.on('message', (topic, payload) => {
      if (topic.endsWith('/status')) {
        this.status.push(payload.toString());
        return;
      }
      if (topic.endsWith('/heartbeat')) {
        const heartbeat = JSON.parse(payload.toString()) as Heartbeat;
        if (!verifyMessage(heartbeat, verify)) throw new Error(`unverifiable message on ${topic}`);
        this.heartbeats.push(heartbeat);
        return;
      }
      // A backlog may come as a signed batch: its signature covers each event's own signed text.
      const events = eventsOf(payload, verify);
      for (const event of events) {
        this.received.push(event);
        if (!this.events.some((e) => e.seq === event.seq)) this.events.push(event);
      }
      this.events.sort((a, b) => a.seq - b.seq);
      if (this.acking) this.ack(events[0]!.agent);
    });
    await subscribeUntilAcked(
      this.client,
      [allAgentsTopic('events'), allAgentsTopic('heartbeat'), allAgentsTopic('status')],
      { qos: 1 },
    );
  }

  /** Disconnects for good: a client left reconnecting would take the client id from a successor. */
  async stop(): Promise<void> {
    await this.client.endAsync(true);
  }

  ack(agent: string): void {
    let watermark = 0;
    while (this.events.some((e) => e.seq === watermark + 1)) watermark += 1;
    this.publishSigned(agentTopic(agent, 'ack'), {
      v: 1,
      agent,
      ack: watermark,
      ts: new Date().toISOString(),
      collector: collectorId,
      alg: 'ed25519',
    });
  }

  publishSigned(topic: string, message: Record<string, unknown>): void {
    this.client.publish(topic, JSON.stringify(signMessage(message, signAsCollector)), {
      qos: 1,
      retain: true,
    });
  }

  async publishRaw(topic: string, payload: string): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain: true });
  }

  kinds(): string[] {
    return this.events.map((e) => `${e.seq} ${e.type} ${e.state}`);
  }
}

function enrolledAgent(broker: Broker, host: FixtureHost, overrides: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'smew-agent-run-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const keys = ed25519Suite.generateKeyPair();
  const agentId = agentIdFromPublicKey(keys.publicKey);
  const identity: AgentIdentity = {
    agentId,
    ...keys,
    collectorUrl: 'http://127.0.0.1:1',
    unit: 'test',
    collector: { id: collectorId, alg: 'ed25519', publicKey: collectorKeys.publicKey },
    // The identity names a dead broker; the config's broker.url overrides it.
    broker: { url: 'mqtt://127.0.0.1:1', username: agentId, password: 'secret' },
    enrolledAt: '2026-01-01T00:00:00Z',
  };
  writeIdentity(dir, identity);
  const config: AgentConfig = agentConfigSchema.parse({
    identity: { dir },
    broker: { url: broker.url },
    scan: { interval: '50ms' },
    heartbeat: { interval: '200ms' },
    ack: { timeout: '400ms' },
    paths: { sysfs: host.sysfs, procfs: host.procfs, devfs: host.devfs },
    ...overrides,
  });
  return { identity, config, dir };
}

async function run(config: AgentConfig): Promise<RunningAgent> {
  const agent = await startAgent(config, {
    logger: silent,
    backoff: { initialMs: 50, maxMs: 400 },
    stopGraceMs: 1_000,
    // Only what these tests check; other detectors have their own tests.
    probes: [netdevProbe],
    detectors: [wirelessPresentDetector],
    inventory: false,
  });
  cleanup.push(() => agent.stop());
  return agent;
}

function fixtureHost(): FixtureHost {
  const host = copyFixtureHost('sys-wireless');
  cleanup.push(() => rmSync(host.root, { recursive: true, force: true }));
  return host;
}

describe('the running agent', () => {
  it('reports, gets acknowledged, clears, heartbeats, and says goodbye', async () => {
    const broker = await startBroker();
    const host = fixtureHost();
    const { identity, config } = enrolledAgent(broker, host);
    const collector = new StandInCollector(broker, identity.publicKey);
    await collector.start();
    const agent = await run(config);

    await eventually(() => collector.events.length >= 2, { what: 'started and raised' });
    expect(collector.kinds().slice(0, 2)).toEqual([
      '1 agent.started raised',
      '2 net.wireless.present raised',
    ]);
    const raised = collector.events[1]!;
    expect(raised).toMatchObject({
      agent: identity.agentId,
      key: 'net.wireless.present:wlp2s0',
      severity: 'high',
      data: { iface: 'wlp2s0', mac: '3c:f0:11:2a:7b:01', driver: 'iwlwifi' },
    });
    expect(collector.events[0]!.data).toMatchObject({
      version: expect.any(String),
      policyHash: expect.any(String),
    });
    await eventually(() => agent.pendingCount() === 0, { what: 'the outbox drained by acks' });
    expect(collector.status[0]).toBe('online');
    const heartbeat = await eventually(() => collector.heartbeats.find((h) => h.lastSeq >= 2));
    expect(heartbeat).toMatchObject({ type: 'agent.heartbeat', agent: identity.agentId, alg: 'ed25519' });

    host.unplug('wlp2s0');
    await eventually(() => collector.events.some((e) => e.state === 'cleared'), { what: 'cleared' });
    expect(collector.events[2]).toMatchObject({
      seq: 3,
      state: 'cleared',
      key: raised.key,
      data: raised.data,
    });

    await agent.stop();
    await eventually(() => collector.events.some((e) => e.type === 'agent.stopping'), {
      what: 'agent.stopping',
    });
    expect(collector.events.at(-1)).toMatchObject({ seq: 4, type: 'agent.stopping' });
    await eventually(() => collector.status.at(-1) === 'offline', { what: 'status offline' });
  });

  it('sends unacknowledged events again after the ack timeout, then stops when acked', async () => {
    const broker = await startBroker();
    const { identity, config } = enrolledAgent(broker, fixtureHost());
    const collector = new StandInCollector(broker, identity.publicKey);
    collector.acking = false;
    await collector.start();
    const agent = await run(config);
    await eventually(() => collector.received.filter((e) => e.seq === 2).length >= 2, {
      what: 'seq 2 sent twice',
    });
    expect(agent.pendingCount()).toBe(2);
    collector.acking = true;
    collector.ack(identity.agentId);
    await eventually(() => agent.pendingCount() === 0, { what: 'acked' });
    const sent = collector.received.length;
    // Three heartbeats after the ack span more than ack.timeout (2 × 200 ms ≥ 400 ms) of the agent's
    // own time; a resend would have been due before the third, and one connection keeps its order.
    const heartbeats = collector.heartbeats.length;
    await eventually(() => collector.heartbeats.length >= heartbeats + 3, {
      what: 'three heartbeats after the ack',
    });
    expect(collector.received.length).toBe(sent);
  });

  it('keeps events while the broker is down, reconnects with backoff and delivers them in order', async () => {
    const broker = await startBroker();
    const host = fixtureHost();
    const { identity, config } = enrolledAgent(broker, host);
    let collector = new StandInCollector(broker, identity.publicKey);
    await collector.start();
    const agent = await run(config);
    await eventually(() => agent.pendingCount() === 0 && collector.events.length === 2, {
      what: 'first events',
    });

    const port = broker.port;
    // This collector goes with its broker. Left reconnecting (every 100 ms), it would come back to
    // the new broker with the same client id and the two would keep taking the session from each
    // other, and it would ack what the new one is meant to leave unacked.
    await collector.stop();
    await broker.close();
    await eventually(() => !agent.isConnected(), { what: 'agent notices' });
    host.unplug('wlp2s0');
    await eventually(async () => (await agent.scanNow(), agent.pendingCount() === 1), {
      what: 'cleared, queued',
    });

    const again = await startBroker(port);
    collector = new StandInCollector(again, identity.publicKey);
    // It does not ack, so the resent event stays in the agent's outbox.
    collector.acking = false;
    await collector.start();
    await eventually(() => collector.received.some((e) => e.seq === 3), { what: 'resent after reconnect' });
    expect(collector.received.find((e) => e.seq === 3)).toMatchObject({ state: 'cleared' });
    expect(agent.pendingCount()).toBe(1);
  });

  it('leaves a retained offline status through its Last Will when the connection dies', async () => {
    const broker = await startBroker();
    const { identity, config } = enrolledAgent(broker, fixtureHost());
    const collector = new StandInCollector(broker, identity.publicKey);
    await collector.start();
    const agent = await run(config);
    await eventually(() => collector.status.includes('online'));
    broker.dropClient(identity.agentId);
    await eventually(() => collector.status.includes('offline'), { what: 'the Last Will' });
    // …and it comes back by itself, saying so.
    await eventually(() => agent.isConnected() && collector.status.at(-1) === 'online', {
      what: 'back online',
    });
  });

  it('ignores acks not signed by its collector', async () => {
    const broker = await startBroker();
    const { identity, config } = enrolledAgent(broker, fixtureHost());
    const collector = new StandInCollector(broker, identity.publicKey);
    collector.acking = false;
    await collector.start();
    const agent = await run(config);
    await eventually(() => collector.events.length >= 2);
    const forger = ed25519Suite.generateKeyPair();
    const client = connect(broker.url, { clientId: 'forger' });
    cleanup.push(() => client.endAsync(true));
    await client.publishAsync(
      agentTopic(identity.agentId, 'ack'),
      JSON.stringify(
        signMessage(
          {
            v: 1,
            agent: identity.agentId,
            ack: 99,
            ts: new Date().toISOString(),
            collector: collectorId,
            alg: 'ed25519',
          },
          ed25519Suite.signer(forger.privateKey),
        ),
      ),
      { qos: 1 },
    );
    // Then the collector's own ack of seq 1, delivered after the forged one: the agent taking it
    // (one left pending, not none) shows the forged ack was handled first, and ignored.
    collector.publishSigned(agentTopic(identity.agentId, 'ack'), {
      v: 1,
      agent: identity.agentId,
      ack: 1,
      ts: new Date().toISOString(),
      collector: collectorId,
      alg: 'ed25519',
    });
    await eventually(() => agent.pendingCount() < 2, { what: 'the genuine ack taken' });
    expect(agent.pendingCount()).toBe(1);
  });

  it('applies a policy pushed and signed by its collector', async () => {
    const broker = await startBroker();
    const { identity, config } = enrolledAgent(broker, fixtureHost());
    const collector = new StandInCollector(broker, identity.publicKey);
    await collector.start();
    const agent = await run(config);
    await eventually(() => collector.events.length >= 2);
    collector.publishSigned(agentTopic(identity.agentId, 'policy'), {
      v: 1,
      agent: identity.agentId,
      ts: new Date().toISOString(),
      collector: collectorId,
      policy: { level: '绝密', wireless: { approved: ['wlp2s0'] } },
      alg: 'ed25519',
    });
    await eventually(() => collector.events.some((e) => e.state === 'cleared'), {
      what: 'cleared by policy',
    });
    expect(collector.kinds().slice(2)).toEqual([
      '3 agent.config.changed raised',
      '4 net.wireless.present cleared',
    ]);
    expect(agent.policy().level).toBe('绝密');
  });

  describe('the stored policy (policy.json) is the collector’s signed message, checked at load and watched', () => {
    const signedPolicy = (agentId: string, policy: Record<string, unknown>, ts = new Date().toISOString()) =>
      JSON.stringify(
        signMessage(
          { v: 1, agent: agentId, ts, collector: collectorId, policy, alg: 'ed25519' },
          signAsCollector,
        ),
      );
    const tampers = (collector: StandInCollector) =>
      collector.events.filter((e) => e.type === 'agent.tamper' && e.data.what === 'policy');

    /** An agent started on a policy.json of `content`: it reports the NIC the file would approve. */
    async function startedOn(content: (agentId: string) => string) {
      const broker = await startBroker();
      const { identity, config, dir } = enrolledAgent(broker, fixtureHost());
      writeFileSync(join(dir, 'policy.json'), content(identity.agentId));
      const collector = new StandInCollector(broker, identity.publicKey);
      await collector.start();
      const agent = await run(config);
      await eventually(() => collector.events.some((e) => e.type === 'net.wireless.present'), {
        what: 'the unapproved NIC reported',
      });
      expect(tampers(collector)).toHaveLength(1);
      expect(agent.policy().wireless.approved).toEqual([]);
      return { identity, collector, agent };
    }

    it('ignores an unsigned policy.json, runs on the config’s policy and reports agent.tamper', async () => {
      // What older agents wrote, or anyone with write access: approves the wireless NIC.
      await startedOn(() =>
        JSON.stringify({ source: 'pushed', policy: { wireless: { approved: ['wlp2s0'] } } }),
      );
    });

    it('ignores a forged or far-future policy, and a later push still applies', async () => {
      const farFuture = new Date(Date.now() + 365 * 86_400_000).toISOString();
      const { identity, collector, agent } = await startedOn((agentId) =>
        signedPolicy(agentId, { wireless: { approved: ['wlp2s0'] } }, farFuture),
      );
      // Pushed: a far-future one (not accepted), one with a forged signature, then a good one.
      const topic = agentTopic(identity.agentId, 'policy');
      collector.publishSigned(topic, {
        v: 1,
        agent: identity.agentId,
        ts: farFuture,
        collector: collectorId,
        policy: { level: '绝密' },
        alg: 'ed25519',
      });
      const forged = JSON.parse(signedPolicy(identity.agentId, { level: '绝密' })) as Record<string, unknown>;
      forged.policy = { wireless: { approved: ['wlp2s0'] } };
      await collector.publishRaw(topic, JSON.stringify(forged));
      collector.publishSigned(topic, {
        v: 1,
        agent: identity.agentId,
        ts: new Date().toISOString(),
        collector: collectorId,
        policy: { level: '机密' },
        alg: 'ed25519',
      });
      await eventually(() => agent.policy().level === '机密', { what: 'the good push applied' });
      expect(agent.policy().wireless.approved).toEqual([]);
      await eventually(() => collector.events.some((e) => e.type === 'agent.config.changed'), {
        what: 'the change reported',
      });
      expect(collector.events.filter((e) => e.type === 'agent.config.changed')).toHaveLength(1);
    });

    it('keeps the signed message as received; a change on disk is agent.tamper and is undone', async () => {
      const broker = await startBroker();
      const { identity, config, dir } = enrolledAgent(broker, fixtureHost());
      const collector = new StandInCollector(broker, identity.publicKey);
      await collector.start();
      const agent = await run(config);
      await eventually(() => collector.events.length >= 2);
      const pushed = signedPolicy(identity.agentId, { level: '绝密' });
      await collector.publishRaw(agentTopic(identity.agentId, 'policy'), pushed);
      await eventually(() => agent.policy().level === '绝密', { what: 'the push applied' });
      const file = join(dir, 'policy.json');
      await eventually(() => readFileSync(file, 'utf8') === pushed, { what: 'the message kept as received' });
      // Someone edits the file to approve the NIC.
      writeFileSync(
        file,
        JSON.stringify({ source: 'pushed', policy: { wireless: { approved: ['wlp2s0'] } } }),
      );
      await eventually(() => tampers(collector).length === 1, { what: 'agent.tamper for the policy file' });
      await eventually(() => readFileSync(file, 'utf8') === pushed, { what: 'the file restored' });
      expect(agent.policy().level).toBe('绝密');
      expect(agent.policy().wireless.approved).toEqual([]);
    });
  });

  it('refuses to run without an identity, naming the directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smew-agent-none-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    await expect(
      startAgent(agentConfigSchema.parse({ identity: { dir } }), { logger: silent }),
    ).rejects.toThrow(new RegExp(`not enrolled: .*${dir}.*run smew agent enroll first`));
  });
});

describe('reconnect backoff', () => {
  it('doubles the window up to the cap, with half of it jittered', () => {
    const policy = { initialMs: 500, maxMs: 30_000 };
    expect([0, 1, 2, 3].map((n) => reconnectDelay(n, policy, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect([0, 1, 2, 3].map((n) => reconnectDelay(n, policy, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect(reconnectDelay(20, policy, () => 0.5)).toBe(22_500);
    expect(reconnectDelay(10_000, policy, () => 1)).toBe(30_000);
  });
});
