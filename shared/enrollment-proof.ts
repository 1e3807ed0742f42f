import { skewMs } from './clock.js';
import { z } from 'zod';
import { canonicalBytes } from './canonical-json.js';
import type { SignatureAlg, Signer } from './crypto/suite.js';
import { hasSuite, suiteFor } from './crypto/suites.js';

/**
 * Enrollment proves possession (SPEC §5): an agent enrolling at a collector, or a child collector
 * at its parent, signs the JCS form of `{token, publicKey, alg, collector, ts}` with the key it
 * enrolls. Without the private key nobody can enroll (or re-enroll) a public key read elsewhere;
 * `collector` binds the request to one collector and `ts` to a moment, so a captured request is
 * good nowhere else and not for long (the token is one-time besides).
 */
export interface EnrollmentClaim {
  token: string;
  publicKey: string;
  alg: SignatureAlg;
  /** The id of the collector enrolled at (GET /api/v1/enroll tells it). */
  collector: string;
  ts: string;
}

/** Where an enrolling agent or collector learns the id it must sign for. */
export const ENROLL_PATH = '/api/v1/enroll';

/** `GET /api/v1/enroll`'s answer: the collector to sign for, and its clock. */
export const enrollmentTargetSchema = z.object({
  collector: z.string().min(1).max(64),
  time: z.string().optional(),
  maxSkewSeconds: z.number().optional(),
});
export type EnrollmentTarget = z.infer<typeof enrollmentTargetSchema>;

function claimBytes(claim: Omit<EnrollmentClaim, 'alg'> & { alg: string }): Buffer {
  const { token, publicKey, alg, collector, ts } = claim;
  return canonicalBytes({ token, publicKey, alg, collector, ts });
}

/** Never throws: a key the suite cannot read verifies nothing. */
function verifies(claim: Omit<EnrollmentClaim, 'alg'> & { alg: string }, sig: string): boolean {
  try {
    return suiteFor(claim.alg).verifier(claim.publicKey)(claimBytes(claim), sig);
  } catch {
    return false;
  }
}

/** The claim's fields and its signature, ready to merge into the request body. */
export function signEnrollment(
  claim: Omit<EnrollmentClaim, 'ts'> & { ts: Date },
  sign: Signer,
): EnrollmentClaim & { sig: string } {
  const signed: EnrollmentClaim = { ...claim, ts: claim.ts.toISOString() };
  return { ...signed, sig: sign(claimBytes(signed)) };
}

export const ENROLL_PROOF_REFUSALS = {
  unsigned:
    'the enrollment request carries no signature (collector, ts and sig are required); upgrade the enrolling side',
  'bad-signature': 'the enrollment request is not signed by the key it enrolls',
  'wrong-collector': 'the enrollment request is signed for another collector',
  stale: 'the enrollment request is dated too far from this collector’s clock',
} as const;
export type EnrollProofRefusal = keyof typeof ENROLL_PROOF_REFUSALS;

/**
 * Why a request does not prove possession of its key for this collector now, or undefined when
 * it does. `body` is the request as received (the route's schema has checked the field types).
 */
export function enrollmentProofProblem(
  body: { token: string; publicKey: string; alg: string; collector?: string; ts?: string; sig?: string },
  expect: { collector: string; now: Date; maxSkewMs: number },
): { reason: EnrollProofRefusal; error: string } | undefined {
  const refuse = (reason: EnrollProofRefusal, detail = '') => ({
    reason,
    error: `${ENROLL_PROOF_REFUSALS[reason]}${detail}`,
  });
  const { collector, ts, sig } = body;
  if (collector === undefined || ts === undefined || sig === undefined) return refuse('unsigned');
  if (!hasSuite(body.alg)) return refuse('bad-signature');
  const claim = { ...body, collector, ts };
  if (!verifies(claim, sig)) return refuse('bad-signature');
  if (collector !== expect.collector) {
    return refuse('wrong-collector', ` (${collector}; this one is ${expect.collector})`);
  }
  if (skewMs(ts, expect.now) > expect.maxSkewMs) {
    return refuse(
      'stale',
      `: ts ${ts}, this collector's clock ${expect.now.toISOString()}, at most ${Math.round(expect.maxSkewMs / 1000)} s apart (ingest.maxSkew); check the enrolling machine's clock`,
    );
  }
  return undefined;
}
