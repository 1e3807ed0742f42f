import { followInventory } from './register/inventory-intake.js';
import { RegisterChecks } from './register/register-checks.js';
import { RegisterTransfer } from './register/register-transfer.js';
import { TerminalRegister } from './register/terminal-register.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { createLogger, type Logger } from '../shared/log.js';
import { ed25519Verifier, useSodiumEd25519 } from '../shared/crypto/ed25519.js';
import { readListenerTls } from '../shared/tls.js';
import { brokerAccessSubsystem } from './broker/broker-access.js';
import { ingestTransport } from './broker/broker-config.js';
import {
  agentBrokerUrls,
  brokerClientSubsystem,
  brokerSubsystem,
  readBrokerTls,
} from './broker/broker-connection.js';
import { clocksSubsystem } from './clocks/clocks-subsystem.js';
import { withAwaitingSignature } from './documents/awaiting-signature.js';
import type { ClockScheduler } from './clocks/scheduler.js';
import type { CollectorConfig } from './config.js';
import { hierarchySubsystem } from './hierarchy/hierarchy-subsystem.js';
import type { Hierarchy } from './hierarchy/hierarchy.js';
import type { DeclaredRoute } from './api/permission-check.js';
import { auditSealSubsystem } from './audit/audit-seal.js';
import { httpApiSubsystem, httpListenSubsystem, liveStream } from './http-server.js';
import { loadOrCreateCollectorIdentity } from './identity.js';
import {
  ingestSubscriptionSubsystem,
  ingestSubsystem,
  verifyPoolSubsystem,
} from './ingest/ingest-subsystem.js';
import type { IngestPipeline } from './ingest/pipeline.js';
import { parseListenAddress } from './listen-address.js';
import { livenessSubsystem } from './liveness/liveness-subsystem.js';
import type { LivenessMonitor } from './liveness/monitor.js';
import { CollectorMetrics } from './metrics.js';
import { notifySubsystem } from './notify/notify-subsystem.js';
import type { Notifier } from './notify/notifier.js';
import { notifyRoute } from './notify/occasion.js';
import { revocationSubsystem } from './revocation.js';
import { defaultRulesFile, loadRules } from './rules/load.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';
import { StartedSubsystems, type Stoppable, type Subsystem } from './subsystem.js';
import type { ConditionSink } from './warnings/conditions.js';
import type { WarningStage } from './warnings/stage.js';
import { warningsSubsystem } from './warnings/warnings-subsystem.js';

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
  /** Every HTTP route with the permission it declared: the role × route table (docs/roles.md). */
  routes: readonly DeclaredRoute[];
  /** The terminal register (issue 17). */
  register: TerminalRegister;
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

/**
 * The collector as the ordered list of the subsystems it starts. The files that can be wrong are
 * read first; each subsystem then opens what it owns and hands later ones what they need; the
 * timers (rules, outbox, clocks, liveness, revocation polls, the parent link) start once the API
 * listens. A failed start, like `stop()`, stops what had started, last first.
 */
