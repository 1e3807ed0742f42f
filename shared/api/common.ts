import { z } from 'zod';

/**
 * The pieces every API shape is built from (issue 15): each shape is one zod schema in
 * shared/api/, from which come the TypeScript types (the collector's routes and the dashboard's
 * fetches), Fastify's validation and serialization, and the OpenAPI document
 * (collector/api/schemas.ts turns a schema into the JSON Schema Fastify and @fastify/swagger read).
 * Formats (`date-time`) are JSON Schema keywords that Fastify's validator checks; zod here only
 * describes.
 */
export const isoTime = z.string().meta({ format: 'date-time' });
export const nullableIsoTime = isoTime.nullable();
/** A calendar date, YYYY-MM-DD (Asia/Shanghai); the routes check that it is a real one. */
export const calendarDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
/** An object passed through as is (event data, a signed envelope). */
export const openObject = z.record(z.string(), z.unknown());

export const errorBody = z.object({ error: z.string() });
export type ErrorBody = z.infer<typeof errorBody>;

/** A refusal's body: `error` in English, `errorZh` in Chinese, `reason` for programs. */
export const refusalBody = z.object({
  error: z.string(),
  errorZh: z.string().optional(),
  reason: z.string().optional(),
});

export const okBody = z.object({ ok: z.boolean() });

/** Who did a thing: a user or key with its role and unit (null: collector-wide). */
export const actor = z.object({ name: z.string(), role: z.string(), unit: z.string().nullable() });
export type Actor = z.infer<typeof actor>;

export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item) });
}

/** One page of a keyset-paged list (collector/api/cursor.ts). */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'pass as `cursor` to read the next page; null on the last page' }),
  });
}

/** `:id` of one record. */
export const idParams = z.object({ id: z.string().max(64) });
