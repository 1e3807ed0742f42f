import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyError } from 'fastify';
import type { Logger } from '../../shared/log.js';
import type { TlsMaterial } from '../../shared/tls.js';
import { SMEW_VERSION } from '../../shared/version.js';
import type { EnrollmentDeps } from '../enrollment.js';
import type { CollectorMetrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import { AccessChanges } from '../auth/access-changes.js';
import { accessRoutes } from './access.js';
import { agentApprovalRoutes } from './agent-approvals.js';
import { agentRoutes } from './agents.js';
import { assessmentRoutes } from './assessments.js';
import { auditActions, auditRoutes } from './audit.js';
import { requireBearer } from './bearer-auth.js';
import { enrollRoutes } from './enroll.js';
import { keyRotationRoutes } from './key-rotation.js';
import { eventRoutes } from './events.js';
import { healthRoutes } from './health.js';
import { type HierarchyApiDeps, hierarchyLinkRoutes, hierarchyRoutes } from './hierarchy.js';
import { incidentRoutes } from './incidents.js';
import { loginRoutes } from './login.js';
import { metricsRoutes } from './metrics.js';
import { noticeRoutes } from './notices.js';
import { openapiRoutes } from './openapi.js';
import { sessionRoutes } from './session.js';
import { silenceRoutes } from './silences.js';
import { addSecurityHeaders, dashboardRoutes } from './static.js';
import { type ClockApiDeps, systemRoutes } from './systems.js';
import { personRoutes } from './persons.js';
import { terminalRoutes, type RegisterApiDeps } from './terminals.js';
import { LiveFeed, streamRoutes } from './stream.js';
import { warningRoutes, type WarningApiDeps } from './warnings.js';

/**
 * The collector's HTTP API (SPEC §8): one Fastify plugin per resource, every route with a
 * schema. Open routes (health, metrics, enroll, the OpenAPI document) sit at the root; the
 * rest are registered inside a scope that requires a bearer key. Errors are `{error}` JSON.
 */
export interface ApiDeps {
  store: Store;
  /** A revoked agent is cut off from the broker at once (issue 4). */
  onAgentRevoked?(agentId: string): void;
  /** An admin approved a pending agent (enroll.approval: manual). */
  onAgentApproved?(agentId: string): void;
  metrics: CollectorMetrics;
  logger: Logger;
  enrollment: EnrollmentDeps;
  collectorId: string;
  /** What the live stream forwards; the collector publishes ingest on it. */
  live?: LiveFeed;
  /** The built dashboard; default dist/dashboard. */
  dashboardDir?: string;
  /** http.tls: serve HTTPS only. */
  tls?: TlsMaterial;
  /** http.trustProxy: the reverse proxies whose X-Forwarded-For names the client. */
  trustProxy?: readonly string[] | false;
  /** How often open live streams re-check their caller's access (default STREAM_RECHECK_MS). */
  streamRecheckMs?: number;
  /** The legal clocks' routes (systems, assessments, incidents); absent in tests of other routes. */
  clocks?: ClockApiDeps;
  /** Collectors in a hierarchy: the link routes children call and the scoped views. */
  hierarchy?: HierarchyApiDeps;
  /** 第64条 warnings, silences and notices; absent in tests of other routes. */
  warnings?: WarningApiDeps;
  /** The terminal register (issue 17): terminals and persons; absent in tests of other routes. */
  register?: RegisterApiDeps;
}

export async function buildApi(deps: ApiDeps) {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }),
    // Request lines at info would drown the log of a busy collector; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    // A field of several scalar types (a silence matcher's data values) is `type: [...]` in JSON
    // Schema; Ajv's strict mode accepts it but would print a warning for each at every start.
    ajv: { customOptions: { allowUnionTypes: true } },
    // request.ip (login throttle, audit) is the socket's peer unless it is a named proxy.
    trustProxy: deps.trustProxy ? [...deps.trustProxy] : false,
    // An https.Server answers requests as an http.Server does; Fastify types its routes by the latter.
    serverFactory: (handler) =>
      deps.tls
        ? (createHttpsServer({ cert: deps.tls.cert, key: deps.tls.key }, handler) as unknown as Server)
        : createHttpServer(handler),
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'smew collector API',
        description: '保密监测预警 — secrecy monitoring and early warning',
        version: SMEW_VERSION,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      return reply.code(400).send({ error: error.message });
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error, url: request.url }, 'request failed');
      return reply.code(500).send({ error: 'internal error; see the collector log' });
    }
    return reply.code(status).send({ error: error.message });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
  app.decorateRequest('principal', null);
  app.addHook('onSend', addSecurityHeaders);
  const clock = deps.enrollment.clock;
  const changes = new AccessChanges();

  await app.register(
    healthRoutes({ collectorId: deps.collectorId, checkStore: () => deps.store.schemaVersion() }),
  );
  await app.register(metricsRoutes(deps.metrics));
  await app.register(openapiRoutes);
  await app.register(enrollRoutes(deps.enrollment));
  await app.register(keyRotationRoutes(deps.store, { clock: deps.enrollment.clock }));
  if (deps.hierarchy) await app.register(hierarchyLinkRoutes(deps.hierarchy));
  await app.register(dashboardRoutes(deps.dashboardDir));
  await app.register(loginRoutes(deps.store, clock));
  await app.register(async (secured) => {
    requireBearer(secured, deps.store, clock, deps.hierarchy?.unit ?? deps.clocks?.unit);
    auditActions(secured, deps.store, clock);
    await secured.register(sessionRoutes(deps.store, clock, changes));
    await secured.register(auditRoutes(deps.store));
    await secured.register(accessRoutes({ store: deps.store, clock, changes }));
    await secured.register(
      streamRoutes(deps.live ?? new LiveFeed(), {
        store: deps.store,
        clock,
        changes,
        recheckMs: deps.streamRecheckMs,
      }),
    );
    await secured.register(agentRoutes(deps.store, { onRevoked: (id) => deps.onAgentRevoked?.(id) }));
    await secured.register(
      agentApprovalRoutes(deps.store, {
        clock,
        onApproved: (id) => deps.onAgentApproved?.(id),
        onRevoked: (id) => deps.onAgentRevoked?.(id),
      }),
    );
    await secured.register(eventRoutes(deps.store));
    if (deps.hierarchy) await secured.register(hierarchyRoutes(deps.hierarchy));
    if (deps.warnings) {
      await secured.register(warningRoutes(deps.warnings));
      await secured.register(silenceRoutes(deps.warnings));
      await secured.register(noticeRoutes(deps.warnings));
    }
    if (deps.clocks) {
      await secured.register(systemRoutes(deps.clocks));
      await secured.register(assessmentRoutes(deps.clocks));
      await secured.register(incidentRoutes(deps.clocks));
    }
    if (deps.register) {
      await secured.register(terminalRoutes(deps.register));
      await secured.register(personRoutes(deps.register));
    }
  });
  return app;
}
