import { availableParallelism } from 'node:os';
import type { MqttClient } from 'mqtt';
import { systemClock, type Clock } from '../shared/clock.js';
import { UserError } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/log.js';
import { ed25519Verifier, useSodiumEd25519 } from '../shared/crypto/ed25519.js';
import { readListenerTls, readPemFile } from '../shared/tls.js';
import { buildApi } from './api/app.js';
import { announceWarnings } from './api/warnings.js';
import { LiveFeed, publishIngest } from './api/stream.js';
import { connectCollectorClient } from './broker/collector-client.js';
import { clockOptionsFromConfig } from './clocks/clock-config.js';
import { Hierarchy } from './hierarchy/hierarchy.js';
import { ClockScheduler } from './clocks/scheduler.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded-broker.js';
import type { CollectorConfig } from './config.js';
import type { EnrollmentDeps } from './enrollment.js';
import { loadOrCreateCollectorIdentity } from './identity.js';
import { AckPublisher } from './ingest/ack-publisher.js';
import { IngestPipeline } from './ingest/pipeline.js';
import { ingestClientSession, subscribeIngest } from './ingest/subscription.js';
import { VerifyPool } from './ingest/verify-pool.js';
import { explainListenError, formatHostPort, parseListenAddress, reachableHost } from './listen-address.js';
import { LivenessMonitor } from './liveness/monitor.js';
import { observeIngest } from './liveness/observe-ingest.js';
import { CollectorMetrics } from './metrics.js';
import { RevocationWatcher } from './revocation.js';
import { MosquittoAccess, collectorBrokerLogin } from './broker/mosquitto-access.js';
import { NatsAccess, natsPasswordHash, type NatsConfig } from './broker/nats-access.js';
import { consumeNatsIngest } from './ingest/nats-consumer.js';
import { mosquittoPasswordHash } from './broker/mosquitto-passwd.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';
import type { ConditionSink } from './warnings/conditions.js';
import { Notifier } from './notify/notifier.js';
import { notifyRoute } from './notify/occasion.js';
import { senderFor } from './notify/sender.js';
import { defaultRulesFile, loadRules } from './rules/load.js';
import { WarningStage } from './warnings/stage.js';

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
  /** What enrollment hands to agents first: broker.publicUrls[0], broker.publicUrl, or brokerUrl. */
  agentBrokerUrl: string;
  collectorId: string;
  store: Store;
  ingest: IngestPipeline;
  /** The legal clocks' scheduler (第35条, 第61条). */
  clocks: ClockScheduler;
  /** The 第64条 rules stage; also the ConditionSink of liveness and the clocks. */
  warnings: WarningStage;
  notifier: Notifier;
  /** Agent liveness: agent.offline and agent.events.lost (issue 4). */
  liveness: LivenessMonitor;
  /** Collectors in a hierarchy (issue 7): the parent link, report producers, notices. */
  hierarchy: Hierarchy;
  stop(): Promise<void>;
}

export interface CollectorRuntime {
  clock?: Clock;
  logger?: Logger;
  /** The built dashboard to serve at /; default dist/dashboard. */
  dashboardDir?: string;
  /** Where liveness and the clocks report conditions; default the 第64条 warnings stage. */
  conditionSink?: ConditionSink;
}

