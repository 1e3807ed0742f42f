import type { z } from 'zod';
import { MAX_ENVELOPE_BYTES } from '../../shared/envelope.js';
import { Rejection } from './rejection.js';

/** Stages that turn raw bytes into a typed message, refusing what is too big, not JSON or the wrong shape. */

export function checkSize(payload: Buffer): void {
  if (payload.length > MAX_ENVELOPE_BYTES) {
    throw new Rejection('oversized', `${payload.length} bytes, more than the ${MAX_ENVELOPE_BYTES} allowed`);
  }
}

export function parseJson(payload: Buffer): unknown {
  try {
    // fatal: invalid UTF-8 is malformed input, not something to repair silently.
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    throw new Rejection('malformed-json', (err as Error).message.slice(0, 200));
  }
}

export function checkSchema<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Rejection('schema', `${issue.path.join('.') || '(message)'}: ${issue.message}`);
  }
  return result.data;
}
