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
