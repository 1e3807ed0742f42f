import { isCalendarDate } from '../../shared/calendar.js';
import type { Principal } from '../auth/api-keys.js';
import { allows, rolesHolding, type Permission } from '../auth/permissions.js';
import { seesUnit } from '../api/bearer-auth.js';

/**
 * What every change to the legal clocks checks before it is stored: who may write, which unit a
 * new record belongs to, and that dates are real and times not in the future. A refusal is a
 * `ClockRefusal` with the HTTP status the route answers with.
 */
export class ClockRefusal extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    /** The same in the officers' words, for the dashboard (the route's `errorZh`). */
    readonly messageZh?: string,
  ) {
    super(message);
  }
}

/** A clock a little ahead of ours is not an error; a report "tomorrow" is. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

/** A real calendar date (the schema checks only the shape, so 2025-02-29 gets a clear message). */
export function checkDate(value: string, field: string): string {
  if (!isCalendarDate(value)) {
    throw new ClockRefusal(
      400,
      `${field}: ${JSON.stringify(value)} is not a calendar date; expected YYYY-MM-DD`,
    );
  }
  return value;
}

export function notInFuture(at: Date, now: Date, field: string): void {
  if (at.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
    throw new ClockRefusal(400, `${field}: ${at.toISOString()} is in the future (now ${now.toISOString()})`);
  }
}

/**
 * The caller, when their role holds `permission` (collector/auth/permissions.ts): the security
 * administrators (安全保密管理员) keep the register and the incidents (register.manage), the
 * self-inspection (inspection.manage) and sign documents off (documents.sign). The route checked it
 * already; the domain checks again so no other caller can skip it.
 */
export function requireWriter(
  principal: Principal | null,
  permission: Permission = 'register.manage',
): Principal {
  if (!principal || !allows(principal.role, permission)) {
    throw new ClockRefusal(
      403,
      `role ${principal?.role ?? 'none'} may not change this; ${permission}: ${rolesHolding(permission)}`,
    );
  }
  return principal;
}

/** The unit a new record belongs to: the caller's own, unless a key for every unit names one. */
export function ownerUnit(principal: Principal, requested: string | undefined, fallback: string): string {
  if (principal.unit === null) return requested ?? fallback;
  if (requested !== undefined && requested !== principal.unit) {
    throw new ClockRefusal(403, `unit: this key is limited to unit ${principal.unit}, not ${requested}`);
  }
  return principal.unit;
}

export const inScope = seesUnit;
