/**
 * What the collector keeps to trust its transport (issue 4): each agent's liveness (the heartbeat
 * interval it announced, when it was last heard, the open offline and lost conditions), the seq
 * ranges an agent declared dropped from its full outbox, the history of its keys, and the
 * Mosquitto password hash of its broker secret. All of it lives in the store, so a restarted
 * collector carries on where it stopped.
 */
import type { SignatureAlg } from '../../../shared/crypto/suite.js';
import { flag, type Database } from '../sql/database.js';
import { bytewise, forUpdate, join, raw, sql, type Dialect, type Query } from '../sql/query.js';
import {
  LIVENESS_FIELDS,
  selectLiveness,
  upsertLiveness,
  type LivenessBatchChange,
  type LivenessChange,
  type LivenessUpdater,
} from './liveness.js';

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

/** How many stored seqs beyond the watermark one step of skipDeclaredDrops reads. */
const WATERMARK_PAGE = 512;

/** Declared drops per INSERT: far under either database's limit of bound values. */
const DROPS_PER_INSERT = 1000;

/** Silence within this of the missed-heartbeat limit is listed too: the sweep decides exactly. */
const SILENCE_SLACK_MS = 1000;

const DROP_FIELDS = raw(
  'agent_id AS "agentId", from_seq AS "fromSeq", to_seq AS "toSeq", declared_by_seq AS "declaredBySeq"',
);

/**
 * Whether the agent `l` was silent for (nearly) `missedHeartbeats` of its interval at `now`. SQLite's
 * julianday() reads the ISO text in C, and an unreadable time is listed rather than missed.
 */
function silent(dialect: Dialect, now: string, missedHeartbeats: number): Query {
  const limit = sql`${missedHeartbeats} * l.interval_ms - ${raw(String(SILENCE_SLACK_MS))}`;
  return dialect === 'sqlite'
    ? sql`((julianday(${now}) - julianday(l.last_heartbeat_at)) * 86400000.0 > ${limit}
           OR julianday(l.last_heartbeat_at) IS NULL)`
    : sql`(EXTRACT(EPOCH FROM (${now}::timestamptz - l.last_heartbeat_at::timestamptz)) * 1000 > ${limit})`;
}

/**
 * The rows listLivenessToJudge returns, as a condition on agent_liveness `l` joined to agents `a`.
 * Mirrors collector/liveness/assess.ts: offline by Last Will or silence, a gap while online, gap
 * fields to reset. An offline agent's gap waits for its return, so it is not listed.
 */
function toJudge(silence: Query): Query {
  return sql`a.revoked_at IS NULL AND (
    (l.offline_since IS NULL AND (
      (l.will_at IS NOT NULL AND (l.last_heartbeat_at IS NULL OR l.will_at >= l.last_heartbeat_at))
      OR (l.last_heartbeat_at IS NOT NULL AND ${silence})
      OR l.reported_seq > a.acked_seq))
    OR (l.reported_seq <= a.acked_seq
      AND (l.gap_since IS NOT NULL OR l.gap_watermark <> a.acked_seq OR l.lost_since IS NOT NULL)))`;
}

/**
 * Transport trust in either database (migration 4). Watermark moves and key rotations lock the
 * agent's row (`FOR UPDATE` on PostgreSQL; SQLite's transaction holds the file), so collectors
 * sharing the database never move a watermark back nor lose a key from the history when two of
 * them act on one agent at once. Liveness updates hold a lock of each database's own (`liveness`).
 */
export class SqlTransportStore implements TransportStore {
  constructor(
    private readonly db: Database,
    private readonly liveness: LivenessUpdater,
  ) {}

  async getLiveness(agentId: string): Promise<LivenessRecord | undefined> {
    return this.db.get<LivenessRecord>(selectLiveness(agentId));
  }

  async listLiveness(): Promise<LivenessRecord[]> {
    return this.db.all<LivenessRecord>(
      sql`SELECT ${LIVENESS_FIELDS} FROM agent_liveness l ORDER BY l.agent_id${bytewise}`,
    );
  }

  async putLiveness(record: LivenessRecord): Promise<void> {
    await this.db.run(upsertLiveness(record));
  }

  updateLiveness(agentId: string, change: LivenessChange): Promise<void> {
    return this.liveness.updateLiveness(agentId, change);
  }

  updateLivenessMany(agentIds: readonly string[], change: LivenessBatchChange): Promise<void> {
    return this.liveness.updateLivenessMany(agentIds, change);
  }

  async listLivenessToJudge(at: {
    now: string;
    missedHeartbeats: number;
  }): Promise<{ record: LivenessRecord; ackedSeq: number }[]> {
    const rows = await this.db.all<LivenessRecord & { ackedSeq: number }>(
      sql`SELECT ${LIVENESS_FIELDS}, a.acked_seq AS "ackedSeq" FROM agent_liveness l JOIN agents a ON a.id = l.agent_id
          WHERE ${toJudge(silent(this.db.dialect, at.now, at.missedHeartbeats))}
          ORDER BY l.agent_id${bytewise}`,
    );
    return rows.map(({ ackedSeq, ...record }) => ({ record, ackedSeq }));
  }

