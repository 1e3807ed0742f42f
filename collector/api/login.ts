import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import { DEFAULT_SESSION_POLICY, login, sessionCookie, type SessionPolicy } from '../auth/sessions.js';
import type { Store } from '../store/store.js';
import { loginBody, loginReply } from '../../shared/api/session.js';
import { errorSchema, errorWhen, requestSchema, responseSchema, type ShapeTypes } from './schemas.js';
import { sessionUserOf } from './session.js';

/**
 * `POST /api/v1/session`: a dashboard user logs in with name and password. Open (it is how one
 * gets a session), throttled, and every attempt goes into the audit log with its address.
 */
export function loginRoutes(store: Store, clock: Clock, policy: SessionPolicy = DEFAULT_SESSION_POLICY) {
  return async (app: FastifyInstance) => {
    app.withTypeProvider<ShapeTypes>().post(
      '/api/v1/session',
      {
        config: { permission: 'public' },
        schema: {
          summary: 'Log in to the dashboard; sets an HttpOnly session cookie',
          tags: ['session'],
          body: requestSchema(loginBody),
          response: {
            200: responseSchema(loginReply),
            400: errorSchema,
            401: errorWhen('wrong name or password'),
            429: errorWhen('too many failed logins; see Retry-After'),
          },
        },
      },
      async (request, reply) => {
        const { name, password } = request.body;
        const ip = request.ip;
        const result = await login(
          store,
          { name, password, ip, userAgent: request.headers['user-agent'] ?? '' },
          clock,
          policy,
        );
        const audit = (action: string, status: number, detail: string) =>
          store.audit.append({
            at: clock.now().toISOString(),
            actor: name,
            actorKind: result.ok ? 'user' : 'anonymous',
            role: result.ok ? result.session.role : null,
            unit: result.ok ? result.session.unit : null,
            action,
            status,
            ip,
            detail,
          });
        if (!result.ok && result.reason === 'throttled') {
          await audit('login.throttled', 429, `retry after ${result.retryAfterSeconds} s`);
          return reply
            .code(429)
            .header('retry-after', String(result.retryAfterSeconds))
            .send({
              error: `too many failed logins; try again in ${Math.ceil(result.retryAfterSeconds / 60)} min (登录失败次数过多，请稍后再试)`,
            });
        }
        if (!result.ok) {
          await audit('login.refused', 401, 'wrong name or password');
          return reply.code(401).send({ error: 'wrong name or password (用户名或密码错误)' });
        }
        await audit('login', 200, request.headers['user-agent']?.slice(0, 200) ?? '');
        reply.header(
          'set-cookie',
          sessionCookie(result.sessionId, {
            maxAgeSeconds: Math.floor(policy.ttlMs / 1000),
            secure: request.protocol === 'https',
          }),
        );
        return {
          user: sessionUserOf(result.principal),
          csrfToken: result.session.csrfToken,
          expiresAt: result.session.expiresAt,
        };
      },
    );
  };
}
