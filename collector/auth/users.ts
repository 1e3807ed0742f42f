import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import type { Store } from '../store/store.js';
import { hashPassword } from './passwords.js';
import type { Role } from './roles.js';

/** Adds a dashboard user; returns false when the name is taken (nothing is changed then). */
export async function addUser(
  store: Store,
  options: { name: string; password: string; role: Role; unit?: string; clock?: Clock },
): Promise<boolean> {
  return store.addUser({
    name: options.name,
    passwordHash: await hashPassword(options.password),
    role: options.role,
    unit: options.unit ?? null,
    createdAt: (options.clock ?? systemClock).now().toISOString(),
  });
}
