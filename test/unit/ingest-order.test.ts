import { describe, expect, it } from 'vitest';
import { AckPublisher } from '../../collector/ingest/ack-publisher.js';
import { IngestPipeline } from '../../collector/ingest/pipeline.js';
import { VerifyPool } from '../../collector/ingest/verify-pool.js';
import { CollectorMetrics } from '../../collector/metrics.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { systemClock } from '../../shared/clock.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { collectorIdFromPublicKey } from '../../shared/identity.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import { makeTestAgent, signedEvent } from '../support/collector-harness.js';
import { enrollment, NOW } from './store-contract.js';

describe("IngestPipeline (one agent's backlog checked side by side, stored in order)", () => {
  it('stores the events of one agent in the order they came though their checks finish out of order', async () => {
    const store = openSqliteStore(':memory:');
    const pool = new VerifyPool(2);
    const logger = createLogger('test', 'silent');
    const collectorKeys = ed25519Suite.generateKeyPair();
    const metrics = new CollectorMetrics(store);
    const acked: string[] = [];
    const acks = new AckPublisher({
      store,
      identity: {
        id: collectorIdFromPublicKey(collectorKeys.publicKey),
        alg: 'ed25519',
        publicKey: collectorKeys.publicKey,
        sign: ed25519Suite.signer(collectorKeys.privateKey),
      },
      clock: systemClock,
      delayMs: 10,
      logger,
      metrics,
      publish: async (_topic, payload) => void acked.push(payload),
    });
    const ingest = new IngestPipeline({
      store,
      clock: systemClock,
      logger,
      metrics,
      acks,
      maxSkewMs: 300_000,
      verifyPool: pool,
    });
    try {
      const agent = makeTestAgent();
      await store.createEnrollmentToken({
        tokenHash: 't',
        unit: '一处',
        createdAt: NOW,
        expiresAt: '2999-01-01T00:00:00Z',
      });
      await store.enrollAgent({
        ...enrollment(),
        tokenHash: 't',
        agentId: agent.id,
        publicKey: agent.keys.publicKey,
      });
      // The pool splits one turn's checks between its two threads: the first half carries large
      // payloads, so the second half's answers come back first.
      const count = 40;
      const payloads = Array.from({ length: count }, (_, i) => {
        const blob = i < count / 2 ? 'x'.repeat(50_000) : 'x';
        return Buffer.from(JSON.stringify(signedEvent(agent, i + 1, { type: 'test.bulk', data: { blob } })));
      });
      // The 11th is forged: refused without holding up the ones behind it.
      payloads[10] = Buffer.from(payloads[10]!.toString().replace('"seq":11', '"seq":111'));
      const outcomes = await Promise.all(
        payloads.map((p) => ingest.handle(agentTopic(agent.id, 'events'), p)),
      );
      expect(outcomes.filter((o) => o.kind === 'event')).toHaveLength(count - 1);
      expect(outcomes[10]).toMatchObject({ kind: 'rejected', reason: 'bad-signature' });
      const stored = await store.listEvents({ agentId: agent.id, limit: 100 });
      // listEvents is newest first (ts, then id); all share a ts-ish clock, so sort by id.
      const byId = [...stored].sort((a, b) => a.id - b.id).map((e) => e.seq);
      expect(byId).toEqual(Array.from({ length: count }, (_, i) => i + 1).filter((seq) => seq !== 11));
      await acks.close();
      expect(acked.length).toBeGreaterThan(0);
    } finally {
      await pool.close();
      await store.close();
    }
  });
});