export async function startCollector(
  config: CollectorConfig,
  runtime: CollectorRuntime = {},
): Promise<RunningCollector> {
  const clock = runtime.clock ?? systemClock;
  const logger = runtime.logger ?? createLogger('collector');
  useSodiumEd25519();
  logger.debug({ ed25519: ed25519Verifier() }, 'signature verification library');
  const httpAddress = parseListenAddress(config.http.listen, 'http.listen');
  const subsystems = new StartedSubsystems(logger);
  try {
    // Whole or not at all: a bad rule file stops the start before anything opens (exit 2).
    const rules = loadRules(config.rules.file ?? defaultRulesFile());
    // TLS files are read before anything opens, so a missing one fails the start at once (exit 2).
    const httpTls = config.http.tls ? readListenerTls(config.http.tls, 'http.tls') : undefined;
    const brokerTls = readBrokerTls(config.broker);

    const { store } = await subsystems.start(storeSubsystem(config.store.url));
    const context = { store, clock, logger };
    const identity = loadOrCreateCollectorIdentity(config.identity.dir);
    const metrics = new CollectorMetrics(store);
    const notify = notifyRoute(config.notify.channels);
    const { notifier } = await subsystems.start(notifySubsystem(context, config.notify, config.level));
    const { warnings } = await subsystems.start(warningsSubsystem(context, { rules, notify, notifier }));
    const sink = runtime.conditionSink ?? warnings;
    // The 24 h reminders say when the 泄密事件报告 still waits for 签发 (collector/documents/sign-off.ts).
    const clockSink = withAwaitingSignature(sink, store.documents);
    const { scheduler: clocks } = await subsystems.start(clocksSubsystem(context, config.clocks, clockSink));
    const checks = new RegisterChecks({ store, clock, logger, sink });
    const registerDeps = {
      store,
      clock,
      unit: config.unit,
      onTerminalsChanged: async (ids: readonly string[]) => {
        await checks.check(ids);
        // The policy an agent is pushed follows its registered level.
        void hierarchy.policy
          ?.refresh()
          .catch((err: unknown) => logger.error({ err }, 'policy refresh failed'));
      },
    };
    const register = new TerminalRegister(registerDeps);
    const transfer = new RegisterTransfer(register, registerDeps);
    const { verifyPool } = await subsystems.start(verifyPoolSubsystem(config.ingest));

    const transport = ingestTransport(config);
    const access = await subsystems.start(brokerAccessSubsystem(context, config.broker, transport.nats));
    const broker = await subsystems.start(brokerSubsystem(context, config.broker, brokerTls, metrics));
    const { client, clientId } = await subsystems.start(
      brokerClientSubsystem(context, {
        config: config.broker,
        tls: brokerTls,
        broker,
        transport,
        collectorId: identity.id,
      }),
    );

    const { pipeline: ingest, acks } = await subsystems.start(
      ingestSubsystem(context, { config: config.ingest, identity, metrics, client, verifyPool }),
    );
    const live = liveStream(context, ingest, warnings);
    warnings.follow(ingest);
    followInventory(ingest, store, logger);
    const { liveness } = await subsystems.start(
      livenessSubsystem(context, { config: config.liveness, sink, pipeline: ingest, acks }),
    );
    await subsystems.start(
      ingestSubscriptionSubsystem(context, {
        config: config.ingest,
        broker: config.broker,
        transport,
        pipeline: ingest,
        client,
        clientId,
      }),
    );

    const agentUrls = agentBrokerUrls(config.broker, broker, logger);
    const revocation = await subsystems.start(
      revocationSubsystem(context, {
        intervalMs: config.liveness.revocationPoll,
        embedded: broker.embedded,
        access,
      }),
    );
    const { hierarchy } = await subsystems.start(
      hierarchySubsystem(context, { config, identity, metrics, scheduler: clocks, sink, warnings, client }),
    );
    // Before the HTTP API, so that its stop (a last signature) comes after the API's last request.
    await subsystems.start(auditSealSubsystem(context, identity, config.audit));
    const { api } = await subsystems.start(
      httpApiSubsystem(context, {
        config,
        tls: httpTls,
        dashboardDir: runtime.dashboardDir,
        identity,
        metrics,
        live,
        notify,
        notifier,
        scheduler: clocks,
        hierarchy,
        revocation,
        brokerAccess: access,
        embedded: broker.embedded,
        agentBrokerUrls: agentUrls,
        register: { register, transfer },
      }),
    );
    const { httpUrl } = await subsystems.start(httpListenSubsystem(api, httpAddress, httpTls !== undefined));

    // Startup pass first: what fell due while the collector was down fires now, marked late.
    // Events stored before a crash but not yet evaluated are evaluated now; the outbox resumes.
    await warnings.start();
    notifier.start();
    await subsystems.run('register checks', checks, () => checks.start());
    await subsystems.run('clocks', clocks, () => clocks.start(config.clocks.schedule));
    await subsystems.run('liveness', liveness, () => liveness.start());
    await subsystems.run('revocation', revocation.watcher, () => revocation.watcher.start());
    await subsystems.run('hierarchy', hierarchy, () => hierarchy.start());
    const agentBrokerUrl = agentUrls[0]!;
    logger.info(
      { httpUrl, brokerUrl: broker.url, agentBrokerUrl, collector: identity.id, store: config.store.url },
      'collector running',
    );

    return {
      httpUrl,
      brokerUrl: broker.url,
      agentBrokerUrl,
      collectorId: identity.id,
      store,
      ingest,
      clocks,
      warnings,
      notifier,
      liveness,
      hierarchy,
      routes: api.declaredRoutes,
      register,
      stop: () => subsystems.stop(),
    };
  } catch (err) {
    await subsystems.stop();
    throw err;
  }
}

/** The store (SQLite or PostgreSQL, by URL), closed last. */
function storeSubsystem(url: string): Subsystem<{ store: Store } & Stoppable> {
  return {
    name: 'store',
    async start() {
      const store = await openStore(url);
      return { store, stop: () => store.close() };
    },
  };
}
