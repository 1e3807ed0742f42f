import type { FastifyInstance } from 'fastify';

/** `GET /api/openapi.json`: the OpenAPI document built from every route's schema. No authentication. */
export async function openapiRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/api/openapi.json',
    {
      config: { permission: 'public' },
      schema: {
        summary: 'This API as an OpenAPI 3.1 document',
        tags: ['operations'],
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async () => app.swagger(),
  );
}
