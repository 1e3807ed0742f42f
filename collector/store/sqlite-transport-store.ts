import type Database from 'better-sqlite3';
import type { SignatureAlg } from '../../shared/crypto/suite.js';
import { statementCache } from './sqlite-statements.js';
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
 * Liveness updates in flight per database file: better-sqlite3 cannot hold a transaction across
 * the awaits of a judgement, so handles on one file in this process take turns instead. (Several
 * collectors share PostgreSQL, never a SQLite file.)
 */
const livenessTurns = new Map<string, Promise<void>>();

const GET_LIVENESS = 'SELECT * FROM agent_liveness WHERE agent_id = ?';
const PUT_LIVENESS = `INSERT INTO agent_liveness (${LIVENESS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (agent_id) DO UPDATE SET ${LIVENESS_UPSERT}`;

export class SqliteTransportStore implements TransportStore {
  /** Statements every heartbeat runs are prepared once. */
  private readonly prepared: (sql: string) => Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.prepared = statementCache(db);
  }

  async getLiveness(agentId: string): Promise<LivenessRecord | undefined> {
    const row = this.prepared(GET_LIVENESS).get(agentId) as LivenessRow | undefined;
    return row ? toLiveness(row) : undefined;
  }

  async listLiveness(): Promise<LivenessRecord[]> {
    const rows = this.db.prepare('SELECT * FROM agent_liveness ORDER BY agent_id').all() as LivenessRow[];
    return rows.map(toLiveness);
  }

  async listLivenessToJudge(at: {
    now: string;
    missedHeartbeats: number;
  }): Promise<{ record: LivenessRecord; ackedSeq: number }[]> {
    // julianday() reads the ISO text in C; an unreadable time is listed rather than missed.
    const silent = `(julianday(@now) - julianday(l.last_heartbeat_at)) * 86400000.0
      > @missed * l.interval_ms - ${SILENCE_SLACK_MS} OR julianday(l.last_heartbeat_at) IS NULL`;
    const rows = this.prepared(
      `SELECT l.*, a.acked_seq FROM agent_liveness l JOIN agents a ON a.id = l.agent_id
       WHERE ${livenessToJudgeCondition(`(${silent})`)} ORDER BY l.agent_id`,
    ).all({ now: at.now, missed: at.missedHeartbeats }) as (LivenessRow & { acked_seq: number })[];
    return rows.map((row) => ({ record: toLiveness(row), ackedSeq: row.acked_seq }));
  }

  async putLiveness(r: LivenessRecord): Promise<void> {
    this.prepared(PUT_LIVENESS).run(...livenessValues(r));
  }

  async updateLiveness(
    agentId: string,
    change: (previous: LivenessRecord | undefined) => Promise<LivenessRecord | undefined>,
  ): Promise<void> {
    await this.inTurn(async () => {
      const next = await change(await this.getLiveness(agentId));
      if (next) await this.putLiveness(next);
    });
  }

  async updateLivenessMany(
    agentIds: readonly string[],
    change: (previous: ReadonlyMap<string, LivenessRecord>) => Promise<readonly LivenessRecord[]>,
  ): Promise<void> {
    await this.inTurn(async () => {
      const get = this.prepared(GET_LIVENESS);
      const previous = new Map<string, LivenessRecord>();
      for (const agentId of new Set(agentIds)) {
        const row = get.get(agentId) as LivenessRow | undefined;
        if (row) previous.set(agentId, toLiveness(row));
      }
      const next = await change(previous);
      if (next.length === 0) return;
      const put = this.prepared(PUT_LIVENESS);
      this.db.transaction(() => {
        for (const record of next) put.run(...livenessValues(record));
      })();
    });
  }

  /** Runs `work` when the liveness updates before it on this database file are done. */
  private async inTurn(work: () => Promise<void>): Promise<void> {
    const file = this.db.name;
    const turn = (livenessTurns.get(file) ?? Promise.resolve()).then(work);
    const settled = turn.catch(() => undefined);
    livenessTurns.set(file, settled);
    void settled.then(() => {
      if (livenessTurns.get(file) === settled) livenessTurns.delete(file);
    });
    await turn;
  }

  async addDeclaredDrops(drops: readonly DeclaredDrop[]): Promise<void> {
    const insert = this.db.prepare(
      `INSERT INTO agent_declared_drops (agent_id, from_seq, to_seq, declared_by_seq) VALUES (?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    );
    this.db.transaction(() => {
      for (const d of drops) insert.run(d.agentId, d.fromSeq, d.toSeq, d.declaredBySeq);
    })();
  }

  async skipDeclaredDrops(agentId: string): Promise<number> {
    const skip = this.db.transaction((): number => {
      const agent = this.db.prepare('SELECT acked_seq FROM agents WHERE id = ?').get(agentId) as
        { acked_seq: number } | undefined;
      if (!agent) return 0;
      let watermark = agent.acked_seq;
      const declared = this.db.prepare(
        `SELECT MAX(to_seq) AS to_seq FROM agent_declared_drops
         WHERE agent_id = ? AND from_seq <= ? AND to_seq > ?`,
      );
      const page = this.db.prepare(
        'SELECT seq FROM events WHERE agent_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      );
      for (;;) {
        const range = declared.get(agentId, watermark + 1, watermark) as { to_seq: number | null };
        if (range.to_seq !== null) {
          watermark = range.to_seq;
          continue;
        }
        const seqs = (page.all(agentId, watermark, WATERMARK_PAGE) as { seq: number }[]).map((r) => r.seq);
        let contiguous = 0;
        while (contiguous < seqs.length && seqs[contiguous] === watermark + 1) {
          watermark += 1;
          contiguous += 1;
        }
        if (contiguous === 0) break;
      }
      if (watermark !== agent.acked_seq) {
        this.db
          .prepare('UPDATE agents SET acked_seq = ? WHERE id = ? AND acked_seq < ?')
          .run(watermark, agentId, watermark);
      }
      return watermark;
    });
    return skip.immediate();
  }

  async listDeclaredDrops(agentId: string): Promise<DeclaredDrop[]> {
    const rows = this.db
      .prepare(
        `SELECT agent_id, from_seq, to_seq, declared_by_seq FROM agent_declared_drops
         WHERE agent_id = ? ORDER BY from_seq`,
      )
      .all(agentId) as DeclaredDropRow[];
    return rows.map(toDeclaredDrop);
  }

  async rotateKey(request: {
    agentId: string;
    alg: SignatureAlg;
    publicKey: string;
    at: string;
  }): Promise<boolean> {
    const rotate = this.db.transaction((): boolean => {
      const agent = this.db
        .prepare('SELECT alg, public_key, enrolled_at, key_rotated_at, revoked_at FROM agents WHERE id = ?')
        .get(request.agentId) as
        | {
            alg: string;
            public_key: string;
            enrolled_at: string;
            key_rotated_at: string | null;
            revoked_at: string | null;
          }
        | undefined;
      if (!agent || agent.revoked_at !== null) return false;
      this.db
        .prepare(
          `INSERT INTO agent_keys (agent_id, alg, public_key, valid_from, valid_to) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT DO NOTHING`,
        )
        .run(
          request.agentId,
          agent.alg,
          agent.public_key,
          agent.key_rotated_at ?? agent.enrolled_at,
          request.at,
        );
      this.db
        .prepare('UPDATE agents SET alg = ?, public_key = ?, key_rotated_at = ? WHERE id = ?')
        .run(request.alg, request.publicKey, request.at, request.agentId);
      return true;
    });
    return rotate.immediate();
  }

  async listKeys(agentId: string): Promise<AgentKeyRecord[]> {
    const old = this.db
      .prepare(
        `SELECT agent_id, alg, public_key, valid_from, valid_to FROM agent_keys
         WHERE agent_id = ? ORDER BY valid_from`,
      )
      .all(agentId) as OldKeyRow[];
    const current = this.db
      .prepare('SELECT alg, public_key, enrolled_at, key_rotated_at FROM agents WHERE id = ?')
      .get(agentId) as CurrentKeyRow | undefined;
    return current ? toKeyHistory(agentId, old, current) : [];
  }

  async setBrokerPasswordHash(agentId: string, passwordHash: string): Promise<void> {
    this.db.prepare('UPDATE agents SET broker_password_hash = ? WHERE id = ?').run(passwordHash, agentId);
  }

  async listBrokerAccounts(): Promise<BrokerAccount[]> {
    const rows = this.db
      .prepare('SELECT id, broker_password_hash, revoked_at FROM agents ORDER BY id')
      .all() as { id: string; broker_password_hash: string | null; revoked_at: string | null }[];
    return rows.map(toBrokerAccount);
  }

  async listRevokedSince(since: string): Promise<{ agentId: string; revokedAt: string }[]> {
    const rows = this.db
      .prepare('SELECT id, revoked_at FROM agents WHERE revoked_at >= ? ORDER BY revoked_at')
      .all(since) as { id: string; revoked_at: string }[];
    return rows.map((r) => ({ agentId: r.id, revokedAt: r.revoked_at }));
  }
}
