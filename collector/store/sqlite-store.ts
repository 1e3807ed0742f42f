import Database from 'better-sqlite3';
import { SqlClockStore } from './clocks/sql-clock-store.js';
import { sqliteDeadlines } from './clocks/sqlite-deadlines.js';
import { SqlHierarchyStore } from './hierarchy/sql-hierarchy-store.js';
import {
  AGENT_COLUMNS,
  API_KEY_COLUMNS,
  toAgent,
  toApiKey,
  toEvent,
  toUser,
  USER_COLUMNS,
  type AgentRow,
  type ApiKeyRow,
  type EventRow,
  type UserRow,
} from './sql-rows.js';
import { openSqliteDatabase, type SqliteOpenOptions } from './schema/open-database.js';
import { SqlSessionStore } from './sessions/session-store.js';
import { SqliteLivenessUpdater } from './transport/sqlite-liveness.js';
import { SqlTransportStore } from './transport/transport-store.js';
import { SqlApprovalStore } from './approvals/approval-store.js';
import { SqliteDatabase } from './sql/database.js';
import { SqlWarningStore } from './warnings/sql-warning-store.js';
import type {
  AgentRecord,
  ApiKeyRecord,
  EnrollAgentRequest,
  EnrollAgentResult,
  EnrollmentTokenRow,
  EventFilter,
  InsertEventResult,
  NewEnrollmentToken,
  NewEvent,
  NewQuarantineEntry,
  QuarantineEntry,
  RecordedHeartbeat,
  Store,
  StoredEvent,
  UserRecord,
} from './store.js';
import { tokenRefusal } from './store.js';

/**
 * SQLite behind the async Store interface. better-sqlite3 is synchronous, so each method is one
 * atomic step; WAL and a busy timeout let `smew token create` and friends write while a
 * collector process has the same file open.
 */
export type SqliteStoreOptions = SqliteOpenOptions;

/** How many stored seqs beyond the watermark one step of advanceAckedSeq reads. */
const WATERMARK_PAGE = 512;

export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(openSqliteDatabase(path, options).handle);
}

function unitClause(units: readonly string[] | undefined, column: string, params: unknown[]): string {
  if (units === undefined) return '';
  if (units.length === 0) return ' AND 0';
  params.push(...units);
  return ` AND ${column} IN (${units.map(() => '?').join(', ')})`;
}

