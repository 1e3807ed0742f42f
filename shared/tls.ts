import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { z } from 'zod';
import { UserError } from './errors.js';

/**
 * TLS material named in configuration (issue 4: TLS on the MQTT and HTTP listeners when
 * certificates are configured). Files are read once at start; a missing or unreadable file, or
 * one that holds no PEM block, is a UserError naming the key, the path and what is expected.
 */
const filePath = z.string().min(1);

/** `http.tls`: the HTTPS listener's certificate (chain) and key, PEM files. */
export const tlsListenerSchema = z.strictObject({ cert: filePath, key: filePath });
export type TlsListenerConfig = z.infer<typeof tlsListenerSchema>;

/**
 * `broker.tls`: `cert` and `key` make the embedded broker listen with TLS (mqtts://); `ca` is the
 * CA that issued the broker's certificate (the embedded one's or an external broker.url's), which
 * the collector's own MQTT client trusts. Without `ca` the embedded broker's certificate trusts
 * itself (self-signed) and an external broker is checked against the system's CAs.
 */
export const brokerTlsSchema = z
  .strictObject({ cert: filePath.optional(), key: filePath.optional(), ca: filePath.optional() })
  .refine((tls) => (tls.cert === undefined) === (tls.key === undefined), {
    message: 'expected cert and key together (both PEM files), or neither',
  });
export type BrokerTlsConfig = z.infer<typeof brokerTlsSchema>;

/** The certificate and key of a listener, read from their files. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

export function readListenerTls(tls: { cert: string; key: string }, key: string): TlsMaterial {
  const material = {
    cert: readPemFile(tls.cert, `${key}.cert`, 'certificate'),
    key: readPemFile(tls.key, `${key}.key`, 'private key'),
  };
  try {
    createSecureContext(material);
  } catch (err) {
    throw new UserError(
      `${key}: cannot use ${resolve(tls.cert)} with ${resolve(tls.key)}: ${(err as Error).message}; ` +
        'expected the certificate and the private key that belongs to it',
    );
  }
  return material;
}

/** A PEM file's bytes, or a UserError naming the config key that pointed at it. */
export function readPemFile(path: string, key: string, expected: 'certificate' | 'private key'): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : code;
    throw new UserError(
      `${key}: cannot read ${resolve(path)} (${why ?? (err as Error).message}); expected a PEM ${expected} file`,
    );
  }
  const marker =
    expected === 'certificate' ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
  if (!marker.test(bytes.toString('latin1'))) {
    throw new UserError(`${key}: ${resolve(path)} holds no PEM ${expected} (no "-----BEGIN" line for one)`);
  }
  return bytes;
}

/** Codes OpenSSL and Node give when a peer's certificate does not verify. */
const VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The error's TLS verification code when it is a certificate refusal, else undefined. */
export function certificateRefusal(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string' && VERIFY_CODES.has(e.code)) return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

/**
 * Says why a server was refused: its certificate did not verify against what we trust (`caKey`'s
 * file, or the system's CAs when it is unset) — never a silent retry without verification.
 */
export function explainCertificateRefusal(
  what: string,
  code: string,
  trust: { key: string; file: string | undefined; unsetTrusts?: string },
): string {
  const against = trust.file
    ? `the CA in ${trust.key} (${resolve(trust.file)})`
    : `${trust.unsetTrusts ?? "the system's CAs"} (${trust.key} is unset)`;
  const hint =
    code === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? 'the certificate does not name the host in the URL; use a name or address it lists'
      : `set ${trust.key} to the CA that issued the server's certificate`;
  return `${what}: refused the server's TLS certificate (${code}): it does not verify against ${against}; ${hint}`;
}
