import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import type { Principal } from '../auth/api-keys.js';
import type { Store } from '../store/store.js';
import type { StoredSilence } from '../store/warnings/records.js';
import { approveSilence, createSilence, type SilenceMatcher } from '../warnings/silences.js';
import type { Actor } from '../warnings/warning.js';
import {
  newSilenceBody,
  silence,
  silenceList,
  silenceQuery,
  type Silence,
} from '../../shared/api/silences.js';
import { actionResponses, idParams, notFound, refusalSchema, sendRefusal } from './route-helpers.js';
import {
  authErrorResponses,
  errorSchema,
  requestSchema,
  responseSchema,
  type ShapeTypes,
} from './schemas.js';
import { actorOf, canSee } from './warnings.js';

/**
 * Silences over HTTP: they mute notifications for a matcher and a time window, with author and
 * reason. They never hide a warning nor stop a legal clock; muting a critical warning of a 绝密
 * host needs a second person's approval (POST …/approval). A unit's officer silences only
 * within the unit: the matcher's unit is theirs.
 */
const silenceSchema = responseSchema(silence);

function toApi(silence: StoredSilence, now: Date): Silence {
  const t = now.toISOString();
  return { ...silence, active: silence.expiredBy === null && silence.startsAt <= t && t < silence.endsAt };
}

/** Collector-wide silences (no unit in the matcher) belong to collector-wide accounts. */
function canSeeSilence(principal: Principal | null, silence: StoredSilence): boolean {
  if (silence.matcher.unit === undefined) return principal?.unit === null;
  return canSee(principal, silence.matcher.unit);
}

/** A unit's officer silences within the unit: the matcher gets their unit, or undefined if it names another. */
function scopedMatcher(principal: Principal | null, actor: Actor, requested: SilenceMatcher) {
  const matcher = { ...requested };
  if (actor.unit === null) return matcher;
  if (matcher.unit !== undefined && !canSee(principal, matcher.unit)) return undefined;
  matcher.unit ??= actor.unit;
  return matcher;
}

async function visibleSilence(store: Store, principal: Principal | null, id: string) {
  const silence = await store.warnings.getSilence(id);
  return silence && canSeeSilence(principal, silence) ? silence : undefined;
}

export function silenceRoutes(deps: { store: Store; clock: Clock }) {
  const { store, clock } = deps;
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<ShapeTypes>();
    app.get(
      '/api/v1/silences',
      {
        config: { permission: 'monitoring.read' },
        schema: {
          summary: 'List silences (newest first); active=true for those muting now or later',
          tags: ['silences'],
          security: [{ bearer: [] }],
          querystring: requestSchema(silenceQuery),
          response: { 200: responseSchema(silenceList), 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request) => {
        const now = clock.now();
        const silences = await store.warnings.listSilences({
          ...(request.query.active && { activeAt: now.toISOString() }),
          limit: request.query.limit,
        });
        return {
          items: silences.filter((s) => canSeeSilence(request.principal, s)).map((s) => toApi(s, now)),
        };
      },
    );

    app.get(
      '/api/v1/silences/:id',
      {
        config: { permission: 'monitoring.read' },
        schema: {
          summary: 'One silence',
          tags: ['silences'],
          security: [{ bearer: [] }],
          params: idParams,
          response: { 200: silenceSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        const silence = await visibleSilence(store, request.principal, request.params.id);
        if (!silence) return notFound(reply, 'silence', request.params.id);
        return toApi(silence, clock.now());
      },
    );

    app.post(
      '/api/v1/silences',
      {
        config: { permission: 'silences.manage' },
        schema: {
          summary: 'Mute notifications of matching warnings for a time window (warnings and clocks go on)',
          tags: ['silences'],
          security: [{ bearer: [] }],
          body: requestSchema(newSilenceBody),
          response: {
            201: silenceSchema,
            400: refusalSchema,
            403: refusalSchema,
            401: authErrorResponses[401],
          },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request.principal);
        const matcher = scopedMatcher(request.principal, actor, request.body.matcher);
        if (!matcher) {
          return reply.code(403).send({
            error: `${actor.name} of ${actor.unit} may silence only warnings of ${actor.unit} and the units below it`,
            errorZh: '只能暂停本单位及下级单位预警事件的通知',
            reason: 'scope',
          });
        }
        const now = clock.now();
        const result = createSilence(
          {
            id: `s-${randomUUID()}`,
            matcher,
            startsAt: request.body.startsAt ?? now.toISOString(),
            endsAt: request.body.endsAt,
            author: actor,
            reason: request.body.reason,
          },
          now,
        );
        if (!result.ok) {
          return sendRefusal(reply, result.reason === 'role' ? 403 : 400, result);
        }
        await store.warnings.addSilence(result.silence);
        return reply.code(201).send(toApi({ ...result.silence, expiredBy: null }, now));
      },
    );

    app.post(
      '/api/v1/silences/:id/approval',
      {
        config: { permission: 'silences.manage' },
        schema: {
          summary: 'Second approval of a silence, by another person (needed for critical 绝密 warnings)',
          tags: ['silences'],
          security: [{ bearer: [] }],
          params: idParams,
          response: actionResponses(silenceSchema),
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        if (!(await visibleSilence(store, request.principal, id))) return notFound(reply, 'silence', id);
        const now = clock.now();
        const result = await store.warnings.updateSilence(id, (s) =>
          approveSilence(s, actorOf(request.principal), now),
        );
        if (!result) return notFound(reply, 'silence', id);
        if (!result.ok) {
          return sendRefusal(reply, result.reason === 'approved' ? 409 : 403, result);
        }
        return toApi((await store.warnings.getSilence(id))!, now);
      },
    );

    app.delete(
      '/api/v1/silences/:id',
      {
        config: { permission: 'silences.manage' },
        schema: {
          summary: 'End a silence now (it stays on record)',
          tags: ['silences'],
          security: [{ bearer: [] }],
          params: idParams,
          response: { ...actionResponses(silenceSchema), 409: errorSchema },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        if (!(await visibleSilence(store, request.principal, id))) return notFound(reply, 'silence', id);
        const actor = actorOf(request.principal);
        const now = clock.now();
        if (!(await store.warnings.expireSilence(id, actor, now.toISOString()))) {
          return reply.code(409).send({ error: `silence ${id} has already ended` });
        }
        return toApi((await store.warnings.getSilence(id))!, now);
      },
    );
  };
}
