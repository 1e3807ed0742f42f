import { z } from 'zod';
import { isoTime, listOf, nullableIsoTime } from './common.js';

/**
 * Roles of SPEC §8, after 第34条's three duties (三员): sysadmin (系统管理员) runs the collector
 * (users, keys, configuration, agents), secadmin (安全保密管理员) handles warnings, the register and
 * incidents, auditor (安全审计员) reads the audit log and changes nothing; viewer (查阅人员) reads.
 * Who may do what is one table: collector/auth/permissions.ts.
 */
export const ROLES = ['sysadmin', 'secadmin', 'auditor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
/** 第34条's three duties: no account holds two of them. */
export const DUTY_ROLES: readonly Role[] = ['sysadmin', 'secadmin', 'auditor'];
/** The roles before 三员 and what migration 17 made of each (viewer stays viewer). */
export const LEGACY_ROLES: Readonly<Record<string, Role>> = { admin: 'sysadmin', officer: 'secadmin' };
/** The shortest password a dashboard user may be given. */
export const MIN_PASSWORD_LENGTH = 8;

const unit = z.string().nullable().meta({ description: 'null: every unit' });

/** A dashboard user as system administrators see it (`GET /api/v1/users`). */
export const user = z.object({
  name: z.string(),
  role: z.enum(ROLES),
  unit,
  createdAt: isoTime,
  disabledAt: nullableIsoTime,
});
export type User = z.infer<typeof user>;
export const userList = listOf(user);

/** An API key as system administrators see it (`GET /api/v1/apikeys`); never its secret. */
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

/** A role as a caller names it; checked by the collector so an old name (admin, officer) gets the mapping. */
const roleInput = z
  .string()
  .max(32)
  .meta({ description: `one of ${ROLES.join(', ')} (admin → sysadmin and officer → secadmin since 三员)` });
/** A user's or key's name: what `smew user add` and the API accept. */
export const ACCOUNT_NAME = /^[\p{L}\p{N}._@-]{1,64}$/u;
const accountName = z.string().regex(ACCOUNT_NAME).meta({ description: '1-64 letters, digits, or . _ @ -' });

/** `POST /api/v1/users`: a dashboard user, by a system administrator. */
export const newUserBody = z.strictObject({
  name: accountName,
  role: roleInput,
  unit: z.string().min(1).max(128).optional(),
  password: z.string().min(MIN_PASSWORD_LENGTH).max(1024),
});

/** `POST /api/v1/apikeys`: a bearer key; the reply carries it, once. */
export const newApiKeyBody = z.strictObject({
  name: accountName,
  role: roleInput,
  unit: z.string().min(1).max(128).optional(),
});
export const createdApiKey = apiKey.extend({ key: z.string().meta({ description: 'shown this once' }) });
export const passwordBody = z.strictObject({ password: z.string().min(MIN_PASSWORD_LENGTH).max(1024) });

export const keysRevoked = z.object({ name: z.string(), revoked: z.int() });
