/**
 * Re-verifies an agent's signed envelope in the browser: RFC 8785 (JCS) canonical JSON of the
 * envelope without `sig`, checked with the agent's Ed25519 key through WebCrypto. SM2 has no
 * WebCrypto support; the page says so and the command line verifies it.
 */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  // JCS orders keys by UTF-16 code units, which is what the default sort compares.
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export type VerifyResult = 'valid' | 'invalid' | 'unsupported';

export async function verifyEnvelope(
  envelope: Record<string, unknown>,
  publicKeyBase64: string,
): Promise<VerifyResult> {
  if (envelope.alg !== 'ed25519' || typeof envelope.sig !== 'string') return 'unsupported';
  try {
    const key = await crypto.subtle.importKey(
      'spki',
      fromBase64(publicKeyBase64),
      { name: 'Ed25519' },
      false,
      ['verify'],
    );
    const { sig, ...unsigned } = envelope;
    const ok = await crypto.subtle.verify(
      { name: 'Ed25519' },
      key,
      fromBase64(sig as string),
      new TextEncoder().encode(canonical(unsigned)),
    );
    return ok ? 'valid' : 'invalid';
  } catch (err) {
    return (err as Error).name === 'NotSupportedError' ? 'unsupported' : 'invalid';
  }
}
