import type { FastifyInstance } from 'fastify';
import {
  closureBody,
  incident,
  incidentList,
  measureBody,
  newIncidentBody,
  receiptBody,
  receiptParams,
  reportBody,
  warningIncidentBody,
} from '../../shared/api/clocks.js';
import { IncidentDesk } from '../clocks/incident-desk.js';
import { visibleUnits } from './bearer-auth.js';
import { refusalSchema, sendRefusal } from './route-helpers.js';
import { handlingScope, REFUSAL_STATUS } from './warnings.js';
import {
  authErrorResponses,
  errorSchema,
  requestSchema,
  responseSchema,
  type ShapeTypes,
} from './schemas.js';
import { clockIdParams, type ClockApiDeps, sendClockError } from './systems.js';

/**
 * 第61条 incidents and their report chain (SPEC §8): `GET|POST /api/v1/incidents`,
 * `GET /api/v1/incidents/{id}`, `POST /api/v1/incidents/{id}/reports` and, for a receipt that
 * comes after the report, `POST /api/v1/incidents/{id}/reports/{reportId}/receipt`; remedial
 * measures (`POST …/measures`) and the 第60条 closure with its 处理结果 (`POST …/closure`). The desk
 * that records them is collector/clocks/incident-desk.ts; these routes parse, call, answer.
 */
const incidentSchema = responseSchema(incident);

export function incidentRoutes(deps: ClockApiDeps) {
  const desk = new IncidentDesk(deps);
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<ShapeTypes>();
    const tags = ['incidents'];
    const security = [{ bearer: [] }];

    app.get(
      '/api/v1/incidents',
      {
        config: { permission: 'register.read' },
        schema: {
          summary: 'List leak incidents (第61条) with their report chains, newest first',
          tags,
          security,
          response: { 200: responseSchema(incidentList), ...authErrorResponses },
        },
      },
      async (request) => ({ items: await desk.list(visibleUnits(request.principal)) }),
    );

    app.post(
      '/api/v1/incidents',
      {
        config: { permission: 'register.manage' },
        schema: {
          summary: 'Record a leak or possible leak; its 24 h report deadlines start at discovery',
          tags,
          security,
          body: requestSchema(newIncidentBody),
          response: { 201: incidentSchema, 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        try {
          return reply.code(201).send(await desk.create(request.principal, request.body));
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.post(
      '/api/v1/warnings/:id/incident',
      {
        config: { permission: 'warnings.handle' },
        schema: {
          summary:
            'Open a 第61条 incident from a warning: its signed events are the evidence, discovered at the earliest attested time',
          tags: [...tags, 'warnings'],
          security,
          params: clockIdParams,
          body: requestSchema(warningIncidentBody),
          response: {
            201: incidentSchema,
            400: refusalSchema,
            403: refusalSchema,
            404: errorSchema,
            409: refusalSchema,
            401: authErrorResponses[401],
          },
        },
      },
      async (request, reply) => {
        try {
          const { id } = request.params;
          const opened = await desk.openFromWarning(
            request.principal,
            id,
            request.body,
            handlingScope(request.principal),
            (incidentId) =>
              request.log.warn(
                { warning: id, incident: incidentId },
                'incident opened, but the warning changed meanwhile and was not linked',
              ),
          );
          if (!opened.ok) return sendRefusal(reply, REFUSAL_STATUS[opened.reason], opened);
          return reply.code(201).send(opened.incident);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.get(
      '/api/v1/incidents/:id',
      {
        config: { permission: 'register.read' },
        schema: {
          summary: 'One incident: hops with deadlines and lateness, end-to-end time, reminders fired',
          tags,
          security,
          params: clockIdParams,
          response: { 200: incidentSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        try {
          return await desk.get(request.principal, request.params.id);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.post(
      '/api/v1/incidents/:id/reports',
      {
        config: { permission: 'register.manage' },
        schema: {
          summary: 'Record a report along the chain: who, to whom, when, by which channel, and its receipt',
          tags,
          security,
          params: clockIdParams,
          body: requestSchema(reportBody),
          response: {
            201: incidentSchema,
            400: errorSchema,
            404: errorSchema,
            409: errorSchema,
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        try {
          return reply
            .code(201)
            .send(await desk.addReport(request.principal, request.params.id, request.body));
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.post(
      '/api/v1/incidents/:id/measures',
      {
        config: { permission: 'register.manage' },
        schema: {
          summary: 'Record a remedial measure (what, by, at); the first report waits for one (第61条)',
          tags,
          security,
          params: clockIdParams,
          body: requestSchema(measureBody),
          response: { 201: incidentSchema, 400: errorSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        try {
          return reply
            .code(201)
            .send(await desk.addMeasure(request.principal, request.params.id, request.body));
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.post(
      '/api/v1/incidents/:id/closure',
      {
        config: { permission: 'register.manage' },
        schema: {
          summary:
            'Close the incident with its 处理结果 (第60条); its written report to the same-level administration is one more hop',
          tags,
          security,
          params: clockIdParams,
          body: requestSchema(closureBody),
          response: {
            200: incidentSchema,
            400: errorSchema,
            404: errorSchema,
            409: errorSchema,
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        try {
          return await desk.close(request.principal, request.params.id, request.body);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.post(
      '/api/v1/incidents/:id/reports/:reportId/receipt',
      {
        config: { permission: 'register.manage' },
        schema: {
          summary: 'Record the receipt of an earlier report; the recipient’s 24 h run from it',
          tags,
          security,
          params: requestSchema(receiptParams),
          body: requestSchema(receiptBody),
          response: { 200: incidentSchema, 400: errorSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        try {
          const { id, reportId } = request.params;
          return await desk.confirmReceipt(request.principal, id, reportId, request.body);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );
  };
}
