import type { FastifyInstance } from 'fastify';
import { isUserError } from '../../shared/errors.js';
import {
  document,
  documentFileParams,
  documentList,
  documentQuery,
  newDocumentBody,
  signOffBody,
  type DocumentView,
} from '../../shared/api/documents.js';
import { CONTENT_TYPES, DocumentDesk, type DocumentDeps } from '../documents/document-desk.js';
import type { DocumentRecord } from '../store/documents/document-store.js';
import { fileResponse, idParams, sendFile } from './route-helpers.js';
import {
  authErrorResponses,
  errorSchema,
  requestSchema,
  responseSchema,
  type ShapeTypes,
} from './schemas.js';
import { sendClockError } from './systems.js';

/**
 * Official documents (shared/api/documents.ts): draft one about an incident, a notice or a year,
 * list them, sign one off (签发), record one sent by hand, download it as .docx or PDF. The desk
 * (collector/documents/document-desk.ts) decides; these routes parse, call, answer.
 */
const documentSchema = responseSchema(document);
const changeErrors = { 400: errorSchema, 404: errorSchema, 409: errorSchema, ...authErrorResponses } as const;

function toApi(record: DocumentRecord): DocumentView {
  const { fields: _fields, ...rest } = record;
  return rest as DocumentView;
}

export function documentRoutes(deps: DocumentDeps) {
  const desk = new DocumentDesk(deps);
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<ShapeTypes>();
    const tags = ['documents'];
    const security = [{ bearer: [] }];

    app.get(
      '/api/v1/documents',
      {
        config: { permission: 'documents.read' },
        schema: {
          summary: 'Official documents (公文) of the caller’s units, newest first, with their 签发',
          tags,
          security,
          querystring: requestSchema(documentQuery),
          response: { 200: responseSchema(documentList), 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request) => ({ items: (await desk.list(request.principal, request.query)).map(toApi) }),
    );

    app.post(
      '/api/v1/documents',
      {
        config: { permission: 'documents.sign' },
        schema: {
          summary: 'Draft a document: 泄密事件报告, 预警通报, its 排查 reply, or 年度保密工作情况',
          tags,
          security,
          body: requestSchema(newDocumentBody),
          response: { 201: documentSchema, ...changeErrors },
        },
      },
      async (request, reply) => {
        try {
          return reply.code(201).send(toApi(await desk.create(request.principal, request.body)));
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.post(
      '/api/v1/documents/:id/signoff',
      {
        config: { permission: 'documents.sign' },
        schema: {
          summary: '签发: the caller signs the draft off; an incident report or annual report may then go up',
          tags,
          security,
          params: idParams,
          body: requestSchema(signOffBody),
          response: { 200: documentSchema, ...changeErrors },
        },
      },
      async (request, reply) => {
        try {
          return toApi(await desk.signOff(request.principal, request.params.id, request.body?.number));
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.post(
      '/api/v1/documents/:id/sent',
      {
        config: { permission: 'documents.sign' },
        schema: {
          summary: 'Record that a signed document was sent outside smew (paper, another system)',
          tags,
          security,
          params: idParams,
          response: { 200: documentSchema, ...changeErrors },
        },
      },
      async (request, reply) => {
        try {
          return toApi(await desk.markSent(request.principal, request.params.id));
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.get(
      '/api/v1/documents/:id.:format',
      {
        config: { permission: 'documents.read' },
        schema: {
          summary: 'The document as .docx (to edit and sign) or PDF (to file), laid out per GB/T 9704',
          tags,
          security,
          params: requestSchema(documentFileParams),
          response: {
            200: fileResponse('the .docx or PDF file'),
            404: errorSchema,
            503: errorSchema,
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        const { id, format } = request.params;
        try {
          const { file, document } = await desk.render(request.principal, id, format);
          return sendFile(reply, file, CONTENT_TYPES[format], `${document.title}.${format}`);
        } catch (err) {
          // A font the configuration names is missing: the operator's to fix; the message says how.
          if (isUserError(err)) return reply.code(503).send({ error: err.message });
          return sendClockError(err, reply);
        }
      },
    );
  };
}
