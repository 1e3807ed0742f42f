/**
 * RFC 8785 JSON Canonicalization Scheme (JCS). Signatures cover these bytes, so agent and
 * collector (and any third party re-verifying an envelope) must agree on them exactly.
 *
 * JCS defines numbers and strings by ECMAScript's JSON.stringify, so we reuse it for primitives
 * and only impose the member order: keys sorted by their UTF-16 code units.
 */
export function canonicalize(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`JCS cannot encode the number ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => canonicalize(item === undefined ? null : item)).join(',')}]`;
  }
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    // Default sort compares UTF-16 code units, which is exactly what JCS asks for.
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalize(record[k])}`).join(',')}}`;
  }
  throw new TypeError(`JCS cannot encode a value of type ${typeof value}`);
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}
