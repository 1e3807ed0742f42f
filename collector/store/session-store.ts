/**
 * Persistence of dashboard logins: sessions (only a hash of the cookie value is kept), the audit
 * log of every action (who, what, when, from where) and failed login attempts, which the login
 * throttle counts. In the store rather than in memory so that a restart logs nobody out, the
 * throttle cannot be reset by restarting, and several collectors sharing a database agree.
 */
import type { Role } from '../auth/roles.js';

export interface SessionRecord {
  /** SHA-256 of the cookie value, hex. */
  idHash: string;
  user: string;
  role: Role;
  unit: string | null;
  /** The CSRF token state-changing requests must echo in a header. */
  csrfToken: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip: string;
  userAgent: string;
}

export interface NewAuditEntry {
  at: string;
  /** User or API key name; for a refused login, the name that was tried. */
  actor: string;
  /** collector: a child collector (its refused reports); cli: a command run on the collector's host. */
  actorKind: 'user' | 'api-key' | 'anonymous' | 'collector' | 'cli';
  role: Role | null;
  unit: string | null;
  /** e.g. `login`, `login.refused`, `logout`, `POST /api/v1/warnings/w-1/transitions`. */
  action: string;
  /** HTTP status of the request, when the action was one. */
  status: number | null;
  ip: string;
  detail: string;
}

export interface AuditEntry extends NewAuditEntry {
  id: number;
}

export interface AuditFilter {
  /** Only entries with an actor of these units (unit-less actors are collector-wide and hidden); undefined = all. */
  units?: readonly string[];
  actor?: string;
  /** Entries with id below this, for paging back. */
  beforeId?: number;
  limit: number;
}

export interface SessionStore {
  createSession(session: SessionRecord): Promise<void>;
  getSession(idHash: string): Promise<SessionRecord | undefined>;
  /** Moves lastSeenAt (idle timeout) forward. */
  touchSession(idHash: string, at: string): Promise<void>;
  deleteSession(idHash: string): Promise<boolean>;
  /** Ends every session of a user (disabled, or a new password); returns how many. */
  deleteUserSessions(user: string): Promise<number>;
  /** Removes sessions past expiresAt or idle since before `idleBefore`; returns how many. */
  deleteStaleSessions(now: string, idleBefore: string): Promise<number>;

  addAudit(entry: NewAuditEntry): Promise<void>;
  /** Newest first. */
  listAudit(filter: AuditFilter): Promise<AuditEntry[]>;

  /**
   * Records a login attempt as failed and returns its id. The login records it before the password
   * is checked, so concurrent guesses count each other (issue 14), and forgets it if throttled.
   */
  recordFailedLogin(attempt: { name: string; ip: string; at: string }): Promise<number>;
  /** Removes one recorded attempt (a throttled one, which never reached the password check). */
  forgetFailedLogin(id: number): Promise<void>;
  /**
   * Failed logins at or after `since`: of this name from this address, and from this address for
   * any name, each with the oldest such attempt (to say when the throttle lifts).
   */
  countFailedLogins(query: { name: string; ip: string; since: string }): Promise<{
    pair: FailureCount;
    ip: FailureCount;
  }>;
  /** A successful login forgets that name's failures from that address. */
  clearFailedLogins(query: { name: string; ip: string }): Promise<void>;
}

export interface FailureCount {
  count: number;
  oldest: string | null;
}