export async function startCollector(
  config: CollectorConfig,
  runtime: CollectorRuntime = {},
): Promise<RunningCollector> {
  const clock = runtime.clock ?? systemClock;
  const logger = runtime.logger ?? createLogger('collector');
  useSodiumEd25519();
  logger.debug({ ed25519: ed25519Verifier() }, 'signature verification library');
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
    // Whole or not at all: a bad rule file stops the start before anything opens (exit 2).
    const rules = loadRules(config.rules.file ?? defaultRulesFile());
    // TLS files are read before anything opens, so a missing one fails the start at once (exit 2).
    const httpTls = config.http.tls ? readListenerTls(config.http.tls, 'http.tls') : undefined;
    const { tls: brokerTls } = config.broker;
    const brokerListenerTls =
      brokerTls?.cert && brokerTls.key && !config.broker.url
        ? readListenerTls({ cert: brokerTls.cert, key: brokerTls.key }, 'broker.tls')
        : undefined;
    const brokerCa = brokerTls?.ca ? readPemFile(brokerTls.ca, 'broker.tls.ca', 'certificate') : undefined;
    const store = await openStore(config.store.url);
    cleanups.push(() => store.close());
    const identity = loadOrCreateCollectorIdentity(config.identity.dir);
    const metrics = new CollectorMetrics(store);
    const notifier = new Notifier({
      store,
      senders: new Map(config.notify.channels.map((channel) => [channel.name, senderFor(channel)])),
      retry: config.notify.retry,
      clock,
      logger,
      level: config.level,
    });
    cleanups.push(() => notifier.stop());
    const warnings = new WarningStage({
      store,
      rules,
      clock,
      logger,
      notify: notifyRoute(config.notify.channels),
      onChange: () => notifier.kick(),
    });
    cleanups.push(() => warnings.stop());
    const clocks = new ClockScheduler({
      store: store.clocks,
      clock,
      logger,
      sink: runtime.conditionSink ?? warnings,
      options: clockOptionsFromConfig(config.clocks),
      lateAfterMs: config.clocks.lateAfter,
      leaseMs: config.clocks.lease,
    });
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
    const nats = natsSettings(config);
    // With NATS, several collectors share the work too (through one JetStream consumer); their
    // MQTT clients, which only publish acks and policies, need ids of their own and clean sessions.
    const session = ingestClientSession(identity.id, sharedGroup ?? (nats ? 'nats' : undefined));
    const clientId = session.clientId;
    const natsAccess = nats?.authFile
      ? new NatsAccess({
          config: { ...nats, authFile: nats.authFile },
          store,
          collector: collectorBrokerLogin(config, 'broker.nats.authFile'),
          logger,
        })
      : undefined;
    await natsAccess?.sync();
    const mosquitto = config.broker.mosquitto
      ? new MosquittoAccess({
          config: config.broker.mosquitto,
          store,
          collector: collectorBrokerLogin(config),
          logger,
        })
      : undefined;
    // The files must hold the collector's own login before it connects.
    await mosquitto?.sync();
    if (config.broker.url) {
      brokerUrl = config.broker.url;
      client = await connectCollectorClient({
        url: brokerUrl,
        username: config.broker.username,
        password: config.broker.password,
        ...(config.broker.urls ? { otherUrls: config.broker.urls } : {}),
        clientId,
        clean: session.clean,
        urlKey: 'broker.url',
        logger,
        tls: { caKey: 'broker.tls.ca', caFile: brokerTls?.ca, ...(brokerCa ? { ca: brokerCa } : {}) },
      });
    } else {
      embedded = await startEmbeddedBroker({
        listen: config.broker.listen,
        store,
        logger,
        maxPacketBytes: config.broker.maxPacket,
        refused: (reason) => metrics.brokerRefused.inc({ reason }),
        ...(brokerListenerTls ? { tls: brokerListenerTls } : {}),
      });
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
        ...(brokerListenerTls
          ? {
              tls: {
                caKey: 'broker.tls.ca',
                caFile: brokerTls?.ca,
                // A self-signed broker certificate is its own CA.
                ca: brokerCa ?? brokerListenerTls.cert,
                unsetTrusts: 'broker.tls.cert alone, as a self-signed certificate',
                pinnedCert: brokerListenerTls.cert,
              },
            }
          : {}),
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
    warnings.follow(ingest);
    const announce = (ids: readonly string[]) =>
      announceWarnings(live, store, ids).catch((err: unknown) =>
        logger.warn({ err }, 'live feed publish failed'),
      );
    warnings.subscribe((result) => void announce([...result.opened, ...result.updated]));
    const liveness = new LivenessMonitor({
      store,
      sink: runtime.conditionSink ?? warnings,
      clock,
      logger,
      missedHeartbeats: config.liveness.missedHeartbeats,
      lostGraceMs: config.liveness.lostGrace,
      defaultIntervalMs: config.liveness.defaultInterval,
      checkIntervalMs: config.liveness.checkInterval,
    });
    observeIngest({
      pipeline: ingest,
      store,
      monitor: liveness,
      clock,
      logger,
      scheduleAck: (id) => acks.schedule(id),
    });
    if (nats) {
      const natsIngest = await consumeNatsIngest({
        config: nats,
        username: config.broker.username,
        password: config.broker.password,
        name: clientId,
        pipeline: ingest,
        logger,
        maxInFlight: config.ingest.maxInFlight,
      });
      cleanups.push(() => natsIngest.close());
    } else {
      await subscribeIngest(client, ingest, logger, { sharedGroup, maxInFlight: config.ingest.maxInFlight });
    }

    const agentBrokerUrls = config.broker.publicUrls ?? [config.broker.publicUrl ?? brokerUrl];
    const agentBrokerUrl = agentBrokerUrls[0]!;
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
      brokerUrls: agentBrokerUrls,
      approval: config.enroll.approval,
      maxSkewMs: config.ingest.maxSkew,
      onCredentialsChanged: (agentId) => embedded?.credentials.invalidate(agentId),
      onEnrolled: async (agentId, brokerSecret) => {
        try {
          // The broker's own hash form: bcrypt for NATS, Mosquitto's $7$ otherwise.
          const hash = nats ? natsPasswordHash(brokerSecret) : mosquittoPasswordHash(brokerSecret);
          await store.transport.setBrokerPasswordHash(agentId, hash);
        } catch (err) {
          // A store without the transport domain (PostgreSQL, for now) matters only with Mosquitto.
          if (mosquitto || natsAccess) throw err;
          logger.debug({ err }, 'no Mosquitto login kept for this agent');
        }
        await mosquitto?.sync();
        await natsAccess?.sync();
      },
    };
    const syncBrokerAccess = () => {
      mosquitto
        ?.sync()
        .catch((err: unknown) => logger.error({ err }, 'could not rewrite the Mosquitto files'));
      natsAccess
        ?.sync()
        .catch((err: unknown) => logger.error({ err }, 'could not rewrite the NATS authorization file'));
    };
    const enforceRevocation = (agentId: string) => {
      embedded?.disconnect(agentId);
      syncBrokerAccess();
    };
    // An approved agent gets its Mosquitto login (the embedded broker never cached the pending one).
    const enforceApproval = syncBrokerAccess;
    const revocations = new RevocationWatcher({
      store,
      clock,
      logger,
      enforce: enforceRevocation,
      onApproved: enforceApproval,
      intervalMs: config.liveness.revocationPoll,
    });
    const hierarchy = new Hierarchy({
      store,
      identity,
      clock,
      logger,
      unit: config.unit,
      level: config.level,
      config: config.parent,
      scheduler: clocks,
      clockOptions: clocks.options,
      sink: runtime.conditionSink ?? warnings,
      metrics: metrics.hierarchy,
      enrollMaxSkewMs: config.ingest.maxSkew,
      policy: {
        own: config.policy,
        stateDir: config.identity.dir,
        publish: async (topic, payload) => {
          await client.publishAsync(topic, payload, { qos: 1, retain: true });
        },
      },
    });
    // A warning opened goes up now, not on the next round (its later states come through the API).
    warnings.subscribe((result) => {
      if (result.opened.length > 0) hierarchy.reportSoon();
    });
    const api = await buildApi({
      hierarchy: { hierarchy, unit: config.unit, maxReportBody: config.http.maxReportBody },
      onAgentRevoked: enforceRevocation,
      onAgentApproved: enforceApproval,
      store,
      metrics,
      logger,
      enrollment,
      collectorId: identity.id,
      live,
      dashboardDir: runtime.dashboardDir,
      ...(httpTls ? { tls: httpTls } : {}),
      trustProxy: config.http.trustProxy,
      clocks: {
        store,
        scheduler: clocks,
        unit: config.unit,
        level: config.level,
        onIncidentChange: () => hierarchy.reportSoon(),
      },
      warnings: {
        store,
        clock,
        notify: notifyRoute(config.notify.channels),
        onChange: (id) => {
          void announce([id]);
          notifier.kick();
          // A warning's new state goes up to the parent (at or above parent.minSeverity).
          hierarchy.reportSoon();
        },
      },
    });
    cleanups.push(() => api.close());
    try {
      await api.listen({ host: httpAddress.host, port: httpAddress.port });
    } catch (err) {
      throw explainListenError(err as NodeJS.ErrnoException, httpAddress, 'http.listen');
    }
    const bound = api.server.address();
    const httpPort = typeof bound === 'object' && bound !== null ? bound.port : httpAddress.port;
    const httpUrl = `${httpTls ? 'https' : 'http'}://${formatHostPort(reachableHost(httpAddress.host), httpPort)}`;
    // Startup pass first: what fell due while the collector was down fires now, marked late.
    // Events stored before a crash but not yet evaluated are evaluated now; the outbox resumes.
    await warnings.start();
    notifier.start();
    cleanups.push(() => clocks.stop());
    await clocks.start(config.clocks.schedule);
    cleanups.push(() => liveness.stop());
    liveness.start();
    cleanups.push(() => revocations.stop());
    revocations.start();
    cleanups.push(() => hierarchy.stop());
    await hierarchy.start();
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
      clocks,
      warnings,
      notifier,
      liveness,
      hierarchy,
      stop: () => (stopping ??= unwind()),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/** broker.kind nats: its settings, checked against the keys it needs; undefined for MQTT. */
function natsSettings(config: CollectorConfig): NatsConfig | undefined {
  if (config.broker.kind !== 'nats') {
    if (config.broker.nats) throw new UserError('broker.nats: is used only with broker.kind: nats');
    return undefined;
  }
  if (!config.broker.nats) {
    throw new UserError('broker.kind: nats needs broker.nats.servers (the cluster’s nats:// URLs)');
  }
  if (!config.broker.url) {
    throw new UserError(
      'broker.kind: nats needs broker.url: a node’s MQTT listener (mqtt://host:1883), where the collector publishes acks and policies',
    );
  }
  if (config.ingest.sharedGroup !== undefined) {
    throw new UserError(
      'ingest.sharedGroup: not used with broker.kind: nats; the collectors share the JetStream consumer broker.nats.consumer',
    );
  }
  return config.broker.nats;
}
