import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { UserError } from '../shared/errors.js';
import { certificateRefusal, explainCertificateRefusal, readPemFile } from '../shared/tls.js';

/**
 * The agent's HTTP calls to its collector (enrollment, key rotation): JSON in, JSON out, over
 * http:// or https://. An https collector must show a certificate that verifies against
 * `collector.ca` (or the system's CAs when it is unset); a refusal says so and how to fix it.
 */
export interface CollectorTrust {
  /** collector.ca: a PEM CA file. */
  caFile?: string;
}

export interface JsonReply {
  status: number;
  /** The parsed body, or undefined when it was not JSON. */
  body: unknown;
  text: string;
}

const MAX_REPLY_BYTES = 1024 * 1024;

export interface RequestOptions {
  trust?: CollectorTrust;
  timeoutMs?: number;
}

export function postJson(url: string, payload: unknown, options: RequestOptions = {}): Promise<JsonReply> {
  return requestJson('POST', url, payload, options);
}

export function getJson(url: string, options: RequestOptions = {}): Promise<JsonReply> {
  return requestJson('GET', url, undefined, options);
}

async function requestJson(
  method: 'GET' | 'POST',
  url: string,
  payload: unknown,
  options: RequestOptions,
): Promise<JsonReply> {
  const target = new URL(url);
  const caFile = options.trust?.caFile;
  const ca = caFile ? readPemFile(caFile, 'collector.ca', 'certificate') : undefined;
  const body = payload === undefined ? undefined : Buffer.from(JSON.stringify(payload));
  const timeoutMs = options.timeoutMs ?? 15_000;
  try {
    return await new Promise<JsonReply>((resolve, reject) => {
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const request = send(
        target,
        {
          method,
          headers: body
            ? { 'content-type': 'application/json', 'content-length': body.length }
            : { accept: 'application/json' },
          timeout: timeoutMs,
          ...(target.protocol === 'https:' ? { ca, rejectUnauthorized: true } : {}),
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_REPLY_BYTES) request.destroy(new Error('the answer is larger than 1 MiB'));
            else chunks.push(chunk);
          });
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = undefined;
            }
            resolve({ status: response.statusCode ?? 0, body: parsed, text });
          });
        },
      );
      request.on('timeout', () =>
        request.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })),
      );
      request.on('error', reject);
      request.end(body);
    });
  } catch (err) {
    const refusal = certificateRefusal(err);
    if (refusal) {
      throw new UserError(
        explainCertificateRefusal(`collector ${target.origin}`, refusal, {
          key: 'collector.ca',
          file: caFile,
        }),
      );
    }
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`cannot reach the collector at ${url}: ${code ?? (err as Error).message}`);
  }
}

/** The collector's `{error}` text, or the start of its answer. */
export function replyError(reply: JsonReply): string {
  const body = reply.body as { error?: unknown } | undefined;
  return typeof body?.error === 'string' ? body.error : reply.text.slice(0, 200) || `HTTP ${reply.status}`;
}
