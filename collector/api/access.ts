import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import type { AccessChanges } from '../auth/access-changes.js';
import { apiKeyView, revokeApiKey, type Principal } from '../auth/api-keys.js';
import { ROLES } from '../auth/roles.js';
import { MIN_PASSWORD_LENGTH, setUserEnabled, setUserPassword, userView } from '../auth/users.js';
import type { Store } from '../store/store.js';
import { seesUnit, visibleUnits } from './bearer-auth.js';
import { authErrorResponses, errorSchema, isoTime, listOf, nullableIsoTime } from './schemas.js';

/**
 * Withdrawing access (issue 14): admins list dashboard users and API keys, disable and enable a
 * user, set a user's password and revoke a key. A change ends the sessions concerned at once, and
 * open live streams re-check (AccessChanges). Every request here is in the audit log (audit.ts),
 * the password redacted. An admin key for a unit sees and changes only that unit's and those
 * below; accounts of no unit (every unit) only an admin of every unit.
 */
export interface AccessApiDeps {
  store: Store;
  clock: Clock;
  changes: AccessChanges;
}

const security = [{ bearer: [] }];
const unitField = { type: ['string', 'null'], description: 'null: every unit' } as const;

const userSchema = {
  type: 'object',
  required: ['name', 'role', 'unit', 'createdAt', 'disabledAt'],
  properties: {
    name: { type: 'string' },
    role: { type: 'string', enum: [...ROLES] },
    unit: unitField,
    createdAt: isoTime,
    disabledAt: nullableIsoTime,
  },
} as const;

const apiKeySchema = {
  type: 'object',
  required: ['name', 'role', 'unit', 'createdAt', 'revokedAt'],
  properties: {
    name: { type: 'string' },
    role: { type: 'string', enum: [...ROLES] },
    unit: unitField,
    createdAt: isoTime,
    revokedAt: nullableIsoTime,
  },
} as const;

const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

/** Whether the principal may see an account of `unit` (null: an account for every unit). */
function seesAccount(principal: Principal | null, unit: string | null): boolean {
  return unit === null ? visibleUnits(principal) === undefined : seesUnit(principal, unit);
}

function requireAdmin(request: FastifyRequest, reply: FastifyReply): Principal | undefined {
  const principal = request.principal;
  if (principal?.role !== 'admin') {
    void reply
      .code(403)
      .send({ error: 'only an admin may manage users and api keys (仅管理员可管理用户和密钥)' });
    return undefined;
  }
  return principal;
}

export function accessRoutes(deps: AccessApiDeps) {
  const { store, clock, changes } = deps;
  return async (app: FastifyInstance) => {
    app.get(
      '/api/v1/users',
      {
        schema: {
          summary: 'Dashboard users of the caller’s units, disabled ones too (admins only)',
          tags: ['access'],
          security,
          response: { 200: listOf(userSchema), ...authErrorResponses },
        },
      },
      async (request, reply) => {
        const principal = requireAdmin(request, reply);
        if (!principal) return reply;
        const users = await store.listUsers();
        return { items: users.filter((u) => seesAccount(principal, u.unit)).map(userView) };
      },
    );

    /** The user named in the path, if the caller may manage them; otherwise the reply is sent. */
    async function managedUser(request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) {
      const principal = requireAdmin(request, reply);
      if (!principal) return undefined;
      const user = await store.getUser(request.params.name);
      if (!user || !seesAccount(principal, user.unit)) {
        void reply.code(404).send({ error: `no user named ${JSON.stringify(request.params.name)}` });
        return undefined;
      }
      return { principal, user };
    }

    for (const action of ['disable', 'enable'] as const) {
      app.post<{ Params: { name: string } }>(
        `/api/v1/users/:name/${action}`,
        {
          schema: {
            summary:
              action === 'disable'
                ? 'Disable a user: their sessions and live streams end at once; they cannot log in'
                : 'Enable a disabled user again',
            tags: ['access'],
            security,
            params: nameParams,
            response: { 200: userSchema, 404: errorSchema, 409: errorSchema, ...authErrorResponses },
          },
        },
        async (request, reply) => {
          const found = await managedUser(request, reply);
          if (!found) return reply;
          const { principal, user } = found;
          if (action === 'disable' && principal.kind === 'user' && principal.name === user.name) {
            return reply
              .code(409)
              .send({ error: 'you cannot disable your own account (不能停用自己的账号)' });
          }
          const changed = await setUserEnabled(store, user.name, action === 'enable', clock);
          if (!changed) return reply.code(404).send({ error: `no user named ${JSON.stringify(user.name)}` });
          changes.withdrawn();
          return userView(changed);
        },
      );
    }

    app.post<{ Params: { name: string }; Body: { password: string } }>(
      '/api/v1/users/:name/password',
      {
        schema: {
          summary: 'Set a user’s password; their sessions end (the password is never logged)',
          tags: ['access'],
          security,
          params: nameParams,
          body: {
            type: 'object',
            required: ['password'],
            additionalProperties: false,
            properties: { password: { type: 'string', minLength: MIN_PASSWORD_LENGTH, maxLength: 1024 } },
          },
          response: { 200: userSchema, 400: errorSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        const found = await managedUser(request, reply);
        if (!found) return reply;
        await setUserPassword(store, found.user.name, request.body.password);
        changes.withdrawn();
        return userView(found.user);
      },
    );

    app.get(
      '/api/v1/apikeys',
      {
        schema: {
          summary:
            'API keys of the caller’s units by name, role and unit, revoked ones too; never the key (admins only)',
          tags: ['access'],
          security,
          response: { 200: listOf(apiKeySchema), ...authErrorResponses },
        },
      },
      async (request, reply) => {
        const principal = requireAdmin(request, reply);
        if (!principal) return reply;
        const keys = await store.listApiKeys();
        return { items: keys.filter((k) => seesAccount(principal, k.unit)).map(apiKeyView) };
      },
    );

    app.post<{ Params: { name: string } }>(
      '/api/v1/apikeys/:name/revoke',
      {
        schema: {
          summary: 'Revoke every active key of that name: refused at once, its live streams end',
          tags: ['access'],
          security,
          params: nameParams,
          response: {
            200: {
              type: 'object',
              required: ['name', 'revoked'],
              properties: { name: { type: 'string' }, revoked: { type: 'integer' } },
            },
            404: errorSchema,
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        const principal = requireAdmin(request, reply);
        if (!principal) return reply;
        const { name } = request.params;
        const active = (await store.listApiKeys()).filter((k) => k.name === name && k.revokedAt === null);
        if (active.length === 0 || !active.every((k) => seesAccount(principal, k.unit))) {
          return reply.code(404).send({ error: `no active api key named ${JSON.stringify(name)}` });
        }
        const revoked = await revokeApiKey(store, name, clock);
        changes.withdrawn();
        return { name, revoked };
      },
    );
  };
}
