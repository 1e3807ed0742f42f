import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import type { EnrollmentTokenKind, Store, TokenRefusal } from '../store/store.js';
import { ENROLLMENT_TOKEN_PREFIX, generateSecret, hashSecret } from './secrets.js';

export const DEFAULT_TOKEN_TTL_MS = 24 * 3_600_000;

/**
 * Creates a one-time enrollment token for `unit` that enrolls an agent (default) or a child
 * collector; only its hash is stored, the token is returned once.
 */
export async function createEnrollmentToken(
  store: Store,
  options: { unit: string; kind?: EnrollmentTokenKind; ttlMs?: number; clock?: Clock },
): Promise<{ token: string; expiresAt: string }> {
  const now = (options.clock ?? systemClock).now();
  const token = generateSecret(ENROLLMENT_TOKEN_PREFIX);
  const expiresAt = new Date(now.getTime() + (options.ttlMs ?? DEFAULT_TOKEN_TTL_MS)).toISOString();
  await store.createEnrollmentToken({
    tokenHash: hashSecret(token),
    unit: options.unit,
    kind: options.kind ?? 'agent',
    createdAt: now.toISOString(),
    expiresAt,
  });
  return { token, expiresAt };
}

/** The answer to a token that cannot enroll `kind`: the same words for agents and collectors. */
export function tokenRefusalAnswer(
  reason: TokenRefusal,
  kind: EnrollmentTokenKind,
): { status: number; error: string } {
  switch (reason) {
    case 'token-unknown':
      return { status: 401, error: 'enrollment token is not valid' };
    case 'token-used':
      return { status: 401, error: 'enrollment token has already been used; ask for a new one' };
    case 'token-expired':
      return { status: 401, error: 'enrollment token has expired; ask for a new one' };
    case 'token-kind': {
      const [is, isNot] =
        kind === 'agent' ? ['a child collector', 'an agent'] : ['an agent', 'a child collector'];
      return {
        status: 403,
        error: `this enrollment token enrolls ${is}, not ${isNot}; ask for one made with smew token create --for ${kind}`,
      };
    }
  }
}
