import type { FastifyInstance } from 'fastify';
import { assessmentBody, assessmentDueList, assessmentDueQuery } from '../../shared/api/clocks.js';
import { SystemRegister } from '../clocks/system-register.js';
import { visibleUnits } from './bearer-auth.js';
import {
  authErrorResponses,
  errorSchema,
  requestSchema,
  responseSchema,
  type ShapeTypes,
} from './schemas.js';
import {
  clockIdParams,
  type ClockApiDeps,
  sendClockError,
  systemChangeErrors,
  systemSchema,
} from './systems.js';

/**
 * 第35条 assessments (SPEC §8): `POST /api/v1/systems/{id}/assessments` records one, and
 * `GET /api/v1/assessments/due` lists every system in use with its next due date.
 */
export function assessmentRoutes(deps: ClockApiDeps) {
  const register = new SystemRegister(deps);
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<ShapeTypes>();
    const security = [{ bearer: [] }];

    app.post(
      '/api/v1/systems/:id/assessments',
      {
        config: { permission: 'register.manage' },
        schema: {
          summary: 'Record a completed risk assessment (第35条)',
          tags: ['systems'],
          security,
          params: clockIdParams,
          body: requestSchema(assessmentBody),
          response: { 201: systemSchema, ...systemChangeErrors },
        },
      },
      async (request, reply) => {
        try {
          const system = await register.recordAssessment(request.principal, request.params.id, request.body);
          return reply.code(201).send(system);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.get(
      '/api/v1/assessments/due',
      {
        config: { permission: 'register.read' },
        schema: {
          summary: 'Every system in use with its next assessment due date, soonest first',
          tags: ['systems'],
          security,
          querystring: requestSchema(assessmentDueQuery),
          response: { 200: responseSchema(assessmentDueList), 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request) => ({
        items: await register.due(visibleUnits(request.principal), request.query.state),
      }),
    );
  };
}
