import { afterEach, describe, expect, it } from 'vitest';
import { Outbox } from '../../agent/outbox.js';
import { Publisher } from '../../agent/publisher.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { systemClock } from '../../shared/clock.js';
import type { SignatureAlg } from '../../shared/crypto/suite.js';
import { createLogger } from '../../shared/log.js';
import { eventually } from '../support/eventually.js';
import { enrollAgent, tempDir, testCollectorConfig } from '../support/collector-harness.js';

/**
 * A backlog after an outage drains at outbox.drainRate, after the jitter delay, through the real
 * publisher, embedded broker and ingest; every event arrives once.
 */
const logger = createLogger('test', 'silent');

describe('draining a backlog', () => {
  const dirs: ReturnType<typeof tempDir>[] = [];
  let collector: RunningCollector | undefined;
  let publisher: Publisher | undefined;
  let outbox: Outbox | undefined;
  afterEach(async () => {
    await publisher?.stop(500);
    outbox?.close();
    await collector?.stop();
    for (const dir of dirs.splice(0)) dir.remove();
  });

  it('sends 150 queued events at 50/s after a jitter of up to 1 s, each stored once', async () => {
    const dir = tempDir('smew-drain-');
    dirs.push(dir);
    collector = await startCollector(
      testCollectorConfig(dir.path, { ingest: { ackDelay: 10, verifyWorkers: 0 } }),
      {
        logger,
      },
    );
    const { agent, reply } = await enrollAgent(collector);
    outbox = Outbox.open({
      dir: `${dir.path}/agent`,
      agentId: agent.id,
      alg: 'ed25519',
      sign: agent.sign,
      collector: { ...reply.collector, alg: reply.collector.alg as SignatureAlg },
      clock: systemClock,
    });
    // The outage: 150 events recorded while nothing could be sent.
    outbox.append(
      Array.from({ length: 150 }, (_, i) => ({
        type: 'file.marked',
        state: 'raised' as const,
        key: `file.marked:${i}`,
        severity: 'medium' as const,
        data: { path: `/d/${i}`, marking: '秘密' },
      })),
    );
    publisher = new Publisher({
      agentId: agent.id,
      alg: 'ed25519',
      sign: agent.sign,
      brokerUrls: [collector.brokerUrl],
      username: reply.broker.username,
      password: reply.broker.password,
      outbox,
      clock: systemClock,
      logger,
      ackTimeoutMs: 30_000,
      heartbeatIntervalMs: 60_000,
      drain: { ratePerSec: 50, jitterMs: 1_000 },
      // The largest jitter, so the test knows the delay.
      random: () => 1,
    });
    const started = Date.now();
    publisher.start();
    const store = collector.store;
    const firstAt = await eventually(
      async () => ((await store.getAgent(agent.id))!.ackedSeq > 0 ? Date.now() : undefined),
      {
        what: 'the first event',
      },
    );
    await eventually(async () => (await store.getAgent(agent.id))!.ackedSeq === 150, {
      what: 'all 150 events',
      timeoutMs: 20_000,
    });
    const doneAt = Date.now();
    // Jitter: nothing before 1 s. Rate: 50 go at once (one second's burst), 100 more take 2 s —
    // less the polling slack of seeing the first ack late (unlimited, all 150 take well under 1 s).
    expect(firstAt - started).toBeGreaterThanOrEqual(1_000);
    expect(doneAt - firstAt).toBeGreaterThanOrEqual(1_700);
    expect(doneAt - firstAt).toBeLessThan(10_000);
    const stored = await store.listEvents({ agentId: agent.id, limit: 1000 });
    expect(new Set(stored.map((e) => e.seq)).size).toBe(150);
    expect(stored).toHaveLength(150);
    // The backlog travelled in signed batches (one signature checked per batch), not one by one.
    const metrics = await (await fetch(`${collector.httpUrl}/metrics`)).text();
    const batches = Number(/^smew_ingest_batches_accepted_total (\d+)/m.exec(metrics)?.[1]);
    expect(batches).toBeGreaterThanOrEqual(3);
    expect(batches).toBeLessThan(150 / 4);
    await eventually(() => outbox!.pendingCount() === 0, { what: 'the outbox to empty on the ack' });
  });
});
