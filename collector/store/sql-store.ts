import { SqlApprovalStore } from './approvals/approval-store.js';
import { SqlRectificationStore } from './rectifications/rectification-store.js';
import { SqlSelfInspectionStore } from './self-inspections/self-inspection-store.js';
import { SqlDocumentStore } from './documents/document-store.js';
import { SqlAuditStore } from './audit/audit-store.js';
import type { IngestWrites } from './ingest-writes/ingest-writes.js';
import { SqlRegisterStore } from './register/sql-register-store.js';
import { flag, type Database } from './sql/database.js';
import { bytewise, dialectText, forUpdate, greatest, list, raw, sql, when, type Query } from './sql/query.js';
import {
  tokenRefusal,
  type AgentRecord,
  type ApiKeyRecord,
  type EnrollAgentRequest,
  type EnrollAgentResult,
  type EnrollmentTokenRow,
  type EventFilter,
  type InsertEventResult,
  type NewEnrollmentToken,
  type NewEvent,
  type NewQuarantineEntry,
  type QuarantineEntry,
  type RecordedHeartbeat,
  type Store,
  type StoredEvent,
  type UserRecord,
} from './store.js';

/** The domain stores, each behind its own interface (named in Store). */
type Domains = Pick<Store, 'clocks' | 'warnings' | 'sessions' | 'transport' | 'hierarchy'>;

/** What each database brings to the store: its domain stores and its ingest writes. */
export interface StoreParts extends Domains {
  writes: IngestWrites;
}

// Columns are read under their records' names, so most rows are records as they come.
const AGENT_COLUMNS = raw(`id, unit, alg, public_key AS "publicKey", hostname, version,
  enrolled_at AS "enrolledAt", last_seen AS "lastSeen", online, broker_secret_hash AS "brokerSecretHash",
  revoked_at AS "revokedAt", acked_seq AS "ackedSeq", reported_seq AS "reportedSeq"`);
const EVENT_COLUMNS = raw(`e.id, e.agent_id AS "agentId", a.unit, e.seq, e.ts, e.received_at AS "receivedAt",
  e.type, e.state, e.key, e.severity, e.data, e.envelope, e.skewed`);
const API_KEY_COLUMNS = raw(`key_hash AS "keyHash", name, role, unit, created_at AS "createdAt",
  revoked_at AS "revokedAt"`);
const USER_COLUMNS = raw(`name, password_hash AS "passwordHash", role, unit, created_at AS "createdAt",
  disabled_at AS "disabledAt"`);
const QUARANTINE_COLUMNS = raw(`id, received_at AS "receivedAt", topic, reason, detail,
  claimed_agent_id AS "claimedAgentId", payload, payload_bytes AS "payloadBytes"`);

/** Flags come back as 0/1 from SQLite, as booleans from PostgreSQL. */
type AgentRow = Omit<AgentRecord, 'online'> & { online: unknown };
type EventRow = Omit<StoredEvent, 'data' | 'skewed'> & { data: string; skewed: unknown };

function toAgent(row: AgentRow): AgentRecord {
  return { ...row, online: flag(row.online) };
}

function toEvent(row: EventRow): StoredEvent {
  return { ...row, data: JSON.parse(row.data) as Record<string, unknown>, skewed: flag(row.skewed) };
}

/** ` AND column IN (…)` for a unit filter; undefined = every unit, [] = none. */
function inUnits(column: Query, units: readonly string[] | undefined): Query {
  return when(units !== undefined, sql` AND ${column} IN ${list(units ?? [])}`);
}

/**
 * The collector's store in either database, written once over `Database`: enrollment, agents,
 * events, quarantine, API keys and users here; every other domain in its own store; the writes
 * ingest makes per message (`IngestWrites`) in each database's own fastest way. Every multi-step
 * method is one transaction; on PostgreSQL, with row locks (`forUpdate`), so several collectors
 * sharing one database agree (a token is spent once, an agent moves once).
 */
