import type { FastifyInstance } from 'fastify';
import { systemClock, type Clock } from '../../shared/clock.js';
import { revokeAgent } from '../revocation.js';
import type { AgentRecord, Store } from '../store/store.js';
import { visibleUnits } from './bearer-auth.js';
import {
  agent,
  agentIdParams as agentIdShape,
  agentList,
  agentMoveBody,
  type Agent,
} from '../../shared/api/agents.js';
import { authErrorResponses, errorWhen, requestSchema, responseSchema, type ShapeTypes } from './schemas.js';

/** `GET /api/v1/agents`: enrolled agents of the caller's units, with their keys and liveness. */
const agentSchema = responseSchema(agent);

function toApi(agent: AgentRecord): Agent {
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

export interface AgentRouteOptions {
  clock?: Clock;
  /** Called after a revocation is stored: the running collector cuts the agent off at once. */
  onRevoked?(agentId: string): void;
}

export const agentIdParams = requestSchema(agentIdShape);

export function agentRoutes(store: Store, options: AgentRouteOptions = {}) {
  const clock = options.clock ?? systemClock;
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<ShapeTypes>();
    app.post(
      '/api/v1/agents/:id/revoke',
      {
        config: { permission: 'agents.manage' },
        schema: {
          summary: 'Revoke an agent: disconnect it now and quarantine whatever it sends later',
          description:
            'Admins only. Irreversible for this key: the agent must make a new key pair and enroll again. ' +
            'Its stored events stay. Also available offline as `smew agents revoke ID`.',
          tags: ['agents'],
          security: [{ bearer: [] }],
          params: agentIdParams,
          response: {
            200: agentSchema,
            404: errorWhen('no such agent in the caller’s units'),
            409: errorWhen('already revoked'),
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        const units = visibleUnits(request.principal);
        const agent = await store.getAgent(request.params.id);
        if (!agent || (units !== undefined && !units.includes(agent.unit))) {
          return reply.code(404).send({ error: `no agent ${request.params.id} in your units` });
        }
        const outcome = await revokeAgent(store, agent.id, clock.now().toISOString());
        if (outcome === 'already-revoked') {
          return reply
            .code(409)
            .send({ error: `agent ${agent.id} was already revoked at ${agent.revokedAt}` });
        }
        options.onRevoked?.(agent.id);
        request.log.warn({ agent: agent.id, by: request.principal!.name }, 'revoked an agent');
        return toApi((await store.getAgent(agent.id))!);
      },
    );

    app.post(
      '/api/v1/agents/:id/unit',
      {
        config: { permission: 'agents.manage' },
        schema: {
          summary: 'Move an agent to another unit (system administrators; audited)',
          description:
            'Re-enrolling never moves an agent: a token of another unit is refused. Moving is ' +
            'the system administrator’s action, also available offline as `smew agents move ID --unit U`.',
          tags: ['agents'],
          security: [{ bearer: [] }],
          params: agentIdParams,
          body: requestSchema(agentMoveBody),
          response: {
            200: agentSchema,
            404: errorWhen('no such agent in the caller’s units'),
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        const units = visibleUnits(request.principal);
        const { unit } = request.body;
        const agent = await store.getAgent(request.params.id);
        if (!agent || (units !== undefined && !units.includes(agent.unit))) {
          return reply.code(404).send({ error: `no agent ${request.params.id} in your units` });
        }
        if (units !== undefined && !units.includes(unit)) {
          return reply.code(403).send({ error: `unit: ${unit} is not one of your units` });
        }
        await store.moveAgent(agent.id, unit);
        request.log.warn(
          { agent: agent.id, from: agent.unit, to: unit, by: request.principal!.name },
          'moved an agent',
        );
        return toApi((await store.getAgent(agent.id))!);
      },
    );

    app.get(
      '/api/v1/agents',
      {
        config: { permission: 'agents.read' },
        schema: {
          summary: 'List enrolled agents',
          tags: ['agents'],
          security: [{ bearer: [] }],
          response: { 200: responseSchema(agentList), ...authErrorResponses },
        },
      },
      async (request) => {
        const agents = await store.listAgents({ units: visibleUnits(request.principal) });
        return { items: agents.map(toApi) };
      },
    );
  };
}
