import type pg from 'pg';
import type { SignatureAlg } from '../../shared/crypto/suite.js';
import { transaction } from './postgres-transaction.js';
import {
  LIVENESS_COLUMNS,
  LIVENESS_UPSERT,
  livenessToJudgeCondition,
  livenessValues,
  SILENCE_SLACK_MS,
  toBrokerAccount,
  toDeclaredDrop,
  toKeyHistory,
  toLiveness,
  type CurrentKeyRow,
  type DeclaredDropRow,
  type LivenessRow,
  type OldKeyRow,
} from './transport-rows.js';
import type {
  AgentKeyRecord,
  BrokerAccount,
  DeclaredDrop,
  LivenessRecord,
  TransportStore,
} from './transport-store.js';

/** How many stored seqs beyond the watermark one step of skipDeclaredDrops reads. */
const WATERMARK_PAGE = 512;

/**
 * Agent liveness, declared drops, key history and Mosquitto password hashes on PostgreSQL
 * (migration 4, the twin of SQLite's). Watermark moves and key rotations lock the agent's row
 * (`FOR UPDATE`), so collectors sharing the database never move a watermark back nor lose a key
 * from the history when two of them act on one agent at once.
 */
export class PostgresTransportStore implements TransportStore {
  constructor(private readonly pool: pg.Pool) {}

  async getLiveness(agentId: string): Promise<LivenessRecord | undefined> {
    const { rows } = await this.pool.query<LivenessRow>(
      `SELECT ${LIVENESS_COLUMNS} FROM agent_liveness WHERE agent_id = $1`,
      [agentId],
    );
    return rows[0] ? toLiveness(rows[0]) : undefined;
  }

  async listLiveness(): Promise<LivenessRecord[]> {
    const { rows } = await this.pool.query<LivenessRow>(
      `SELECT ${LIVENESS_COLUMNS} FROM agent_liveness ORDER BY agent_id COLLATE "C"`,
    );
    return rows.map(toLiveness);
  }

