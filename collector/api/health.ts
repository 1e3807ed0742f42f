import type { FastifyInstance } from 'fastify';
import { healthy, unhealthy } from '../../shared/api/health.js';
import { responseSchema, type ShapeTypes } from './schemas.js';

/** `GET /healthz`: the process answers and its store can be read. No authentication. */
export function healthRoutes(deps: { collectorId: string; checkStore: () => Promise<unknown> }) {
  return async (app: FastifyInstance) => {
    app.withTypeProvider<ShapeTypes>().get(
      '/healthz',
      {
        config: { permission: 'public' },
        schema: {
          summary: 'Liveness and store check',
          tags: ['operations'],
          response: { 200: responseSchema(healthy), 503: responseSchema(unhealthy) },
        },
      },
      async (request, reply) => {
        try {
          await deps.checkStore();
          return { status: 'ok' as const, collector: deps.collectorId };
        } catch (err) {
          request.log.error({ err }, 'health check: store unavailable');
          return reply.code(503).send({ status: 'unavailable', error: 'store unavailable' });
        }
      },
    );
  };
}
