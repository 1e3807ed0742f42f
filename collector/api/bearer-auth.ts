import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { systemClock, type Clock } from '../../shared/clock.js';
import { authenticateApiKey, type Principal } from '../auth/api-keys.js';
import type { Store } from '../store/store.js';
import { checkPermission, routePermission } from './permission-check.js';
import { authenticateSessionCookie } from './session.js';
import { unitAndBelow } from './unit-scope.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the bearer check on every authenticated route. */
    principal: Principal | null;
  }
}

/**
 * Requires `Authorization: Bearer <api key>`, or a dashboard session cookie (with the session's
 * CSRF token on state-changing requests) when no Authorization header is sent, on every route of
 * `scope` whose permission is not `public` (SPEC §8: everything but health, metrics and enroll),
 * and then that the caller's role holds the route's permission (collector/auth/permissions.ts).
 * Both run before the body is parsed, so a refused caller learns nothing from validation.
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
    const permission = routePermission(request);
    // No permission: no such route (answered 404), since every route must declare one.
    if (permission === undefined || permission === 'public') return;
    const result = await authenticate(store, request, clock);
    if (!result.ok) {
      if (result.challenge) reply.header('www-authenticate', 'Bearer');
      return reply.code(result.status).send({ error: result.error });
    }
    request.principal = await withUnits(result.principal);
    if (!checkPermission(request, reply, permission)) return reply;
  });
}

export type Authentication =
  { ok: true; principal: Principal } | { ok: false; status: 401 | 403; error: string; challenge?: boolean };

/**
 * Who sent the request: its bearer key, or else its dashboard session cookie. Also how an open
 * live stream re-checks that its caller still has access (`touch: false`: a stream left open does
 * not keep an idle session alive).
 */
export async function authenticate(
  store: Store,
  request: FastifyRequest,
  clock: Clock,
  options: { touch?: boolean } = {},
): Promise<Authentication> {
  const header = request.headers.authorization;
  if (!header) {
    const cookie = await authenticateSessionCookie(store, request, clock, options);
    if (cookie.outcome === 'refused') return { ok: false, status: cookie.status, error: cookie.error };
    if (cookie.outcome === 'ok') return { ok: true, principal: cookie.principal };
  }
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) {
    return {
      ok: false,
      status: 401,
      error: 'authorization required: send Authorization: Bearer <api key>, or log in',
      challenge: true,
    };
  }
  const principal = await authenticateApiKey(store, match[1]!);
  if (!principal) return { ok: false, status: 401, error: 'unknown or revoked api key', challenge: true };
  return { ok: true, principal };
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
