import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { canonicalize } from '../shared/canonical-json.js';
import {
  checkCollectorMessage,
  policyMessageSchema,
  type CollectorMessageExpectation,
} from '../shared/envelope.js';
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
  expected: CollectorMessageExpectation & { newerThan?: string },
): PolicyMessageOutcome {
  if (payload.length === 0) return { accepted: false, reason: 'empty (retained policy removed)' };
  const checked = checkCollectorMessage(payload, policyMessageSchema, 'a policy message', expected);
  if (!checked.ok) return { accepted: false, reason: checked.reason };
  const { ts } = checked.message;
  if (expected.newerThan !== undefined && Date.parse(ts) <= Date.parse(expected.newerThan)) {
    return { accepted: false, reason: 'not newer than the policy in force' };
  }
  const policy = policySchema.safeParse(checked.message.policy);
  if (!policy.success) return { accepted: false, reason: `invalid policy: ${policy.error.message}` };
  return { accepted: true, policy: policy.data, issuedAt: ts };
}
