import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
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
import type { DocumentDeps } from '../documents/document-desk.js';
import { documentRoutes } from './documents.js';
import { enrollRoutes } from './enroll.js';
import { exportRoutes } from './exports.js';
import { keyRotationRoutes } from './key-rotation.js';
import { eventRoutes } from './events.js';
import { healthRoutes } from './health.js';
import { type HierarchyApiDeps, hierarchyLinkRoutes, hierarchyRoutes } from './hierarchy.js';
import { incidentRoutes } from './incidents.js';
import { loginRoutes } from './login.js';
import { metricsRoutes } from './metrics.js';
import { noticeRoutes } from './notices.js';
import { openapiRoutes } from './openapi.js';
import { declarePermissions, type DeclaredRoute } from './permission-check.js';
import { sessionRoutes } from './session.js';
import { rectificationRoutes } from './rectifications.js';
import { selfInspectionRoutes } from './self-inspections.js';
import { SelfInspectionDesk } from '../self-inspection/self-inspection-desk.js';
import { silenceRoutes } from './silences.js';
import { addSecurityHeaders, dashboardRoutes } from './static.js';
import { type ClockApiDeps, systemRoutes } from './systems.js';
import { personRoutes } from './persons.js';
import { terminalRoutes, type RegisterApiDeps } from './terminals.js';
import { LiveFeed, streamRoutes } from './stream.js';
import { warningRoutes, type WarningApiDeps } from './warnings.js';

/**
 * The collector's HTTP API (SPEC §8): one Fastify plugin per resource, every route with a
 * schema and a permission (collector/auth/permissions.ts). Open routes (health, metrics, enroll,
 * the OpenAPI document) are `public`; every other one requires a bearer key or a session whose
 * role holds its permission, checked before anything else. Errors are `{error}` JSON.
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
  /** Official documents and their 签发; absent in tests of other routes. */
  documents?: DocumentDeps;
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
  // Before any route: each must declare its permission, and each request is checked against it.
  // (The root instance is typed with the collector's logger; the hooks take any instance.)
  const root = app as unknown as FastifyInstance;
  const routes: DeclaredRoute[] = [];
  declarePermissions(root, routes);
  requireBearer(root, deps.store, clock, deps.hierarchy?.unit ?? deps.clocks?.unit);
  auditActions(root, deps.store, clock);

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
  await app.register(sessionRoutes(deps.store, clock, changes));
  await app.register(auditRoutes({ store: deps.store, clock, collectorId: deps.collectorId }));
  await app.register(accessRoutes({ store: deps.store, clock, changes }));
  await app.register(
    streamRoutes(deps.live ?? new LiveFeed(), {
      store: deps.store,
      clock,
      changes,
      recheckMs: deps.streamRecheckMs,
    }),
  );
  await app.register(agentRoutes(deps.store, { onRevoked: (id) => deps.onAgentRevoked?.(id) }));
  await app.register(
    agentApprovalRoutes(deps.store, {
      clock,
      onApproved: (id) => deps.onAgentApproved?.(id),
      onRevoked: (id) => deps.onAgentRevoked?.(id),
    }),
  );
  await app.register(eventRoutes(deps.store));
  if (deps.hierarchy) await app.register(hierarchyRoutes(deps.hierarchy));
  if (deps.warnings) {
    await app.register(warningRoutes(deps.warnings));
    await app.register(silenceRoutes(deps.warnings));
    await app.register(noticeRoutes(deps.warnings));
  }
  if (deps.clocks) {
    await app.register(systemRoutes(deps.clocks));
    await app.register(assessmentRoutes(deps.clocks));
    await app.register(incidentRoutes(deps.clocks));
    await app.register(rectificationRoutes(deps.clocks));
    await app.register(selfInspectionRoutes(deps.clocks));
  }
  if (deps.documents) {
    const inspections = deps.clocks && new SelfInspectionDesk(deps.clocks);
    await app.register(
      documentRoutes({
        ...deps.documents,
        ...(inspections && { selfInspection: (principal, id) => inspections.get(principal, id) }),
      }),
    );
  }
  if (deps.register) {
    await app.register(terminalRoutes(deps.register));
    await app.register(personRoutes(deps.register));
  }
  await app.register(exportRoutes({ store: deps.store, clocks: deps.clocks }));
  // The routes as registered, each with its permission: the role × route table (docs/roles.md).
  app.decorate('declaredRoutes', routes as readonly DeclaredRoute[]);
  return app;
}
