/**
 * JSON Schemas shared by the API plugins. Fastify validates requests and serialises responses
 * with them, and @fastify/swagger turns them into the OpenAPI document (3.1, so `type` may be
 * a list such as ['string', 'null']).
 */
export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string' } },
} as const;

/** The error replies every authenticated route may give. */
export const authErrorResponses = {
  401: { description: 'missing or unknown bearer key', ...errorSchema },
  403: { description: 'the key’s role may not do this', ...errorSchema },
} as const;

export const isoTime = { type: 'string', format: 'date-time' } as const;
export const nullableIsoTime = { type: ['string', 'null'], format: 'date-time' } as const;
/** An object passed through as is (event data, a signed envelope). */
export const openObject = { type: 'object', additionalProperties: true } as const;

export function listOf<T extends object>(item: T) {
  return {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: item } },
  } as const;
}
