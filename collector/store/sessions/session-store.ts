/**
 * Persistence of dashboard logins: sessions (only a hash of the cookie value is kept), the audit
 * log of every action (who, what, when, from where) and failed login attempts, which the login
 * throttle counts. In the store rather than in memory so that a restart logs nobody out, the
 * throttle cannot be reset by restarting, and several collectors sharing a database agree.
 */
import type { Role } from '../../auth/roles.js';
import type { Database } from '../sql/database.js';
import { greatest, list, raw, sql, when } from '../sql/query.js';

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
  /** What the change was made to (`terminal:tm-…`, `person:ps-…`), so a record's history is read back. */
  subject?: string | null;
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

const SESSION_COLUMNS = raw(
  'id_hash, user_name, role, unit, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent',
);
/** The columns read back under the record's field names, so a row is the record. */
const SESSION_FIELDS = raw(`id_hash AS "idHash", user_name AS "user", role, unit, csrf_token AS "csrfToken",
  created_at AS "createdAt", last_seen_at AS "lastSeenAt", expires_at AS "expiresAt", ip,
  user_agent AS "userAgent"`);
const AUDIT_FIELDS = raw('id, at, actor, actor_kind AS "actorKind", role, unit, action, status, ip, detail');

/** One audit entry; `db` may be a transaction, so a change and its audit entry commit together. */
export async function insertAudit(db: Database, e: NewAuditEntry): Promise<void> {
  await db.run(
    sql`INSERT INTO audit_log (at, actor, actor_kind, role, unit, action, status, ip, detail, subject)
        VALUES (${e.at}, ${e.actor}, ${e.actorKind}, ${e.role}, ${e.unit}, ${e.action}, ${e.status},
                ${e.ip}, ${e.detail}, ${e.subject ?? null})`,
  );
}

/**
 * Sessions, audit log and login failures in either database (migration 5). Every method is one
 * statement, so collectors sharing a PostgreSQL database agree without locks of their own: a
 * session made on one is valid on all, and the login throttle counts the failures every
 * collector recorded.
 */
export class SqlSessionStore implements SessionStore {
  constructor(private readonly db: Database) {}

  async createSession(s: SessionRecord): Promise<void> {
    await this.db.run(
      sql`INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (${s.idHash}, ${s.user}, ${s.role}, ${s.unit},
          ${s.csrfToken}, ${s.createdAt}, ${s.lastSeenAt}, ${s.expiresAt}, ${s.ip}, ${s.userAgent})`,
    );
  }

  async getSession(idHash: string): Promise<SessionRecord | undefined> {
    return this.db.get<SessionRecord>(sql`SELECT ${SESSION_FIELDS} FROM sessions WHERE id_hash = ${idHash}`);
  }

  async touchSession(idHash: string, at: string): Promise<void> {
    await this.db.run(
      sql`UPDATE sessions SET last_seen_at = ${greatest}(last_seen_at, ${at}) WHERE id_hash = ${idHash}`,
    );
  }

  async deleteSession(idHash: string): Promise<boolean> {
    const { changes } = await this.db.run(sql`DELETE FROM sessions WHERE id_hash = ${idHash}`);
    return changes === 1;
  }

  async deleteUserSessions(user: string): Promise<number> {
    return (await this.db.run(sql`DELETE FROM sessions WHERE user_name = ${user}`)).changes;
  }

  async deleteStaleSessions(now: string, idleBefore: string): Promise<number> {
    const { changes } = await this.db.run(
      sql`DELETE FROM sessions WHERE expires_at <= ${now} OR last_seen_at < ${idleBefore}`,
    );
    return changes;
  }

  async addAudit(e: NewAuditEntry): Promise<void> {
    await insertAudit(this.db, e);
  }

  async listAudit(filter: AuditFilter): Promise<AuditEntry[]> {
    const { units, actor, beforeId } = filter;
    if (units?.length === 0) return [];
    return this.db.all<AuditEntry>(
      sql`SELECT ${AUDIT_FIELDS} FROM audit_log WHERE 1 = 1
          ${when(units !== undefined, sql`AND unit IN ${list(units ?? [])}`)}
          ${when(actor !== undefined, sql`AND actor = ${actor}`)}
          ${when(beforeId !== undefined, sql`AND id < ${beforeId}`)}
          ORDER BY id DESC LIMIT ${filter.limit}`,
    );
  }

  async recordFailedLogin(a: { name: string; ip: string; at: string }): Promise<number> {
    const row = await this.db.get<{ id: number | string }>(
      sql`INSERT INTO login_failures (name, ip, at) VALUES (${a.name}, ${a.ip}, ${a.at}) RETURNING id`,
    );
    return Number(row!.id);
  }

  async forgetFailedLogin(id: number): Promise<void> {
    await this.db.run(sql`DELETE FROM login_failures WHERE id = ${id}`);
  }

  /** Both counts from one statement, so they come from the same snapshot. */
  async countFailedLogins(q: { name: string; ip: string; since: string }): Promise<{
    pair: FailureCount;
    ip: FailureCount;
  }> {
    const row = (await this.db.get<{
      pair_count: number | string;
      pair_oldest: string | null;
      ip_count: number | string;
      ip_oldest: string | null;
    }>(
      sql`SELECT COUNT(*) FILTER (WHERE name = ${q.name}) AS pair_count,
                 MIN(at) FILTER (WHERE name = ${q.name}) AS pair_oldest,
                 COUNT(*) AS ip_count, MIN(at) AS ip_oldest
          FROM login_failures WHERE ip = ${q.ip} AND at >= ${q.since}`,
    ))!;
    return {
      pair: { count: Number(row.pair_count), oldest: row.pair_oldest },
      ip: { count: Number(row.ip_count), oldest: row.ip_oldest },
    };
  }

  async clearFailedLogins(q: { name: string; ip: string }): Promise<void> {
    await this.db.run(sql`DELETE FROM login_failures WHERE name = ${q.name} AND ip = ${q.ip}`);
  }
}
