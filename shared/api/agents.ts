import { z } from 'zod';
import { isoTime, listOf, nullableIsoTime } from './common.js';

/** An enrolled agent with its key and liveness (`GET /api/v1/agents` and the agent actions). */
export const agent = z.object({
  id: z.string(),
  unit: z.string(),
  alg: z.string(),
  publicKey: z.string().meta({ description: 'base64 SPKI DER; verifies the agent’s envelopes' }),
  hostname: z.string().nullable(),
  version: z.string().nullable().optional(),
  lastSeen: nullableIsoTime,
  online: z.boolean(),
  enrolledAt: isoTime,
  revokedAt: nullableIsoTime.optional(),
  ackedSeq: z.int().optional().meta({ description: 'every event up to this seq is stored' }),
  reportedSeq: z.int().optional().meta({ description: 'the last seq the agent says it sent' }),
});
export type Agent = z.infer<typeof agent>;

export const agentList = listOf(agent);

export const agentIdParams = z.object({ id: z.string().min(1).max(64) });
export const agentMoveBody = z.strictObject({ unit: z.string().min(1).max(200) });

/** An agent enrolled under manual approval, waiting for a decision (`GET /api/v1/agents/pending`). */
export const pendingAgent = z.object({
  id: z.string(),
  unit: z.string(),
  hostname: z.string().nullable(),
  publicKey: z.string().optional(),
  requestedAt: isoTime,
});
export type PendingAgent = z.infer<typeof pendingAgent>;
export const pendingAgentList = listOf(pendingAgent);

export const approvalBody = z.strictObject({ decision: z.enum(['approve', 'reject']) });
export const approvalDecided = z.object({
  id: z.string(),
  state: z.enum(['approved', 'rejected']),
  decidedAt: isoTime,
  decidedBy: z.string(),
});
