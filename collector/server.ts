import { availableParallelism } from 'node:os';
import type { MqttClient } from 'mqtt';
import { systemClock, type Clock } from '../shared/clock.js';
import { UserError } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/log.js';
import { buildApi } from './api/app.js';
import { LiveFeed, publishIngest } from './api/stream.js';
import { connectCollectorClient } from './broker/collector-client.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded-broker.js';
import type { CollectorConfig } from './config.js';
import type { EnrollmentDeps } from './enrollment.js';
import { loadOrCreateCollectorIdentity } from './identity.js';
import { AckPublisher } from './ingest/ack-publisher.js';
import { IngestPipeline } from './ingest/pipeline.js';
import { ingestClientSession, subscribeIngest } from './ingest/subscription.js';
import { VerifyPool } from './ingest/verify-pool.js';
import { explainListenError, formatHostPort, parseListenAddress, reachableHost } from './listen-address.js';
import { CollectorMetrics } from './metrics.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

/**
 * Composes a collector: store → identity → broker (embedded aedes, or `broker.url`) → the
 * collector's MQTT client feeding ingest → HTTP API. In-process, so the demo and tests start
 * one with a call; `stop()` takes it down in reverse order.
 */
export interface RunningCollector {
  /** http://host:port as bound. */
  httpUrl: string;
  /** The broker the collector uses (embedded: mqtt://host:port as bound). */
  brokerUrl: string;
  /** What enrollment hands to agents: broker.publicUrl, or brokerUrl. */
  agentBrokerUrl: string;
  collectorId: string;
  store: Store;
  ingest: IngestPipeline;
  stop(): Promise<void>;
}

export interface CollectorRuntime {
  clock?: Clock;
  logger?: Logger;
}

export async function startCollector(
  config: CollectorConfig,
  runtime: CollectorRuntime = {},
): Promise<RunningCollector> {
  const clock = runtime.clock ?? systemClock;
  const logger = runtime.logger ?? createLogger('collector');
  const httpAddress = parseListenAddress(config.http.listen, 'http.listen');
  // Undo what has started if a later step fails, so a failed start leaves no port or file open.
  const cleanups: (() => Promise<void>)[] = [];
  const unwind = async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err: unknown) => logger.warn({ err }, 'cleanup after stop failed'));
    }
    cleanups.length = 0;
  };

  try {
    const store = await openStore(config.store.url);
    cleanups.push(() => store.close());
    const identity = loadOrCreateCollectorIdentity(config.identity.dir);
    const metrics = new CollectorMetrics(store);
    // Closed after the broker connection, so messages still in flight are checked, not failed.
    const verifyWorkers = config.ingest.verifyWorkers ?? availableParallelism();
    const verifyPool = verifyWorkers > 0 ? new VerifyPool(verifyWorkers) : undefined;
    if (verifyPool) cleanups.push(() => verifyPool.close());

    let embedded: EmbeddedBroker | undefined;
    let brokerUrl: string;
    let client: MqttClient;
    const { sharedGroup } = config.ingest;
    if (sharedGroup !== undefined && !config.broker.url) {
      throw new UserError(
        'ingest.sharedGroup: needs broker.url (an external broker such as Mosquitto); the embedded broker serves one collector',
      );
    }
    const session = ingestClientSession(identity.id, sharedGroup);
    const clientId = session.clientId;
    if (config.broker.url) {
      brokerUrl = config.broker.url;
      client = await connectCollectorClient({
        url: brokerUrl,
        username: config.broker.username,
        password: config.broker.password,
        clientId,
        clean: session.clean,
        urlKey: 'broker.url',
        logger,
      });
    } else {
      embedded = await startEmbeddedBroker({ listen: config.broker.listen, store, logger });
      const broker = embedded;
      cleanups.push(() => broker.close());
      // Nobody is connected to a broker that just started; retained `online` words died with the last one.
      await store.markAllAgentsOffline();
      brokerUrl = embedded.url;
      client = await connectCollectorClient({
        url: brokerUrl,
        ...embedded.internalCredentials,
        clientId,
        clean: true,
        urlKey: 'broker.listen',
        logger,
      });
    }
    cleanups.push(() => client.endAsync());

    const acks = new AckPublisher({
      store,
      identity,
      clock,
      delayMs: config.ingest.ackDelay,
      logger,
      metrics,
      publish: async (topic, payload) => {
        await client.publishAsync(topic, payload, { qos: 1, retain: true });
      },
    });
    cleanups.push(() => acks.close());
    const ingest = new IngestPipeline({
      store,
      clock,
      logger,
      metrics,
      acks,
      maxSkewMs: config.ingest.maxSkew,
      verifyPool,
    });
    const live = new LiveFeed();
    publishIngest(ingest, live, store, logger);
    await subscribeIngest(client, ingest, logger, { sharedGroup, maxInFlight: config.ingest.maxInFlight });

    const agentBrokerUrl = config.broker.publicUrl ?? brokerUrl;
    if (embedded && !config.broker.publicUrl && /^(0\.0\.0\.0|\[?::\]?):/.test(config.broker.listen)) {
      logger.warn(
        { agentBrokerUrl },
        'broker.listen binds every address but broker.publicUrl is unset: agents on other hosts will be told ' +
          'a loopback URL; set broker.publicUrl to the address they can reach',
      );
    }
    const enrollment: EnrollmentDeps = {
      store,
      identity,
      clock,
      metrics,
      logger,
      brokerUrl: agentBrokerUrl,
      onCredentialsChanged: (agentId) => embedded?.credentials.invalidate(agentId),
    };
    const api = await buildApi({ store, metrics, logger, enrollment, collectorId: identity.id, live });
    cleanups.push(() => api.close());
    try {
      await api.listen({ host: httpAddress.host, port: httpAddress.port });
    } catch (err) {
      throw explainListenError(err as NodeJS.ErrnoException, httpAddress, 'http.listen');
    }
    const bound = api.server.address();
    const httpPort = typeof bound === 'object' && bound !== null ? bound.port : httpAddress.port;
    const httpUrl = `http://${formatHostPort(reachableHost(httpAddress.host), httpPort)}`;
    logger.info(
      { httpUrl, brokerUrl, agentBrokerUrl, collector: identity.id, store: config.store.url },
      'collector running',
    );

    let stopping: Promise<void> | undefined;
    return {
      httpUrl,
      brokerUrl,
      agentBrokerUrl,
      collectorId: identity.id,
      store,
      ingest,
      stop: () => (stopping ??= unwind()),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
