import pg from 'pg';
import { SqlApprovalStore, type AgentApprovalStore } from './approvals/approval-store.js';
import { PostgresDatabase } from './sql/database.js';
import type { ClockStore } from './clocks/clock-store.js';
import { postgresDeadlines } from './clocks/postgres-deadlines.js';
import { SqlClockStore } from './clocks/sql-clock-store.js';
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
import { stripNul } from './postgres-text.js';
import { transaction } from './postgres-transaction.js';
import { SqlHierarchyStore } from './hierarchy/sql-hierarchy-store.js';
import { PostgresLivenessUpdater } from './transport/postgres-liveness.js';
import { PostgresWarningStore } from './warnings/postgres-warning-store.js';
import { SqlSessionStore, type SessionStore } from './sessions/session-store.js';
import { openPostgresDatabase, type PostgresOpenOptions } from './schema/open-database.js';
import { SqlTransportStore, type TransportStore } from './transport/transport-store.js';
import type { HierarchyStore } from './hierarchy/hierarchy-store.js';
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
import type { WarningStore } from './warnings/warning-store.js';

/**
 * PostgreSQL behind the async Store interface, for a province's worth of agents and for several
 * collectors sharing one database. Every multi-step method is one transaction with row locks
 * (`FOR UPDATE`), so two collectors enrolling, storing or moving a watermark at once agree.
 */
export type PostgresStoreOptions = PostgresOpenOptions;

export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  return new PostgresStore((await openPostgresDatabase(url, options)).pool);
}

export class PostgresStore implements Store {
  /** The connection every domain store written once shares. */
  readonly database: PostgresDatabase;
  constructor(private readonly pool: pg.Pool) {
    this.database = new PostgresDatabase(pool);
  }

  // The domain stores share this store's pool, each made on first use.
  private clockStore: SqlClockStore | undefined;
  get clocks(): ClockStore {
    return (this.clockStore ??= new SqlClockStore(this.database, postgresDeadlines));
  }

  private warningStore: PostgresWarningStore | undefined;
  get warnings(): WarningStore {
    return (this.warningStore ??= new PostgresWarningStore(this.database));
  }

  private sessionStore: SqlSessionStore | undefined;
  get sessions(): SessionStore {
    return (this.sessionStore ??= new SqlSessionStore(this.database));
  }

  private transportStore: SqlTransportStore | undefined;
  get transport(): TransportStore {
    return (this.transportStore ??= new SqlTransportStore(
      this.database,
      new PostgresLivenessUpdater(this.database),
    ));
  }

  private approvalStore: SqlApprovalStore | undefined;
  get approvals(): AgentApprovalStore {
    return (this.approvalStore ??= new SqlApprovalStore(this.database));
  }

  private hierarchyStore: SqlHierarchyStore | undefined;
  get hierarchy(): HierarchyStore {
    return (this.hierarchyStore ??= new SqlHierarchyStore(this.database));
  }

  async schemaVersion(): Promise<number> {
    const { rows } = await this.pool.query<{ v: number | null }>(
      'SELECT MAX(version) AS v FROM schema_migrations',
    );
    return rows[0]?.v ?? 0;
  }

  async createEnrollmentToken(token: NewEnrollmentToken): Promise<void> {
    await this.pool.query(
      'INSERT INTO enrollment_tokens (token_hash, unit, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)',
      [token.tokenHash, token.unit, token.kind ?? 'agent', token.createdAt, token.expiresAt],
    );
  }

