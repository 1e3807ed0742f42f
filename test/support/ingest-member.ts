import type { CollectorIdentity } from '../../collector/identity.js';
import { AckPublisher } from '../../collector/ingest/ack-publisher.js';
import { IngestPipeline, type IngestOutcome } from '../../collector/ingest/pipeline.js';
import { ingestClientSession, subscribeIngest } from '../../collector/ingest/subscription.js';
import { VerifyPool } from '../../collector/ingest/verify-pool.js';
import { connectCollectorClient } from '../../collector/broker/collector-client.js';
import { CollectorMetrics } from '../../collector/metrics.js';
import { openPostgresStore } from '../../collector/store/postgres-store.js';
import { systemClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';

/**
 * One collector's ingest, composed as startCollector composes it (client session, verify pool,
 * pipeline, acks, shared subscription) with its own connection pool to the shared database.
 * startCollector itself cannot run on PostgreSQL yet: its clock, warning and session stores exist
 * for SQLite only. `outcomes` counts what this member did with each message.
 */
export interface IngestMember {
  outcomes: Map<IngestOutcome['kind'], number>;
  /** Drops the broker connection at once (no DISCONNECT, nothing drained), as a crash would. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

export async function startIngestMember(
  name: string,
  brokerUrl: string,
  storeUrl: string,
  identity: CollectorIdentity,
  options: { sharedGroup?: string; verifyWorkers?: number; maxInFlight?: number } = {},
): Promise<IngestMember> {
  const { sharedGroup = 'smew', verifyWorkers = 1, maxInFlight = 64 } = options;
  const logger = createLogger(`collector-${name}`, 'fatal');
  const store = await openPostgresStore(storeUrl);
  const metrics = new CollectorMetrics(store);
  const verifyPool = new VerifyPool(verifyWorkers);
  const session = ingestClientSession(identity.id, sharedGroup);
  const client = await connectCollectorClient({ url: brokerUrl, urlKey: 'broker.url', logger, ...session });
  const acks = new AckPublisher({
    store,
    identity,
    clock: systemClock,
    delayMs: 20,
    logger,
    metrics,
    publish: async (topic, payload) => {
      await client.publishAsync(topic, payload, { qos: 1, retain: true });
    },
  });
  const ingest = new IngestPipeline({
    store,
    clock: systemClock,
    logger,
    metrics,
    acks,
    maxSkewMs: 300_000,
    verifyPool,
  });
  const outcomes = new Map<IngestOutcome['kind'], number>();
  const handle = ingest.handle.bind(ingest);
  ingest.handle = async (topic, payload) => {
    const outcome = await handle(topic, payload);
    outcomes.set(outcome.kind, (outcomes.get(outcome.kind) ?? 0) + 1);
    return outcome;
  };
  await subscribeIngest(client, ingest, logger, { sharedGroup, maxInFlight });
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await acks.close();
    await verifyPool.close();
    await store.close();
  };
  return {
    outcomes,
    async crash() {
      client.end(true);
      await release();
    },
    async stop() {
      await client.endAsync();
      await release();
    },
  };
}
