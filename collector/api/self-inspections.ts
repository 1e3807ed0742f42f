import type { FastifyInstance } from 'fastify';
import { idParams } from '../../shared/api/common.js';
import {
  answerBody,
  createInspectionBody,
  evidenceFile,
  fileBody,
  finaliseBody,
  inspectionFileParams,
  inspectionItemParams,
  MAX_EVIDENCE_FILE_BYTES,
  selfInspection,
  selfInspectionList,
} from '../../shared/api/self-inspection.js';
import { refusalSchema } from './route-helpers.js';
import { SelfInspectionDesk } from '../self-inspection/self-inspection-desk.js';
import { visibleUnits } from './bearer-auth.js';
import { authErrorResponses, requestSchema, responseSchema, type ShapeTypes } from './schemas.js';
import { type ClockApiDeps, sendClockError } from './systems.js';

/** Types a browser may open in place; anything else is downloaded as bytes, never rendered. */
const SHOWN_TYPES = new Set(['application/pdf', 'image/png', 'image/jpeg', 'text/plain']);
/** A file's base64 and the JSON around it. */
const FILE_BODY_LIMIT = Math.ceil(MAX_EVIDENCE_FILE_BYTES / 3) * 4 + 8192;

/**
 * 第58条 保密自查自评: the year's inspection, its checklist answered with evidence (a note, links
 * to smew's records with their live figures, uploaded files), and finalising, which records the
 * result and sends the signed report up the hierarchy. Writes need the officer role.
 */
export function selfInspectionRoutes(deps: ClockApiDeps) {
  const desk = new SelfInspectionDesk(deps);
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<ShapeTypes>();
    const tags = ['self-inspection'];
    const security = [{ bearer: [] }];
    const one = responseSchema(selfInspection);
    const writeErrors = { 400: refusalSchema, 404: refusalSchema, 409: refusalSchema, ...authErrorResponses };
    const params = requestSchema(idParams);

    app.get(
      '/api/v1/self-inspections',
      {
        config: { permission: 'inspection.read' },
        schema: {
          summary: 'Self-inspections (第58条), newest year first',
          tags,
          security,
          response: { 200: responseSchema(selfInspectionList), ...authErrorResponses },
        },
      },
      async (request) => ({ items: await desk.list(visibleUnits(request.principal)) }),
    );

    app.post(
      '/api/v1/self-inspections',
      {
        config: { permission: 'inspection.manage' },
        schema: {
          summary:
            'Start the year’s self-inspection of a unit (one per unit and year; a repeat answers 200 with it)',
          tags,
          security,
          body: requestSchema(createInspectionBody),
          response: { 200: one, 201: one, ...writeErrors },
        },
      },
      async (request, reply) => {
        try {
          const { created, inspection } = await desk.create(request.principal, request.body);
          return reply.code(created ? 201 : 200).send(inspection);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.get(
      '/api/v1/self-inspections/:id',
      {
        config: { permission: 'inspection.read' },
        schema: {
          summary: 'One self-inspection: the checklist with answers, evidence, figures and 整改 items',
          tags,
          security,
          params,
          response: { 200: one, 404: refusalSchema, ...authErrorResponses },
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

    app.put(
      '/api/v1/self-inspections/:id/items/:item',
      {
        config: { permission: 'inspection.manage' },
        schema: {
          summary:
            'Answer a checklist item (符合/基本符合/不符合/不适用) with a note, links and the 整改 items a finding opens',
          tags,
          security,
          params: requestSchema(inspectionItemParams),
          body: requestSchema(answerBody),
          response: { 200: one, ...writeErrors },
        },
      },
      async (request, reply) => {
        try {
          return await desk.answer(request.principal, request.params.id, request.params.item, request.body);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.post(
      '/api/v1/self-inspections/:id/items/:item/files',
      {
        config: { permission: 'inspection.manage' },
        bodyLimit: FILE_BODY_LIMIT,
        schema: {
          summary: `Attach an evidence file to a checklist item (base64; at most ${MAX_EVIDENCE_FILE_BYTES} bytes)`,
          tags,
          security,
          params: requestSchema(inspectionItemParams),
          body: requestSchema(fileBody),
          response: { 201: responseSchema(evidenceFile), 413: refusalSchema, ...writeErrors },
        },
      },
      async (request, reply) => {
        try {
          const { id, item } = request.params;
          return reply.code(201).send(await desk.addFile(request.principal, id, item, request.body));
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.get(
      '/api/v1/self-inspections/:id/files/:file',
      {
        config: { permission: 'inspection.read' },
        schema: {
          summary: 'An evidence file, as uploaded',
          tags,
          security,
          params: requestSchema(inspectionFileParams),
          response: {
            200: { description: 'the file as uploaded', type: 'string', format: 'binary' },
            404: refusalSchema,
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        try {
          const { meta, content } = await desk.file(
            request.principal,
            request.params.id,
            Number(request.params.file),
          );
          return reply
            .header(
              'content-type',
              SHOWN_TYPES.has(meta.mediaType) ? meta.mediaType : 'application/octet-stream',
            )
            .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(meta.name)}`)
            .send(content);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.post(
      '/api/v1/self-inspections/:id/finalise',
      {
        config: { permission: 'inspection.manage' },
        schema: {
          summary:
            'Finalise: every item answered, every finding with its 整改 items; the report goes up the hierarchy',
          tags,
          security,
          params,
          body: requestSchema(finaliseBody),
          response: { 200: one, ...writeErrors },
        },
      },
      async (request, reply) => {
        try {
          return await desk.finalise(request.principal, request.params.id, request.body);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );
  };
}