export class SqliteStore implements Store {
  readonly clocks: SqlClockStore;
  readonly warnings: SqlWarningStore;
  readonly sessions: SqlSessionStore;
  readonly transport: SqlTransportStore;
  readonly hierarchy: SqlHierarchyStore;
  readonly approvals: SqlApprovalStore;
  /** The connection every domain store written once shares (one lock for its transactions). */
  readonly database: SqliteDatabase;
  constructor(private readonly db: Database.Database) {
    this.database = new SqliteDatabase(db);
    this.approvals = new SqlApprovalStore(this.database);
    this.hierarchy = new SqlHierarchyStore(this.database);
    this.transport = new SqlTransportStore(this.database, new SqliteLivenessUpdater(this.database));
    this.sessions = new SqlSessionStore(this.database);
    this.clocks = new SqlClockStore(this.database, sqliteDeadlines);
    this.warnings = new SqlWarningStore(this.database);
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** The statements ingest runs per message are prepared once: preparing costs more than running. */
  private prepared(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  async schemaVersion(): Promise<number> {
    const row = this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as {
      v: number | null;
    };
    return row.v ?? 0;
  }

  async createEnrollmentToken(token: NewEnrollmentToken): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO enrollment_tokens (token_hash, unit, kind, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(token.tokenHash, token.unit, token.kind ?? 'agent', token.createdAt, token.expiresAt);
  }

  async enrollAgent(request: EnrollAgentRequest): Promise<EnrollAgentResult> {
    const enroll = this.db.transaction((): EnrollAgentResult => {
      const token = this.db
        .prepare('SELECT unit, kind, expires_at, used_at FROM enrollment_tokens WHERE token_hash = ?')
        .get(request.tokenHash) as EnrollmentTokenRow | undefined;
      const refused = tokenRefusal(token, 'agent', request.now);
      if (refused || !token) return { ok: false, reason: refused ?? 'token-unknown' };

      const existing = this.db
        .prepare(`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = ?`)
        .get(request.agentId) as AgentRow | undefined;
      if (existing && existing.public_key !== request.publicKey) return { ok: false, reason: 'key-mismatch' };
      // A revoked key stays revoked: no token, however fresh, undoes a revocation.
      if (existing && existing.revoked_at !== null) return { ok: false, reason: 'agent-revoked' };
      if (existing && existing.unit !== token.unit)
        return { ok: false, reason: 'unit-moved', unit: existing.unit };

      if (existing) {
        this.db
          .prepare(
            `UPDATE agents SET hostname = ?, version = ?, broker_secret_hash = ?, reenrolled_at = ?
             WHERE id = ?`,
          )
          .run(
            request.hostname ?? existing.hostname,
            request.version ?? existing.version,
            request.brokerSecretHash,
            request.now,
            request.agentId,
          );
      } else {
        this.db
          .prepare(
            `INSERT INTO agents (id, unit, alg, public_key, hostname, version, enrolled_at, broker_secret_hash)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            request.agentId,
            token.unit,
            request.alg,
            request.publicKey,
            request.hostname ?? null,
            request.version ?? null,
            request.now,
            request.brokerSecretHash,
          );
      }
      this.db
        .prepare('UPDATE enrollment_tokens SET used_at = ?, used_by = ? WHERE token_hash = ?')
        .run(request.now, request.agentId, request.tokenHash);
      const agent = this.db
        .prepare(`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = ?`)
        .get(request.agentId) as AgentRow;
      return { ok: true, agent: toAgent(agent), reenrolled: existing !== undefined };
    });
    return enroll.immediate();
  }

  async moveAgent(agentId: string, unit: string): Promise<{ from: string } | undefined> {
    const row = this.db.prepare('SELECT unit FROM agents WHERE id = ?').get(agentId) as
      { unit: string } | undefined;
    if (!row) return undefined;
    this.db.prepare('UPDATE agents SET unit = ? WHERE id = ?').run(unit, agentId);
    return { from: row.unit };
  }

  async getAgent(agentId: string): Promise<AgentRecord | undefined> {
    const row = this.prepared(`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = ?`).get(agentId) as
      AgentRow | undefined;
    return row ? toAgent(row) : undefined;
  }

  async listAgents(filter: { units?: readonly string[] }): Promise<AgentRecord[]> {
    const params: unknown[] = [];
    const where = unitClause(filter.units, 'unit', params);
    const rows = this.db
      .prepare(`SELECT ${AGENT_COLUMNS} FROM agents WHERE 1${where} ORDER BY unit, hostname, id`)
      .all(...params) as AgentRow[];
    return rows.map(toAgent);
  }

  async listAgentUnits(): Promise<string[]> {
    const rows = this.db.prepare('SELECT DISTINCT unit FROM agents').all() as { unit: string }[];
    return rows.map((r) => r.unit);
  }

  async countAgents(): Promise<{ enrolled: number; online: number }> {
    const row = this.db
      .prepare(
        `SELECT COUNT(*) AS enrolled, COALESCE(SUM(online), 0) AS online FROM agents WHERE revoked_at IS NULL`,
      )
      .get() as { enrolled: number; online: number };
    return row;
  }

  async recordHeartbeat(agentId: string, at: string, reportedSeq: number): Promise<void> {
    await this.recordHeartbeats([{ agentId, at, reportedSeq }]);
  }

  async recordHeartbeats(heartbeats: readonly RecordedHeartbeat[]): Promise<void> {
    const update = this.prepared(
      `UPDATE agents SET last_seen = MAX(COALESCE(last_seen, ''), ?), online = 1,
           reported_seq = MAX(reported_seq, ?) WHERE id = ?`,
    );
    this.db.transaction(() => {
      for (const h of heartbeats) update.run(h.at, h.reportedSeq, h.agentId);
    })();
  }

  async setAgentOnline(agentId: string, online: boolean, at: string): Promise<void> {
    this.db
      .prepare(`UPDATE agents SET online = ?, last_seen = MAX(COALESCE(last_seen, ''), ?) WHERE id = ?`)
      .run(online ? 1 : 0, at, agentId);
  }

  async markAllAgentsOffline(): Promise<void> {
    this.db.prepare('UPDATE agents SET online = 0 WHERE online = 1').run();
  }

  async revokeAgent(agentId: string, at: string): Promise<boolean> {
    const result = this.db
      .prepare('UPDATE agents SET revoked_at = ?, online = 0 WHERE id = ? AND revoked_at IS NULL')
      .run(at, agentId);
    return result.changes === 1;
  }

  async insertEvent(event: NewEvent): Promise<InsertEventResult> {
    return this.insertOne(event);
  }

  async insertEvents(events: readonly NewEvent[]): Promise<InsertEventResult[]> {
    return this.db.transaction(() => events.map((event) => this.insertOne(event))).immediate();
  }

  private insertOne(event: NewEvent): InsertEventResult {
    const result = this.prepared(
      `INSERT INTO events (agent_id, seq, ts, received_at, type, state, key, severity, data, envelope, skewed)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (agent_id, seq) DO NOTHING`,
    ).run(
      event.agentId,
      event.seq,
      event.ts,
      event.receivedAt,
      event.type,
      event.state,
      event.key,
      event.severity,
      JSON.stringify(event.data),
      event.envelope,
      event.skewed ? 1 : 0,
    );
    if (result.changes === 1) return { outcome: 'inserted', id: Number(result.lastInsertRowid) };
    const stored = this.prepared('SELECT envelope FROM events WHERE agent_id = ? AND seq = ?').get(
      event.agentId,
      event.seq,
    ) as { envelope: string };
    return { outcome: 'exists', envelope: stored.envelope };
  }

  async advanceAckedSeq(agentId: string): Promise<number> {
    const advance = this.db.transaction((): number => {
      const agent = this.db.prepare('SELECT acked_seq FROM agents WHERE id = ?').get(agentId) as
        { acked_seq: number } | undefined;
      if (!agent) return 0;
      let watermark = agent.acked_seq;
      const page = this.db.prepare(
        'SELECT seq FROM events WHERE agent_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      );
      for (;;) {
        const seqs = (page.all(agentId, watermark, WATERMARK_PAGE) as { seq: number }[]).map((r) => r.seq);
        let contiguous = 0;
        while (contiguous < seqs.length && seqs[contiguous] === watermark + 1) {
          watermark += 1;
          contiguous += 1;
        }
        if (contiguous < WATERMARK_PAGE) break;
      }
      if (watermark !== agent.acked_seq) {
        this.db.prepare('UPDATE agents SET acked_seq = ? WHERE id = ?').run(watermark, agentId);
      }
      return watermark;
    });
    return advance.immediate();
  }

  async listEvents(filter: EventFilter): Promise<StoredEvent[]> {
    const params: unknown[] = [];
    let where = '';
    if (filter.agentId !== undefined) {
      where += ' AND e.agent_id = ?';
      params.push(filter.agentId);
    }
    if (filter.type !== undefined) {
      where += ' AND e.type = ?';
      params.push(filter.type);
    }
    if (filter.since !== undefined) {
      where += ' AND e.ts >= ?';
      params.push(filter.since);
    }
    if (filter.after !== undefined) {
      where += ' AND (e.ts, e.id) < (?, ?)';
      params.push(filter.after.ts, filter.after.id);
    }
    where += unitClause(filter.units, 'a.unit', params);
    params.push(filter.limit);
    const rows = this.db
      .prepare(
        // CROSS JOIN keeps events the outer loop, read in list order from an index: with a unit
        // filter SQLite would otherwise start from the unit's agents and sort all their events.
        `SELECT e.*, a.unit FROM events e CROSS JOIN agents a ON a.id = e.agent_id
         WHERE 1${where} ORDER BY e.ts DESC, e.id DESC LIMIT ?`,
      )
      .all(...params) as EventRow[];
    return rows.map(toEvent);
  }

  async addQuarantine(entry: NewQuarantineEntry): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO quarantine (received_at, topic, reason, detail, claimed_agent_id, payload, payload_bytes)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        entry.receivedAt,
        entry.topic,
        entry.reason,
        entry.detail,
        entry.claimedAgentId,
        entry.payload,
        entry.payloadBytes,
      );
  }

  async listQuarantine(filter: { limit: number }): Promise<QuarantineEntry[]> {
    const rows = this.db
      .prepare(
        `SELECT id, received_at, topic, reason, detail, claimed_agent_id, payload, payload_bytes
         FROM quarantine ORDER BY id DESC LIMIT ?`,
      )
      .all(filter.limit) as {
      id: number;
      received_at: string;
      topic: string;
      reason: string;
      detail: string;
      claimed_agent_id: string | null;
      payload: Buffer;
      payload_bytes: number;
    }[];
    return rows.map((r) => ({
      id: r.id,
      receivedAt: r.received_at,
      topic: r.topic,
      reason: r.reason,
      detail: r.detail,
      claimedAgentId: r.claimed_agent_id,
      payload: r.payload,
      payloadBytes: r.payload_bytes,
    }));
  }

  async createApiKey(key: Omit<ApiKeyRecord, 'revokedAt'>): Promise<void> {
    this.db
      .prepare('INSERT INTO api_keys (key_hash, name, role, unit, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(key.keyHash, key.name, key.role, key.unit, key.createdAt);
  }

  async findApiKey(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.db.prepare(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?`).get(keyHash) as
      ApiKeyRow | undefined;
    return row ? toApiKey(row) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const rows = this.db
      .prepare(`SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, name`)
      .all() as ApiKeyRow[];
    return rows.map(toApiKey);
  }

  async revokeApiKeys(name: string, at: string): Promise<number> {
    return this.db
      .prepare('UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL')
      .run(at, name).changes;
  }

  async addUser(user: Omit<UserRecord, 'disabledAt'>): Promise<boolean> {
    const result = this.db
      .prepare(
        `INSERT INTO users (name, password_hash, role, unit, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO NOTHING`,
      )
      .run(user.name, user.passwordHash, user.role, user.unit, user.createdAt);
    return result.changes === 1;
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    const row = this.db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE name = ?`).get(name) as
      UserRow | undefined;
    return row ? toUser(row) : undefined;
  }

  async listUsers(): Promise<UserRecord[]> {
    return (this.db.prepare(`SELECT ${USER_COLUMNS} FROM users ORDER BY name`).all() as UserRow[]).map(
      toUser,
    );
  }

  async setUserDisabled(name: string, at: string | null): Promise<boolean> {
    return this.db.prepare('UPDATE users SET disabled_at = ? WHERE name = ?').run(at, name).changes === 1;
  }

  async setUserPassword(name: string, passwordHash: string): Promise<boolean> {
    return (
      this.db.prepare('UPDATE users SET password_hash = ? WHERE name = ?').run(passwordHash, name).changes ===
      1
    );
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
