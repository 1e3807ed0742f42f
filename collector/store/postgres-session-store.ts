import type pg from 'pg';
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

/**
 * Sessions, audit log and login failures on PostgreSQL (migration 5). Every method is one
 * statement, so collectors sharing the database agree without locks of their own: a session made
 * on one is valid on all, `touchSession` never moves the clock back whoever writes last, and the
 * login throttle counts the failures every collector recorded.
 */
export class PostgresSessionStore implements SessionStore {
  constructor(private readonly pool: pg.Pool) {}

  async createSession(s: SessionRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO sessions (id_hash, user_name, role, unit, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      sessionValues(s),
    );
  }

  async getSession(idHash: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.pool.query<SessionRow>('SELECT * FROM sessions WHERE id_hash = $1', [idHash]);
    return rows[0] ? toSession(rows[0]) : undefined;
  }

  async touchSession(idHash: string, at: string): Promise<void> {
    await this.pool.query(
      'UPDATE sessions SET last_seen_at = GREATEST(last_seen_at, $1) WHERE id_hash = $2',
      [at, idHash],
    );
  }

  async deleteSession(idHash: string): Promise<boolean> {
    return (await this.pool.query('DELETE FROM sessions WHERE id_hash = $1', [idHash])).rowCount === 1;
  }

  async deleteUserSessions(user: string): Promise<number> {
    return (await this.pool.query('DELETE FROM sessions WHERE user_name = $1', [user])).rowCount ?? 0;
  }

  async deleteStaleSessions(now: string, idleBefore: string): Promise<number> {
    const result = await this.pool.query('DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2', [
      now,
      idleBefore,
    ]);
    return result.rowCount ?? 0;
  }

  async addAudit(e: NewAuditEntry): Promise<void> {
    await this.pool.query(
      `INSERT INTO audit_log (at, actor, actor_kind, role, unit, action, status, ip, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      auditValues(e),
    );
  }

  async listAudit(filter: AuditFilter): Promise<AuditEntry[]> {
    const params: unknown[] = [];
    let where = '';
    if (filter.units !== undefined) {
      if (filter.units.length === 0) return [];
      params.push([...filter.units]);
      where += ` AND unit = ANY($${params.length}::text[])`;
    }
    if (filter.actor !== undefined) {
      params.push(filter.actor);
      where += ` AND actor = $${params.length}`;
    }
    if (filter.beforeId !== undefined) {
      params.push(filter.beforeId);
      where += ` AND id < $${params.length}`;
    }
    params.push(filter.limit);
    const { rows } = await this.pool.query<AuditRow>(
      `SELECT * FROM audit_log WHERE TRUE${where} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toAudit);
  }

  async recordFailedLogin(a: { name: string; ip: string; at: string }): Promise<number> {
    const { rows } = await this.pool.query<{ id: string }>(
      'INSERT INTO login_failures (name, ip, at) VALUES ($1, $2, $3) RETURNING id',
      [a.name, a.ip, a.at],
    );
    return Number(rows[0]!.id);
  }

  async forgetFailedLogin(id: number): Promise<void> {
    await this.pool.query('DELETE FROM login_failures WHERE id = $1', [id]);
  }

  /** Both counts from one statement, so they come from the same snapshot. */
  async countFailedLogins(q: { name: string; ip: string; since: string }): Promise<{
    pair: FailureCount;
    ip: FailureCount;
  }> {
    const { rows } = await this.pool.query<{
      pair_count: number;
      pair_oldest: string | null;
      ip_count: number;
      ip_oldest: string | null;
    }>(
      `SELECT COUNT(*) FILTER (WHERE name = $1)::int AS pair_count, MIN(at) FILTER (WHERE name = $1) AS pair_oldest,
              COUNT(*)::int AS ip_count, MIN(at) AS ip_oldest
       FROM login_failures WHERE ip = $2 AND at >= $3`,
      [q.name, q.ip, q.since],
    );
    const row = rows[0]!;
    return {
      pair: { count: row.pair_count, oldest: row.pair_oldest },
      ip: { count: row.ip_count, oldest: row.ip_oldest },
    };
  }

  async clearFailedLogins(q: { name: string; ip: string }): Promise<void> {
    await this.pool.query('DELETE FROM login_failures WHERE name = $1 AND ip = $2', [q.name, q.ip]);
  }
}
