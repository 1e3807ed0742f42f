import type { FastifyInstance, FastifyReply } from 'fastify';
import { agentEnrollBody, agentEnrolled, enrollTarget } from '../../shared/api/enroll.js';
import { ENROLL_PATH } from '../../shared/enrollment-proof.js';
import { enrollAgent, type EnrollmentDeps } from '../enrollment.js';
import { errorSchema, requestSchema, responseSchema, type ShapeTypes } from './schemas.js';

/**
 * `GET /api/v1/enroll`: whom an enrollment is signed for. `POST /api/v1/enroll`: a one-time token
 * + a public key, signed by that key → agent id and broker credentials.
 */
export function enrollRoutes(deps: EnrollmentDeps) {
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<ShapeTypes>();
    app.get(
      ENROLL_PATH,
      {
        config: { permission: 'public' },
        schema: {
          summary: 'The collector an enrollment is signed for (its id) and the time it keeps',
          tags: ['agents'],
          response: { 200: responseSchema(enrollTarget) },
        },
      },
      async () => ({
        collector: deps.identity.id,
        alg: deps.identity.alg,
        publicKey: deps.identity.publicKey,
        time: deps.clock.now().toISOString(),
        maxSkewSeconds: deps.maxSkewMs / 1000,
      }),
    );
    app.post(
      ENROLL_PATH,
      {
        config: { permission: 'public' },
        schema: {
          summary: 'Enroll an agent with a one-time token, signed by the key it enrolls',
          tags: ['agents'],
          body: requestSchema(agentEnrollBody),
          response: {
            200: responseSchema(agentEnrolled),
            400: errorSchema,
            401: errorSchema,
            403: errorSchema,
            409: errorSchema,
          },
        },
      },
      async (request, reply) => {
        const result = await enrollAgent(deps, request.body);
        // A refusal carries the status the enrollment chose (400, 401, 403 or 409, all documented above).
        if (!result.ok) return (reply as FastifyReply).code(result.status).send({ error: result.error });
        return result.response;
      },
    );
  };
}
