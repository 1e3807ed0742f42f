import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import type { Store } from '../store/store.js';
import { visibleUnits } from './bearer-auth.js';
import { routePermission } from './permission-check.js';
import { auditExport, auditList, auditQuery, chainReport } from '../../shared/api/audit.js';
import { exportAuditLog, verifyAuditLog } from '../audit/audit-log.js';
import {
  authErrorResponses,
  errorSchema,
  requestSchema,
  responseSchema,
  type ShapeTypes,
} from './schemas.js';

/**
 * The audit log (who, what, when, from where): every state-changing request to a route behind a
 * login, and every request refused with 403, is recorded when its response goes out, with the
 * outcome; logins and logouts are recorded by their routes. The auditor (安全审计员, audit.read) reads it, both
 * administrators' entries included, checks its chain and exports it; nobody else reads it.
 */
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Request bodies are kept as the record of what was asked, up to this many characters. */
const MAX_DETAIL = 2000;
const SECRET_FIELDS = new Set(['password', 'token', 'secret']);

export function auditActions(scope: FastifyInstance, store: Store, clock: Clock): void {
  scope.addHook('onResponse', async (request, reply) => {
    // Reads are not recorded, but a read refused for want of a permission is: trying is on record.
    if (READ_METHODS.has(request.method) && reply.statusCode !== 403) return;
    // Logins audit themselves; enrollment and children's reports are recorded by their own domains.
    const permission = routePermission(request);
    if (permission === undefined || permission === 'public') return;
    const principal = request.principal;
    try {
      await store.audit.append({
        at: clock.now().toISOString(),
        actor: principal?.name ?? 'anonymous',
        actorKind: principal?.kind ?? 'anonymous',
        role: principal?.role ?? null,
        unit: principal?.unit ?? null,
        action: `${request.method} ${request.url.split('?')[0]}`,
        status: reply.statusCode,
        ip: request.ip,
        detail: describeBody(request),
      });
    } catch (err) {
      request.log.error({ err }, 'could not write the audit log');
    }
  });
}

function describeBody(request: FastifyRequest): string {
  if (request.body === undefined || request.body === null) return '';
  // An uploaded file (a 台账 import) is recorded by its size; its rows are audited one by one.
  if (Buffer.isBuffer(request.body)) return `[file, ${request.body.length} bytes]`;
  const text = JSON.stringify(request.body, (key, value: unknown) =>
    SECRET_FIELDS.has(key) ? '[redacted]' : value,
  );
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}

export interface AuditApiDeps {
  store: Store;
  clock: Clock;
  /** This collector: the heads it signed are the ones trusted. */
  collectorId: string;
}

export function auditRoutes(deps: AuditApiDeps) {
  const { store, clock } = deps;
  const trusted = [deps.collectorId];
  const tags = ['audit'];
  const security = [{ bearer: [] }];
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<ShapeTypes>();
    app.get(
      '/api/v1/audit',
      {
        config: { permission: 'audit.read' },
        schema: {
          summary: 'The audit log, newest first, each entry with its link in the hash chain (auditors)',
          tags,
          security,
          querystring: requestSchema(auditQuery),
          response: { 200: responseSchema(auditList), 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request) => {
        const { actor, action, since, until, before, limit } = request.query;
        const units = visibleUnits(request.principal);
        const items = await store.audit.list({ units, actor, action, since, until, beforeId: before, limit });
        return { items };
      },
    );

    app.get(
      '/api/v1/audit/chain',
      {
        config: { permission: 'audit.read' },
        schema: {
          summary:
            'Verify the audit log’s hash chain and signed heads now: intact, or the first break and its kind',
          tags,
          security,
          response: { 200: responseSchema(chainReport), ...authErrorResponses },
        },
      },
      async () => verifyAuditLog(store, trusted),
    );

    app.get(
      '/api/v1/audit/export',
      {
        config: { permission: 'audit.read' },
        schema: {
          summary:
            'The audit log of the caller’s units, oldest first, with its chain, the signed heads and the verification (a file)',
          tags,
          security,
          response: { 200: responseSchema(auditExport), ...authErrorResponses },
        },
      },
      async (request, reply) => {
        const exported = await exportAuditLog(store, {
          units: visibleUnits(request.principal),
          trusted,
          clock,
        });
        const day = exported.exportedAt.slice(0, 10);
        reply.header('content-disposition', `attachment; filename="smew-audit-${day}.json"`);
        return exported;
      },
    );
  };
}
