/**
 * The collector's persistence contract. Every method returns a Promise so a PostgreSQL store
 * can stand behind the same interface (and the same contract tests) as SQLite. Times cross this
 * boundary as ISO 8601 UTC strings, which sort and compare as text in both databases.
 */
import type { SignatureAlg } from '../../shared/crypto/suite.js';
import type { Role } from '../auth/roles.js';
import type { ClockStore } from './clocks/clock-store.js';
import type { HierarchyStore } from './hierarchy/hierarchy-store.js';
import type { SessionStore } from './sessions/session-store.js';
import type { AuditStore } from './audit/audit-store.js';
import type { TransportStore } from './transport/transport-store.js';
import type { WarningStore } from './warnings/warning-store.js';
import type { AgentApprovalStore } from './approvals/approval-store.js';
import type { RectificationStore } from './rectifications/rectification-store.js';
import type { SelfInspectionStore } from './self-inspections/self-inspection-store.js';
import type { DocumentStore } from './documents/document-store.js';
import type { RegisterStore } from './register/register-store.js';

/** What a token enrolls (SPEC §3): an agent token cannot enroll a collector, nor the reverse. */
export const ENROLLMENT_TOKEN_KINDS = ['agent', 'collector'] as const;
export type EnrollmentTokenKind = (typeof ENROLLMENT_TOKEN_KINDS)[number];

export interface NewEnrollmentToken {
  tokenHash: string;
  unit: string;
  /** Default agent. */
  kind?: EnrollmentTokenKind;
  createdAt: string;
  expiresAt: string;
}

/** A token row as both SQL stores read it. */
export interface EnrollmentTokenRow {
  unit: string;
  kind: string;
  expires_at: string;
  used_at: string | null;
}

export type TokenRefusal = 'token-unknown' | 'token-used' | 'token-expired' | 'token-kind';

/** Why `token` cannot enroll a `kind` now; one rule for agents and collectors, in both stores. */
export function tokenRefusal(
  token: EnrollmentTokenRow | undefined,
  kind: EnrollmentTokenKind,
  now: string,
): TokenRefusal | undefined {
  if (!token) return 'token-unknown';
  if (token.used_at !== null) return 'token-used';
  if (token.expires_at <= now) return 'token-expired';
  if (token.kind !== kind) return 'token-kind';
  return undefined;
}

export interface EnrollAgentRequest {
  tokenHash: string;
  agentId: string;
  alg: SignatureAlg;
  publicKey: string;
  hostname: string | undefined;
  version: string | undefined;
  brokerSecretHash: string;
  now: string;
}

export type EnrollAgentResult =
  | { ok: true; agent: AgentRecord; reenrolled: boolean }
  | {
      ok: false;
      reason: TokenRefusal | 'agent-revoked' | 'key-mismatch' | 'unit-moved';
      /** unit-moved: the unit the agent is enrolled in. */
      unit?: string;
    };

export interface AgentRecord {
  id: string;
  unit: string;
  alg: SignatureAlg;
  publicKey: string;
  hostname: string | null;
  version: string | null;
  enrolledAt: string;
  lastSeen: string | null;
  online: boolean;
  brokerSecretHash: string;
  revokedAt: string | null;
  /** Highest seq such that every event 1..ackedSeq is stored. */
  ackedSeq: number;
  /** The last seq the agent says it sent (from heartbeats); above ackedSeq means a gap or in-flight. */
  reportedSeq: number;
}

export interface RecordedHeartbeat {
  agentId: string;
  at: string;
  /** The last seq the agent says it sent. */
  reportedSeq: number;
}

export interface NewEvent {
  agentId: string;
  seq: number;
  /** The agent's timestamp, normalised to UTC. */
  ts: string;
  receivedAt: string;
  type: string;
  state: 'raised' | 'cleared';
  key: string;
  severity: string;
  data: Record<string, unknown>;
  /** The envelope exactly as received, so anyone can verify its signature again. */
  envelope: string;
  skewed: boolean;
}

export type InsertEventResult =
  | { outcome: 'inserted'; id: number }
  /** (agent, seq) is already stored; `envelope` is what was stored, for the caller to compare. */
  | { outcome: 'exists'; envelope: string };

export interface StoredEvent extends NewEvent {
  id: number;
  unit: string;
}

export interface EventFilter {
  agentId?: string;
  type?: string;
  /** Events with ts at or after this instant. */
  since?: string;
  /** Only events of agents in these units; undefined = every unit. */
  units?: readonly string[];
  /** Keyset pagination: only events after this one in list order (ts, then id, both descending). */
  after?: { ts: string; id: number };
  limit: number;
}

export interface NewQuarantineEntry {
  receivedAt: string;
  topic: string;
  reason: string;
  detail: string;
  /** The agent id the topic claims; not trusted, kept to help the investigation. */
  claimedAgentId: string | null;
  /** The first bytes of the payload (see QUARANTINE_PAYLOAD_BYTES). */
  payload: Buffer;
  payloadBytes: number;
}

export interface QuarantineEntry extends NewQuarantineEntry {
  id: number;
}

export interface ApiKeyRecord {
  keyHash: string;
  name: string;
  role: Role;
  unit: string | null;
  createdAt: string;
  revokedAt: string | null;
}

