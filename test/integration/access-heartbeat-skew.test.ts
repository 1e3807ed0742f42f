import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { signMessage } from '../../shared/envelope.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import { eventually } from '../support/eventually.js';
import {
  connectAsAgent,
  enrollAgent,
  signedEvent,
  tempDir,
  testCollectorConfig,
  type TestAgent,
} from '../support/collector-harness.js';

/**
 * Issue 14 item 7: a heartbeat is held to the clock rule events are held to (ingest.maxSkew). A
 * signed heartbeat dated 2001 — a replay, or an agent whose clock is wrong — proves nothing about
 * now: it is refused, quarantined and counted as `skewed`, and the agent's last heartbeat does
 * not move. An event that far off is still stored and flagged (a violation is never lost). Real
 * collector, embedded broker, SQLite.
 */
const logger = createLogger('test', 'silent');

describe('heartbeats and events under ingest.maxSkew', () => {
  const dir = tempDir('smew-skew-');
  let collector: RunningCollector;
  let client: MqttClient;
  let agent: TestAgent;

  async function metric(name: string, labels = ''): Promise<number> {
    const text = await (await fetch(`${collector.httpUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
    return line ? Number(line.split(' ')[1]) : 0;
  }
  const heartbeat = (ts: string, lastSeq = 0) =>
    JSON.stringify(
      signMessage(
        { v: 1, agent: agent.id, ts, type: 'agent.heartbeat', lastSeq, alg: 'ed25519' },
        agent.sign,
      ),
    );

  beforeAll(async () => {
    collector = await startCollector(
      testCollectorConfig(dir.path, { ingest: { ackDelay: 10, verifyWorkers: 0, maxSkew: '5m' } }),
      { logger },
    );
    const enrolled = await enrollAgent(collector);
    agent = enrolled.agent;
    client = await connectAsAgent(collector.brokerUrl, agent.id, enrolled.reply.broker.password);
  }, 30_000);
  afterAll(async () => {
    await client?.endAsync(true);
    await collector?.stop();
    dir.remove();
  });

  it('refuses a validly signed heartbeat dated 2001 or ten minutes ahead, and counts it', async () => {
    const good = new Date().toISOString();
    await client.publishAsync(agentTopic(agent.id, 'heartbeat'), heartbeat(good), { qos: 1 });
    await eventually(async () => (await metric('smew_ingest_heartbeats_accepted_total')) === 1, {
      what: 'the heartbeat dated now to be accepted',
    });
    const seenBefore = (await collector.store.getAgent(agent.id))!.lastSeen;

    for (const [n, ts] of [
      [1, '2001-09-11T08:46:00.000Z'],
      [2, new Date(Date.now() + 10 * 60_000).toISOString()],
    ] as const) {
      await client.publishAsync(agentTopic(agent.id, 'heartbeat'), heartbeat(ts, 7), { qos: 1 });
      await eventually(async () => (await metric('smew_ingest_rejected_total', '{reason="skewed"}')) === n, {
        what: `smew_ingest_rejected_total{reason="skewed"} to reach ${n}`,
      });
      const [latest] = await collector.store.listQuarantine({ limit: 1 });
      expect(latest).toMatchObject({ reason: 'skewed', claimedAgentId: agent.id });
      expect(latest!.detail).toContain('ingest.maxSkew');
    }
    expect(await metric('smew_ingest_heartbeats_accepted_total')).toBe(1);
    const after = (await collector.store.getAgent(agent.id))!;
    expect(after.lastSeen).toBe(seenBefore);
    expect(after.reportedSeq).toBe(0);
  });

  it('still stores an event dated 2001, flagged as skewed, by the same rule', async () => {
    await client.publishAsync(
      agentTopic(agent.id, 'events'),
      JSON.stringify(signedEvent(agent, 1, { ts: '2001-09-11T08:46:00.000Z' })),
      { qos: 1 },
    );
    const [event] = await eventually(
      async () => {
        const events = await collector.store.listEvents({ agentId: agent.id, limit: 10 });
        return events.length > 0 ? events : undefined;
      },
      { what: 'the skewed event to be stored' },
    );
    expect(event!.skewed).toBe(true);
    expect(await metric('smew_ingest_skewed_total')).toBe(1);
  });
});
