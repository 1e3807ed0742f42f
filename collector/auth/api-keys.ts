import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import type { ApiKeyRecord, Store } from '../store/store.js';
import { UserError } from '../../shared/errors.js';
import { otherDutyOf, secondDutyMessage, type Role } from './roles.js';
import { API_KEY_PREFIX, generateSecret, hashSecret } from './secrets.js';

/** Who is calling the API, after authentication. `unit` null = every unit (a national admin). */
export interface Principal {
  kind: 'api-key' | 'user';
  name: string;
  role: Role;
  unit: string | null;
  /** Its unit and the units below it, resolved when the request is authenticated (SPEC §8). */
  units?: readonly string[];
}

/**
 * Creates a bearer key for the HTTP API; only its hash is stored, the key is returned once. A name
 * that a user or another key holds with another role is refused (UserError): one role per account.
 */
export async function createApiKey(
  store: Store,
  options: { name: string; role: Role; unit?: string; clock?: Clock },
): Promise<string> {
  const held = await otherDutyOf(store, options.name, options.role);
  if (held) throw new UserError(secondDutyMessage(options.name, held, options.role));
  const key = generateSecret(API_KEY_PREFIX);
  await store.createApiKey({
    keyHash: hashSecret(key),
    name: options.name,
    role: options.role,
    unit: options.unit ?? null,
    createdAt: (options.clock ?? systemClock).now().toISOString(),
  });
  return key;
}

export async function authenticateApiKey(store: Store, key: string): Promise<Principal | undefined> {
  // The lookup is by hash, so the comparison never touches the secret itself.
  const record = await store.findApiKey(hashSecret(key));
  if (!record || record.revokedAt !== null) return undefined;
  return { kind: 'api-key', name: record.name, role: record.role, unit: record.unit };
}

/** Revokes every active key of that name at once; returns how many (0: none such). */
export async function revokeApiKey(store: Store, name: string, clock: Clock = systemClock): Promise<number> {
  return store.revokeApiKeys(name, clock.now().toISOString());
}

/** A key as the API and `smew apikey list` show one: never its hash. */
export function apiKeyView(key: ApiKeyRecord) {
  return {
    name: key.name,
    role: key.role,
    unit: key.unit,
    createdAt: key.createdAt,
    revokedAt: key.revokedAt,
  };
}
