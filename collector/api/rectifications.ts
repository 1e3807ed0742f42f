import type { FastifyInstance } from 'fastify';
import {
  closeRectificationBody,
  rectification,
  rectificationBody,
  rectificationList,
  rectificationQuery,
} from '../../shared/api/rectifications.js';
import { refusalSchema } from './route-helpers.js';
import { RectificationRegister } from '../rectifications/rectification-register.js';
import { visibleUnits } from './bearer-auth.js';
import {
  authErrorResponses,
  errorSchema,
  requestSchema,
  responseSchema,
  type ShapeTypes,
} from './schemas.js';
import { clockIdParams, type ClockApiDeps, sendClockError } from './systems.js';

/**
 * 整改 items (第59条; 第35条 assessments with risks found): list them with their state, open one by
 * hand or after an assessment, close one with how it was put right. Writes need the officer role.
 */
export function rectificationRoutes(deps: ClockApiDeps) {
  const register = new RectificationRegister(deps);
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<ShapeTypes>();
    const tags = ['rectifications'];
    const security = [{ bearer: [] }];
    const one = responseSchema(rectification);

    app.get(
      '/api/v1/rectifications',
      {
        config: { permission: 'inspection.read' },
        schema: {
          summary: '整改 items, soonest deadline first (state open, overdue or done; source)',
          tags,
          security,
          querystring: requestSchema(rectificationQuery),
          response: { 200: responseSchema(rectificationList), 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request) => ({
        items: await register.list(visibleUnits(request.principal), request.query),
      }),
    );

    app.post(
      '/api/v1/rectifications',
      {
        config: { permission: 'inspection.manage' },
        schema: {
          summary: 'Open a 整改 item by hand, or for an assessment that found risks (what, who, deadline)',
          tags,
          security,
          body: requestSchema(rectificationBody),
          response: {
            201: one,
            400: refusalSchema,
            404: refusalSchema,
            409: refusalSchema,
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        try {
          return reply.code(201).send(await register.openByHand(request.principal, request.body));
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.post(
      '/api/v1/rectifications/:id/close',
      {
        config: { permission: 'inspection.manage' },
        schema: {
          summary: 'Close a 整改 item with how it was put right; its reminders stop and its warning clears',
          tags,
          security,
          params: clockIdParams,
          body: requestSchema(closeRectificationBody),
          response: {
            200: one,
            400: refusalSchema,
            404: refusalSchema,
            409: refusalSchema,
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        try {
          return await register.close(request.principal, request.params.id, request.body.note);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );
  };
}
