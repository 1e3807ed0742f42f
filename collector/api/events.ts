import type { FastifyInstance } from 'fastify';
import { cursorParam, pageOf, pageSchema, readCursor } from './cursor.js';
import { EVENT_TYPE_PATTERN } from '../../shared/events.js';
import { AGENT_ID_PATTERN } from '../../shared/identity.js';
import type { Store, StoredEvent } from '../store/store.js';
import { visibleUnits } from './bearer-auth.js';
import { authErrorResponses, errorSchema, isoTime, openObject } from './schemas.js';

/**
 * `GET /api/v1/events`: stored events, newest first, each with the envelope exactly as the
 * agent signed it, so anyone holding the agent's public key can verify it again. Paged by
 * cursor (collector/api/cursor.ts): `nextCursor` reads on with the same filters.
 */
interface EventsQuery {
  agent?: string;
  type?: string;
  since?: string;
  cursor?: string;
  limit: number;
}

export const MAX_EVENTS_PER_PAGE = 10_000;

const eventSchema = {
  type: 'object',
  required: [
    'id',
    'agent',
    'unit',
    'seq',
    'ts',
    'receivedAt',
    'type',
    'state',
    'key',
    'severity',
    'data',
    'skewed',
    'envelope',
  ],
  properties: {
    id: { type: 'integer' },
    agent: { type: 'string' },
    unit: { type: 'string' },
    seq: { type: 'integer' },
    ts: { ...isoTime, description: 'the agent’s time, in UTC' },
    receivedAt: isoTime,
    type: { type: 'string' },
    state: { type: 'string', enum: ['raised', 'cleared'] },
    key: { type: 'string' },
    severity: { type: 'string' },
    data: openObject,
    skewed: { type: 'boolean', description: 'ts was off the collector clock by more than ingest.maxSkew' },
    envelope: { ...openObject, description: 'the signed envelope as received' },
  },
} as const;

function toApi(event: StoredEvent) {
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

export function eventRoutes(store: Store) {
  return async (app: FastifyInstance) => {
    app.get<{ Querystring: EventsQuery }>(
      '/api/v1/events',
      {
        schema: {
          summary: 'List stored events, newest first',
          tags: ['events'],
          security: [{ bearer: [] }],
          querystring: {
            type: 'object',
            properties: {
              agent: { type: 'string', pattern: AGENT_ID_PATTERN.source },
              type: { type: 'string', pattern: EVENT_TYPE_PATTERN.source },
              since: { ...isoTime, description: 'events whose ts is at or after this time' },
              limit: { type: 'integer', minimum: 1, maximum: MAX_EVENTS_PER_PAGE, default: 100 },
              cursor: cursorParam,
            },
          },
          response: { 200: pageSchema(eventSchema), 400: errorSchema, ...authErrorResponses },
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
        return { items: page.items.map(toApi), nextCursor: page.nextCursor };
      },
    );
  };
}
