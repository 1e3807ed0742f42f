import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { canonicalize } from '../shared/canonical-json.js';
import { SIGNATURE_ALGS, type Verifier } from '../shared/crypto/suite.js';
import { ENVELOPE_VERSION, MAX_ENVELOPE_BYTES, verifyMessage } from '../shared/envelope.js';
import { policySchema, type Policy } from '../shared/policy.js';

/**
 * The policy the collector gave this agent (at enrollment, or pushed signed on the retained
 * `policy` topic), kept in `<identity.dir>/policy.json` so it survives restarts and applies
 * even while the broker is unreachable. It takes precedence over the local config's `policy`.
 */
export const POLICY_FILE = 'policy.json';

export interface StoredPolicy {
  source: 'enrollment' | 'pushed';
  /** The collector's `ts` of a pushed policy: an older one never replaces a newer one. */
  issuedAt?: string;
  policy: Policy;
}

const storedPolicySchema = z.object({
  source: z.enum(['enrollment', 'pushed']),
  issuedAt: z.string().optional(),
  policy: policySchema,
});

/**
 * The pushed policy message: `{v, agent, ts, collector, policy, alg, sig}`, signed by the
 * collector like an ack (JCS of everything but `sig`).
 */
export const policyMessageSchema = z.looseObject({
  v: z.literal(ENVELOPE_VERSION),
  agent: z.string(),
  ts: z.iso.datetime({ offset: true }),
  collector: z.string().min(1),
  policy: z.unknown(),
  alg: z.enum(SIGNATURE_ALGS),
  sig: z.string().min(1),
});

/** A short fingerprint of a policy, for `agent.started` and `agent.config.changed`. */
export function policyHash(policy: Policy): string {
  return createHash('sha256').update(canonicalize(policy)).digest('hex').slice(0, 16);
}

/** The stored policy, or undefined when there is none or it is unreadable (the config's applies). */
export function readStoredPolicy(dir: string): StoredPolicy | undefined {
  const file = join(dir, POLICY_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const parsed = storedPolicySchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function writeStoredPolicy(
  dir: string,
  policy: Policy,
  source: StoredPolicy['source'],
  issuedAt?: string,
): void {
  const file = join(dir, POLICY_FILE);
  const stored: StoredPolicy = { source, ...(issuedAt ? { issuedAt } : {}), policy };
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

export type PolicyMessageOutcome =
  { accepted: true; policy: Policy; issuedAt: string } | { accepted: false; reason: string };

/** Checks a message from our policy topic: for us, from our collector, signed, newer than ours. */
export function acceptPolicyMessage(
  payload: string | Buffer,
  expected: {
    agentId: string;
    collectorId: string;
    collectorAlg: string;
    verify: Verifier;
    newerThan?: string;
  },
): PolicyMessageOutcome {
  if (payload.length === 0) return { accepted: false, reason: 'empty (retained policy removed)' };
  if (payload.length > MAX_ENVELOPE_BYTES) return { accepted: false, reason: 'too large' };
  let message: unknown;
  try {
    message = JSON.parse(payload.toString());
  } catch {
    return { accepted: false, reason: 'not JSON' };
  }
  const parsed = policyMessageSchema.safeParse(message);
  if (!parsed.success) return { accepted: false, reason: 'not a policy message' };
  const { agent, collector, alg, ts } = parsed.data;
  if (agent !== expected.agentId) return { accepted: false, reason: `for another agent (${agent})` };
  if (collector !== expected.collectorId || alg !== expected.collectorAlg) {
    return { accepted: false, reason: `not from our collector (${collector})` };
  }
  if (!verifyMessage(message as Record<string, unknown>, expected.verify)) {
    return { accepted: false, reason: 'bad signature' };
  }
  if (expected.newerThan !== undefined && Date.parse(ts) <= Date.parse(expected.newerThan)) {
    return { accepted: false, reason: 'not newer than the policy in force' };
  }
  const policy = policySchema.safeParse(parsed.data.policy);
  if (!policy.success) return { accepted: false, reason: `invalid policy: ${policy.error.message}` };
  return { accepted: true, policy: policy.data, issuedAt: ts };
}