  async enrollAgent(request: EnrollAgentRequest): Promise<EnrollAgentResult> {
    return transaction(this.pool, async (db): Promise<EnrollAgentResult> => {
      // The row lock makes a token single-use even when two collectors receive it at once.
      const token = (
        await db.query<EnrollmentTokenRow>(
          'SELECT unit, kind, expires_at, used_at FROM enrollment_tokens WHERE token_hash = $1 FOR UPDATE',
          [request.tokenHash],
        )
      ).rows[0];
      const refused = tokenRefusal(token, 'agent', request.now);
      if (refused || !token) return { ok: false, reason: refused ?? 'token-unknown' };

      const existing = (
        await db.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = $1 FOR UPDATE`, [
          request.agentId,
        ])
      ).rows[0];
      if (existing && existing.public_key !== request.publicKey) return { ok: false, reason: 'key-mismatch' };
      // A revoked key stays revoked: no token, however fresh, undoes a revocation.
      if (existing && existing.revoked_at !== null) return { ok: false, reason: 'agent-revoked' };
      if (existing && existing.unit !== token.unit)
        return { ok: false, reason: 'unit-moved', unit: existing.unit };

      let agent: AgentRow;
      if (existing) {
        agent = (
          await db.query<AgentRow>(
            `UPDATE agents SET hostname = $1, version = $2, broker_secret_hash = $3, reenrolled_at = $4
             WHERE id = $5 RETURNING ${AGENT_COLUMNS}`,
            [
              request.hostname ?? existing.hostname,
              request.version ?? existing.version,
              request.brokerSecretHash,
              request.now,
              request.agentId,
            ],
          )
        ).rows[0]!;
      } else {
        agent = (
          await db.query<AgentRow>(
            `INSERT INTO agents (id, unit, alg, public_key, hostname, version, enrolled_at, broker_secret_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${AGENT_COLUMNS}`,
            [
              request.agentId,
              token.unit,
              request.alg,
              request.publicKey,
              request.hostname ?? null,
              request.version ?? null,
              request.now,
              request.brokerSecretHash,
            ],
          )
        ).rows[0]!;
      }
      await db.query('UPDATE enrollment_tokens SET used_at = $1, used_by = $2 WHERE token_hash = $3', [
        request.now,
        request.agentId,
        request.tokenHash,
      ]);
      return { ok: true, agent: toAgent(agent), reenrolled: existing !== undefined };
    });
  }

  async moveAgent(agentId: string, unit: string): Promise<{ from: string } | undefined> {
    // The old unit is read in the same statement that changes it.
    const { rows } = await this.pool.query<{ from: string }>(
      `UPDATE agents SET unit = $2 FROM (SELECT id, unit FROM agents WHERE id = $1 FOR UPDATE) old
       WHERE agents.id = old.id RETURNING old.unit AS "from"`,
      [agentId, unit],
    );
    return rows[0];
  }

  async getAgent(agentId: string): Promise<AgentRecord | undefined> {
    const { rows } = await this.pool.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = $1`, [
      agentId,
    ]);
    return rows[0] ? toAgent(rows[0]) : undefined;
  }

  async listAgents(filter: { units?: readonly string[] }): Promise<AgentRecord[]> {
    const params: unknown[] = [];
    const where = unitClause(filter.units, 'unit', params);
    const { rows } = await this.pool.query<AgentRow>(
      // COLLATE "C": order by code point, as SQLite does, whatever the database's locale.
      `SELECT ${AGENT_COLUMNS} FROM agents WHERE TRUE${where}
       ORDER BY unit COLLATE "C", hostname COLLATE "C" NULLS FIRST, id COLLATE "C"`,
      params,
    );
    return rows.map(toAgent);
  }

  async listAgentUnits(): Promise<string[]> {
    const { rows } = await this.pool.query<{ unit: string }>('SELECT DISTINCT unit FROM agents');
    return rows.map((r) => r.unit);
  }

  async countAgents(): Promise<{ enrolled: number; online: number }> {
    const { rows } = await this.pool.query<{ enrolled: number; online: number }>(
      `SELECT COUNT(*)::int AS enrolled, COUNT(*) FILTER (WHERE online)::int AS online
       FROM agents WHERE revoked_at IS NULL`,
    );
    return rows[0]!;
  }

  async recordHeartbeat(agentId: string, at: string, reportedSeq: number): Promise<void> {
    await this.recordHeartbeats([{ agentId, at, reportedSeq }]);
  }

  async recordHeartbeats(heartbeats: readonly RecordedHeartbeat[]): Promise<void> {
    if (heartbeats.length === 0) return;
    const ids = heartbeats.map((h) => h.agentId);
    await transaction(this.pool, async (db) => {
      // The rows are locked first, in id order, before any is updated: collectors sharing the
      // database then take them in one order and two batches cannot deadlock (in one UPDATE …
      // FROM they did). NO KEY UPDATE is the lock an UPDATE takes anyway; unlike FOR UPDATE it
      // lets event inserts (whose foreign key takes KEY SHARE on the agent) pass.
      await db.query('SELECT 1 FROM agents WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE', [ids]);
      // One row per agent: an UPDATE … FROM changes a row once.
      await db.query(
        `UPDATE agents SET last_seen = GREATEST(COALESCE(agents.last_seen, ''), h.at), online = TRUE,
           reported_seq = GREATEST(agents.reported_seq, h.reported_seq)
         FROM (
           SELECT agent_id, MAX(at COLLATE "C") AS at, MAX(reported_seq) AS reported_seq
           FROM UNNEST($1::text[], $2::text[], $3::bigint[]) AS t (agent_id, at, reported_seq)
           GROUP BY agent_id
         ) AS h
         WHERE agents.id = h.agent_id`,
        [ids, heartbeats.map((h) => h.at), heartbeats.map((h) => h.reportedSeq)],
      );
    });
  }

  async setAgentOnline(agentId: string, online: boolean, at: string): Promise<void> {
    await this.pool.query(
      `UPDATE agents SET online = $1, last_seen = GREATEST(COALESCE(last_seen, ''), $2) WHERE id = $3`,
      [online, at, agentId],
    );
  }

  async markAllAgentsOffline(): Promise<void> {
    await this.pool.query('UPDATE agents SET online = FALSE WHERE online');
  }

  async revokeAgent(agentId: string, at: string): Promise<boolean> {
    const result = await this.pool.query(
      'UPDATE agents SET revoked_at = $1, online = FALSE WHERE id = $2 AND revoked_at IS NULL',
      [at, agentId],
    );
    return result.rowCount === 1;
  }

  async insertEvent(event: NewEvent): Promise<InsertEventResult> {
    const [result] = await this.insertEvents([event]);
    return result!;
  }

  /**
   * One statement for the whole batch: rows that are new come back with their ids; for the rest,
   * one more query fetches what is stored under their (agent, seq).
   */
  async insertEvents(events: readonly NewEvent[]): Promise<InsertEventResult[]> {
    if (events.length === 0) return [];
    const columns = 11;
    const params: unknown[] = [];
    // Rows go in (agent, seq) order: two collectors inserting overlapping batches then take the
    // unique-index locks in the same order and cannot deadlock each other.
    const ordered = [...events].sort((a, b) =>
      a.agentId === b.agentId ? a.seq - b.seq : a.agentId < b.agentId ? -1 : 1,
    );
    const tuples = ordered.map((event, i) => {
      params.push(
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
        event.skewed,
      );
      const base = i * columns;
      return `(${Array.from({ length: columns }, (_, c) => `$${base + c + 1}`).join(', ')})`;
    });
    const inserted = await this.pool.query<{ id: number; agent_id: string; seq: number }>(
      `INSERT INTO events (agent_id, seq, ts, received_at, type, state, key, severity, data, envelope, skewed)
       VALUES ${tuples.join(', ')}
       ON CONFLICT (agent_id, seq) DO NOTHING
       RETURNING id, agent_id, seq`,
      params,
    );
    const ids = new Map(inserted.rows.map((r) => [`${r.agent_id}\u0000${r.seq}`, r.id]));
    const results: (InsertEventResult | undefined)[] = [];
    const missing: { agentId: string; seq: number }[] = [];
    for (const event of events) {
      const key = `${event.agentId}\u0000${event.seq}`;
      const id = ids.get(key);
      // A batch naming one (agent, seq) twice inserts it once; the second sees it as stored.
      if (id !== undefined) {
        ids.delete(key);
        results.push({ outcome: 'inserted', id });
      } else {
        results.push(undefined);
        missing.push({ agentId: event.agentId, seq: event.seq });
      }
    }
    if (missing.length > 0) {
      const { rows } = await this.pool.query<{ agent_id: string; seq: number; envelope: string }>(
        `SELECT e.agent_id, e.seq, e.envelope FROM events e
         JOIN UNNEST($1::text[], $2::bigint[]) AS m (agent_id, seq) ON e.agent_id = m.agent_id AND e.seq = m.seq`,
        [missing.map((m) => m.agentId), missing.map((m) => m.seq)],
      );
      const stored = new Map(rows.map((r) => [`${r.agent_id}\u0000${r.seq}`, r.envelope]));
      events.forEach((event, i) => {
        if (results[i] !== undefined) return;
        const envelope = stored.get(`${event.agentId}\u0000${event.seq}`);
        if (envelope === undefined)
          throw new Error(`event ${event.agentId} ${event.seq} neither inserted nor stored`);
        results[i] = { outcome: 'exists', envelope };
      });
    }
    return results as InsertEventResult[];
  }

  /**
   * One statement, one round trip: rows after the watermark whose seq minus their rank equals the
   * watermark form the contiguous run. GREATEST and the guard keep it monotonic when another
   * collector moved it meanwhile (the row lock orders the two updates).
   */
  async advanceAckedSeq(agentId: string): Promise<number> {
    const { rows } = await this.pool.query<{ acked: number | null }>(
      `WITH cur AS (SELECT acked_seq FROM agents WHERE id = $1),
       run AS (
         SELECT MAX(s.seq) AS top FROM (
           SELECT seq, seq - ROW_NUMBER() OVER (ORDER BY seq) AS base
           FROM events WHERE agent_id = $1 AND seq > (SELECT acked_seq FROM cur)
         ) s WHERE s.base = (SELECT acked_seq FROM cur)
       ),
       moved AS (
         UPDATE agents SET acked_seq = GREATEST(acked_seq, (SELECT top FROM run))
         WHERE id = $1 AND acked_seq < (SELECT top FROM run)
         RETURNING acked_seq
       )
       SELECT COALESCE((SELECT acked_seq FROM moved), (SELECT top FROM run), (SELECT acked_seq FROM cur)) AS acked`,
      [agentId],
    );
    return rows[0]?.acked ?? 0;
  }

  async listEvents(filter: EventFilter): Promise<StoredEvent[]> {
    const params: unknown[] = [];
    let where = '';
    if (filter.agentId !== undefined) {
      params.push(filter.agentId);
      where += ` AND e.agent_id = $${params.length}`;
    }
    if (filter.type !== undefined) {
      params.push(filter.type);
      where += ` AND e.type = $${params.length}`;
    }
    if (filter.since !== undefined) {
      params.push(filter.since);
      where += ` AND e.ts >= $${params.length}`;
    }
    if (filter.after !== undefined) {
      params.push(filter.after.ts, filter.after.id);
      where += ` AND (e.ts, e.id) < ($${params.length - 1}, $${params.length})`;
    }
    where += unitClause(filter.units, 'a.unit', params);
    params.push(filter.limit);
    const { rows } = await this.pool.query<EventRow>(
      `SELECT e.*, a.unit FROM events e JOIN agents a ON a.id = e.agent_id
       WHERE TRUE${where} ORDER BY e.ts DESC, e.id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toEvent);
  }

  async addQuarantine(entry: NewQuarantineEntry): Promise<void> {
    await this.pool.query(
      `INSERT INTO quarantine (received_at, topic, reason, detail, claimed_agent_id, payload, payload_bytes)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        entry.receivedAt,
        // PostgreSQL text cannot hold NUL; a hostile topic or detail must still be kept.
        stripNul(entry.topic),
        entry.reason,
        stripNul(entry.detail),
        entry.claimedAgentId === null ? null : stripNul(entry.claimedAgentId),
        entry.payload,
        entry.payloadBytes,
      ],
    );
  }

  async listQuarantine(filter: { limit: number }): Promise<QuarantineEntry[]> {
    const { rows } = await this.pool.query<{
      id: number;
      received_at: string;
      topic: string;
      reason: string;
      detail: string;
      claimed_agent_id: string | null;
      payload: Buffer;
      payload_bytes: number;
    }>(
      `SELECT id, received_at, topic, reason, detail, claimed_agent_id, payload, payload_bytes
       FROM quarantine ORDER BY id DESC LIMIT $1`,
      [filter.limit],
    );
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
    await this.pool.query(
      'INSERT INTO api_keys (key_hash, name, role, unit, created_at) VALUES ($1, $2, $3, $4, $5)',
      [key.keyHash, key.name, key.role, key.unit, key.createdAt],
    );
  }

  async findApiKey(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.pool.query<ApiKeyRow>(
      `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1`,
      [keyHash],
    );
    return rows[0] ? toApiKey(rows[0]) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const { rows } = await this.pool.query<ApiKeyRow>(
      `SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, name`,
    );
    return rows.map(toApiKey);
  }

  async revokeApiKeys(name: string, at: string): Promise<number> {
    const result = await this.pool.query(
      'UPDATE api_keys SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL',
      [at, name],
    );
    return result.rowCount ?? 0;
  }

  async addUser(user: Omit<UserRecord, 'disabledAt'>): Promise<boolean> {
    const result = await this.pool.query(
      `INSERT INTO users (name, password_hash, role, unit, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO NOTHING`,
      [user.name, user.passwordHash, user.role, user.unit, user.createdAt],
    );
    return result.rowCount === 1;
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    const { rows } = await this.pool.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE name = $1`, [
      name,
    ]);
    return rows[0] ? toUser(rows[0]) : undefined;
  }

  async listUsers(): Promise<UserRecord[]> {
    const { rows } = await this.pool.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY name`);
    return rows.map(toUser);
  }

  async setUserDisabled(name: string, at: string | null): Promise<boolean> {
    return (
      (await this.pool.query('UPDATE users SET disabled_at = $1 WHERE name = $2', [at, name])).rowCount === 1
    );
  }

  async setUserPassword(name: string, passwordHash: string): Promise<boolean> {
    const result = await this.pool.query('UPDATE users SET password_hash = $1 WHERE name = $2', [
      passwordHash,
      name,
    ]);
    return result.rowCount === 1;
  }

  private closing: Promise<void> | undefined;

  async close(): Promise<void> {
    // Claimed notifications not sent go back first, so a restart does not wait out their lease.
    this.closing ??= (this.warningStore?.releaseClaims() ?? Promise.resolve())
      .catch(() => {})
      .then(() => this.pool.end());
    await this.closing;
  }
}

function unitClause(units: readonly string[] | undefined, column: string, params: unknown[]): string {
  if (units === undefined) return '';
  if (units.length === 0) return ' AND FALSE';
  params.push([...units]);
  return ` AND ${column} = ANY($${params.length}::text[])`;
}
