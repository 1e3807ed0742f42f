import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  decommissionBody,
  newSystemBody,
  system,
  systemList,
  systemPatchBody,
} from '../../shared/api/clocks.js';
import { idParams } from '../../shared/api/common.js';
import { ClockRefusal } from '../clocks/clock-requests.js';
import { SystemRegister, type ClockDeps } from '../clocks/system-register.js';
import { visibleUnits } from './bearer-auth.js';
import {
  authErrorResponses,
  errorSchema,
  requestSchema,
  responseSchema,
  type ShapeTypes,
} from './schemas.js';

/**
 * The 第35条 register (SPEC §8): `GET|POST /api/v1/systems`, `GET|PATCH /api/v1/systems/{id}`,
 * `POST /api/v1/systems/{id}/decommission`.
 * The register itself is collector/clocks/system-register.ts; these routes parse, call, answer.
 */
export type ClockApiDeps = ClockDeps;

export const clockIdParams = requestSchema(idParams);
export const systemSchema = responseSchema(system);

/** A refusal of the clocks (bad input, unknown, decommissioned, the key's role) as its status. */
export function sendClockError(err: unknown, reply: FastifyReply) {
  if (err instanceof ClockRefusal) {
    return reply
      .code(err.statusCode)
      .send({ error: err.message, ...(err.messageZh ? { errorZh: err.messageZh } : {}) });
  }
  throw err;
}

/** The refusals of a change to one system: bad input, unknown, decommissioned, or the key. */
export const systemChangeErrors = {
  400: errorSchema,
  404: errorSchema,
  409: errorSchema,
  ...authErrorResponses,
} as const;

export function systemRoutes(deps: ClockApiDeps) {
  const register = new SystemRegister(deps);
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<ShapeTypes>();
    const tags = ['systems'];
    const security = [{ bearer: [] }];

    app.get(
      '/api/v1/systems',
      {
        config: { permission: 'register.read' },
        schema: {
          summary: 'List registered classified information systems (第35条)',
          tags,
          security,
          response: { 200: responseSchema(systemList), ...authErrorResponses },
        },
      },
      async (request) => ({ items: await register.list(visibleUnits(request.principal)) }),
    );

    app.post(
      '/api/v1/systems',
      {
        config: { permission: 'register.manage' },
        schema: {
          summary: 'Register a classified information system',
          tags,
          security,
          body: requestSchema(newSystemBody),
          response: { 201: systemSchema, 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        try {
          return reply.code(201).send(await register.register(request.principal, request.body));
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.get(
      '/api/v1/systems/:id',
      {
        config: { permission: 'register.read' },
        schema: {
          summary: 'One system, with its schedule, assessments, change history and fired reminders',
          tags,
          security,
          params: clockIdParams,
          response: { 200: systemSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        try {
          return await register.get(request.principal, request.params.id);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.patch(
      '/api/v1/systems/:id',
      {
        config: { permission: 'register.manage' },
        schema: {
          summary: 'Change level, scope or environment (a reassessment falls due at once), or decommission',
          tags,
          security,
          params: clockIdParams,
          body: requestSchema(systemPatchBody),
          response: { 200: systemSchema, ...systemChangeErrors },
        },
      },
      async (request, reply) => {
        try {
          return await register.change(request.principal, request.params.id, request.body);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.post(
      '/api/v1/systems/:id/decommission',
      {
        config: { permission: 'register.manage' },
        schema: {
          summary: 'Decommission: the 备案 date and what was done with the equipment; its reminders stop',
          tags,
          security,
          params: clockIdParams,
          body: requestSchema(decommissionBody),
          response: { 200: systemSchema, ...systemChangeErrors },
        },
      },
      async (request, reply) => {
        try {
          return await register.decommission(request.principal, request.params.id, request.body);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );
  };
}
