import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer secrets (enrollment tokens, API keys, broker passwords): 256 random bits, so a plain
 * SHA-256 is a sufficient stored form (no guessing to slow down, unlike human passwords).
 * The prefix tells an operator which kind of secret they are holding.
 */
export function generateSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares a presented secret with a stored hash in constant time. */
export function secretMatchesHash(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

export const ENROLLMENT_TOKEN_PREFIX = 'smew-et-';
export const API_KEY_PREFIX = 'smew-ak-';
export const BROKER_SECRET_PREFIX = 'smew-bs-';