export abstract class SqlStore<D extends Database = Database> implements Store {
  readonly clocks: Domains['clocks'];
  readonly warnings: Domains['warnings'];
  readonly sessions: Domains['sessions'];
  readonly transport: Domains['transport'];
  readonly hierarchy: Domains['hierarchy'];
  readonly approvals: SqlApprovalStore;
  readonly rectifications: SqlRectificationStore;
  readonly selfInspections: SqlSelfInspectionStore;
  readonly documents: SqlDocumentStore;
  readonly audit: SqlAuditStore;
  readonly register: SqlRegisterStore;
  private readonly writes: IngestWrites;

  /** `database` is the one connection every domain store written once shares. */
  constructor(
    readonly database: D,
    parts: StoreParts,
  ) {
    this.clocks = parts.clocks;
    this.warnings = parts.warnings;
    this.sessions = parts.sessions;
    this.transport = parts.transport;
    this.hierarchy = parts.hierarchy;
    this.writes = parts.writes;
    this.approvals = new SqlApprovalStore(database);
    this.rectifications = new SqlRectificationStore(database);
    this.selfInspections = new SqlSelfInspectionStore(database);
    this.documents = new SqlDocumentStore(database);
    this.audit = new SqlAuditStore(database);
    this.register = new SqlRegisterStore(database);
  }

  async schemaVersion(): Promise<number> {
    const row = await this.database.get<{ v: number | null }>(
      sql`SELECT MAX(version) AS v FROM schema_migrations`,
    );
    return row?.v ?? 0;
  }

  async createEnrollmentToken(token: NewEnrollmentToken): Promise<void> {
    await this.database.run(
      sql`INSERT INTO enrollment_tokens (token_hash, unit, kind, created_at, expires_at)
          VALUES (${token.tokenHash}, ${token.unit}, ${token.kind ?? 'agent'}, ${token.createdAt}, ${token.expiresAt})`,
    );
  }

  async enrollAgent(request: EnrollAgentRequest): Promise<EnrollAgentResult> {
    return this.database.transaction(async (tx): Promise<EnrollAgentResult> => {
      // The row lock makes a token single-use even when two collectors receive it at once.
      const token = await tx.get<EnrollmentTokenRow>(
        sql`SELECT unit, kind, expires_at, used_at FROM enrollment_tokens
            WHERE token_hash = ${request.tokenHash}${forUpdate}`,
      );
      const refused = tokenRefusal(token, 'agent', request.now);
      if (refused || !token) return { ok: false, reason: refused ?? 'token-unknown' };

      const existing = await tx.get<AgentRow>(
        sql`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = ${request.agentId}${forUpdate}`,
      );
      if (existing && existing.publicKey !== request.publicKey) return { ok: false, reason: 'key-mismatch' };
      // A revoked key stays revoked: no token, however fresh, undoes a revocation.
      if (existing && existing.revokedAt !== null) return { ok: false, reason: 'agent-revoked' };
      if (existing && existing.unit !== token.unit)
        return { ok: false, reason: 'unit-moved', unit: existing.unit };

      const agent = existing
        ? await tx.get<AgentRow>(
            sql`UPDATE agents SET hostname = ${request.hostname ?? existing.hostname},
                  version = ${request.version ?? existing.version},
                  broker_secret_hash = ${request.brokerSecretHash}, reenrolled_at = ${request.now}
                WHERE id = ${request.agentId} RETURNING ${AGENT_COLUMNS}`,
          )
        : await tx.get<AgentRow>(
            sql`INSERT INTO agents (id, unit, alg, public_key, hostname, version, enrolled_at, broker_secret_hash)
                VALUES (${request.agentId}, ${token.unit}, ${request.alg}, ${request.publicKey},
                  ${request.hostname ?? null}, ${request.version ?? null}, ${request.now}, ${request.brokerSecretHash})
                RETURNING ${AGENT_COLUMNS}`,
          );
      await tx.run(
        sql`UPDATE enrollment_tokens SET used_at = ${request.now}, used_by = ${request.agentId}
            WHERE token_hash = ${request.tokenHash}`,
      );
      return { ok: true, agent: toAgent(agent!), reenrolled: existing !== undefined };
    });
  }

