import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import type { CollectorCondition, ConditionSink } from '../../collector/warnings/conditions.js';
import { ManualClock } from '../../shared/clock.js';
import { signMessage } from '../../shared/envelope.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import { eventually } from '../support/eventually.js';
import {
  enrollAgent,
  signedEvent,
  tempDir,
  type TestAgent,
  testCollectorConfig,
} from '../support/collector-harness.js';

/**
 * Liveness through the real collector: embedded aedes, SQLite, the ingest pipeline and the
 * 第64条 warnings stage. Time is a ManualClock moved by the test; check() is called by hand.
 * Conditions pass through a recording sink that forwards to the real warnings stage.
 */
const logger = createLogger('test', 'silent');

describe('liveness at the collector', () => {
  let dir: ReturnType<typeof tempDir>;
  let clock: ManualClock;
  let collector: RunningCollector | undefined;
  let client: MqttClient | undefined;
  let seen: CollectorCondition[];
  const sink: ConditionSink = {
    async report(condition) {
      seen.push(condition);
      await collector?.warnings.report(condition);
    },
  };

  beforeEach(() => {
    dir = tempDir('smew-liveness-');
    clock = new ManualClock(new Date());
    seen = [];
  });
  afterEach(async () => {
    await client?.endAsync(true);
    client = undefined;
    await collector?.stop();
    collector = undefined;
    dir.remove();
  });

  async function start(): Promise<RunningCollector> {
    collector = await startCollector(
      testCollectorConfig(dir.path, {
        // Only the test's check() calls run; the timer never fires within a test.
        liveness: { lostGrace: '2m', checkInterval: '1h' },
      }),
      { clock, logger, conditionSink: sink },
    );
    return collector;
  }

  async function enroll(running: RunningCollector): Promise<{ agent: TestAgent; password: string }> {
    const { agent, reply } = await enrollAgent(running);
    return { agent, password: reply.broker.password };
  }

  async function connect(running: RunningCollector, agent: TestAgent, password: string): Promise<MqttClient> {
    client = await mqtt.connectAsync(
      running.brokerUrl,
      {
        clientId: agent.id,
        username: agent.id,
        password,
        reconnectPeriod: 0,
        protocolVersion: 4,
        clean: false,
        will: {
          topic: agentTopic(agent.id, 'status'),
          payload: Buffer.from('offline'),
          qos: 1,
          retain: true,
        },
      },
      false,
    );
    await client.publishAsync(agentTopic(agent.id, 'status'), 'online', { qos: 1, retain: true });
    return client;
  }

  async function heartbeat(
    running: RunningCollector,
    agent: TestAgent,
    lastSeq: number,
    intervalMs = 10_000,
  ) {
    const message = signMessage(
      {
        v: 1,
        agent: agent.id,
        ts: clock.now().toISOString(),
        type: 'agent.heartbeat',
        lastSeq,
        intervalMs,
        alg: 'ed25519',
      },
      agent.sign,
    );
    const before = (await running.store.transport.getLiveness(agent.id))?.lastHeartbeatAt;
    const expected = clock.now().toISOString();
    await client!.publishAsync(agentTopic(agent.id, 'heartbeat'), JSON.stringify(message), { qos: 1 });
    await eventually(
      async () => {
        const record = await running.store.transport.getLiveness(agent.id);
        return (
          record?.lastHeartbeatAt === expected &&
          record.reportedSeq >= lastSeq &&
          record.lastHeartbeatAt !== before
        );
      },
      { what: 'the heartbeat to be recorded' },
    );
  }

  async function publishEvent(running: RunningCollector, agent: TestAgent, seq: number, overrides = {}) {
    const envelope = signedEvent(agent, seq, { ts: clock.now().toISOString(), ...overrides });
    await client!.publishAsync(agentTopic(agent.id, 'events'), JSON.stringify(envelope), { qos: 1 });
    await eventually(
      async () =>
        (await running.store.listEvents({ agentId: agent.id, limit: 1000 })).some((e) => e.seq === seq),
      {
        what: `event ${seq} stored`,
      },
    );
  }

  const kinds = () => seen.map((c) => `${c.type}:${c.state}`);

  it('offline after three missed heartbeats (not before), cleared on return, warning opened; state survives a restart', async () => {
    let running = await start();
    const { agent, password } = await enroll(running);
    await connect(running, agent, password);
    await heartbeat(running, agent, 0, 10_000);

    clock.advance(30_000);
    await running.liveness.check();
    expect(seen).toEqual([]);
    clock.advance(1);
    await running.liveness.check();
    expect(kinds()).toEqual(['agent.offline:raised']);
    expect(seen[0]).toMatchObject({
      key: `agent.offline:${agent.id}`,
      unit: '测试单位',
      agent: agent.id,
      severity: 'high',
      data: { reason: 'missed-heartbeats', intervalMs: 10_000 },
    });
    // The real warnings stage opened an agent-offline warning.
    const warnings = await running.store.warnings.listWarnings({ limit: 10 });
    expect(warnings.map((w) => w.rule)).toContain('agent-offline');

    // Checking again raises nothing new; nor does a restart of the collector.
    await running.liveness.check();
    await client!.endAsync(true);
    client = undefined;
    await running.stop();
    running = await start();
    await running.liveness.check();
    expect(kinds()).toEqual(['agent.offline:raised']);

    // The agent returns: the stored offline condition is cleared.
    await connect(running, agent, password);
    await heartbeat(running, agent, 0, 10_000);
    expect(kinds()).toEqual(['agent.offline:raised', 'agent.offline:cleared']);
  });

  it('a Last Will marks the agent offline at once, without waiting for missed heartbeats', async () => {
    const running = await start();
    const { agent, password } = await enroll(running);
    await connect(running, agent, password);
    await heartbeat(running, agent, 0, 30_000);
    // Drop the TCP connection without DISCONNECT: the broker publishes the Last Will.
    client!.stream.destroy();
    client = undefined;
    await eventually(() => seen.length > 0, { what: 'agent.offline from the Last Will' });
    expect(seen[0]).toMatchObject({ type: 'agent.offline', state: 'raised', data: { reason: 'last-will' } });
  });

  it('a seq gap seen through heartbeats that is not filled within the grace raises agent.events.lost; filling it clears', async () => {
    const running = await start();
    const { agent, password } = await enroll(running);
    await connect(running, agent, password);
    await publishEvent(running, agent, 1);
    await publishEvent(running, agent, 2);
    await publishEvent(running, agent, 4);
    await heartbeat(running, agent, 4, 60_000);
    await eventually(async () => (await running.store.getAgent(agent.id))?.ackedSeq === 2, {
      what: 'watermark 2',
    });

    await running.liveness.check();
    clock.advance(119_000);
    await heartbeat(running, agent, 4, 60_000);
    await running.liveness.check();
    expect(seen).toEqual([]);
    clock.advance(1_000);
    await running.liveness.check();
    expect(kinds()).toEqual(['agent.events.lost:raised']);
    expect(seen[0]!.data).toMatchObject({ fromSeq: 3, toSeq: 4, missing: 2 });

    await publishEvent(running, agent, 3);
    await eventually(async () => (await running.store.getAgent(agent.id))?.ackedSeq === 4, {
      what: 'watermark 4',
    });
    await running.liveness.check();
    expect(kinds()).toEqual(['agent.events.lost:raised', 'agent.events.lost:cleared']);
  });

  it('seqs declared dropped by a signed agent.queue.overflow move the watermark on and are not a loss', async () => {
    const running = await start();
    const { agent, password } = await enroll(running);
    await connect(running, agent, password);
    await publishEvent(running, agent, 1);
    // Seqs 2–5 were dropped from the agent's full outbox; seq 6 reports them.
    await publishEvent(running, agent, 6, {
      type: 'agent.queue.overflow',
      key: 'agent.queue.overflow',
      data: { dropped: 4, droppedTotal: 4, seqs: [[2, 5]] },
    });
    await eventually(async () => (await running.store.getAgent(agent.id))?.ackedSeq === 6, {
      what: 'the watermark to pass the declared drops',
    });
    expect(await running.store.transport.listDeclaredDrops(agent.id)).toEqual([
      { agentId: agent.id, fromSeq: 2, toSeq: 5, declaredBySeq: 6 },
    ]);
    await heartbeat(running, agent, 6);
    clock.advance(600_000);
    await heartbeat(running, agent, 6);
    await running.liveness.check();
    expect(seen).toEqual([]);
  });
});
