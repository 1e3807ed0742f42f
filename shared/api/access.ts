import { z } from 'zod';
import { isoTime, listOf, nullableIsoTime } from './common.js';

/** Roles of SPEC §8: admin runs the collector, officer (保密干部) handles warnings, viewer reads. */
export const ROLES = ['admin', 'officer', 'viewer'] as const;
/** The shortest password a dashboard user may be given. */
export const MIN_PASSWORD_LENGTH = 8;

const unit = z.string().nullable().meta({ description: 'null: every unit' });

/** A dashboard user as admins see it (`GET /api/v1/users`). */
export const user = z.object({
  name: z.string(),
  role: z.enum(ROLES),
  unit,
  createdAt: isoTime,
  disabledAt: nullableIsoTime,
});
export type User = z.infer<typeof user>;
export const userList = listOf(user);

/** An API key as admins see it (`GET /api/v1/apikeys`); never its secret. */
export const apiKey = z.object({
  name: z.string(),
  role: z.enum(ROLES),
  unit,
  createdAt: isoTime,
  revokedAt: nullableIsoTime,
});
export type ApiKey = z.infer<typeof apiKey>;
export const apiKeyList = listOf(apiKey);

export const nameParams = z.object({ name: z.string().min(1).max(128) });
export const passwordBody = z.strictObject({ password: z.string().min(MIN_PASSWORD_LENGTH).max(1024) });

export const keysRevoked = z.object({ name: z.string(), revoked: z.int() });
