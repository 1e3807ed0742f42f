import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { systemClock, type Clock } from '../../shared/clock.js';
import { authenticateApiKey, type Principal } from '../auth/api-keys.js';
import type { Store } from '../store/store.js';
import { authenticateSessionCookie } from './session.js';
import { unitAndBelow } from './unit-scope.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the bearer check on every authenticated route. */
    principal: Principal | null;
  }
}

/**
 * Requires `Authorization: Bearer <api key>` on every route registered inside `scope`
 * (SPEC §8: everything but health, metrics and enroll), or a dashboard session cookie (with the
 * session's CSRF token on state-changing requests) when no Authorization header is sent.
 */
export function requireBearer(
  scope: FastifyInstance,
  store: Store,
  clock: Clock = systemClock,
  /** This collector's unit: every collector in its hierarchy is below it. */
  ownUnit?: string,
): void {
  const withUnits = async (principal: Principal): Promise<Principal> =>
    principal.unit === null
      ? principal
      : { ...principal, units: await unitAndBelow(store, principal.unit, ownUnit) };
  scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    if (!header) {
      const cookie = await authenticateSessionCookie(store, request, clock);
      if (cookie.outcome === 'refused') return reply.code(cookie.status).send({ error: cookie.error });
      if (cookie.outcome === 'ok') {
        request.principal = await withUnits(cookie.principal);
        return;
      }
    }
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'authorization required: send Authorization: Bearer <api key>, or log in' });
    }
    const principal = await authenticateApiKey(store, match[1]!);
    if (!principal) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unknown or revoked api key' });
    }
    request.principal = await withUnits(principal);
  });
}

/** The units a principal may see: undefined = all (no unit on the key); else its unit and those below. */
export function visibleUnits(principal: Principal | null): string[] | undefined {
  if (!principal) return [];
  return principal.unit === null ? undefined : [...(principal.units ?? [principal.unit])];
}

/** Whether a principal may see what belongs to `unit` (the scope rule of visibleUnits, for one unit). */
export function seesUnit(principal: Principal | null, unit: string): boolean {
  const units = visibleUnits(principal);
  return units === undefined || units.includes(unit);
}
