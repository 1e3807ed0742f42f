import type { FastifyReply } from 'fastify';
import { idParams as idShape, refusalBody } from '../../shared/api/common.js';
import { authErrorResponses, errorSchema, requestSchema, responseSchema } from './schemas.js';

/**
 * Reply shapes the warning, silence and notice routes share: a refusal from a pure decision
 * function, a record the caller cannot see, and the responses of an action on one record.
 */

/** A refusal's body: `error` in English, `errorZh` in Chinese, `reason` for programs. */
export const refusalSchema = responseSchema(refusalBody);

/** `:id` of one warning, silence or notice. */
export const idParams = requestSchema(idShape);

/** An action on one record: done, refused by role or scope (403) or by its state (409), or not found. */
export function actionResponses<T extends object>(ok: T) {
  return {
    200: ok,
    403: refusalSchema,
    404: errorSchema,
    409: refusalSchema,
    401: authErrorResponses[401],
  } as const;
}

/** Unknown and out of the caller's scope answer alike, so a key learns nothing of other units. */
export function notFound(reply: FastifyReply, what: string, id: string) {
  return reply.code(404).send({ error: `no ${what} ${id}` });
}

export function sendRefusal(
  reply: FastifyReply,
  status: number,
  refusal: { reason: string; message: string; messageZh?: string },
) {
  return reply
    .code(status)
    .send({ error: refusal.message, errorZh: refusal.messageZh, reason: refusal.reason });
}

/**
 * A file to download (a document, an export): its type and a name in both spellings of
 * Content-Disposition, the ASCII one for old clients and RFC 5987's UTF-8 one for a Chinese name.
 */
export function sendFile(reply: FastifyReply, file: Buffer, contentType: string, filename: string) {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return reply
    .header('content-type', contentType)
    .header(
      'content-disposition',
      `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`,
    )
    .header('cache-control', 'no-store')
    .send(file);
}

/** A binary download in the OpenAPI document. */
export const fileResponse = (description: string) =>
  ({ type: 'string', format: 'binary', description }) as const;
