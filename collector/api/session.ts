import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import type { AccessChanges } from '../auth/access-changes.js';
import type { Principal } from '../auth/api-keys.js';
import {
  CSRF_HEADER,
  findSession,
  logout,
  parseCookies,
  SESSION_COOKIE,
  sessionCookie,
  sessionPrincipal,
} from '../auth/sessions.js';
import type { Store } from '../store/store.js';
import { okBody } from '../../shared/api/common.js';
import { sessionReply, type SessionUser } from '../../shared/api/session.js';
import { permissionsOf } from '../auth/permissions.js';
import { authErrorResponses, errorSchema, responseSchema, type ShapeTypes } from './schemas.js';

/**
 * The dashboard session seen from the API: the cookie check bearer-auth calls when a request
 * carries no bearer key, `GET /api/v1/session` (who am I, and the CSRF token for this session)
 * and `DELETE /api/v1/session` (log out). Logging in is `POST /api/v1/session` in login.ts.
 */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type CookieAuthentication =
  | { outcome: 'none' }
  | { outcome: 'ok'; principal: Principal }
  | { outcome: 'refused'; status: 401 | 403; error: string };

export async function authenticateSessionCookie(
  store: Store,
  request: FastifyRequest,
  clock: Clock,
  options: { touch?: boolean } = {},
): Promise<CookieAuthentication> {
  const sessionId = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
  if (sessionId === undefined) return { outcome: 'none' };
  const session = await findSession(store, sessionId, clock, undefined, options);
  if (!session) {
    return { outcome: 'refused', status: 401, error: 'the session has ended or is unknown; log in again' };
  }
  if (!SAFE_METHODS.has(request.method)) {
    // A browser sends the cookie on its own, even for a request another site makes it send; only
    // our page knows the per-session token, so a matching header proves the request came from it.
    const presented = request.headers[CSRF_HEADER];
    const expected = Buffer.from(session.csrfToken);
    if (typeof presented !== 'string' || !sameBytes(Buffer.from(presented), expected)) {
      return {
        outcome: 'refused',
        status: 403,
        error: `CSRF check failed: a state-changing request with a session cookie must send the session's token in the ${CSRF_HEADER} header`,
      };
    }
  }
  return { outcome: 'ok', principal: sessionPrincipal(session) };
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Who is calling, as the dashboard reads it: with what the role may do, so it shows only that. */
export function sessionUserOf(principal: Principal): SessionUser {
  const { name, role, unit, kind } = principal;
  return { name, role, unit, kind, permissions: permissionsOf(role) };
}

export function sessionRoutes(store: Store, clock: Clock, changes: AccessChanges) {
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<ShapeTypes>();
    app.get(
      '/api/v1/session',
      {
        config: { permission: 'session' },
        schema: {
          summary: 'Who is calling, and the CSRF token of their dashboard session',
          tags: ['session'],
          security: [{ bearer: [] }],
          response: {
            200: responseSchema(sessionReply),
            ...authErrorResponses,
          },
        },
      },
      async (request) => {
        const principal = request.principal!;
        const sessionId = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
        const session =
          principal.kind === 'user' && sessionId ? await findSession(store, sessionId, clock) : undefined;
        return {
          user: sessionUserOf(principal),
          ...(session ? { csrfToken: session.csrfToken, expiresAt: session.expiresAt } : {}),
        };
      },
    );

    app.delete(
      '/api/v1/session',
      {
        config: { permission: 'session' },
        schema: {
          summary: 'Log out: end this dashboard session',
          tags: ['session'],
          security: [{ bearer: [] }],
          response: {
            200: responseSchema(okBody),
            400: errorSchema,
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        const sessionId = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
        if (!sessionId)
          return reply.code(400).send({ error: 'no dashboard session to end (an api key has none)' });
        await logout(store, sessionId);
        changes.withdrawn();
        reply.header(
          'set-cookie',
          sessionCookie('', { maxAgeSeconds: 0, secure: request.protocol === 'https' }),
        );
        return { ok: true };
      },
    );
  };
}
