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
 */
export class PostgresLivenessUpdater implements LivenessUpdater {
  constructor(private readonly db: PostgresDatabase) {}

  async updateLiveness(agentId: string, change: LivenessChange): Promise<void> {
    await this.db.transaction(async (tx) => {
      // An advisory lock, not FOR UPDATE: it also orders collectors judging an agent with no row yet.
      await tx.run(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`smew.liveness:${agentId}`}, 0))`);
      const next = await change(await tx.get<LivenessRecord>(selectLiveness(agentId)));
      if (next) await tx.run(upsertLiveness(next));
    });
  }

  async updateLivenessMany(agentIds: readonly string[], change: LivenessBatchChange): Promise<void> {
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
