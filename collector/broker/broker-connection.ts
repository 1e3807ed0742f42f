import type { MqttClient } from 'mqtt';
import type { Logger } from '../../shared/log.js';
import { readListenerTls, readPemFile, type TlsMaterial } from '../../shared/tls.js';
import type { CollectorMetrics } from '../metrics.js';
import type { CollectorContext, Stoppable, Subsystem } from '../subsystem.js';
import { ingestClientSession } from '../ingest/subscription.js';
import type { BrokerConfig, IngestTransport } from './broker-config.js';
import { connectCollectorClient } from './collector-client.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';

/** broker.tls as read from its files: the embedded broker's listener, and the CA the client trusts. */
export interface BrokerTls {
  listener: TlsMaterial | undefined;
  ca: Buffer | undefined;
}

/** Read before anything opens, so a missing file fails the start at once (exit 2). */
export function readBrokerTls(broker: BrokerConfig): BrokerTls {
  const { tls } = broker;
  return {
    listener:
      tls?.cert && tls.key && !broker.url
        ? readListenerTls({ cert: tls.cert, key: tls.key }, 'broker.tls')
        : undefined,
    ca: tls?.ca ? readPemFile(tls.ca, 'broker.tls.ca', 'certificate') : undefined,
  };
}

/** The broker the collector uses: the embedded one it starts, or the external one at broker.url. */
export interface Broker {
  url: string;
  embedded: EmbeddedBroker | undefined;
}

export function brokerSubsystem(
  context: CollectorContext,
  broker: BrokerConfig,
  tls: BrokerTls,
  metrics: CollectorMetrics,
): Subsystem<Broker & Partial<Stoppable>> {
  return {
    name: 'broker',
    async start() {
      if (broker.url) return { url: broker.url, embedded: undefined };
      const embedded = await startEmbeddedBroker({
        listen: broker.listen,
        store: context.store,
        logger: context.logger,
        maxPacketBytes: broker.maxPacket,
        refused: (reason) => metrics.brokerRefused.inc({ reason }),
        ...(tls.listener ? { tls: tls.listener } : {}),
      });
      return { url: embedded.url, embedded, stop: () => embedded.close() };
    },
  };
}

/** The collector's own MQTT client: it reads the agents' messages and publishes acks and policies. */
export function brokerClientSubsystem(
  context: CollectorContext,
  options: {
    config: BrokerConfig;
    tls: BrokerTls;
    broker: Broker;
    transport: IngestTransport;
    collectorId: string;
  },
): Subsystem<{ client: MqttClient; clientId: string } & Stoppable> {
  const { config, tls, broker, transport } = options;
  const { store, logger } = context;
  return {
    name: 'broker client',
    async start() {
      // With NATS, several collectors share the work too (through one JetStream consumer); their
      // MQTT clients, which only publish acks and policies, need ids of their own and clean sessions.
      const session = ingestClientSession(
        options.collectorId,
        transport.sharedGroup ?? (transport.nats ? 'nats' : undefined),
      );
      const { embedded } = broker;
      let client: MqttClient;
      if (!embedded) {
        client = await connectCollectorClient({
          url: broker.url,
          username: config.username,
          password: config.password,
          ...(config.urls ? { otherUrls: config.urls } : {}),
          clientId: session.clientId,
          clean: session.clean,
          urlKey: 'broker.url',
          logger,
          tls: { caKey: 'broker.tls.ca', caFile: config.tls?.ca, ...(tls.ca ? { ca: tls.ca } : {}) },
        });
      } else {
        // Nobody is connected to a broker that just started; retained `online` words died with the last one.
        await store.markAllAgentsOffline();
        client = await connectCollectorClient({
          url: broker.url,
          ...embedded.internalCredentials,
          clientId: session.clientId,
          clean: true,
          urlKey: 'broker.listen',
          logger,
          ...(tls.listener
            ? {
                tls: {
                  caKey: 'broker.tls.ca',
                  caFile: config.tls?.ca,
                  // A self-signed broker certificate is its own CA.
                  ca: tls.ca ?? tls.listener.cert,
                  unsetTrusts: 'broker.tls.cert alone, as a self-signed certificate',
                  pinnedCert: tls.listener.cert,
                },
              }
            : {}),
        });
      }
      return { client, clientId: session.clientId, stop: () => client.endAsync() };
    },
  };
}

/** What enrollment hands to agents: broker.publicUrls, broker.publicUrl, or the broker in use. */
export function agentBrokerUrls(config: BrokerConfig, broker: Broker, logger: Logger): readonly string[] {
  const urls = config.publicUrls ?? [config.publicUrl ?? broker.url];
  if (broker.embedded && !config.publicUrl && /^(0\.0\.0\.0|\[?::\]?):/.test(config.listen)) {
    logger.warn(
      { agentBrokerUrl: urls[0] },
      'broker.listen binds every address but broker.publicUrl is unset: agents on other hosts will be told ' +
        'a loopback URL; set broker.publicUrl to the address they can reach',
    );
  }
  return urls;
}
