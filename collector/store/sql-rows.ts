import type { SignatureAlg } from '../../shared/crypto/suite.js';
import type { Role } from '../auth/roles.js';
import type { AgentRecord, ApiKeyRecord, StoredEvent, UserRecord } from './store.js';

/**
 * Agent and event rows as both SQL stores read them, and their mapping to records: SQLite hands
 * booleans back as 0/1, PostgreSQL as true/false.
 */
export const AGENT_COLUMNS = `id, unit, alg, public_key, hostname, version, enrolled_at, last_seen, online,
  broker_secret_hash, revoked_at, acked_seq, reported_seq`;

export interface AgentRow {
  id: string;
  unit: string;
  alg: string;
  public_key: string;
  hostname: string | null;
  version: string | null;
  enrolled_at: string;
  last_seen: string | null;
  online: number | boolean;
  broker_secret_hash: string;
  revoked_at: string | null;
  acked_seq: number;
  reported_seq: number;
}

export interface EventRow {
  id: number;
  agent_id: string;
  unit: string;
  seq: number;
  ts: string;
  received_at: string;
  type: string;
  state: string;
  key: string;
  severity: string;
  data: string;
  envelope: string;
  skewed: number | boolean;
}

export function toAgent(row: AgentRow): AgentRecord {
  return {
    id: row.id,
    unit: row.unit,
    alg: row.alg as SignatureAlg,
    publicKey: row.public_key,
    hostname: row.hostname,
    version: row.version,
    enrolledAt: row.enrolled_at,
    lastSeen: row.last_seen,
    online: row.online === true || row.online === 1,
    brokerSecretHash: row.broker_secret_hash,
    revokedAt: row.revoked_at,
    ackedSeq: row.acked_seq,
    reportedSeq: row.reported_seq,
  };
}

export function toEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    agentId: row.agent_id,
    unit: row.unit,
    seq: row.seq,
    ts: row.ts,
    receivedAt: row.received_at,
    type: row.type,
    state: row.state as 'raised' | 'cleared',
    key: row.key,
    severity: row.severity,
    data: JSON.parse(row.data) as Record<string, unknown>,
    envelope: row.envelope,
    skewed: row.skewed === true || row.skewed === 1,
  };
}

/** API keys and dashboard users as both SQL stores read them. */
export const API_KEY_COLUMNS = 'key_hash, name, role, unit, created_at, revoked_at';
export const USER_COLUMNS = 'name, password_hash, role, unit, created_at, disabled_at';

export interface ApiKeyRow {
  key_hash: string;
  name: string;
  role: Role;
  unit: string | null;
  created_at: string;
  revoked_at: string | null;
}

export interface UserRow {
  name: string;
  password_hash: string;
  role: Role;
  unit: string | null;
  created_at: string;
  disabled_at: string | null;
}

export function toApiKey(row: ApiKeyRow): ApiKeyRecord {
  return {
    keyHash: row.key_hash,
    name: row.name,
    role: row.role,
    unit: row.unit,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

export function toUser(row: UserRow): UserRecord {
  return {
    name: row.name,
    passwordHash: row.password_hash,
    role: row.role,
    unit: row.unit,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
  };
}
