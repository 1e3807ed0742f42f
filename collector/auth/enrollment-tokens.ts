import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import type { Store } from '../store/store.js';
import { ENROLLMENT_TOKEN_PREFIX, generateSecret, hashSecret } from './secrets.js';

export const DEFAULT_TOKEN_TTL_MS = 24 * 3_600_000;

/** Creates a one-time enrollment token for `unit`; only its hash is stored, the token is returned once. */
export async function createEnrollmentToken(
  store: Store,
  options: { unit: string; ttlMs?: number; clock?: Clock },
): Promise<{ token: string; expiresAt: string }> {
  const now = (options.clock ?? systemClock).now();
  const token = generateSecret(ENROLLMENT_TOKEN_PREFIX);
  const expiresAt = new Date(now.getTime() + (options.ttlMs ?? DEFAULT_TOKEN_TTL_MS)).toISOString();
  await store.createEnrollmentToken({
    tokenHash: hashSecret(token),
    unit: options.unit,
    createdAt: now.toISOString(),
    expiresAt,
  });
  return { token, expiresAt };
}
