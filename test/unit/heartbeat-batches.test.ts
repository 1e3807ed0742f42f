import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Batcher } from '../../collector/ingest/batcher.js';
import { HeartbeatWriter } from '../../collector/ingest/heartbeat-writer.js';
import { LivenessMonitor } from '../../collector/liveness/monitor.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import type { RecordedHeartbeat, Store } from '../../collector/store/store.js';
import type { CollectorCondition } from '../../collector/warnings/conditions.js';
import { ManualClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';
import { tempDir } from '../support/collector-harness.js';
import { enrollment } from './store-contract.js';

/** Heartbeats in batches: the Batcher, the HeartbeatWriter, and the liveness monitor's batched judgement. */

describe('Batcher', () => {
  it('hands the calls of one turn to one flush and answers each caller with its own result', async () => {
    const flushes: number[][] = [];
    const batcher = new Batcher<number, number>(async (items) => {
      flushes.push(items);
      return items.map((n) => n * 10);
    });
    expect(await Promise.all([1, 2, 3].map((n) => batcher.add(n)))).toEqual([10, 20, 30]);
    expect(await batcher.add(4)).toBe(40);
    expect(flushes).toEqual([[1, 2, 3], [4]]);
  });

  it('lingers for stragglers, yet sends a full batch at once and splits what exceeds it', async () => {
    const flushes: number[][] = [];
    const batcher = new Batcher<number, void>(
      async (items) => {
        flushes.push(items);
        return items.map(() => undefined);
      },
      { lingerMs: 30, maxBatch: 3 },
    );
    const first = batcher.add(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = batcher.add(2);
    await Promise.all([first, second]);
    expect(flushes).toEqual([[1, 2]]);
    const started = performance.now();
    await Promise.all([3, 4, 5, 6, 7].map((n) => batcher.add(n)));
    expect(flushes.slice(1)).toEqual([
      [3, 4, 5],
      [6, 7],
    ]);
    // The full batch did not wait out the linger; the rest had waited through its flush.
    expect(performance.now() - started).toBeLessThan(30);
  });

  it('fails every caller of a batch whose flush throws, and carries on with the next', async () => {
    let fail = true;
    const batcher = new Batcher<number, number>(async (items) => {
      if (fail) throw new Error('database is down');
      return items;
    });
    const results = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await batcher.add(3)).toBe(3);
  });
});

describe('heartbeats in batches against a store', () => {
  const A = 'ag-aaaaaaaaaaaaaaaaaaaa';
  const B = 'ag-bbbbbbbbbbbbbbbbbbbb';
  let dir: ReturnType<typeof tempDir>;
  let store: Store;

  beforeEach(async () => {
    dir = tempDir('smew-heartbeat-batches-');
    store = openSqliteStore(join(dir.path, 'smew.db'));
    for (const id of [A, B]) {
      await store.createEnrollmentToken({
        tokenHash: `t-${id}`,
        unit: '一处',
        createdAt: '2026-11-27T00:00:00.000Z',
        expiresAt: '2026-11-28T00:00:00.000Z',
      });
      await store.enrollAgent(enrollment({ tokenHash: `t-${id}`, agentId: id, publicKey: `K-${id}` }));
    }
  });
  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  it('the writer records heartbeats made close together in one write, each settling once stored', async () => {
    const batches: RecordedHeartbeat[][] = [];
    const writer = new HeartbeatWriter({
      recordHeartbeats: async (heartbeats) => {
        batches.push([...heartbeats]);
        await store.recordHeartbeats(heartbeats);
      },
    });
    const at = '2026-11-27T01:00:00.000Z';
    const first = writer.record({ agentId: A, at, reportedSeq: 3 });
    await new Promise((resolve) => setTimeout(resolve, 2));
    await Promise.all([first, writer.record({ agentId: B, at, reportedSeq: 4 })]);
    expect(batches).toHaveLength(1);
    expect(await store.getAgent(A)).toMatchObject({ online: true, lastSeen: at, reportedSeq: 3 });
    expect(await store.getAgent(B)).toMatchObject({ online: true, lastSeen: at, reportedSeq: 4 });
  });

  it('liveness judges a batch in arrival order, and a failed report holds back only that agent', async () => {
    const clock = new ManualClock(new Date('2026-11-27T01:00:00.000Z'));
    const reported: CollectorCondition[] = [];
    let refuse: string | undefined;
    const monitor = new LivenessMonitor({
      store,
      clock,
      logger: createLogger('test', 'silent'),
      sink: {
        async report(condition) {
          if (condition.agent === refuse) throw new Error('the warnings stage refused');
          reported.push(condition);
        },
      },
      missedHeartbeats: 3,
      lostGraceMs: 120_000,
      defaultIntervalMs: 30_000,
      checkIntervalMs: 5_000,
    });
    // Both agents offline, as a sweep leaves them.
    for (const id of [A, B]) {
      await store.transport.putLiveness({
        agentId: id,
        intervalMs: 30_000,
        lastHeartbeatAt: '2026-11-27T00:00:00.000Z',
        willAt: null,
        reportedSeq: 1,
        offlineSince: '2026-11-27T00:02:00.000Z',
        gapSince: null,
        gapWatermark: 0,
        lostSince: null,
      });
    }
    refuse = B;
    await Promise.all([
      monitor.heartbeat(A, { at: '2026-11-27T01:00:00.000Z', lastSeq: 2, intervalMs: 10_000 }),
      monitor.heartbeat(B, { at: '2026-11-27T01:00:00.000Z', lastSeq: 2 }),
      monitor.heartbeat(A, { at: '2026-11-27T01:00:10.000Z', lastSeq: 5 }),
    ]);
    // A is back: cleared once (its second heartbeat saw the first), its row holds the later one.
    expect(reported.map((c) => [c.agent, c.type, c.state])).toEqual([[A, 'agent.offline', 'cleared']]);
    expect(await store.transport.getLiveness(A)).toMatchObject({
      lastHeartbeatAt: '2026-11-27T01:00:10.000Z',
      reportedSeq: 5,
      intervalMs: 10_000,
      offlineSince: null,
    });
    // B's clearing could not be reported, so its row still says offline: the next heartbeat retries.
    expect(await store.transport.getLiveness(B)).toMatchObject({ offlineSince: '2026-11-27T00:02:00.000Z' });
    refuse = undefined;
    await monitor.heartbeat(B, { at: '2026-11-27T01:00:30.000Z', lastSeq: 2 });
    expect(reported.map((c) => [c.agent, c.state])).toEqual([
      [A, 'cleared'],
      [B, 'cleared'],
    ]);
    expect(await store.transport.getLiveness(B)).toMatchObject({ offlineSince: null, reportedSeq: 2 });
    await monitor.stop();
  });
});
