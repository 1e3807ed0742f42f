import type { TlsMaterial } from '../shared/tls.js';
import { buildApi } from './api/app.js';
import { LiveFeed, publishIngest } from './api/stream.js';
import { announceWarnings } from './api/warnings.js';
import type { EmbeddedBroker } from './broker/embedded-broker.js';
import type { BrokerAccess } from './broker/broker-access.js';
import { clockOptionsFromConfig, unitRankOf } from './clocks/clock-config.js';
import type { ClockScheduler } from './clocks/scheduler.js';
import type { CollectorConfig } from './config.js';
import { checkFonts } from './documents/documents-config.js';
import type { Hierarchy } from './hierarchy/hierarchy.js';
import type { CollectorIdentity } from './identity.js';
import type { IngestPipeline } from './ingest/pipeline.js';
import { explainListenError, formatHostPort, reachableHost, type ListenAddress } from './listen-address.js';
import type { CollectorMetrics } from './metrics.js';
import type { Notifier } from './notify/notifier.js';
import type { RegisterApiDeps } from './api/terminals.js';
import type { NotifyRoute } from './notify/occasion.js';
import type { RevocationEnforcement } from './revocation.js';
import type { CollectorContext, Stoppable, Subsystem } from './subsystem.js';
import type { WarningStage } from './warnings/stage.js';

type HttpApi = Awaited<ReturnType<typeof buildApi>>;

/** What the dashboard's live stream carries: accepted ingest, and warnings as they open or change. */
export interface LiveStream {
  feed: LiveFeed;
  announce(warningIds: readonly string[]): void;
}

export function liveStream(
  context: CollectorContext,
  pipeline: IngestPipeline,
  warnings: WarningStage,
): LiveStream {
  const { store, logger } = context;
  const feed = new LiveFeed();
  publishIngest(pipeline, feed, store, logger);
  const announce = (ids: readonly string[]) =>
    void announceWarnings(feed, store, ids).catch((err: unknown) =>
      logger.warn({ err }, 'live feed publish failed'),
    );
  warnings.subscribe((result) => announce([...result.opened, ...result.updated]));
  return { feed, announce };
}

export interface HttpApiOptions {
  config: Pick<CollectorConfig, 'unit' | 'level' | 'http' | 'enroll' | 'ingest' | 'clocks' | 'documents'>;
  tls: TlsMaterial | undefined;
  dashboardDir: string | undefined;
  identity: CollectorIdentity;
  metrics: CollectorMetrics;
  live: LiveStream;
  notify: NotifyRoute;
  notifier: Notifier;
  scheduler: ClockScheduler;
  hierarchy: Hierarchy;
  revocation: RevocationEnforcement;
  brokerAccess: BrokerAccess;
  embedded: EmbeddedBroker | undefined;
  /** What enrollment hands to agents (agentBrokerUrls). */
  agentBrokerUrls: readonly string[];
  register: RegisterApiDeps;
}

/** The HTTP API and the dashboard (collector/api/); it listens in the next step, httpListenSubsystem. */
export function httpApiSubsystem(
  context: CollectorContext,
  options: HttpApiOptions,
): Subsystem<{ api: HttpApi } & Stoppable> {
  const { store, clock, logger } = context;
  const { config, identity, metrics, live, notifier, scheduler, hierarchy, revocation } = options;
  return {
    name: 'http api',
    async start() {
      // Documents are one feature among many: a missing font is said at start, not fatal.
      try {
        checkFonts(config.documents.fonts);
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'documents: PDFs cannot be made until this is fixed');
      }
      const api = await buildApi({
        hierarchy: { hierarchy, unit: config.unit, maxReportBody: config.http.maxReportBody },
        onAgentRevoked: revocation.revoked,
        onAgentApproved: revocation.approved,
        store,
        metrics,
        logger,
        enrollment: {
          store,
          identity,
          clock,
          metrics,
          logger,
          brokerUrls: options.agentBrokerUrls,
          approval: config.enroll.approval,
          maxSkewMs: config.ingest.maxSkew,
          onCredentialsChanged: (agentId) => options.embedded?.credentials.invalidate(agentId),
          onEnrolled: (agentId, brokerSecret) => options.brokerAccess.enrolled(agentId, brokerSecret),
        },
        collectorId: identity.id,
        live: live.feed,
        dashboardDir: options.dashboardDir,
        ...(options.tls ? { tls: options.tls } : {}),
        trustProxy: config.http.trustProxy,
        register: options.register,
        clocks: {
          store,
          scheduler,
          unit: config.unit,
          level: config.level,
          rankOf: (unit) => unitRankOf(config.clocks, unit, config.level),
          onIncidentChange: () => hierarchy.reportSoon(),
          onRectificationChange: () => hierarchy.reportSoon(),
          onSelfInspectionFinalised: () => hierarchy.reportSoon(),
        },
        documents: {
          store,
          clock,
          unit: config.unit,
          level: config.level,
          fonts: config.documents.fonts,
          clockOptions: clockOptionsFromConfig(config.clocks),
          rankOf: (unit) => unitRankOf(config.clocks, unit, config.level),
          // A signed-off incident or annual report may go up now, not at the next round.
          onSignedOff: () => hierarchy.reportSoon(),
        },
        warnings: {
          store,
          clock,
          notify: options.notify,
          onChange: (id) => {
            live.announce([id]);
            notifier.kick();
            // A warning's new state goes up to the parent (at or above parent.minSeverity).
            hierarchy.reportSoon();
          },
        },
      });
      return { api, stop: () => api.close() };
    },
  };
}

/** http.listen bound; the URL as it can be reached (the real port when port 0 was asked for). */
export function httpListenSubsystem(
  api: HttpApi,
  address: ListenAddress,
  https: boolean,
): Subsystem<{ httpUrl: string }> {
  return {
    name: 'http listen',
    async start() {
      try {
        await api.listen({ host: address.host, port: address.port });
      } catch (err) {
        throw explainListenError(err as NodeJS.ErrnoException, address, 'http.listen');
      }
      const bound = api.server.address();
      const port = typeof bound === 'object' && bound !== null ? bound.port : address.port;
      return {
        httpUrl: `${https ? 'https' : 'http'}://${formatHostPort(reachableHost(address.host), port)}`,
      };
    },
  };
}
