import type { FastifyInstance } from 'fastify';
import { SIGNATURE_ALGS, type SignatureAlg } from '../../shared/crypto/suite.js';
import { enrollAgent, type EnrollmentDeps } from '../enrollment.js';
import { errorSchema } from './schemas.js';

/** `POST /api/v1/enroll`: token + public key → agent id and broker credentials. The token is the authentication. */
interface EnrollBody {
  token: string;
  publicKey: string;
  alg: SignatureAlg;
  hostname?: string;
  version?: string;
}

export function enrollRoutes(deps: EnrollmentDeps) {
  return async (app: FastifyInstance) => {
    app.post<{ Body: EnrollBody }>(
      '/api/v1/enroll',
      {
        schema: {
          summary: 'Enroll an agent with a one-time token',
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
