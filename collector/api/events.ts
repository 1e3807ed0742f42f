import type { FastifyInstance } from 'fastify';
import { withTerminals, withUsers } from '../register/terminal-naming.js';
import { z } from 'zod';
import { isoTime } from '../../shared/api/common.js';
import { eventPage, type StoredEvent as ApiEvent } from '../../shared/api/events.js';
import { cursorParam, pageOf, readCursor } from './cursor.js';
import { EVENT_TYPE_PATTERN } from '../../shared/events.js';
import { AGENT_ID_PATTERN } from '../../shared/identity.js';
import type { Store, StoredEvent } from '../store/store.js';
import { visibleUnits } from './bearer-auth.js';
import {
  authErrorResponses,
  errorSchema,
  requestSchema,
  responseSchema,
  type ShapeTypes,
} from './schemas.js';

/**
 * `GET /api/v1/events`: stored events, newest first, each with the envelope exactly as the
 * agent signed it, so anyone holding the agent's public key can verify it again. Paged by
 * cursor (collector/api/cursor.ts): `nextCursor` reads on with the same filters.
 */
export const MAX_EVENTS_PER_PAGE = 10_000;

const eventsQuery = z.object({
  agent: z.string().regex(AGENT_ID_PATTERN).optional(),
  type: z.string().regex(EVENT_TYPE_PATTERN).optional(),
  since: isoTime.meta({ description: 'events whose ts is at or after this time' }).optional(),
  limit: z.int().min(1).max(MAX_EVENTS_PER_PAGE).default(100),
  cursor: cursorParam.optional(),
});

const schema = {
  querystring: requestSchema(eventsQuery),
  response: { 200: responseSchema(eventPage), 400: errorSchema, ...authErrorResponses },
};

function toApi(event: StoredEvent): ApiEvent {
  return {
    id: event.id,
    agent: event.agentId,
    unit: event.unit,
    seq: event.seq,
    ts: event.ts,
    receivedAt: event.receivedAt,
    type: event.type,
    state: event.state,
    key: event.key,
    severity: event.severity,
    data: event.data,
    skewed: event.skewed,
    envelope: JSON.parse(event.envelope) as Record<string, unknown>,
  };
}

/** Each event with its terminal's name, and its logged-in users mapped to persons of the register. */
async function nameEvents(store: Store, events: ApiEvent[]): Promise<ApiEvent[]> {
  return withUsers(store, await withTerminals(store, events, (e) => e.agent));
}

export function eventRoutes(store: Store) {
  return async (app: FastifyInstance) => {
    app.withTypeProvider<ShapeTypes>().get(
      '/api/v1/events',
      {
        config: { permission: 'monitoring.read' },
        schema: {
          summary: 'List stored events, newest first',
          tags: ['events'],
          security: [{ bearer: [] }],
          ...schema,
        },
      },
      async (request, reply) => {
        const { agent, type, since, cursor, limit } = request.query;
        const after = readCursor('events', cursor, 'integer');
        if (!after.ok) return reply.code(400).send({ error: after.error });
        const events = await store.listEvents({
          agentId: agent,
          type,
          since: since === undefined ? undefined : new Date(since).toISOString(),
          units: visibleUnits(request.principal),
          after: after.key && { ts: after.key.at, id: after.key.id },
          limit: limit + 1,
        });
        const page = pageOf('events', events, limit, (e) => ({ at: e.ts, id: e.id }));
        return { items: await nameEvents(store, page.items.map(toApi)), nextCursor: page.nextCursor };
      },
    );
  };
}
