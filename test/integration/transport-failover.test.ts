import { afterEach, describe, expect, it } from 'vitest';
import { brokerUrlsFor } from '../../agent/identity.js';
import { Outbox } from '../../agent/outbox.js';
import { Publisher } from '../../agent/publisher.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { systemClock } from '../../shared/clock.js';
import type { SignatureAlg } from '../../shared/crypto/suite.js';
import { createLogger } from '../../shared/log.js';
import { eventually } from '../support/eventually.js';
import { enrollAgent, tempDir, testCollectorConfig } from '../support/collector-harness.js';
import { freePort } from '../support/ports.js';
import { startTcpRelay, type TcpRelay } from '../support/tcp-relay.js';

/**
 * Agents fail over between the broker URLs enrollment handed them (broker.publicUrls): the node
 * in use dies mid-stream (a relay in front of the broker, cut at once), the agent moves to the
 * next URL within a second, and the outbox resends what no signed ack covered — every event is
 * stored exactly once.
 */
const logger = createLogger('test', 'silent');

function drafts(from: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    type: 'file.marked',
    state: 'raised' as const,
    key: `file.marked:${from + i}`,
    severity: 'medium' as const,
    data: { path: `/d/${from + i}`, marking: '秘密' },
  }));
}

describe('agent failover between broker URLs', () => {
  const dirs: ReturnType<typeof tempDir>[] = [];
  let collector: RunningCollector | undefined;
  let publisher: Publisher | undefined;
  let outbox: Outbox | undefined;
  let relay: TcpRelay | undefined;
  afterEach(async () => {
    await publisher?.stop(500);
    outbox?.close();
    await relay?.kill();
    await collector?.stop();
    for (const dir of dirs.splice(0)) dir.remove();
  });

  it('enrollment hands out every URL; losing the node in use moves the agent to the next, nothing lost or doubled', async () => {
    const dir = tempDir('smew-failover-');
    dirs.push(dir);
    // A free port can be taken by another test's process before the broker binds it: try anew.
    let direct = '';
    for (let attempt = 1; !collector; attempt++) {
      const brokerPort = await freePort();
      direct = `mqtt://127.0.0.1:${brokerPort}`;
      relay = await startTcpRelay({ host: '127.0.0.1', port: brokerPort });
      try {
        collector = await startCollector(
          testCollectorConfig(dir.path, {
            broker: { listen: `127.0.0.1:${brokerPort}`, publicUrls: [relay.url, direct] },
            ingest: { ackDelay: 10, verifyWorkers: 0 },
          }),
          { logger },
        );
      } catch (err) {
        await relay.kill();
        if (attempt >= 3 || !/is already in use by another program/.test((err as Error).message)) throw err;
      }
    }
    if (!relay) throw new Error('no relay started');
    const { agent, reply } = await enrollAgent(collector);
    expect(reply.broker.url).toBe(relay.url);
    expect(reply.broker.urls).toEqual([relay.url, direct]);
    // broker.url in the agent's own config still wins, alone.
    expect(brokerUrlsFor('mqtt://override:1883', reply.broker)).toEqual(['mqtt://override:1883']);

    outbox = Outbox.open({
      dir: `${dir.path}/agent`,
      agentId: agent.id,
      alg: 'ed25519',
      sign: agent.sign,
      collector: { ...reply.collector, alg: reply.collector.alg as SignatureAlg },
      clock: systemClock,
    });
    publisher = new Publisher({
      agentId: agent.id,
      alg: 'ed25519',
      sign: agent.sign,
      brokerUrls: brokerUrlsFor(undefined, reply.broker),
      username: reply.broker.username,
      password: reply.broker.password,
      outbox,
      clock: systemClock,
      logger,
      ackTimeoutMs: 30_000,
      heartbeatIntervalMs: 60_000,
      // Pinned: start at the first URL (the relay), and the shortest jitter.
      random: () => 0,
    });
    const store = collector.store;
    const acked = async () => (await store.getAgent(agent.id))!.ackedSeq;
    outbox.append(drafts(1, 50));
    publisher.start();
    await eventually(async () => (await acked()) === 50, { what: 'the first 50 events acked' });
    expect(publisher.brokerUrl).toBe(relay.url);

    // The node dies; the agent keeps recording meanwhile.
    const cutAt = Date.now();
    await relay.kill();
    outbox.append(drafts(51, 50));
    const backAfterMs = await eventually(
      () => (publisher!.connected && publisher!.brokerUrl === direct ? Date.now() - cutAt : undefined),
      { what: 'the agent on the other URL', timeoutMs: 10_000, intervalMs: 10 },
    );
    await eventually(async () => (await acked()) === 100, {
      what: 'all 100 events acked',
      timeoutMs: 20_000,
    });
    await eventually(() => outbox!.pendingCount() === 0, { what: 'the outbox to empty on the ack' });
    const stored = await store.listEvents({ agentId: agent.id, limit: 1000 });
    expect(stored).toHaveLength(100);
    expect(new Set(stored.map((e) => e.seq)).size).toBe(100);
    expect(backAfterMs).toBeLessThan(2_000);
    console.log(`[failover] agent on the next broker URL ${backAfterMs} ms after its node was cut`);
  });
});
