import { ROLES } from '../../shared/api/access.js';

export { ROLES };
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
