import { createPublicKey } from 'node:crypto';
import type { Clock } from '../shared/clock.js';
import type { SignatureAlg } from '../shared/crypto/suite.js';
import { hasSuite, suiteFor } from '../shared/crypto/suites.js';
import { agentIdFromPublicKey } from '../shared/identity.js';
import type { Logger } from '../shared/log.js';
import type { ApprovalMode } from './approval.js';
import { enrollmentProofProblem } from '../shared/enrollment-proof.js';
import { tokenRefusalAnswer } from './auth/enrollment-tokens.js';
import { BROKER_SECRET_PREFIX, generateSecret, hashSecret } from './auth/secrets.js';
import type { CollectorIdentity } from './identity.js';
import type { CollectorMetrics } from './metrics.js';
import type { Store } from './store/store.js';

/**
 * Enrollment: a one-time token and the agent's public key become an agent record and fresh
 * broker credentials. The id comes from the key, so re-enrolling a known key keeps its history
 * and its unit. The request is signed by the key it enrolls (SPEC §5 "Enrollment proves possession").
 */
export interface EnrollRequest {
  token: string;
  publicKey: string;
  alg: SignatureAlg;
  hostname?: string;
  version?: string;
  /** The proof of possession (shared/enrollment-proof.ts); refused without it. */
  collector?: string;
  ts?: string;
  sig?: string;
}

export interface EnrollResponse {
  agentId: string;
  unit: string;
  collector: { id: string; alg: SignatureAlg; publicKey: string };
  /** `urls`: every node agents may fail over to, `url` (the first) for agents that read one. */
  broker: { url: string; urls: string[]; username: string; password: string };
  /** pending: the broker admits the agent once an admin approves it (enroll.approval: manual). */
  approval: 'approved' | 'pending';
}

export type EnrollResult =
  { ok: true; response: EnrollResponse } | { ok: false; status: number; error: string };

export interface EnrollmentDeps {
  store: Store;
  identity: CollectorIdentity;
  clock: Clock;
  metrics: CollectorMetrics;
  logger: Logger;
  /** The broker URLs agents should use (broker.publicUrls, broker.publicUrl, or the one in use). */
  brokerUrls: readonly string[];
  /** Drops a cached broker credential so the new secret takes effect at the next connect. */
  onCredentialsChanged(agentId: string): void;
  /**
   * The one moment the broker secret exists in clear at the collector: an external broker's
   * login (Mosquitto's `$7$` hash) is derived here (collector/broker/mosquitto-access.ts).
   */
  onEnrolled?(agentId: string, brokerSecret: string): Promise<void>;
  /** enroll.approval; default auto. */
  approval?: ApprovalMode;
  /** ingest.maxSkew: how far an enrollment request's ts may be from this collector's clock. */
  maxSkewMs: number;
}

const REFUSALS = {
  'agent-revoked': {
    status: 403,
    error: 'this agent key has been revoked; make a new key pair to enroll again',
  },
  'key-mismatch': { status: 409, error: 'an agent with this id is enrolled with a different key' },
} as const;

