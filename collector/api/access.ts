import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import type { AccessChanges } from '../auth/access-changes.js';
import { apiKeyView, createApiKey, revokeApiKey, type Principal } from '../auth/api-keys.js';
import { parseRole } from '../auth/roles.js';
import { addUser, setUserEnabled, setUserPassword, userView } from '../auth/users.js';
import { isUserError } from '../../shared/errors.js';
import type { Store } from '../store/store.js';
import { seesUnit, visibleUnits } from './bearer-auth.js';
import {
  apiKeyList,
  createdApiKey,
  keysRevoked,
  newApiKeyBody,
  newUserBody,
  nameParams as nameShape,
  passwordBody,
  user,
  userList,
} from '../../shared/api/access.js';
import {
  authErrorResponses,
  errorSchema,
  requestSchema,
  responseSchema,
  type ShapeTypes,
} from './schemas.js';

/**
 * Withdrawing access (issue 14): system administrators (access.manage) list dashboard users and
 * API keys, disable and enable a user, set a user's password and revoke a key. A change ends the sessions concerned at once, and
 * open live streams re-check (AccessChanges). Every request here is in the audit log (audit.ts),
 * the password redacted. A sysadmin key for a unit sees and changes only that unit's and those
 * below; accounts of no unit (every unit) only a sysadmin of every unit.
 */
export interface AccessApiDeps {
  store: Store;
  clock: Clock;
  changes: AccessChanges;
}

const security = [{ bearer: [] }];
const userSchema = responseSchema(user);
const nameParams = requestSchema(nameShape);

/** Whether the principal may see an account of `unit` (null: an account for every unit). */
function seesAccount(principal: Principal | null, unit: string | null): boolean {
  return unit === null ? visibleUnits(principal) === undefined : seesUnit(principal, unit);
}

export function accessRoutes(deps: AccessApiDeps) {
  const { store, clock, changes } = deps;
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<ShapeTypes>();
    app.get(
      '/api/v1/users',
      {
        config: { permission: 'access.manage' },
        schema: {
          summary: 'Dashboard users of the caller’s units, disabled ones too (sysadmin)',
          tags: ['access'],
          security,
          response: { 200: responseSchema(userList), ...authErrorResponses },
        },
      },
      async (request) => {
        const principal = request.principal!;
        const users = await store.listUsers();
        return { items: users.filter((u) => seesAccount(principal, u.unit)).map(userView) };
      },
    );

    /**
     * A new account's role and unit, or the reply: an unknown or pre-三员 role is a 400 naming the
     * roles and the mapping; a unit the caller does not manage is a 403.
     */
    function newAccount(request: FastifyRequest, reply: FastifyReply, body: { role: string; unit?: string }) {
      const principal = request.principal!;
      try {
        const role = parseRole(body.role, 'role');
        const unit = body.unit ?? principal.unit ?? undefined;
        if (!seesAccount(principal, unit ?? null)) {
          void reply.code(403).send({
            error: `unit: this key manages ${principal.unit} and below, not ${unit ?? 'every unit'}`,
          });
          return undefined;
        }
        return { role, unit };
      } catch (err) {
        if (!isUserError(err)) throw err;
        void reply.code(400).send({ error: err.message });
        return undefined;
      }
    }

    /** A UserError from the account functions (a second role for one name) is a 409. */
    async function refusedAs409<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T | undefined> {
      try {
        return await work();
      } catch (err) {
        if (!isUserError(err)) throw err;
        void reply.code(409).send({ error: err.message });
        return undefined;
      }
    }

    app.post(
      '/api/v1/users',
      {
        config: { permission: 'access.manage' },
        schema: {
          summary: 'Add a dashboard user with one role (one role per account: 第34条)',
          tags: ['access'],
          security,
          body: requestSchema(newUserBody),
          response: { 201: userSchema, 400: errorSchema, 409: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        const account = newAccount(request, reply, request.body);
        if (!account) return reply;
        const { name, password } = request.body;
        const added = await refusedAs409(reply, () => addUser(store, { name, password, ...account, clock }));
        if (added === undefined) return reply;
        if (!added)
          return reply.code(409).send({ error: `a user named ${JSON.stringify(name)} already exists` });
        return reply.code(201).send(userView((await store.getUser(name))!));
      },
    );

    app.post(
      '/api/v1/apikeys',
      {
        config: { permission: 'access.manage' },
        schema: {
          summary: 'Create an API key with one role; the reply carries the key, this once',
          tags: ['access'],
          security,
          body: requestSchema(newApiKeyBody),
          response: {
            201: responseSchema(createdApiKey),
            400: errorSchema,
            409: errorSchema,
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        const account = newAccount(request, reply, request.body);
        if (!account) return reply;
        const { name } = request.body;
        const key = await refusedAs409(reply, () => createApiKey(store, { name, ...account, clock }));
        if (key === undefined) return reply;
        const created = (await store.listApiKeys()).filter((k) => k.name === name).at(-1)!;
        return reply.code(201).send({ ...apiKeyView(created), key });
      },
    );

    /** The user named in the path, if the caller may manage them; otherwise the reply is sent. */
    async function managedUser(request: FastifyRequest, reply: FastifyReply, name: string) {
      const principal = request.principal!;
      const user = await store.getUser(name);
      if (!user || !seesAccount(principal, user.unit)) {
        void reply.code(404).send({ error: `no user named ${JSON.stringify(name)}` });
        return undefined;
      }
      return { principal, user };
    }

    for (const action of ['disable', 'enable'] as const) {
      app.post(
        `/api/v1/users/:name/${action}`,
        {
          config: { permission: 'access.manage' },
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
          const found = await managedUser(request, reply, request.params.name);
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

    app.post(
      '/api/v1/users/:name/password',
      {
        config: { permission: 'access.manage' },
        schema: {
          summary: 'Set a user’s password; their sessions end (the password is never logged)',
          tags: ['access'],
          security,
          params: nameParams,
          body: requestSchema(passwordBody),
          response: { 200: userSchema, 400: errorSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        const found = await managedUser(request, reply, request.params.name);
        if (!found) return reply;
        await setUserPassword(store, found.user.name, request.body.password);
        changes.withdrawn();
        return userView(found.user);
      },
    );

    app.get(
      '/api/v1/apikeys',
      {
        config: { permission: 'access.manage' },
        schema: {
          summary:
            'API keys of the caller’s units by name, role and unit, revoked ones too; never the key (sysadmin)',
          tags: ['access'],
          security,
          response: { 200: responseSchema(apiKeyList), ...authErrorResponses },
        },
      },
      async (request) => {
        const principal = request.principal!;
        const keys = await store.listApiKeys();
        return { items: keys.filter((k) => seesAccount(principal, k.unit)).map(apiKeyView) };
      },
    );

    app.post(
      '/api/v1/apikeys/:name/revoke',
      {
        config: { permission: 'access.manage' },
        schema: {
          summary: 'Revoke every active key of that name: refused at once, its live streams end',
          tags: ['access'],
          security,
          params: nameParams,
          response: {
            200: responseSchema(keysRevoked),
            404: errorSchema,
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        const principal = request.principal!;
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
