import type { FastifyInstance } from 'fastify';
import { SIGNATURE_ALGS } from '../../shared/crypto/suite.js';
import { ENROLL_PATH } from '../../shared/enrollment-proof.js';
import { enrollAgent, type EnrollmentDeps, type EnrollRequest } from '../enrollment.js';
import { errorSchema } from './schemas.js';

/**
 * The proof of possession every enrollment carries (shared/enrollment-proof.ts). Optional in the
 * schema so that a request without it gets the enrollment's own refusal, counted by reason.
 */
export const enrollmentProofProperties = {
  collector: {
    type: 'string',
    maxLength: 64,
    description: 'id of the collector enrolled at (GET /api/v1/enroll)',
  },
  ts: { type: 'string', maxLength: 64, description: 'ISO 8601 time of the request' },
  sig: {
    type: 'string',
    maxLength: 512,
    description:
      'base64 signature by the enrolling key over the JCS form of {token, publicKey, alg, collector, ts}',
  },
} as const;

/**
 * `GET /api/v1/enroll`: whom an enrollment is signed for. `POST /api/v1/enroll`: a one-time token
 * + a public key, signed by that key → agent id and broker credentials.
 */
export function enrollRoutes(deps: EnrollmentDeps) {
  return async (app: FastifyInstance) => {
    app.get(
      ENROLL_PATH,
      {
        schema: {
          summary: 'The collector an enrollment is signed for (its id) and the time it keeps',
          tags: ['agents'],
          response: {
            200: {
              type: 'object',
              required: ['collector', 'alg', 'publicKey', 'time', 'maxSkewSeconds'],
              properties: {
                collector: { type: 'string' },
                alg: { type: 'string' },
                publicKey: { type: 'string' },
                time: { type: 'string', description: 'this collector’s clock' },
                maxSkewSeconds: { type: 'number', description: 'how far ts may be from it' },
              },
            },
          },
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
    app.post<{ Body: EnrollRequest }>(
      ENROLL_PATH,
      {
        schema: {
          summary: 'Enroll an agent with a one-time token, signed by the key it enrolls',
          tags: ['agents'],
          body: {
            type: 'object',
            required: ['token', 'publicKey', 'alg'],
            properties: {
              token: { type: 'string', minLength: 1, maxLength: 256 },
              publicKey: { type: 'string', minLength: 1, maxLength: 4096, description: 'base64 SPKI DER' },
              alg: { type: 'string', enum: [...SIGNATURE_ALGS] },
              hostname: { type: 'string', maxLength: 255 },
              version: { type: 'string', maxLength: 64 },
              ...enrollmentProofProperties,
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['agentId', 'unit', 'collector', 'broker'],
              properties: {
                agentId: { type: 'string' },
                unit: { type: 'string' },
                collector: {
                  type: 'object',
                  required: ['id', 'alg', 'publicKey'],
                  properties: {
                    id: { type: 'string' },
                    alg: { type: 'string' },
                    publicKey: { type: 'string' },
                  },
                },
                broker: {
                  type: 'object',
                  required: ['url', 'username', 'password'],
                  properties: {
                    url: { type: 'string' },
                    urls: {
                      type: 'array',
                      items: { type: 'string' },
                      description: 'every broker node the agent may fail over to; url is the first',
                    },
                    username: { type: 'string' },
                    password: { type: 'string' },
                  },
                },
                policy: { type: 'object', additionalProperties: true },
                approval: {
                  type: 'string',
                  enum: ['approved', 'pending'],
                  description: 'pending: the broker admits the agent once an admin approves it',
                },
              },
            },
            400: errorSchema,
            401: errorSchema,
            403: errorSchema,
            409: errorSchema,
          },
        },
      },
      async (request, reply) => {
        const result = await enrollAgent(deps, request.body);
        if (!result.ok) return reply.code(result.status).send({ error: result.error });
        return result.response;
      },
    );
  };
}
