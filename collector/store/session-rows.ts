import type { Role } from '../auth/roles.js';
import type { AuditEntry, NewAuditEntry, SessionRecord } from './session-store.js';

/** Session and audit rows as both SQL stores read them, and their mapping to records. */
export interface SessionRow {
  id_hash: string;
  user_name: string;
  role: Role;
  unit: string | null;
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  ip: string;
  user_agent: string;
}

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  actor_kind: NewAuditEntry['actorKind'];
  role: Role | null;
  unit: string | null;
  action: string;
  status: number | null;
  ip: string;
  detail: string;
}

export function toSession(row: SessionRow): SessionRecord {
  return {
    idHash: row.id_hash,
    user: row.user_name,
    role: row.role,
    unit: row.unit,
    csrfToken: row.csrf_token,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    ip: row.ip,
    userAgent: row.user_agent,
  };
}

/** Values in the column order of `INSERT INTO sessions (id_hash, user_name, …, user_agent)`. */
export function sessionValues(s: SessionRecord): unknown[] {
  return [
    s.idHash,
    s.user,
    s.role,
    s.unit,
    s.csrfToken,
    s.createdAt,
    s.lastSeenAt,
    s.expiresAt,
    s.ip,
    s.userAgent,
  ];
}

/** Values in the column order of `INSERT INTO audit_log (at, actor, …, detail)`. */
export function auditValues(e: NewAuditEntry): unknown[] {
  return [e.at, e.actor, e.actorKind, e.role, e.unit, e.action, e.status, e.ip, e.detail];
}

export function toAudit(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    at: r.at,
    actor: r.actor,
    actorKind: r.actor_kind,
    role: r.role,
    unit: r.unit,
    action: r.action,
    status: r.status,
    ip: r.ip,
    detail: r.detail,
  };
}
