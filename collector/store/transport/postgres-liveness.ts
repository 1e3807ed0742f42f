import type { PostgresDatabase } from '../sql/database.js';
import { sql } from '../sql/query.js';
import {
  LIVENESS_COLUMNS,
  LIVENESS_FIELDS,
  REPLACE_LIVENESS,
  selectLiveness,
  upsertLiveness,
  type LivenessBatchChange,
  type LivenessChange,
  type LivenessUpdater,
} from './liveness.js';
import type { LivenessRecord } from './transport-store.js';

/**
 * Liveness updates on PostgreSQL, where several collectors judge the same agents: each holds a
 * transaction-scoped advisory lock per agent while its judgement runs, so no collector writes
 * back a stale heartbeat (and raises a false `agent.offline`) over another's.
 *
 * A judgement reports (reads the agent, opens warnings) through the pool while its transaction
 * holds a connection of that pool. So one judgement runs at a time in a collector: with several
 * (a reconnect storm of statuses and heartbeats after a broker node died), they held every
 * connection and each waited for one more until pg-pool's connect timeout failed them all, the
 * ingest with them (issue 20).
 */
export class PostgresLivenessUpdater implements LivenessUpdater {
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly db: PostgresDatabase) {}

  /** Runs `work` after every judgement started before it has ended. */
  private oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const mine = this.turn.then(work, work);
    this.turn = mine.catch(() => undefined);
    return mine;
  }

  async updateLiveness(agentId: string, change: LivenessChange): Promise<void> {
    await this.oneAtATime(() => this.judgeOne(agentId, change));
  }

  async updateLivenessMany(agentIds: readonly string[], change: LivenessBatchChange): Promise<void> {
    await this.oneAtATime(() => this.judgeMany(agentIds, change));
  }

  private async judgeOne(agentId: string, change: LivenessChange): Promise<void> {
    await this.db.transaction(async (tx) => {
      // An advisory lock, not FOR UPDATE: it also orders collectors judging an agent with no row yet.
      await tx.run(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`smew.liveness:${agentId}`}, 0))`);
      const next = await change(await tx.get<LivenessRecord>(selectLiveness(agentId)));
      if (next) await tx.run(upsertLiveness(next));
    });
  }

  private async judgeMany(agentIds: readonly string[], change: LivenessBatchChange): Promise<void> {
    const ids = [...new Set(agentIds)];
    if (ids.length === 0) return;
    await this.db.transaction(async (tx) => {
      // updateLiveness's locks, taken in one order (by key) so two collectors' batches cannot deadlock.
      await tx.run(
        sql`SELECT pg_advisory_xact_lock(k) FROM (
              SELECT DISTINCT hashtextextended('smew.liveness:' || id, 0) AS k FROM UNNEST(${ids}::text[]) AS id
              ORDER BY k) AS keys`,
      );
      const rows = await tx.all<LivenessRecord>(
        sql`SELECT ${LIVENESS_FIELDS} FROM agent_liveness l WHERE l.agent_id = ANY(${ids}::text[])`,
      );
      const next = await change(new Map(rows.map((row) => [row.agentId, row])));
      // One row per agent (the last record given wins): one statement may not update a row twice.
      const records = [...new Map(next.map((r) => [r.agentId, r])).values()];
      if (records.length === 0) return;
      const column = <K extends keyof LivenessRecord>(key: K) => records.map((r) => r[key]);
      await tx.run(
        sql`INSERT INTO agent_liveness (${LIVENESS_COLUMNS})
            SELECT * FROM UNNEST(${column('agentId')}::text[], ${column('intervalMs')}::bigint[],
              ${column('lastHeartbeatAt')}::text[], ${column('willAt')}::text[], ${column('reportedSeq')}::bigint[],
              ${column('offlineSince')}::text[], ${column('gapSince')}::text[], ${column('gapWatermark')}::bigint[],
              ${column('lostSince')}::text[])
            ${REPLACE_LIVENESS}`,
      );
    });
  }
}
