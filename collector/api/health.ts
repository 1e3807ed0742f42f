import type { FastifyInstance } from 'fastify';

/** `GET /healthz`: the process answers and its store can be read. No authentication. */
export function healthRoutes(deps: { collectorId: string; checkStore: () => Promise<unknown> }) {
  return async (app: FastifyInstance) => {
    app.get(
      '/healthz',
      {
        schema: {
          summary: 'Liveness and store check',
          tags: ['operations'],
          response: {
            200: {
              type: 'object',
              required: ['status', 'collector'],
              properties: { status: { type: 'string', enum: ['ok'] }, collector: { type: 'string' } },
            },
            503: {
              type: 'object',
              required: ['status', 'error'],
              properties: { status: { type: 'string', enum: ['unavailable'] }, error: { type: 'string' } },
            },
          },
        },
      },
      async (request, reply) => {
        try {
          await deps.checkStore();
          return { status: 'ok', collector: deps.collectorId };
        } catch (err) {
          request.log.error({ err }, 'health check: store unavailable');
          return reply.code(503).send({ status: 'unavailable', error: 'store unavailable' });
        }
      },
    );
  };
}
