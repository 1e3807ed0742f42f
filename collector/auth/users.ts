import { MIN_PASSWORD_LENGTH } from '../../shared/api/access.js';
import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import type { Store, UserRecord } from '../store/store.js';
import { hashPassword } from './passwords.js';
import { UserError } from '../../shared/errors.js';
import { otherDutyOf, secondDutyMessage, type Role } from './roles.js';

/** Passwords shorter than this are refused: dashboard accounts see classified-incident data. */
export { MIN_PASSWORD_LENGTH };

/**
 * Adds a dashboard user; returns false when the name is taken (nothing is changed then). A name an
 * API key holds with another role is refused (UserError): one role per account (第34条).
 */
export async function addUser(
  store: Store,
  options: { name: string; password: string; role: Role; unit?: string; clock?: Clock },
): Promise<boolean> {
  if (await store.getUser(options.name)) return false;
  const held = await otherDutyOf(store, options.name, options.role);
  if (held) throw new UserError(secondDutyMessage(options.name, held, options.role));
  return store.addUser({
    name: options.name,
    passwordHash: await hashPassword(options.password),
    role: options.role,
    unit: options.unit ?? null,
    createdAt: (options.clock ?? systemClock).now().toISOString(),
  });
}

/**
 * Disables or enables a dashboard user; disabling ends every session of theirs at once (their
 * open live streams follow when they re-check). Undefined when there is no such user.
 */
export async function setUserEnabled(
  store: Store,
  name: string,
  enabled: boolean,
  clock: Clock = systemClock,
): Promise<UserRecord | undefined> {
  const user = await store.getUser(name);
  if (!user) return undefined;
  // Disabling again keeps the first time it was disabled.
  const disabledAt = enabled ? null : (user.disabledAt ?? clock.now().toISOString());
  if (!(await store.setUserDisabled(name, disabledAt))) return undefined;
  if (!enabled) await store.sessions.deleteUserSessions(name);
  return { ...user, disabledAt };
}

/** Sets a new password and ends the user's sessions (whoever held the old one is out). */
export async function setUserPassword(store: Store, name: string, password: string): Promise<boolean> {
  if (!(await store.setUserPassword(name, await hashPassword(password)))) return false;
  await store.sessions.deleteUserSessions(name);
  return true;
}

/** A user as the API and `smew user list` show one: never the password hash. */
export function userView(user: UserRecord) {
  return {
    name: user.name,
    role: user.role,
    unit: user.unit,
    createdAt: user.createdAt,
    disabledAt: user.disabledAt,
  };
}
