import type { FastifyInstance } from 'fastify';
import { exportQuery, importQuery, importResult } from '../../shared/api/register.js';
import { ClockRefusal } from '../clocks/clock-requests.js';
import type { Principal } from '../auth/api-keys.js';
import { MAX_SHEET_BYTES, SHEET_TYPES, type SheetFormat } from '../register/register-sheets.js';
import type { Caller } from '../register/terminal-register.js';
import { answer, registerWriteErrors } from './terminals.js';
import {
  authErrorResponses,
  errorSchema,
  requestSchema,
  responseSchema,
  type ShapeTypes,
} from './schemas.js';

/**
 * `GET /api/v1/{terminals,persons}/export?format=csv|xlsx` and `POST …/import`: the register as
 * a 台账 file. The import's body is the file itself (text/csv, or the .xlsx type); `format`
 * names it, else its content type does.
 */
export interface SheetRoutes {
  /** `terminals` or `persons`: the path and the file name. */
  resource: string;
  fileName: string;
  exportSheet(principal: Principal | null, format: SheetFormat): Promise<Buffer>;
  importSheet(
    caller: Caller,
    format: SheetFormat,
    body: Buffer,
  ): Promise<{ created: number; updated: number }>;
}

export function registerSheetRoutes(fastify: FastifyInstance, routes: SheetRoutes): void {
  const app = fastify.withTypeProvider<ShapeTypes>();
  const tags = ['register'];
  const security = [{ bearer: [] }];
  app.addContentTypeParser(
    [SHEET_TYPES.xlsx, 'text/csv', 'application/octet-stream'],
    { parseAs: 'buffer', bodyLimit: MAX_SHEET_BYTES },
    (_request, body, done) => done(null, body),
  );

  app.get(
    `/api/v1/${routes.resource}/export`,
    {
      config: { permission: 'register.read' },
      schema: {
        summary: `The ${routes.resource} register as a CSV or Excel file, Chinese column headers`,
        tags,
        security,
        querystring: requestSchema(exportQuery),
        response: {
          200: { type: 'string', format: 'binary', description: 'the file (text/csv or .xlsx)' },
          400: errorSchema,
          ...authErrorResponses,
        },
      },
    },
    async (request, reply) => {
      const { format } = request.query;
      const file = await routes.exportSheet(request.principal, format);
      const name = encodeURIComponent(`${routes.fileName}.${format}`);
      return reply
        .header('content-type', SHEET_TYPES[format])
        .header(
          'content-disposition',
          `attachment; filename="${routes.resource}.${format}"; filename*=UTF-8''${name}`,
        )
        .send(file);
    },
  );

  app.post(
    `/api/v1/${routes.resource}/import`,
    {
      config: { permission: 'register.manage' },
      schema: {
        summary: `Import a ${routes.resource} file: every row or none; a bad row is refused with its line`,
        tags,
        security,
        querystring: requestSchema(importQuery),
        response: { 200: responseSchema(importResult), ...registerWriteErrors },
      },
    },
    (request, reply) =>
      answer(reply, async () => {
        const format =
          request.query.format ?? (request.headers['content-type']?.startsWith('text/csv') ? 'csv' : 'xlsx');
        if (!Buffer.isBuffer(request.body)) {
          throw new ClockRefusal(
            400,
            `send the file as the body, with content type text/csv or ${SHEET_TYPES.xlsx}`,
          );
        }
        return routes.importSheet({ principal: request.principal, ip: request.ip }, format, request.body);
      }),
  );
}