  async moveAgent(agentId: string, unit: string): Promise<{ from: string } | undefined> {
    return this.database.transaction(async (tx) => {
      // The old unit is read under the lock of the update that changes it.
      const row = await tx.get<{ unit: string }>(
        sql`SELECT unit FROM agents WHERE id = ${agentId}${forUpdate}`,
      );
      if (!row) return undefined;
      await tx.run(sql`UPDATE agents SET unit = ${unit} WHERE id = ${agentId}`);
      return { from: row.unit };
    });
  }

  async getAgent(agentId: string): Promise<AgentRecord | undefined> {
    const row = await this.database.get<AgentRow>(
      sql`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = ${agentId}`,
    );
    return row ? toAgent(row) : undefined;
  }

  async listAgents(filter: { units?: readonly string[] }): Promise<AgentRecord[]> {
    const rows = await this.database.all<AgentRow>(
      // Ordered by code point, as SQLite does, whatever PostgreSQL's locale.
      sql`SELECT ${AGENT_COLUMNS} FROM agents WHERE TRUE${inUnits(raw('unit'), filter.units)}
          ORDER BY unit${bytewise}, hostname${bytewise} NULLS FIRST, id${bytewise}`,
    );
    return rows.map(toAgent);
  }

  async listAgentUnits(): Promise<string[]> {
    const rows = await this.database.all<{ unit: string }>(sql`SELECT DISTINCT unit FROM agents`);
    return rows.map((r) => r.unit);
  }

  async countAgents(): Promise<{ enrolled: number; online: number }> {
    const row = await this.database.get<{ enrolled: number; online: number }>(
      sql`SELECT COUNT(*) AS enrolled, COUNT(CASE WHEN online THEN 1 END) AS online
          FROM agents WHERE revoked_at IS NULL`,
    );
    return { enrolled: row!.enrolled, online: row!.online };
  }

  async recordHeartbeat(agentId: string, at: string, reportedSeq: number): Promise<void> {
    await this.recordHeartbeats([{ agentId, at, reportedSeq }]);
  }

  async recordHeartbeats(heartbeats: readonly RecordedHeartbeat[]): Promise<void> {
    await this.writes.recordHeartbeats(heartbeats);
  }

  async setAgentOnline(agentId: string, online: boolean, at: string): Promise<void> {
    await this.database.run(
      sql`UPDATE agents SET online = ${online}, last_seen = ${greatest}(COALESCE(last_seen, ''), ${at})
          WHERE id = ${agentId}`,
    );
  }

  async markAllAgentsOffline(): Promise<void> {
    await this.database.run(sql`UPDATE agents SET online = FALSE WHERE online`);
  }

  async revokeAgent(agentId: string, at: string): Promise<boolean> {
    const { changes } = await this.database.run(
      sql`UPDATE agents SET revoked_at = ${at}, online = FALSE WHERE id = ${agentId} AND revoked_at IS NULL`,
    );
    return changes === 1;
  }

  async insertEvent(event: NewEvent): Promise<InsertEventResult> {
    const [result] = await this.writes.insertEvents([event]);
    return result!;
  }

  async insertEvents(events: readonly NewEvent[]): Promise<InsertEventResult[]> {
    return this.writes.insertEvents(events);
  }

  async advanceAckedSeq(agentId: string): Promise<number> {
    return this.writes.advanceAckedSeq(agentId);
  }

