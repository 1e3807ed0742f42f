import { LEGACY_ROLES, ROLES, type Role } from '../../shared/api/access.js';
import { UserError } from '../../shared/errors.js';
import { ROLE_NAMES } from '../../shared/terms.js';
import type { Store } from '../store/store.js';

export { ROLES, type Role };

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** `sysadmin (系统管理员)`: how messages name a role. */
export function roleInWords(role: Role): string {
  return `${role} (${ROLE_NAMES[role].zh})`;
}

/**
 * A role given on the command line; an unknown one, or a name from before 三员 (admin, officer),
 * is a UserError naming the roles and the mapping.
 */
export function parseRole(value: string, where: string): Role {
  if (isRole(value)) return value;
  const expected = `expected one of ${ROLES.map(roleInWords).join(', ')}`;
  const mapped = LEGACY_ROLES[value];
  if (mapped) {
    throw new UserError(
      `${where}: role ${JSON.stringify(value)} is no longer used (第34条 三员): ${expected}; ` +
        `${value} became ${mapped} (${Object.entries(LEGACY_ROLES)
          .map(([from, to]) => `${from} → ${to}`)
          .join(', ')}, viewer stays viewer)`,
    );
  }
  throw new UserError(`${where}: found ${JSON.stringify(value)}; ${expected}`);
}

/**
 * "No account holds two of the three" (第34条): a name, as a dashboard user or an API key, active
 * or withdrawn, keeps the one role it was first given (one role per account, viewer included, so
 * an administrator cannot add reading rights the table denies them). Roles are never changed in
 * place: a person who takes another duty gets another account, and the old one is disabled or
 * revoked. Returns the role the name already holds when `role` would be a second one.
 */
export async function otherDutyOf(store: Store, name: string, role: Role): Promise<Role | undefined> {
  const held = [
    (await store.getUser(name))?.role,
    ...(await store.listApiKeys()).filter((k) => k.name === name).map((k) => k.role),
  ];
  return held.find((r): r is Role => r !== undefined && r !== role);
}

/** The refusal when `name` already holds another of the three duties. */
export function secondDutyMessage(name: string, held: Role, wanted: Role): string {
  return (
    `${JSON.stringify(name)} already holds ${roleInWords(held)}; an account holds one role (no ` +
    `account holds two of 第34条's three duties), so it cannot also be ${roleInWords(wanted)}: ` +
    'use another name for that role'
  );
}
