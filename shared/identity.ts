import { createHash } from 'node:crypto';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lowercase, without padding. */
export function base32Lower(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** Identity comes from the key, never the hostname: `ag-` + 20 chars of base32(SHA-256(SPKI DER)). */
export function agentIdFromPublicKey(publicKeyBase64: string): string {
  return `ag-${keyFingerprint(publicKeyBase64)}`;
}

/** The same derivation for collectors, so a child collector's id is also its key. */
export function collectorIdFromPublicKey(publicKeyBase64: string): string {
  return `co-${keyFingerprint(publicKeyBase64)}`;
}

function keyFingerprint(publicKeyBase64: string): string {
  const digest = createHash('sha256').update(Buffer.from(publicKeyBase64, 'base64')).digest();
  return base32Lower(digest).slice(0, 20);
}

export const AGENT_ID_PATTERN = /^ag-[a-z2-7]{20}$/;