  async addDeclaredDrops(drops: readonly DeclaredDrop[]): Promise<void> {
    if (drops.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (let i = 0; i < drops.length; i += DROPS_PER_INSERT) {
        const rows = drops
          .slice(i, i + DROPS_PER_INSERT)
          .map((d) => sql`(${d.agentId}, ${d.fromSeq}, ${d.toSeq}, ${d.declaredBySeq})`);
        await tx.run(
          sql`INSERT INTO agent_declared_drops (agent_id, from_seq, to_seq, declared_by_seq)
              VALUES ${join(rows)} ON CONFLICT DO NOTHING`,
        );
      }
    });
  }

  async skipDeclaredDrops(agentId: string): Promise<number> {
    return this.db.transaction(async (tx): Promise<number> => {
      // The row lock orders this against advanceAckedSeq and another collector's skip.
      const agent = await tx.get<{ acked_seq: number }>(
        sql`SELECT acked_seq FROM agents WHERE id = ${agentId}${forUpdate}`,
      );
      if (!agent) return 0;
      let watermark = agent.acked_seq;
      for (;;) {
        const range = await tx.get<{ to_seq: number | null }>(
          sql`SELECT MAX(to_seq) AS to_seq FROM agent_declared_drops
              WHERE agent_id = ${agentId} AND from_seq <= ${watermark + 1} AND to_seq > ${watermark}`,
        );
        if (range!.to_seq !== null) {
          watermark = range!.to_seq;
          continue;
        }
        const seqs = await tx.all<{ seq: number }>(
          sql`SELECT seq FROM events WHERE agent_id = ${agentId} AND seq > ${watermark}
              ORDER BY seq LIMIT ${WATERMARK_PAGE}`,
        );
        let contiguous = 0;
        while (contiguous < seqs.length && seqs[contiguous]!.seq === watermark + 1) {
          watermark += 1;
          contiguous += 1;
        }
        if (contiguous === 0) break;
      }
      if (watermark !== agent.acked_seq) {
        await tx.run(
          sql`UPDATE agents SET acked_seq = ${watermark} WHERE id = ${agentId} AND acked_seq < ${watermark}`,
        );
      }
      return watermark;
    });
  }

  async listDeclaredDrops(agentId: string): Promise<DeclaredDrop[]> {
    return this.db.all<DeclaredDrop>(
      sql`SELECT ${DROP_FIELDS} FROM agent_declared_drops WHERE agent_id = ${agentId} ORDER BY from_seq`,
    );
  }

  async rotateKey(request: {
    agentId: string;
    alg: SignatureAlg;
    publicKey: string;
    at: string;
  }): Promise<boolean> {
    return this.db.transaction(async (tx): Promise<boolean> => {
      // Locked, so two rotations at once both land in the history, one after the other.
      const agent = await tx.get<{
        alg: SignatureAlg;
        public_key: string;
        valid_from: string;
        revoked_at: string | null;
      }>(
        sql`SELECT alg, public_key, COALESCE(key_rotated_at, enrolled_at) AS valid_from, revoked_at
            FROM agents WHERE id = ${request.agentId}${forUpdate}`,
      );
      if (!agent || agent.revoked_at !== null) return false;
      await tx.run(
        sql`INSERT INTO agent_keys (agent_id, alg, public_key, valid_from, valid_to)
            VALUES (${request.agentId}, ${agent.alg}, ${agent.public_key}, ${agent.valid_from}, ${request.at})
            ON CONFLICT DO NOTHING`,
      );
      await tx.run(
        sql`UPDATE agents SET alg = ${request.alg}, public_key = ${request.publicKey}, key_rotated_at = ${request.at}
            WHERE id = ${request.agentId}`,
      );
      return true;
    });
  }

  async listKeys(agentId: string): Promise<AgentKeyRecord[]> {
    // One statement, one snapshot: a rotation between two reads would show a key twice or not at all.
    const rows = await this.db.all<AgentKeyRecord & { is_current: number }>(
      sql`SELECT agent_id AS "agentId", alg, public_key AS "publicKey", valid_from AS "validFrom",
                 valid_to AS "validTo", 0 AS is_current
          FROM agent_keys WHERE agent_id = ${agentId}
          UNION ALL
          SELECT id, alg, public_key, COALESCE(key_rotated_at, enrolled_at), NULL, 1
          FROM agents WHERE id = ${agentId}
          ORDER BY is_current, "validFrom"`,
    );
    // Oldest first, the current key last; an unknown agent has no keys.
    if (rows.length === 0 || !flag(rows.at(-1)!.is_current)) return [];
    return rows.map(({ is_current: _, ...key }) => key);
  }

  async setBrokerPasswordHash(agentId: string, passwordHash: string): Promise<void> {
    await this.db.run(sql`UPDATE agents SET broker_password_hash = ${passwordHash} WHERE id = ${agentId}`);
  }

  async listBrokerAccounts(): Promise<BrokerAccount[]> {
    const rows = await this.db.all<{
      id: string;
      broker_password_hash: string | null;
      revoked_at: string | null;
    }>(sql`SELECT id, broker_password_hash, revoked_at FROM agents ORDER BY id${bytewise}`);
    return rows.map((r) => ({
      agentId: r.id,
      passwordHash: r.broker_password_hash,
      revoked: r.revoked_at !== null,
    }));
  }

  async listRevokedSince(since: string): Promise<{ agentId: string; revokedAt: string }[]> {
    return this.db.all<{ agentId: string; revokedAt: string }>(
      sql`SELECT id AS "agentId", revoked_at AS "revokedAt" FROM agents WHERE revoked_at >= ${since}
          ORDER BY revoked_at, id${bytewise}`,
    );
  }
}
