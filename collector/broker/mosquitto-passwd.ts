import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The password hash of Mosquitto 2.0's password file (`mosquitto_passwd`): `$7$` = PBKDF2 with
 * SHA-512, 101 iterations by default, a 12-byte random salt and a 64-byte key, both base64:
 * `$7$101$<salt>$<hash>`. Checked against mosquitto_passwd 2.0.11 (test/unit/mosquitto-passwd.test.ts).
 */
export const MOSQUITTO_PBKDF2_ITERATIONS = 101;
const SALT_BYTES = 12;
const KEY_BYTES = 64;

export function mosquittoPasswordHash(
  password: string,
  options: { iterations?: number; salt?: Buffer } = {},
): string {
  const iterations = options.iterations ?? MOSQUITTO_PBKDF2_ITERATIONS;
  const salt = options.salt ?? randomBytes(SALT_BYTES);
  const key = pbkdf2Sync(password, salt, iterations, KEY_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `password` matches a `$7$` hash (used by tests and diagnostics). */
export function verifyMosquittoPassword(password: string, hash: string): boolean {
  const match = /^\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(hash);
  if (!match) return false;
  const expected = Buffer.from(match[3]!, 'base64');
  const key = pbkdf2Sync(
    password,
    Buffer.from(match[2]!, 'base64'),
    Number(match[1]),
    expected.length,
    'sha512',
  );
  return key.length === expected.length && timingSafeEqual(key, expected);
}