export async function enrollAgent(deps: EnrollmentDeps, request: EnrollRequest): Promise<EnrollResult> {
  const refuse = (status: number, error: string, result: string): EnrollResult => {
    deps.metrics.enrollments.inc({ result });
    deps.metrics.hierarchy.enrollRejected.inc({ kind: 'agent', reason: result });
    return { ok: false, status, error };
  };
  if (!hasSuite(request.alg)) {
    return refuse(400, `this collector cannot verify ${request.alg} signatures`, 'unsupported-alg');
  }
  const keyProblem = checkPublicKey(request.publicKey, request.alg);
  if (keyProblem) return refuse(400, keyProblem, 'bad-key');
  const now = deps.clock.now();
  const proof = enrollmentProofProblem(request, {
    collector: deps.identity.id,
    now,
    maxSkewMs: deps.maxSkewMs,
  });
  if (proof) {
    deps.logger.warn({ reason: proof.reason }, 'refused an enrollment that does not prove its key');
    return refuse(proof.reason === 'unsigned' ? 400 : 401, proof.error, proof.reason);
  }

  const agentId = agentIdFromPublicKey(request.publicKey);
  const brokerSecret = generateSecret(BROKER_SECRET_PREFIX);
  const at = now.toISOString();
  // Pending before the agent exists, so no crash in between leaves a new agent approved.
  const approvals = deps.store.approvals;
  const manual = deps.approval === 'manual';
  const requested = manual && !(await deps.store.getAgent(agentId));
  if (requested) await approvals.requestApproval(agentId, at);
  const result = await deps.store.enrollAgent({
    tokenHash: hashSecret(request.token),
    agentId,
    alg: request.alg,
    publicKey: request.publicKey,
    hostname: request.hostname,
    version: request.version,
    brokerSecretHash: hashSecret(brokerSecret),
    now: at,
  });
  if (!result.ok) {
    if (requested) await approvals.withdrawRequest(agentId);
    deps.logger.info({ agent: agentId, reason: result.reason }, 'refused an enrollment');
    if (result.reason === 'unit-moved') {
      return refuse(
        409,
        `agent ${agentId} is enrolled in unit ${result.unit ?? '?'}; a token of another unit does not move it — ask for a token of unit ${result.unit ?? '?'}, or a system administrator (sysadmin) moves it (smew agents move ${agentId} --unit U)`,
        result.reason,
      );
    }
    const refusal =
      result.reason === 'agent-revoked' || result.reason === 'key-mismatch'
        ? REFUSALS[result.reason]
        : tokenRefusalAnswer(result.reason, 'agent');
    return refuse(refusal.status, refusal.error, result.reason);
  }
  // Manual approval covers re-enrollment too: new broker credentials wait for an admin again.
  if (manual && result.reenrolled) await approvals.requestApproval(agentId, at, { again: true });
  deps.onCredentialsChanged(agentId);
  await deps.onEnrolled?.(agentId, brokerSecret);
  deps.metrics.enrollments.inc({ result: result.reenrolled ? 'reenrolled' : 'enrolled' });
  const approval = (await approvals.isApproved(agentId)) === false ? 'pending' : 'approved';
  deps.logger.info(
    {
      agent: agentId,
      unit: result.agent.unit,
      hostname: request.hostname,
      reenrolled: result.reenrolled,
      approval,
    },
    approval === 'pending' ? 'enrolled an agent; it waits for approval' : 'enrolled an agent',
  );
  return {
    ok: true,
    response: {
      agentId,
      unit: result.agent.unit,
      collector: { id: deps.identity.id, alg: deps.identity.alg, publicKey: deps.identity.publicKey },
      broker: {
        url: deps.brokerUrls[0]!,
        urls: [...deps.brokerUrls],
        username: agentId,
        password: brokerSecret,
      },
      approval,
    },
  };
}

/** The key must parse as SPKI DER of the algorithm claimed, or no signature will ever verify. */
function checkPublicKey(publicKey: string, alg: SignatureAlg): string | undefined {
  const der = Buffer.from(publicKey, 'base64');
  if (der.length === 0 || der.toString('base64') !== publicKey.replace(/\s+/g, '')) {
    return 'publicKey must be base64 of the SubjectPublicKeyInfo DER';
  }
  try {
    if (alg === 'ed25519') {
      const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
      if (key.asymmetricKeyType !== 'ed25519') {
        return `publicKey is a ${key.asymmetricKeyType ?? 'unknown'} key, but alg is ${alg}`;
      }
    }
    // Other suites (SM2) parse their own keys; a suite refuses a key it cannot use by throwing.
    suiteFor(alg).verifier(publicKey);
  } catch (err) {
    return `publicKey is not a usable ${alg} SubjectPublicKeyInfo: ${(err as Error).message}`;
  }
  return undefined;
}
