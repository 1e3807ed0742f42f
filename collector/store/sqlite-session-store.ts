import type Database from 'better-sqlite3';
import {
  auditValues,
  sessionValues,
  toAudit,
  toSession,
  type AuditRow,
  type SessionRow,
} from './session-rows.js';
import type {
  AuditEntry,
  AuditFilter,
  FailureCount,
  NewAuditEntry,
  SessionRecord,
  SessionStore,
} from './session-store.js';

/** Sessions, audit log and login failures on the SQLite store's handle (migration 5). */
export class SqliteSessionStore implements SessionStore {
  constructor(private readonly db: Database.Database) {}

  async createSession(s: SessionRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO sessions (id_hash, user_name, role, unit, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(...sessionValues(s));
  }

  async getSession(idHash: string): Promise<SessionRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM sessions WHERE id_hash = ?').get(idHash) as
      SessionRow | undefined;
    return row ? toSession(row) : undefined;
  }

  async touchSession(idHash: string, at: string): Promise<void> {
    this.db
      .prepare('UPDATE sessions SET last_seen_at = MAX(last_seen_at, ?) WHERE id_hash = ?')
      .run(at, idHash);
  }

  async deleteSession(idHash: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(idHash).changes === 1;
  }

  async deleteUserSessions(user: string): Promise<number> {
    return this.db.prepare('DELETE FROM sessions WHERE user_name = ?').run(user).changes;
  }

  async deleteStaleSessions(now: string, idleBefore: string): Promise<number> {
    return this.db
      .prepare('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?')
      .run(now, idleBefore).changes;
  }

  async addAudit(e: NewAuditEntry): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO audit_log (at, actor, actor_kind, role, unit, action, status, ip, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(...auditValues(e));
  }

  async listAudit(filter: AuditFilter): Promise<AuditEntry[]> {
    const params: unknown[] = [];
    let where = '';
    if (filter.units !== undefined) {
      if (filter.units.length === 0) where += ' AND 0';
      else {
        where += ` AND unit IN (${filter.units.map(() => '?').join(', ')})`;
        params.push(...filter.units);
      }
    }
    if (filter.actor !== undefined) {
      where += ' AND actor = ?';
      params.push(filter.actor);
    }
    if (filter.beforeId !== undefined) {
      where += ' AND id < ?';
      params.push(filter.beforeId);
    }
    params.push(filter.limit);
    const rows = this.db
      .prepare(`SELECT * FROM audit_log WHERE 1${where} ORDER BY id DESC LIMIT ?`)
      .all(...params) as AuditRow[];
    return rows.map(toAudit);
  }

  async recordFailedLogin(a: { name: string; ip: string; at: string }): Promise<number> {
    const result = this.db
      .prepare('INSERT INTO login_failures (name, ip, at) VALUES (?, ?, ?)')
      .run(a.name, a.ip, a.at);
    return Number(result.lastInsertRowid);
  }

  async forgetFailedLogin(id: number): Promise<void> {
    this.db.prepare('DELETE FROM login_failures WHERE id = ?').run(id);
  }

  async countFailedLogins(q: { name: string; ip: string; since: string }): Promise<{
    pair: FailureCount;
    ip: FailureCount;
  }> {
    const pair = this.db
      .prepare(
        'SELECT COUNT(*) AS count, MIN(at) AS oldest FROM login_failures WHERE name = ? AND ip = ? AND at >= ?',
      )
      .get(q.name, q.ip, q.since) as FailureCount;
    const ip = this.db
      .prepare('SELECT COUNT(*) AS count, MIN(at) AS oldest FROM login_failures WHERE ip = ? AND at >= ?')
      .get(q.ip, q.since) as FailureCount;
    return { pair, ip };
  }

  async clearFailedLogins(q: { name: string; ip: string }): Promise<void> {
    this.db.prepare('DELETE FROM login_failures WHERE name = ? AND ip = ?').run(q.name, q.ip);
  }
}
