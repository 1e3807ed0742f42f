import { skewMs, type Clock } from '../shared/clock.js';
import { SIGNATURE_ALGS } from '../shared/crypto/suite.js';
import { hasSuite, suiteFor } from '../shared/crypto/suites.js';
import { signingBytes, verifyMessage } from '../shared/envelope.js';
import type { RotationStatement } from '../shared/key-rotation.js';
import type { Store } from './store/store.js';

export type { RotationStatement };

/**
 * Key rotation that keeps the agent's history (issue 4): the agent signs a statement naming its
 * new public key with its current key, and signs the same statement with the new key (proof it
 * holds it). The agent keeps its id, unit, seq watermark and stored events; the old key stays
 * in the key history, so events it signed can still be verified. Rotate with an empty outbox:
 * events signed by the old key that arrive afterwards are refused as bad signatures.
 */
export type RotationResult =
  | { ok: true; agentId: string; rotatedAt: string }
  | { ok: false; status: 400 | 403 | 404 | 409; error: string };

export async function rotateAgentKey(
  deps: { store: Store; clock: Clock; maxSkewMs: number },
  agentId: string,
  statement: RotationStatement,
  proof: string,
): Promise<RotationResult> {
  const agent = await deps.store.getAgent(agentId);
  if (!agent) return { ok: false, status: 404, error: `no agent ${agentId}` };
  if (agent.revokedAt !== null) return { ok: false, status: 403, error: `agent ${agentId} is revoked` };
  if (statement.agent !== agentId) {
    return { ok: false, status: 400, error: `the statement names ${statement.agent}, not ${agentId}` };
  }
  if (!SIGNATURE_ALGS.includes(statement.newAlg) || !hasSuite(statement.newAlg)) {
    return { ok: false, status: 400, error: `this collector cannot verify ${statement.newAlg} signatures` };
  }
  const now = deps.clock.now();
  // A captured statement cannot be replayed later.
  if (skewMs(statement.ts, now) > deps.maxSkewMs) {
    return {
      ok: false,
      status: 400,
      error: 'the statement’s ts is missing or too far from the collector clock',
    };
  }
  if (statement.newPublicKey === agent.publicKey) {
    return { ok: false, status: 409, error: 'the new key is the current key' };
  }
  if (
    statement.alg !== agent.alg ||
    !verifyMessage({ ...statement }, suiteFor(agent.alg).verifier(agent.publicKey))
  ) {
    return { ok: false, status: 403, error: 'the statement is not signed by the agent’s current key' };
  }
  let proofOk: boolean;
  try {
    proofOk = suiteFor(statement.newAlg).verifier(statement.newPublicKey)(
      signingBytes({ ...statement }),
      proof,
    );
  } catch {
    return {
      ok: false,
      status: 400,
      error: `newPublicKey is not a usable ${statement.newAlg} SubjectPublicKeyInfo`,
    };
  }
  if (!proofOk) return { ok: false, status: 403, error: 'the proof is not signed by the new key' };
  const taken = (await deps.store.listAgents({})).some((a) => a.publicKey === statement.newPublicKey);
  if (taken) return { ok: false, status: 409, error: 'the new key belongs to another agent' };
  const rotatedAt = now.toISOString();
  const rotated = await deps.store.transport.rotateKey({
    agentId,
    alg: statement.newAlg,
    publicKey: statement.newPublicKey,
    at: rotatedAt,
  });
  if (!rotated) return { ok: false, status: 403, error: `agent ${agentId} is revoked` };
  return { ok: true, agentId, rotatedAt };
}
