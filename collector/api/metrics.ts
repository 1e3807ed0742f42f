import type { FastifyInstance } from 'fastify';
import type { CollectorMetrics } from '../metrics.js';

/** `GET /metrics`: Prometheus text format, every name prefixed `smew_`. No authentication. */
export function metricsRoutes(metrics: CollectorMetrics) {
  return async (app: FastifyInstance) => {
    app.get(
      '/metrics',
      {
        config: { permission: 'public' },
        schema: {
          summary: 'Prometheus metrics',
          tags: ['operations'],
          produces: ['text/plain'],
          response: { 200: { type: 'string', description: 'Prometheus exposition format' } },
        },
      },
      async (_request, reply) => {
        const text = await metrics.registry.metrics();
        return reply.type(metrics.registry.contentType).send(text);
      },
    );
  };
}
