import type { FastifyInstance, FastifyReply } from 'fastify';
import { keyRotated, keyRotationBody, keyRotationParams } from '../../shared/api/key-rotation.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import { rotateAgentKey } from '../key-rotation.js';
import type { Store } from '../store/store.js';
import { errorSchema, requestSchema, responseSchema, type ShapeTypes } from './schemas.js';

/**
 * `POST /api/v1/agents/{id}/keys`: the agent replaces its key, keeping its id and history. Like
 * enroll, it needs no bearer key: the current key's signature is the authentication.
 */
export function keyRotationRoutes(store: Store, options: { clock?: Clock; maxSkewMs?: number } = {}) {
  const deps = { store, clock: options.clock ?? systemClock, maxSkewMs: options.maxSkewMs ?? 300_000 };
  return async (app: FastifyInstance) => {
    app.withTypeProvider<ShapeTypes>().post(
      '/api/v1/agents/:id/keys',
      {
        config: { permission: 'public' },
        schema: {
          summary: 'Rotate an agent’s key: signed by the current key, proven by the new one',
          tags: ['agents'],
          params: requestSchema(keyRotationParams),
          body: requestSchema(keyRotationBody),
          response: {
            200: responseSchema(keyRotated),
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
        // A refusal carries the status the rotation chose (400, 403, 404 or 409, all documented above).
        if (!result.ok) return (reply as FastifyReply).code(result.status).send({ error: result.error });
        request.log.warn({ agent: result.agentId }, 'rotated an agent key');
        return { agentId: result.agentId, rotatedAt: result.rotatedAt };
      },
    );
  };
}
