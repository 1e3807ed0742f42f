import type { FastifyInstance } from 'fastify';
import { SIGNATURE_ALGS } from '../../shared/crypto/suite.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import { rotateAgentKey, type RotationStatement } from '../key-rotation.js';
import type { Store } from '../store/store.js';
import { errorSchema } from './schemas.js';

/**
 * `POST /api/v1/agents/{id}/keys`: the agent replaces its key, keeping its id and history. Like
 * enroll, it needs no bearer key: the current key's signature is the authentication.
 */
export function keyRotationRoutes(store: Store, options: { clock?: Clock; maxSkewMs?: number } = {}) {
  const deps = { store, clock: options.clock ?? systemClock, maxSkewMs: options.maxSkewMs ?? 300_000 };
  return async (app: FastifyInstance) => {
    app.post<{ Params: { id: string }; Body: { statement: RotationStatement; proof: string } }>(
      '/api/v1/agents/:id/keys',
      {
        schema: {
          summary: 'Rotate an agent’s key: signed by the current key, proven by the new one',
          tags: ['agents'],
          params: {
            type: 'object',
            required: ['id'],
            properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
          },
          body: {
            type: 'object',
            required: ['statement', 'proof'],
            additionalProperties: false,
            properties: {
              statement: {
                type: 'object',
                required: ['v', 'type', 'agent', 'newAlg', 'newPublicKey', 'ts', 'alg', 'sig'],
                additionalProperties: false,
                properties: {
                  v: { type: 'integer', enum: [1] },
                  type: { type: 'string', enum: ['agent.key.rotate'] },
                  agent: { type: 'string', maxLength: 64 },
                  newAlg: { type: 'string', enum: [...SIGNATURE_ALGS] },
                  newPublicKey: { type: 'string', minLength: 1, maxLength: 4096 },
                  ts: { type: 'string', maxLength: 64 },
                  alg: { type: 'string', enum: [...SIGNATURE_ALGS] },
                  sig: { type: 'string', minLength: 1, maxLength: 512 },
                },
              },
              proof: { type: 'string', minLength: 1, maxLength: 512, description: 'the new key’s signature' },
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['agentId', 'rotatedAt'],
              properties: { agentId: { type: 'string' }, rotatedAt: { type: 'string', format: 'date-time' } },
            },
            400: errorSchema,
            403: errorSchema,
            404: errorSchema,
            409: errorSchema,
          },
        },
      },
      async (request, reply) => {
        const result = await rotateAgentKey(
          deps,
          request.params.id,
          request.body.statement,
          request.body.proof,
        );
        if (!result.ok) return reply.code(result.status).send({ error: result.error });
        request.log.warn({ agent: result.agentId }, 'rotated an agent key');
        return { agentId: result.agentId, rotatedAt: result.rotatedAt };
      },
    );
  };
}
