import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalize } from '../shared/canonical-json.js';
import {
  checkCollectorMessage,
  policyMessageSchema,
  type CollectorMessageExpectation,
} from '../shared/envelope.js';
import { suiteFor } from '../shared/crypto/suites.js';
import { policySchema, type Policy } from '../shared/policy.js';
import type { AgentIdentity } from './identity.js';

/**
 * The policy the collector pushed to this agent (signed, on the retained `policy` topic), kept in
 * `<identity.dir>/policy.json` exactly as received, so it survives restarts and applies even while
 * the broker is unreachable. It takes precedence over the local config's `policy` only because
 * it is the collector's: at load it is verified again with the collector key in the identity,
 * like a message just received; an unsigned, forged, foreign or far-future one is ignored (the
 * runner reports agent.tamper). The runner also watches the file (agent/watch/self-watch.ts).
 */
export const POLICY_FILE = 'policy.json';

/**
 * How far ahead of the agent's clock a policy's `ts` may be: the collector's default
 * `ingest.maxSkew`. Further, and it is not accepted — it would make every later push look older.
 */
export const POLICY_MAX_AHEAD_MS = 5 * 60_000;

export interface StoredPolicy {
  /** The collector's `ts`: an older policy never replaces a newer one. */
  issuedAt: string;
  policy: Policy;
  /** The signed message as received, byte for byte. */
  message: string;
}

export type PolicyExpectation = CollectorMessageExpectation & { now: Date };

export type StoredPolicyRead =
  | { state: 'none' }
  | { state: 'ok'; stored: StoredPolicy }
  | { state: 'refused'; reason: string; hash: string };

export function policyFile(dir: string): string {
  return join(dir, POLICY_FILE);
}

/** A short fingerprint of a policy, for `agent.started` and `agent.config.changed`. */
export function policyHash(policy: Policy): string {
  return createHash('sha256').update(canonicalize(policy)).digest('hex').slice(0, 16);
}

/** What a policy message must be: for this agent, from the collector its identity names, signed by it. */
export function policyExpectation(identity: AgentIdentity): CollectorMessageExpectation {
  return {
    agentId: identity.agentId,
    collectorId: identity.collector.id,
    collectorAlg: identity.collector.alg,
    verify: suiteFor(identity.collector.alg).verifier(identity.collector.publicKey),
  };
}

/** The stored policy, checked as a message from the collector; `refused` says why it is not used. */
export function readStoredPolicy(dir: string, expected: PolicyExpectation): StoredPolicyRead {
  const file = policyFile(dir);
  if (!existsSync(file)) return { state: 'none' };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { state: 'refused', reason: `unreadable: ${(err as Error).message}`, hash: 'missing' };
  }
  const hash = createHash('sha256').update(text).digest('hex');
  const outcome = acceptPolicyMessage(text, expected);
  if (!outcome.accepted) return { state: 'refused', reason: outcome.reason, hash };
  return { state: 'ok', stored: outcome.stored };
}

/** Keeps the signed message as received (atomically, by rename). */
export function writeStoredPolicy(dir: string, message: string): void {
  const file = policyFile(dir);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, message, { mode: 0o600 });
  renameSync(temporary, file);
}

export type PolicyMessageOutcome =
  { accepted: true; stored: StoredPolicy } | { accepted: false; reason: string };

/**
 * Checks a policy message (from our policy topic, or kept in policy.json): for us, from our
 * collector, signed, not dated beyond POLICY_MAX_AHEAD_MS, and newer than ours.
 */
export function acceptPolicyMessage(
  payload: string | Buffer,
  expected: PolicyExpectation & { newerThan?: string },
): PolicyMessageOutcome {
  if (payload.length === 0) return { accepted: false, reason: 'empty (retained policy removed)' };
  const checked = checkCollectorMessage(payload, policyMessageSchema, 'a policy message', expected);
  if (!checked.ok) return { accepted: false, reason: checked.reason };
  const { ts } = checked.message;
  if (Date.parse(ts) > expected.now.getTime() + POLICY_MAX_AHEAD_MS) {
    return { accepted: false, reason: `dated ${ts}, ahead of this host's clock` };
  }
  if (expected.newerThan !== undefined && Date.parse(ts) <= Date.parse(expected.newerThan)) {
    return { accepted: false, reason: 'not newer than the policy in force' };
  }
  const policy = policySchema.safeParse(checked.message.policy);
  if (!policy.success) return { accepted: false, reason: `invalid policy: ${policy.error.message}` };
  return {
    accepted: true,
    stored: { issuedAt: ts, policy: policy.data, message: payload.toString() },
  };
}
