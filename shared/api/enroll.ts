import { z } from 'zod';
import { SIGNATURE_ALGS } from '../crypto/suite.js';
import { COLLECTOR_LEVELS } from './clocks.js';
import { openObject } from './common.js';

/**
 * Enrollment of an agent (`/api/v1/enroll`) and of a child collector (`/api/v1/hierarchy/enroll`).
 * The proof of possession every enrollment carries (shared/enrollment-proof.ts) is optional in the
 * schema, so that a request without it gets the enrollment's own refusal, counted by reason.
 */
export const enrollmentProof = {
  collector: z
    .string()
    .max(64)
    .optional()
    .meta({ description: 'id of the collector enrolled at (GET /api/v1/enroll)' }),
  ts: z.string().max(64).optional().meta({ description: 'ISO 8601 time of the request' }),
  sig: z.string().max(512).optional().meta({
    description:
      'base64 signature by the enrolling key over the JCS form of {token, publicKey, alg, collector, ts}',
  }),
};

const enrollingKey = {
  token: z.string().min(1).max(256),
  publicKey: z.string().min(1).max(4096).meta({ description: 'base64 SPKI DER' }),
  alg: z.enum(SIGNATURE_ALGS),
};

export const enrollTarget = z.object({
  collector: z.string(),
  alg: z.string(),
  publicKey: z.string(),
  time: z.string().meta({ description: 'this collector’s clock' }),
  maxSkewSeconds: z.number().meta({ description: 'how far ts may be from it' }),
});

export const agentEnrollBody = z.object({
  ...enrollingKey,
  hostname: z.string().max(255).optional(),
  version: z.string().max(64).optional(),
  ...enrollmentProof,
});

export const agentEnrolled = z.object({
  agentId: z.string(),
  unit: z.string(),
  collector: z.object({ id: z.string(), alg: z.string(), publicKey: z.string() }),
  broker: z.object({
    url: z.string(),
    urls: z
      .array(z.string())
      .optional()
      .meta({ description: 'every broker node the agent may fail over to; url is the first' }),
    username: z.string(),
    password: z.string(),
  }),
  policy: openObject.optional(),
  approval: z
    .enum(['approved', 'pending'])
    .optional()
    .meta({ description: 'pending: the broker admits the agent once an admin approves it' }),
});

export const childEnrollBody = z.strictObject({
  ...enrollingKey,
  unit: z.string().min(1).max(200),
  level: z.enum(COLLECTOR_LEVELS),
  ...enrollmentProof,
});

export const childEnrolled = z.object({ child: openObject, parent: openObject, cert: openObject });
