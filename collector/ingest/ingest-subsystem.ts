import { availableParallelism } from 'node:os';
import type { MqttClient } from 'mqtt';
import type { BrokerConfig, IngestTransport } from '../broker/broker-config.js';
import type { CollectorIdentity } from '../identity.js';
import type { CollectorMetrics } from '../metrics.js';
import type { CollectorContext, Stoppable, Subsystem } from '../subsystem.js';
import { AckPublisher } from './ack-publisher.js';
import type { IngestConfig } from './ingest-config.js';
import { consumeNatsIngest } from './nats-consumer.js';
import { IngestPipeline } from './pipeline.js';
import { subscribeIngest } from './subscription.js';
import { VerifyPool } from './verify-pool.js';

/**
 * Signature-checking threads. Started before the broker (so stopped after it), so messages
 * still in flight at shutdown are checked, not failed.
 */
export function verifyPoolSubsystem(
  config: IngestConfig,
): Subsystem<{ verifyPool: VerifyPool | undefined } & Partial<Stoppable>> {
  return {
    name: 'verify pool',
    start() {
      const workers = config.verifyWorkers ?? availableParallelism();
      if (workers <= 0) return { verifyPool: undefined };
      const verifyPool = new VerifyPool(workers);
      return { verifyPool, stop: () => verifyPool.close() };
    },
  };
}

export interface Ingest {
  pipeline: IngestPipeline;
  acks: AckPublisher;
}

/** The ingest pipeline and the signed acks it sends back over the collector's client. */
export function ingestSubsystem(
  context: CollectorContext,
  options: {
    config: IngestConfig;
    identity: CollectorIdentity;
    metrics: CollectorMetrics;
    client: MqttClient;
    verifyPool: VerifyPool | undefined;
  },
): Subsystem<Ingest & Stoppable> {
  const { store, clock, logger } = context;
  const { config, identity, metrics, client, verifyPool } = options;
  return {
    name: 'ingest',
    start() {
      const acks = new AckPublisher({
        store,
        identity,
        clock,
        delayMs: config.ackDelay,
        logger,
        metrics,
        publish: async (topic, payload) => {
          await client.publishAsync(topic, payload, { qos: 1, retain: true });
        },
      });
      const pipeline = new IngestPipeline({
        store,
        clock,
        logger,
        metrics,
        acks,
        maxSkewMs: config.maxSkew,
        verifyPool,
      });
      return { pipeline, acks, stop: () => acks.close() };
    },
  };
}

/**
 * The agents' messages start flowing into the pipeline: from the JetStream consumer with NATS,
 * otherwise from the collector's MQTT subscription (ended with its client).
 */
export function ingestSubscriptionSubsystem(
  context: CollectorContext,
  options: {
    config: IngestConfig;
    broker: BrokerConfig;
    transport: IngestTransport;
    pipeline: IngestPipeline;
    client: MqttClient;
    clientId: string;
  },
): Subsystem<Partial<Stoppable>> {
  const { config, broker, transport, pipeline, client, clientId } = options;
  const { logger } = context;
  return {
    name: 'ingest subscription',
    async start() {
      if (!transport.nats) {
        await subscribeIngest(client, pipeline, logger, {
          sharedGroup: transport.sharedGroup,
          maxInFlight: config.maxInFlight,
        });
        return {};
      }
      const natsIngest = await consumeNatsIngest({
        config: transport.nats,
        username: broker.username,
        password: broker.password,
        name: clientId,
        pipeline,
        logger,
        maxInFlight: config.maxInFlight,
      });
      return { stop: () => natsIngest.close() };
    },
  };
}
