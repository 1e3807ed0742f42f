import type { SignatureAlg, Signer } from './crypto/suite.js';
import { signingBytes, signMessage } from './envelope.js';

/**
 * The key-rotation statement (issue 4): an agent signs "my new key is K" with its current key,
 * and the new key signs the same statement (`proof`: it holds K). The collector checks both
 * (collector/key-rotation.ts); the agent makes them (agent/rotate-key.ts).
 */
export interface RotationStatement {
  v: 1;
  type: 'agent.key.rotate';
  agent: string;
  /** The new key's algorithm and base64 SPKI DER. */
  newAlg: SignatureAlg;
  newPublicKey: string;
  ts: string;
  /** The current key's algorithm (it signs `sig`). */
  alg: SignatureAlg;
  sig: string;
}

export interface RotationRequest {
  statement: RotationStatement;
  proof: string;
}

export function signRotation(options: {
  agentId: string;
  current: { alg: SignatureAlg; sign: Signer };
  next: { alg: SignatureAlg; publicKey: string; sign: Signer };
  ts: Date;
}): RotationRequest {
  const statement: RotationStatement = signMessage(
    {
      v: 1 as const,
      type: 'agent.key.rotate' as const,
      agent: options.agentId,
      newAlg: options.next.alg,
      newPublicKey: options.next.publicKey,
      ts: options.ts.toISOString(),
      alg: options.current.alg,
    },
    options.current.sign,
  );
  return { statement, proof: options.next.sign(signingBytes({ ...statement })) };
}

export const rotationPath = (agentId: string) => `/api/v1/agents/${encodeURIComponent(agentId)}/keys`;