  async putLiveness(record: LivenessRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO agent_liveness (${LIVENESS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (agent_id) DO UPDATE SET ${LIVENESS_UPSERT}`,
      livenessValues(record),
    );
  }

  async updateLiveness(
    agentId: string,
    change: (previous: LivenessRecord | undefined) => Promise<LivenessRecord | undefined>,
  ): Promise<void> {
    await transaction(this.pool, async (db) => {
      // An advisory lock, not FOR UPDATE: it also orders collectors judging an agent with no row yet.
      await db.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`smew.liveness:${agentId}`]);
      const { rows } = await db.query<LivenessRow>(
        `SELECT ${LIVENESS_COLUMNS} FROM agent_liveness WHERE agent_id = $1`,
        [agentId],
      );
      const next = await change(rows[0] ? toLiveness(rows[0]) : undefined);
      if (!next) return;
      await db.query(
        `INSERT INTO agent_liveness (${LIVENESS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (agent_id) DO UPDATE SET ${LIVENESS_UPSERT}`,
        livenessValues(next),
      );
    });
  }

  async updateLivenessMany(
    agentIds: readonly string[],
    change: (previous: ReadonlyMap<string, LivenessRecord>) => Promise<readonly LivenessRecord[]>,
  ): Promise<void> {
    const ids = [...new Set(agentIds)];
    if (ids.length === 0) return;
    await transaction(this.pool, async (db) => {
      // updateLiveness's locks, taken in one order (by key) so two collectors' batches cannot deadlock.
      await db.query(
        `SELECT pg_advisory_xact_lock(k) FROM (
           SELECT DISTINCT hashtextextended('smew.liveness:' || id, 0) AS k FROM UNNEST($1::text[]) AS id
           ORDER BY k) AS keys`,
        [ids],
      );
      const { rows } = await db.query<LivenessRow>(
        `SELECT ${LIVENESS_COLUMNS} FROM agent_liveness WHERE agent_id = ANY($1::text[])`,
        [ids],
      );
      const next = await change(new Map(rows.map((row) => [row.agent_id, toLiveness(row)])));
      // One row per agent (the last record given wins): one statement may not update a row twice.
      const records = [...new Map(next.map((r) => [r.agentId, r])).values()];
      if (records.length === 0) return;
      const values = records.map(livenessValues);
      const columns = values[0]!.map((_, i) => values.map((row) => row[i]));
      await db.query(
        `INSERT INTO agent_liveness (${LIVENESS_COLUMNS})
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[],
                              $6::text[], $7::text[], $8::bigint[], $9::text[])
         ON CONFLICT (agent_id) DO UPDATE SET ${LIVENESS_UPSERT}`,
        columns,
      );
    });
  }

  async listLivenessToJudge(at: {
    now: string;
    missedHeartbeats: number;
  }): Promise<{ record: LivenessRecord; ackedSeq: number }[]> {
    const silent = `EXTRACT(EPOCH FROM ($1::timestamptz - l.last_heartbeat_at::timestamptz)) * 1000
      > $2 * l.interval_ms - ${SILENCE_SLACK_MS}`;
    const { rows } = await this.pool.query<LivenessRow & { acked_seq: number }>(
      `SELECT l.*, a.acked_seq FROM agent_liveness l JOIN agents a ON a.id = l.agent_id
       WHERE ${livenessToJudgeCondition(`(${silent})`)} ORDER BY l.agent_id COLLATE "C"`,
      [at.now, at.missedHeartbeats],
    );
    return rows.map((row) => ({ record: toLiveness(row), ackedSeq: row.acked_seq }));
  }

  async addDeclaredDrops(drops: readonly DeclaredDrop[]): Promise<void> {
    if (drops.length === 0) return;
    await this.pool.query(
      `INSERT INTO agent_declared_drops (agent_id, from_seq, to_seq, declared_by_seq)
       SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::bigint[])
       ON CONFLICT DO NOTHING`,
      [
        drops.map((d) => d.agentId),
        drops.map((d) => d.fromSeq),
        drops.map((d) => d.toSeq),
        drops.map((d) => d.declaredBySeq),
      ],
    );
  }

  async skipDeclaredDrops(agentId: string): Promise<number> {
    return transaction(this.pool, async (db): Promise<number> => {
      // The row lock orders this against advanceAckedSeq and another collector's skip.
      const agent = (
        await db.query<{ acked_seq: number }>('SELECT acked_seq FROM agents WHERE id = $1 FOR UPDATE', [
          agentId,
        ])
      ).rows[0];
      if (!agent) return 0;
      let watermark = agent.acked_seq;
      for (;;) {
        const range = (
          await db.query<{ to_seq: number | null }>(
            `SELECT MAX(to_seq) AS to_seq FROM agent_declared_drops
             WHERE agent_id = $1 AND from_seq <= $2 AND to_seq > $3`,
            [agentId, watermark + 1, watermark],
          )
        ).rows[0]!;
        if (range.to_seq !== null) {
          watermark = range.to_seq;
          continue;
        }
        const seqs = (
          await db.query<{ seq: number }>(
            'SELECT seq FROM events WHERE agent_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
            [agentId, watermark, WATERMARK_PAGE],
          )
        ).rows.map((r) => r.seq);
        let contiguous = 0;
        while (contiguous < seqs.length && seqs[contiguous] === watermark + 1) {
          watermark += 1;
          contiguous += 1;
        }
        if (contiguous === 0) break;
      }
      if (watermark !== agent.acked_seq) {
        await db.query('UPDATE agents SET acked_seq = GREATEST(acked_seq, $1) WHERE id = $2', [
          watermark,
          agentId,
        ]);
      }
      return watermark;
    });
  }

  async listDeclaredDrops(agentId: string): Promise<DeclaredDrop[]> {
    const { rows } = await this.pool.query<DeclaredDropRow>(
      `SELECT agent_id, from_seq, to_seq, declared_by_seq FROM agent_declared_drops
       WHERE agent_id = $1 ORDER BY from_seq`,
      [agentId],
    );
    return rows.map(toDeclaredDrop);
  }

  async rotateKey(request: {
    agentId: string;
    alg: SignatureAlg;
    publicKey: string;
    at: string;
  }): Promise<boolean> {
    return transaction(this.pool, async (db): Promise<boolean> => {
      // Locked, so two rotations at once both land in the history, one after the other.
      const agent = (
        await db.query<CurrentKeyRow & { revoked_at: string | null }>(
          `SELECT alg, public_key, enrolled_at, key_rotated_at, revoked_at FROM agents WHERE id = $1 FOR UPDATE`,
          [request.agentId],
        )
      ).rows[0];
      if (!agent || agent.revoked_at !== null) return false;
      await db.query(
        `INSERT INTO agent_keys (agent_id, alg, public_key, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING`,
        [request.agentId, agent.alg, agent.public_key, agent.key_rotated_at ?? agent.enrolled_at, request.at],
      );
      await db.query('UPDATE agents SET alg = $1, public_key = $2, key_rotated_at = $3 WHERE id = $4', [
        request.alg,
        request.publicKey,
        request.at,
        request.agentId,
      ]);
      return true;
    });
  }

  async listKeys(agentId: string): Promise<AgentKeyRecord[]> {
    // One snapshot for both reads: a rotation in between would show a key twice or not at all.
    return transaction(this.pool, async (db) => {
      await db.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      const old = await db.query<OldKeyRow>(
        `SELECT agent_id, alg, public_key, valid_from, valid_to FROM agent_keys
         WHERE agent_id = $1 ORDER BY valid_from`,
        [agentId],
      );
      const current = (
        await db.query<CurrentKeyRow>(
          'SELECT alg, public_key, enrolled_at, key_rotated_at FROM agents WHERE id = $1',
          [agentId],
        )
      ).rows[0];
      return current ? toKeyHistory(agentId, old.rows, current) : [];
    });
  }

  async setBrokerPasswordHash(agentId: string, passwordHash: string): Promise<void> {
    await this.pool.query('UPDATE agents SET broker_password_hash = $1 WHERE id = $2', [
      passwordHash,
      agentId,
    ]);
  }

  async listBrokerAccounts(): Promise<BrokerAccount[]> {
    const { rows } = await this.pool.query<{
      id: string;
      broker_password_hash: string | null;
      revoked_at: string | null;
    }>('SELECT id, broker_password_hash, revoked_at FROM agents ORDER BY id COLLATE "C"');
    return rows.map(toBrokerAccount);
  }

  async listRevokedSince(since: string): Promise<{ agentId: string; revokedAt: string }[]> {
    const { rows } = await this.pool.query<{ id: string; revoked_at: string }>(
      'SELECT id, revoked_at FROM agents WHERE revoked_at >= $1 ORDER BY revoked_at, id COLLATE "C"',
      [since],
    );
    return rows.map((r) => ({ agentId: r.id, revokedAt: r.revoked_at }));
  }
}
