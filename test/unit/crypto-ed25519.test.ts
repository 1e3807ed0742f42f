import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ed25519Suite, ed25519Verifier, useSodiumEd25519 } from '../../shared/crypto/ed25519.js';
import type { Verifier } from '../../shared/crypto/suite.js';

// RFC 8032 §7.1, TEST 2: a one-byte message.
const RFC_PUBLIC = '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c';
const RFC_MESSAGE = Buffer.from('72', 'hex');
const RFC_SIGNATURE = Buffer.from(
  '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da' +
    '085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  'hex',
).toString('base64');
const rfcSpki = Buffer.concat([
  Buffer.from('302a300506032b6570032100', 'hex'),
  Buffer.from(RFC_PUBLIC, 'hex'),
]).toString('base64');

describe('Ed25519 through libsodium verifies exactly what node:crypto verifies', () => {
  const keys = Array.from({ length: 4 }, () => ed25519Suite.generateKeyPair());
  const signers = keys.map((k) => ed25519Suite.signer(k.privateKey));
  // Made before libsodium is switched on: these are node:crypto's.
  const nodeVerifiers = keys.map((k) => ed25519Suite.verifier(k.publicKey));
  const nodeRfc = ed25519Suite.verifier(rfcSpki);
  let sodiumVerifiers: Verifier[] = [];
  let sodiumRfc: Verifier;

  it('loads libsodium here', () => {
    expect(ed25519Verifier()).toBe('node:crypto');
    expect(useSodiumEd25519()).toBe(true);
    expect(ed25519Verifier()).toBe('libsodium');
    sodiumVerifiers = keys.map((k) => ed25519Suite.verifier(k.publicKey));
    sodiumRfc = ed25519Suite.verifier(rfcSpki);
  });

  it('agrees on the RFC 8032 vector, good and altered', () => {
    for (const verify of [nodeRfc, sodiumRfc]) {
      expect(verify(RFC_MESSAGE, RFC_SIGNATURE)).toBe(true);
      expect(verify(Buffer.from('73', 'hex'), RFC_SIGNATURE)).toBe(false);
    }
  });

  it('agrees on good, tampered, cross-key and malformed signatures', () => {
    let cases = 0;
    for (let i = 0; i < 200; i++) {
      const k = i % keys.length;
      const message = randomBytes(1 + (i % 700));
      const signature = signers[k]!(message);
      const tampered = Buffer.from(message);
      tampered[i % tampered.length]! ^= 1;
      const badSig = Buffer.from(signature, 'base64');
      badSig[i % 64]! ^= 0x80;
      const inputs: [Uint8Array, string, number, boolean][] = [
        [message, signature, k, true],
        [tampered, signature, k, false],
        [message, badSig.toString('base64'), k, false],
        [message, signature, (k + 1) % keys.length, false],
        [message, 'AAAA', k, false],
        [message, signature.slice(0, 40), k, false],
      ];
      for (const [data, sig, key, expected] of inputs) {
        expect(nodeVerifiers[key]!(data, sig)).toBe(expected);
        expect(sodiumVerifiers[key]!(data, sig)).toBe(expected);
        cases++;
      }
    }
    expect(cases).toBe(1200);
  });

  it('still refuses a malformed public key when it is prepared', () => {
    expect(() => ed25519Suite.verifier(Buffer.from('not a key').toString('base64'))).toThrow();
  });
});
