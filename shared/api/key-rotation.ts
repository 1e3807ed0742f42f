import { z } from 'zod';
import { SIGNATURE_ALGS } from '../crypto/suite.js';
import { agentIdParams } from './agents.js';
import { isoTime } from './common.js';

/** `POST /api/v1/agents/{id}/keys`: a key rotation signed by the current key, proven by the new one. */
export const keyRotationParams = agentIdParams;

export const keyRotationBody = z.strictObject({
  statement: z.strictObject({
    v: z.literal(1).meta({ type: 'integer' }),
    type: z.literal('agent.key.rotate'),
    agent: z.string().max(64),
    newAlg: z.enum(SIGNATURE_ALGS),
    newPublicKey: z.string().min(1).max(4096),
    ts: z.string().max(64),
    alg: z.enum(SIGNATURE_ALGS),
    sig: z.string().min(1).max(512),
  }),
  proof: z.string().min(1).max(512).meta({ description: 'the new key’s signature' }),
});

export const keyRotated = z.object({ agentId: z.string(), rotatedAt: isoTime });
