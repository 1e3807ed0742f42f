/**
 * A verification thread: receives batches of (alg, public key, signed JSON text), answers with one
 * boolean each. It parses the text itself, so only strings cross the thread boundary, and keeps
 * parsed public keys, since parsing a key costs more than a verification.
 */
import { parentPort } from 'node:worker_threads';
import { useSodiumEd25519 } from '../../shared/crypto/ed25519.js';
import type { Verifier } from '../../shared/crypto/suite.js';
import { suiteFor } from '../../shared/crypto/suites.js';
import { verifyMessage } from '../../shared/envelope.js';

export interface VerifyRequest {
  alg: string;
  publicKey: string;
  text: string;
}

export interface VerifyBatch {
  id: number;
  requests: VerifyRequest[];
}

export interface VerifyAnswer {
  id: number;
  valid: boolean[];
}

useSodiumEd25519();

const MAX_CACHED_KEYS = 100_000;
const verifiers = new Map<string, Verifier>();

function verifierFor(alg: string, publicKey: string): Verifier {
  const key = `${alg}\u0000${publicKey}`;
  let verify = verifiers.get(key);
  if (!verify) {
    if (verifiers.size >= MAX_CACHED_KEYS) verifiers.clear();
    verify = suiteFor(alg).verifier(publicKey);
    verifiers.set(key, verify);
  }
  return verify;
}

export function verifyOne(request: VerifyRequest): boolean {
  try {
    const message = JSON.parse(request.text) as Record<string, unknown>;
    return verifyMessage(message, verifierFor(request.alg, request.publicKey));
  } catch {
    return false;
  }
}

parentPort?.on('message', (batch: VerifyBatch) => {
  const answer: VerifyAnswer = { id: batch.id, valid: batch.requests.map(verifyOne) };
  parentPort!.postMessage(answer);
});
