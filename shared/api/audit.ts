import { z } from 'zod';
import { isoTime, listOf } from './common.js';

const hash = z
  .string()
  .nullable()
  .meta({ description: 'hex SHA-256; null on an entry from before the chain, until sealed' });

/** One line of the audit log (`GET /api/v1/audit`): who, what, when, from where, with what outcome, and its link in the chain. */
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
  seq: z.int().nullable().meta({ description: 'place in the hash chain: 1, 2, 3… without gaps' }),
  prevHash: hash,
  hash,
});
export type AuditEntry = z.infer<typeof auditEntry>;

export const auditList = listOf(auditEntry);

export const auditQuery = z.object({
  actor: z.string().max(128).optional(),
  action: z.string().max(200).optional().meta({ description: 'entries whose action contains this text' }),
  since: isoTime.optional().meta({ description: 'entries at or after this time' }),
  until: isoTime.optional().meta({ description: 'entries before this time' }),
  before: z.int().min(1).optional().meta({ description: 'entries with a smaller id (paging)' }),
  limit: z.int().min(1).max(1000).default(100),
});

/** What `smew audit verify` and `GET /api/v1/audit/chain` find (collector/audit/audit-chain.ts). */
export const chainReport = z.object({
  ok: z.boolean(),
  entries: z.int(),
  verifiedThrough: z.int(),
  heads: z.int(),
  newestHead: z.object({ seq: z.int(), signedAt: isoTime, collector: z.string() }).optional(),
  unsigned: z.int().meta({ description: 'entries after the newest signed head' }),
  unchained: z.int(),
  problem: z
    .object({
      kind: z.enum(['edited', 'deleted', 'reordered', 'bad-signature', 'unknown-signer']),
      id: z.int().optional(),
      seq: z.int().optional(),
      detail: z.string(),
    })
    .optional(),
});
export type ChainReport = z.infer<typeof chainReport>;

export const signedAuditHead = z.object({
  seq: z.int(),
  hash: z.string(),
  signedAt: isoTime,
  collector: z.string(),
  alg: z.string(),
  publicKey: z.string(),
  signature: z.string(),
});

/** `GET /api/v1/audit/export` and `smew audit export`: the log with its chain, to verify elsewhere. */
export const auditExport = z.object({
  format: z.literal('smew-audit-export/1'),
  exportedAt: isoTime,
  units: z.array(z.string()).nullable().meta({ description: 'null: every unit (the whole chain)' }),
  verification: chainReport,
  heads: z.array(signedAuditHead),
  entries: z.array(auditEntry),
});
