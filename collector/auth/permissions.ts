import type { Role } from '../../shared/api/access.js';

/**
 * Who may do what: the one table of the collector's permissions (SPEC §8, 第34条 三员).
 *
 * Every HTTP route declares the one permission it needs in its options, and the API refuses to
 * start with a route that declares none (collector/api/permission-check.ts):
 *
 *     app.get('/api/v1/things', { config: { permission: 'monitoring.read' }, schema: {…} }, handler)
 *
 * The check runs before the route's body is parsed: a caller without the permission gets 403
 * `{error, errorZh, reason: 'permission'}` and the handler never runs. `public` routes need no
 * login at all (health, metrics, enrollment, the dashboard's files, the login itself, the routes
 * child collectors call with their own token or signature).
 *
 * Moving a route that still checks a role by hand (`principal.role !== 'admin'`, `mayWrite`,
 * `requireWriter`, `HANDLING_ROLES`, written before this table) is mechanical: delete the check,
 * add `config: { permission: '…' }` with the row below that names what the route does (add a row
 * if none fits, with the roles that hold it), and run test/integration/roles-routes.test.ts, which
 * calls every route as every role and regenerates docs/roles.md (`SMEW_UPDATE_ROLES_DOC=1`).
 */
export const PERMISSIONS = {
  public: { roles: 'anyone', what: 'no login: health, metrics, enrollment, the dashboard, logging in' },
  session: {
    roles: ['sysadmin', 'secadmin', 'auditor', 'viewer'],
    what: 'who am I, log out',
  },
  'access.manage': {
    roles: ['sysadmin'],
    what: 'dashboard users and API keys: list, disable, enable, set a password, revoke',
  },
  'agents.read': { roles: ['sysadmin', 'secadmin', 'viewer'], what: 'the enrolled agents and those pending' },
  'agents.manage': {
    roles: ['sysadmin'],
    what: 'revoke an agent, move it to another unit',
  },
  // Admitting a host to the monitored fleet (准入审批) is an approval, a security decision.
  'agents.approve': {
    roles: ['secadmin'],
    what: 'approve or reject an agent waiting for admission (enroll.approval: manual)',
  },
  'monitoring.read': {
    roles: ['secadmin', 'viewer'],
    what: 'events, warnings, silences, notices, the live stream',
  },
  'warnings.handle': {
    roles: ['secadmin'],
    what: 'a warning’s transitions and the incident opened from it',
  },
  'silences.manage': { roles: ['secadmin'], what: 'create, approve and end silences' },
  'notices.manage': { roles: ['secadmin'], what: 'issue 预警通报 and answer them' },
  'register.read': { roles: ['secadmin', 'viewer'], what: 'systems, their assessments, incidents' },
  'register.manage': {
    roles: ['secadmin'],
    what: 'register and change systems, record assessments, incidents and their reports',
  },
  'inspection.read': {
    roles: ['secadmin', 'viewer'],
    what: '保密自查自评 (第58条) and 整改 items (第59条), with their evidence files',
  },
  'inspection.manage': {
    roles: ['secadmin'],
    what: 'open the year’s self-inspection, answer and finalise it, open and close 整改 items',
  },
  'documents.read': {
    roles: ['secadmin', 'viewer'],
    what: 'official documents (公文) and their .docx and PDF, lists exported to Excel',
  },
  'documents.sign': {
    roles: ['secadmin'],
    what: 'draft documents and sign them off (签发), mark them sent',
  },
  'hierarchy.status': {
    roles: ['sysadmin', 'secadmin', 'viewer'],
    what: 'the link to the parent collector and the child collectors',
  },
  'hierarchy.read': {
    roles: ['secadmin', 'viewer'],
    what: 'reports, incidents, annual figures, policy and notices of the hierarchy',
  },
  'hierarchy.manage': {
    roles: ['secadmin'],
    what: 'the annual figures sent up, results of notices from above, hops of incidents from below',
  },
  'audit.read': {
    roles: ['auditor'],
    what: 'the whole audit log, both administrators’ entries included; its export and chain status',
  },
} as const satisfies Record<string, { roles: 'anyone' | readonly Role[]; what: string }>;

export type Permission = keyof typeof PERMISSIONS;

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && Object.hasOwn(PERMISSIONS, value);
}

/** Whether `role` holds `permission` (every role, and no login, holds `public`). */
export function allows(role: string | null | undefined, permission: Permission): boolean {
  const { roles } = PERMISSIONS[permission];
  return roles === 'anyone' || (typeof role === 'string' && (roles as readonly string[]).includes(role));
}

/** The permissions a role holds, for the dashboard (what it shows) and `GET /api/v1/session`. */
export function permissionsOf(role: Role): Permission[] {
  return (Object.keys(PERMISSIONS) as Permission[]).filter((p) => p !== 'public' && allows(role, p));
}

/** The roles that hold `permission`, for refusals that say who may. */
export function rolesHolding(permission: Permission): string {
  const { roles } = PERMISSIONS[permission];
  return roles === 'anyone' ? 'anyone' : roles.join(', ');
}
