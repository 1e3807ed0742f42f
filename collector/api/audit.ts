import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import type { Store } from '../store/store.js';
import { visibleUnits } from './bearer-auth.js';
import { auditList, auditQuery } from '../../shared/api/audit.js';
import {
  authErrorResponses,
  errorSchema,
  requestSchema,
  responseSchema,
  type ShapeTypes,
} from './schemas.js';

/**
 * The audit log (who, what, when, from where): every state-changing request in the
 * authenticated scope is recorded when its response goes out, with the outcome; logins and
 * logouts are recorded by their routes. `GET /api/v1/audit` shows it to admins.
 */
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Request bodies are kept as the record of what was asked, up to this many characters. */
const MAX_DETAIL = 2000;
const SECRET_FIELDS = new Set(['password', 'token', 'secret']);

export function auditActions(scope: FastifyInstance, store: Store, clock: Clock): void {
  scope.addHook('onResponse', async (request, reply) => {
    if (READ_METHODS.has(request.method)) return;
    const principal = request.principal;
    try {
      await store.sessions.addAudit({
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

export function auditRoutes(store: Store) {
  return async (app: FastifyInstance) => {
    app.withTypeProvider<ShapeTypes>().get(
      '/api/v1/audit',
      {
        schema: {
          summary: 'The audit log, newest first (admins only)',
          tags: ['audit'],
          security: [{ bearer: [] }],
          querystring: requestSchema(auditQuery),
          response: { 200: responseSchema(auditList), 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        if (request.principal?.role !== 'admin') {
          return reply.code(403).send({ error: 'only an admin may read the audit log' });
        }
        const items = await store.sessions.listAudit({
          units: visibleUnits(request.principal),
          actor: request.query.actor,
          beforeId: request.query.before,
          limit: request.query.limit,
        });
        return { items };
      },
    );
  };
}
