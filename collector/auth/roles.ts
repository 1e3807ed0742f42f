/** Roles of SPEC §8: admin runs the collector, officer (保密干部) handles warnings, viewer reads. */
export const ROLES = ['admin', 'officer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
