import type { FastifyInstance } from 'fastify';
import { systemClock, type Clock } from '../../shared/clock.js';
import { decideApproval, decisionRefusal } from '../approval.js';
import {
  approvalBody,
  approvalDecided,
  pendingAgentList,
  type PendingAgent,
} from '../../shared/api/agents.js';
import type { Store } from '../store/store.js';
import { agentIdParams } from './agents.js';
import { visibleUnits } from './bearer-auth.js';
import { authErrorResponses, errorWhen, requestSchema, responseSchema, type ShapeTypes } from './schemas.js';

/**
 * Manual enrollment approval (enroll.approval: manual): `GET /api/v1/agents/pending` lists the
 * agents waiting, `POST /api/v1/agents/{id}/approval` approves (the broker admits it, its held
 * events arrive) or rejects (it is revoked). Admins only decide; the same as `smew agents approve|reject`.
 */
export interface ApprovalRouteOptions {
  clock?: Clock;
  onApproved?(agentId: string): void;
  onRevoked?(agentId: string): void;
}

export function agentApprovalRoutes(store: Store, options: ApprovalRouteOptions = {}) {
  const clock = options.clock ?? systemClock;
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<ShapeTypes>();
    app.get(
      '/api/v1/agents/pending',
      {
        config: { permission: 'agents.read' },
        schema: {
          summary: 'Agents enrolled under manual approval that wait for a decision',
          tags: ['agents'],
          security: [{ bearer: [] }],
          response: { 200: responseSchema(pendingAgentList), ...authErrorResponses },
        },
      },
      async (request) => {
        const units = visibleUnits(request.principal);
        const items: PendingAgent[] = [];
        for (const pending of await store.approvals.listPending()) {
          const agent = await store.getAgent(pending.agentId);
          if (!agent || (units !== undefined && !units.includes(agent.unit))) continue;
          items.push({
            id: agent.id,
            unit: agent.unit,
            hostname: agent.hostname,
            publicKey: agent.publicKey,
            requestedAt: pending.requestedAt,
          });
        }
        return { items };
      },
    );

    app.post(
      '/api/v1/agents/:id/approval',
      {
        config: { permission: 'agents.approve' },
        schema: {
          summary: 'Approve or reject an agent that waits for approval',
          description:
            'Admins only. approve: the broker admits the agent and the events its outbox held arrive. ' +
            'reject: the agent is revoked. Also `smew agents approve|reject ID`.',
          tags: ['agents'],
          security: [{ bearer: [] }],
          params: agentIdParams,
          body: requestSchema(approvalBody),
          response: {
            200: responseSchema(approvalDecided),
            404: errorWhen('no such agent in the caller’s units'),
            409: errorWhen('the agent is not waiting for approval'),
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
        const at = clock.now().toISOString();
        const by = request.principal!.name;
        const outcome = await decideApproval(store, agent.id, request.body.decision, by, at);
        const refusal = decisionRefusal(agent.id, outcome);
        if (refusal) return reply.code(outcome === 'unknown' ? 404 : 409).send({ error: refusal });
        const state: 'approved' | 'rejected' = outcome === 'approved' ? 'approved' : 'rejected';
        if (state === 'approved') options.onApproved?.(agent.id);
        else options.onRevoked?.(agent.id);
        request.log.warn({ agent: agent.id, by, outcome }, 'decided an agent’s approval');
        return { id: agent.id, state, decidedAt: at, decidedBy: by };
      },
    );
  };
}