export interface UserRecord {
  name: string;
  passwordHash: string;
  role: Role;
  unit: string | null;
  createdAt: string;
  disabledAt: string | null;
}

/** Quarantine keeps evidence, not a copy of every flood: payloads are cut to this size. */
export const QUARANTINE_PAYLOAD_BYTES = 4096;

export interface Store {
  /** The legal clocks (第35条, 第61条): register, incidents, deadline rows. */
  readonly clocks: ClockStore;
  /** 第64条 early warning: rule state, warnings, silences, notices, the notification outbox. */
  readonly warnings: WarningStore;
  /** Dashboard logins: sessions, failed login attempts. */
  readonly sessions: SessionStore;
  /** The audit log, chained by hash, and its signed heads (第34条 安全审计). */
  readonly audit: AuditStore;
  /** Transport trust (issue 4): liveness, declared drops, key history, broker password hashes. */
  readonly transport: TransportStore;
  /** Collectors in a hierarchy (issue 7): parent, subordinates, the upward outbox, notices. */
  readonly hierarchy: HierarchyStore;
  /** Manual enrollment approval (issue 4); absent where the store has no such domain yet (PostgreSQL). */
  readonly approvals: AgentApprovalStore;
  /** 整改 items (第59条, 第35条): what, who, deadline, closing; their deadlines are clock rows. */
  readonly rectifications: RectificationStore;
  /** 第58条 保密自查自评: the yearly checklist, its evidence and result. */
  readonly selfInspections: SelfInspectionStore;
  /** Official documents and their sign-off (签发): what goes up waits for a person to sign it. */
  readonly documents: DocumentStore;
  /** The terminal register (issue 17): terminals, persons, their accounts and inventory. */
  readonly register: RegisterStore;
  /** The highest migration applied, for diagnostics and tests. */
  schemaVersion(): Promise<number>;

  createEnrollmentToken(token: NewEnrollmentToken): Promise<void>;
  /**
   * Consumes the token and creates or re-enrolls the agent in one transaction: a refused
   * enrollment leaves the token unused. Re-enrolling a known key keeps the id, history,
   * watermark and unit and replaces the broker secret; a token of another unit is refused
   * (unit-moved): only a system administrator moves an agent (moveAgent).
   */
  enrollAgent(request: EnrollAgentRequest): Promise<EnrollAgentResult>;
  /** A system administrator moves an agent to another unit; the previous unit, or undefined for an unknown agent. */
  moveAgent(agentId: string, unit: string): Promise<{ from: string } | undefined>;

  getAgent(agentId: string): Promise<AgentRecord | undefined>;
  listAgents(filter: { units?: readonly string[] }): Promise<AgentRecord[]>;
  countAgents(): Promise<{ enrolled: number; online: number }>;
  /** The units this collector's own agents are enrolled in (a child collector may not claim them). */
  listAgentUnits(): Promise<string[]>;
  /** A signed heartbeat: the agent is alive; `reportedSeq` is the last seq it says it sent. */
  recordHeartbeat(agentId: string, at: string, reportedSeq: number): Promise<void>;
  /**
   * recordHeartbeat for many at once (one transaction / statement), as if recorded in turn: the
   * latest time and the highest seq of an agent's heartbeats win, whatever their order.
   */
  recordHeartbeats(heartbeats: readonly RecordedHeartbeat[]): Promise<void>;
  setAgentOnline(agentId: string, online: boolean, at: string): Promise<void>;
  /** Marks every agent offline, e.g. when an embedded broker starts and nobody is connected yet. */
  markAllAgentsOffline(): Promise<void>;
  revokeAgent(agentId: string, at: string): Promise<boolean>;

  insertEvent(event: NewEvent): Promise<InsertEventResult>;
  /** insertEvent for many at once (one transaction / statement), results in the same order. */
  insertEvents(events: readonly NewEvent[]): Promise<InsertEventResult[]>;
  /** Moves the agent's watermark over every contiguous stored seq and returns it. */
  advanceAckedSeq(agentId: string): Promise<number>;
  /** Newest first: ts descending, then id descending (rows sharing a ts keep a stable order). */
  listEvents(filter: EventFilter): Promise<StoredEvent[]>;

  addQuarantine(entry: NewQuarantineEntry): Promise<void>;
  listQuarantine(filter: { limit: number }): Promise<QuarantineEntry[]>;

  createApiKey(key: Omit<ApiKeyRecord, 'revokedAt'>): Promise<void>;
  findApiKey(keyHash: string): Promise<ApiKeyRecord | undefined>;
  /** Every key, oldest first (revoked ones too: the record of who had access). */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Revokes every not yet revoked key of that name; returns how many. */
  revokeApiKeys(name: string, at: string): Promise<number>;

  /** Returns false when a user of that name exists. */
  addUser(user: Omit<UserRecord, 'disabledAt'>): Promise<boolean>;
  getUser(name: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  /** Disables (at a time) or enables (null) a user; false when there is no such user. */
  setUserDisabled(name: string, at: string | null): Promise<boolean>;
  /** false when there is no such user. */
  setUserPassword(name: string, passwordHash: string): Promise<boolean>;

  close(): Promise<void>;
}
