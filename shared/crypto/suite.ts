/**
 * A signature suite: key generation, signing and verification for one `alg`. Keys travel as
 * text: the public key as base64 SPKI DER (what the agent id hashes), the private key as PKCS#8 PEM.
 * Ed25519 is the default; SM2-with-SM3 joins as a second suite behind the same interface.
 */
export const SIGNATURE_ALGS = ['ed25519', 'sm2-sm3'] as const;
export type SignatureAlg = (typeof SIGNATURE_ALGS)[number];

export interface KeyPairText {
  alg: SignatureAlg;
  /** base64 of the SubjectPublicKeyInfo DER */
  publicKey: string;
  /** PKCS#8 PEM */
  privateKey: string;
}

export type Signer = (data: Uint8Array) => string;
export type Verifier = (data: Uint8Array, signatureBase64: string) => boolean;

export interface SignatureSuite {
  readonly alg: SignatureAlg;
  generateKeyPair(): KeyPairText;
  /** Prepares the private key once; the returned function signs many messages. */
  signer(privateKeyPem: string): Signer;
  /** Prepares the public key once; the returned function never throws, it answers false. */
  verifier(publicKeyBase64: string): Verifier;
}