  async listEvents(filter: EventFilter): Promise<StoredEvent[]> {
    const { agentId, type, since, after } = filter;
    const rows = await this.database.all<EventRow>(
      // SQLite's CROSS JOIN keeps events the outer loop, read in list order from an index: with a
      // unit filter SQLite would otherwise start from the unit's agents and sort all their events.
      sql`SELECT ${EVENT_COLUMNS} FROM events e ${dialectText({ sqlite: 'CROSS JOIN', postgres: 'JOIN' })} agents a
            ON a.id = e.agent_id
          WHERE TRUE${when(agentId !== undefined, sql` AND e.agent_id = ${agentId}`)}
            ${when(type !== undefined, sql` AND e.type = ${type}`)}
            ${when(since !== undefined, sql` AND e.ts >= ${since}`)}
            ${when(after !== undefined, sql` AND (e.ts, e.id) < (${after?.ts}, ${after?.id})`)}
            ${inUnits(raw('a.unit'), filter.units)}
          ORDER BY e.ts DESC, e.id DESC LIMIT ${filter.limit}`,
    );
    return rows.map(toEvent);
  }

  async addQuarantine(entry: NewQuarantineEntry): Promise<void> {
    // PostgreSQL keeps a hostile topic or detail with its NULs escaped (the Database does it).
    await this.database.run(
      sql`INSERT INTO quarantine (received_at, topic, reason, detail, claimed_agent_id, payload, payload_bytes)
          VALUES (${entry.receivedAt}, ${entry.topic}, ${entry.reason}, ${entry.detail},
            ${entry.claimedAgentId}, ${entry.payload}, ${entry.payloadBytes})`,
    );
  }

  async listQuarantine(filter: { limit: number }): Promise<QuarantineEntry[]> {
    return this.database.all<QuarantineEntry>(
      sql`SELECT ${QUARANTINE_COLUMNS} FROM quarantine ORDER BY id DESC LIMIT ${filter.limit}`,
    );
  }

  async createApiKey(key: Omit<ApiKeyRecord, 'revokedAt'>): Promise<void> {
    await this.database.run(
      sql`INSERT INTO api_keys (key_hash, name, role, unit, created_at)
          VALUES (${key.keyHash}, ${key.name}, ${key.role}, ${key.unit}, ${key.createdAt})`,
    );
  }

  async findApiKey(keyHash: string): Promise<ApiKeyRecord | undefined> {
    return this.database.get<ApiKeyRecord>(
      sql`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE key_hash = ${keyHash}`,
    );
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.database.all<ApiKeyRecord>(
      sql`SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, name`,
    );
  }

  async revokeApiKeys(name: string, at: string): Promise<number> {
    const { changes } = await this.database.run(
      sql`UPDATE api_keys SET revoked_at = ${at} WHERE name = ${name} AND revoked_at IS NULL`,
    );
    return changes;
  }

  async addUser(user: Omit<UserRecord, 'disabledAt'>): Promise<boolean> {
    const { changes } = await this.database.run(
      sql`INSERT INTO users (name, password_hash, role, unit, created_at)
          VALUES (${user.name}, ${user.passwordHash}, ${user.role}, ${user.unit}, ${user.createdAt})
          ON CONFLICT (name) DO NOTHING`,
    );
    return changes === 1;
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    return this.database.get<UserRecord>(sql`SELECT ${USER_COLUMNS} FROM users WHERE name = ${name}`);
  }

  async listUsers(): Promise<UserRecord[]> {
    return this.database.all<UserRecord>(sql`SELECT ${USER_COLUMNS} FROM users ORDER BY name`);
  }

  async setUserDisabled(name: string, at: string | null): Promise<boolean> {
    const { changes } = await this.database.run(
      sql`UPDATE users SET disabled_at = ${at} WHERE name = ${name}`,
    );
    return changes === 1;
  }

  async setUserPassword(name: string, passwordHash: string): Promise<boolean> {
    const { changes } = await this.database.run(
      sql`UPDATE users SET password_hash = ${passwordHash} WHERE name = ${name}`,
    );
    return changes === 1;
  }

  abstract close(): Promise<void>;
}
