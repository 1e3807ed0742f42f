import type { FastifyTypeProvider } from 'fastify';
import { z } from 'zod';
import * as shapes from '../../shared/api/common.js';
import { errorBody, refusalBody } from '../../shared/api/common.js';

/**
 * The bridge from the API shapes (zod schemas in shared/api/) to Fastify: `requestSchema` and
 * `responseSchema` turn a shape into the JSON Schema that Fastify validates requests with,
 * serializes responses with (fast-json-stringify) and @fastify/swagger publishes (OpenAPI 3.1,
 * so `type` may be a list such as ['string', 'null']). Each carries its zod shape as a type only,
 * and `ShapeTypes` (a Fastify type provider) reads it back, so a route's request and reply types
 * are the shape's own: a field the schema lacks cannot be returned without a type error.
 */
declare const shape: unique symbol;
export type JsonSchemaOf<T extends z.ZodType> = Record<string, unknown> & { readonly [shape]?: T };

export interface ShapeTypes extends FastifyTypeProvider {
  validator: this['schema'] extends { readonly [shape]?: infer T extends z.ZodType } ? z.output<T> : unknown;
  serializer: this['schema'] extends { readonly [shape]?: infer T extends z.ZodType } ? z.input<T> : unknown;
}

/** A querystring, params or body: defaulted fields are not required of the caller. */
export function requestSchema<T extends z.ZodType>(schema: T): JsonSchemaOf<T> {
  return tidy(z.toJSONSchema(schema, { io: 'input' })) as JsonSchemaOf<T>;
}

export function responseSchema<T extends z.ZodType>(schema: T): JsonSchemaOf<T> {
  return tidy(z.toJSONSchema(schema, { io: 'output' })) as JsonSchemaOf<T>;
}

type Node = Record<string, unknown>;
const SAFE_BOUND = Number.MAX_SAFE_INTEGER;

/**
 * zod's JSON Schema in the plainer spelling Fastify serializes fast and the document showed before:
 * a nullable scalar as `type: [t, 'null']` (fast-json-stringify checks an anyOf branch by branch at
 * run time), no ±2^53 bounds on every integer, an open record as `additionalProperties: true`.
 */
function tidy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidy);
  if (node === null || typeof node !== 'object') return node;
  const out: Node = {};
  for (const [key, value] of Object.entries(node as Node)) {
    if (key === '$schema') continue;
    out[key] = tidy(value);
  }
  if (out.minimum === -SAFE_BOUND) delete out.minimum;
  if (out.maximum === SAFE_BOUND) delete out.maximum;
  if (out.type === 'object' && isPlainString(out.propertyNames)) {
    delete out.propertyNames;
    if (isEmpty(out.additionalProperties)) out.additionalProperties = true;
  }
  return collapseNullable(out);
}

function collapseNullable(node: Node): Node {
  const branches = node.anyOf;
  if (!Array.isArray(branches) || branches.length !== 2) return node;
  const [value, nothing] = branches as Node[];
  if (nothing?.type !== 'null' || Object.keys(nothing).length !== 1) return node;
  if (typeof value?.type !== 'string' || 'anyOf' in value) return node;
  const { anyOf: _, ...rest } = node;
  const nullable = { ...value, ...rest, type: [value.type, 'null'] };
  return Array.isArray(value.enum) ? { ...nullable, enum: [...(value.enum as unknown[]), null] } : nullable;
}

const isPlainString = (v: unknown) =>
  typeof v === 'object' && v !== null && Object.keys(v).length === 1 && (v as Node).type === 'string';
const isEmpty = (v: unknown) => typeof v === 'object' && v !== null && Object.keys(v).length === 0;

export const errorSchema = responseSchema(errorBody);

/** The error replies every authenticated route may give. */
export const authErrorResponses = {
  401: responseSchema(errorBody.meta({ description: 'missing or unknown bearer key' })),
  403: responseSchema(
    refusalBody.meta({ description: 'the caller’s role lacks the route’s permission (reason: permission)' }),
  ),
} as const;

/** `errorBody` with a description of when the route answers it. */
export function errorWhen(description: string) {
  return responseSchema(errorBody.meta({ description }));
}

/** An object passed through as is (a signed message between collectors), as JSON Schema. */
export const openObject = responseSchema(shapes.openObject);
