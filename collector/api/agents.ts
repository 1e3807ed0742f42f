import type { FastifyInstance } from 'fastify';
import type { AgentRecord, Store } from '../store/store.js';
import { visibleUnits } from './bearer-auth.js';
import { authErrorResponses, isoTime, listOf, nullableIsoTime } from './schemas.js';

/** `GET /api/v1/agents`: enrolled agents of the caller's units, with their keys and liveness. */
const agentSchema = {
  type: 'object',
  required: ['id', 'unit', 'alg', 'publicKey', 'hostname', 'lastSeen', 'online', 'enrolledAt'],
  properties: {
    id: { type: 'string' },
    unit: { type: 'string' },
    alg: { type: 'string' },
    publicKey: { type: 'string', description: 'base64 SPKI DER; verifies the agent’s envelopes' },
    hostname: { type: ['string', 'null'] },
    version: { type: ['string', 'null'] },
    lastSeen: nullableIsoTime,
    online: { type: 'boolean' },
    enrolledAt: isoTime,
    revokedAt: nullableIsoTime,
    ackedSeq: { type: 'integer', description: 'every event up to this seq is stored' },
    reportedSeq: { type: 'integer', description: 'the last seq the agent says it sent' },
  },
} as const;

function toApi(agent: AgentRecord) {
  return {
    id: agent.id,
    unit: agent.unit,
    alg: agent.alg,
    publicKey: agent.publicKey,
    hostname: agent.hostname,
    version: agent.version,
    lastSeen: agent.lastSeen,
    online: agent.online,
    enrolledAt: agent.enrolledAt,
    revokedAt: agent.revokedAt,
    ackedSeq: agent.ackedSeq,
    reportedSeq: agent.reportedSeq,
  };
}

export function agentRoutes(store: Store) {
  return async (app: FastifyInstance) => {
    app.get(
      '/api/v1/agents',
      {
        schema: {
          summary: 'List enrolled agents',
          tags: ['agents'],
          security: [{ bearer: [] }],
          response: { 200: listOf(agentSchema), ...authErrorResponses },
        },
      },
      async (request) => {
        const agents = await store.listAgents({ units: visibleUnits(request.principal) });
        return { items: agents.map(toApi) };
      },
    );
  };
}
