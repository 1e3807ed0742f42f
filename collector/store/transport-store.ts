/**
 * What the collector keeps to trust its transport (issue 4): each agent's liveness (the heartbeat
 * interval it announced, when it was last heard, the open offline and lost conditions), the seq
 * ranges an agent declared dropped from its full outbox, the history of its keys, and the
 * Mosquitto password hash of its broker secret. All of it lives in the store, so a restarted
 * collector carries on where it stopped.
 */
import type { SignatureAlg } from '../../shared/crypto/suite.js';

export interface LivenessRecord {
  agentId: string;
  /** The heartbeat interval the agent announced (or was observed), ms. */
  intervalMs: number;
  lastHeartbeatAt: string | null;
  /** When the agent's status went `offline` (Last Will or a clean stop) after its last heartbeat. */
  willAt: string | null;
  /** The highest `lastSeq` its heartbeats carried. */
  reportedSeq: number;
  /** When `agent.offline` was raised; null while it is not. */
  offlineSince: string | null;
  /** When a gap (reportedSeq above the watermark) was first seen without the watermark moving. */
  gapSince: string | null;
  /** The watermark when gapSince was last set: progress beyond it restarts the gap clock. */
  gapWatermark: number;
  /** When `agent.events.lost` was raised; null while it is not. */
  lostSince: string | null;
}

export interface DeclaredDrop {
  agentId: string;
  fromSeq: number;
  toSeq: number;
  /** The seq of the agent.queue.overflow event that declared the range. */
  declaredBySeq: number;
}

export interface AgentKeyRecord {
  agentId: string;
  alg: SignatureAlg;
  publicKey: string;
  /** When this key became the agent's key (enrollment or rotation). */
  validFrom: string;
  /** When a rotation replaced it; null for the current key. */
  validTo: string | null;
}

export interface BrokerAccount {
  agentId: string;
  /** mosquitto_passwd form (`$7$…`, PBKDF2-SHA512), or null for agents enrolled before it was kept. */
  passwordHash: string | null;
  revoked: boolean;
}

export interface TransportStore {
  getLiveness(agentId: string): Promise<LivenessRecord | undefined>;
  listLiveness(): Promise<LivenessRecord[]>;
  /** Creates or replaces the agent's liveness row. */
  putLiveness(record: LivenessRecord): Promise<void>;
  /**
   * Reads the agent's liveness, lets `change` judge it (and report what it decides), and stores
   * what `change` returns (nothing when undefined), with no other update of that agent's row in
   * between — also from another collector on the same database, which would otherwise write back
   * a stale heartbeat and raise a false `agent.offline`.
   */
  updateLiveness(
    agentId: string,
    change: (previous: LivenessRecord | undefined) => Promise<LivenessRecord | undefined>,
  ): Promise<void>;

  /**
   * updateLiveness for many agents as one step: reads their rows (absent agents are missing from
   * the map), lets `change` judge them all, and stores the records it returns (one per agent at
   * most) in one transaction — with no other update of these agents' rows in between. A batch of
   * heartbeats costs one round of reads and one write instead of one each.
   */
  updateLivenessMany(
    agentIds: readonly string[],
    change: (previous: ReadonlyMap<string, LivenessRecord>) => Promise<readonly LivenessRecord[]>,
  ): Promise<void>;
  /**
   * What a sweep at `now` has to judge, beside each agent's watermark, ordered by agent: the
   * liveness of agents not revoked whose row the sweep may change — silent for `missedHeartbeats`
   * of their interval (or within a second of it), a Last Will after the last heartbeat, a gap
   * while online, or gap fields the watermark has overtaken. Healthy agents are left in the
   * database: a sweep of 100 000 every few seconds must not read them all. A superset of what
   * changes; the sweep's judgement decides.
   */
  listLivenessToJudge(at: {
    now: string;
    missedHeartbeats: number;
  }): Promise<{ record: LivenessRecord; ackedSeq: number }[]>;

  /** Records a declared drop (idempotent per agent and range). */
  addDeclaredDrops(drops: readonly DeclaredDrop[]): Promise<void>;
  /**
   * Moves the agent's watermark over declared drops and the stored events after them, as far as
   * they are contiguous; returns the watermark. advanceAckedSeq alone stops at a declared gap.
   */
  skipDeclaredDrops(agentId: string): Promise<number>;
  listDeclaredDrops(agentId: string): Promise<DeclaredDrop[]>;

  /** Replaces the agent's key, keeping the old one in its history; false if the agent is unknown or revoked. */
  rotateKey(request: { agentId: string; alg: SignatureAlg; publicKey: string; at: string }): Promise<boolean>;
  listKeys(agentId: string): Promise<AgentKeyRecord[]>;

  setBrokerPasswordHash(agentId: string, passwordHash: string): Promise<void>;
  listBrokerAccounts(): Promise<BrokerAccount[]>;
  /** Agents revoked at or after `since`, for a running collector to disconnect them. */
  listRevokedSince(since: string): Promise<{ agentId: string; revokedAt: string }[]>;
}
