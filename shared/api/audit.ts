import { z } from 'zod';
import { isoTime, listOf } from './common.js';

/** One line of the audit log (`GET /api/v1/audit`): who, what, when, from where, with what outcome. */
export const auditEntry = z.object({
  id: z.int(),
  at: isoTime,
  actor: z.string(),
  actorKind: z.enum(['user', 'api-key', 'anonymous', 'collector', 'cli']),
  role: z.string().nullable(),
  unit: z.string().nullable(),
  action: z.string(),
  status: z.int().nullable(),
  ip: z.string(),
  detail: z.string(),
});
export type AuditEntry = z.infer<typeof auditEntry>;

export const auditList = listOf(auditEntry);

export const auditQuery = z.object({
  actor: z.string().max(128).optional(),
  before: z.int().min(1).optional().meta({ description: 'entries with a smaller id (paging)' }),
  limit: z.int().min(1).max(1000).default(100),
});
