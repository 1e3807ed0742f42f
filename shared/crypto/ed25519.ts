import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { createRequire } from 'node:module';
import type { KeyPairText, SignatureSuite, Verifier } from './suite.js';

/** An Ed25519 SubjectPublicKeyInfo is a fixed 12-byte header followed by the 32-byte key. */
const SPKI_HEADER = Buffer.from('302a300506032b6570032100', 'hex');

interface SodiumVerify {
  crypto_sign_verify_detached(signature: Buffer, message: Uint8Array, publicKey: Buffer): boolean;
}

let sodium: SodiumVerify | undefined;

/**
 * Verifies Ed25519 with libsodium (sodium-native, prebuilt in its package) from now on in this
 * thread: about twice node:crypto's rate on Node 24 (test/bench/crypto-verify.bench.ts). Processes
 * that verify many signatures (the collector, its verify threads, the ingest bench's ceiling) call
 * it at start; the agent does not, so it never loads the native module. Answers false, and
 * node:crypto stays, where the module does not load (a platform without a prebuild).
 */
export function useSodiumEd25519(): boolean {
  if (sodium) return true;
  try {
    sodium = createRequire(import.meta.url)('sodium-native') as SodiumVerify;
    return true;
  } catch {
    return false;
  }
}

/** Which library verifies Ed25519 signatures in this thread (for logs and benchmarks). */
export function ed25519Verifier(): 'libsodium' | 'node:crypto' {
  return sodium ? 'libsodium' : 'node:crypto';
}

function nodeVerifier(spki: Buffer): Verifier {
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  return (data, signatureBase64) => {
    const signature = Buffer.from(signatureBase64, 'base64');
    if (signature.length !== 64) return false;
    try {
      return verify(null, data, key, signature);
    } catch {
      return false;
    }
  };
}

function sodiumVerifier(lib: SodiumVerify, spki: Buffer): Verifier {
  const raw = spki.subarray(SPKI_HEADER.length);
  return (data, signatureBase64) => {
    const signature = Buffer.from(signatureBase64, 'base64');
    if (signature.length !== 64) return false;
    return lib.crypto_sign_verify_detached(signature, data, raw);
  };
}

export const ed25519Suite: SignatureSuite = {
  alg: 'ed25519',
  generateKeyPair(): KeyPairText {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    return {
      alg: 'ed25519',
      publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  },
  signer(privateKeyPem) {
    const key = createPrivateKey(privateKeyPem);
    return (data) => sign(null, data, key).toString('base64');
  },
  verifier(publicKeyBase64) {
    const spki = Buffer.from(publicKeyBase64, 'base64');
    // node:crypto parses the key (and throws on a malformed one) whichever library verifies.
    const fallback = nodeVerifier(spki);
    const wellFormed = spki.length === SPKI_HEADER.length + 32 && spki.subarray(0, 12).equals(SPKI_HEADER);
    return sodium && wellFormed ? sodiumVerifier(sodium, spki) : fallback;
  },
};
