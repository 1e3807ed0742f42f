import type { SqliteDatabase } from '../sql/database.js';
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
 * Liveness updates in flight per database file: a judgement awaits the warnings stage, which
 * writes to the store, so no transaction can be held across it; handles on one file in this
 * process take turns instead. (Several collectors share PostgreSQL, never a SQLite file.)
 */
const livenessTurns = new Map<string, Promise<void>>();

export class SqliteLivenessUpdater implements LivenessUpdater {
  constructor(private readonly db: SqliteDatabase) {}

  async updateLiveness(agentId: string, change: LivenessChange): Promise<void> {
    await this.inTurn(async () => {
      const next = await change(await this.db.get<LivenessRecord>(selectLiveness(agentId)));
      if (next) await this.db.run(upsertLiveness(next));
    });
  }

  /**
   * One read and one write for the whole batch, each a single statement over the agents as a JSON
   * array (SQLite's UNNEST): a heartbeat batch costs two statements, not two per agent. When an
   * agent is given twice, the upsert applies its records in order, so the last one stays.
   */
  async updateLivenessMany(agentIds: readonly string[], change: LivenessBatchChange): Promise<void> {
    await this.inTurn(async () => {
      const rows = await this.db.all<LivenessRecord>(
        sql`SELECT ${LIVENESS_FIELDS} FROM agent_liveness l
            WHERE l.agent_id IN (SELECT value FROM json_each(${JSON.stringify([...new Set(agentIds)])}))`,
      );
      const next = await change(new Map(rows.map((row) => [row.agentId, row])));
      if (next.length === 0) return;
      // WHERE TRUE: without it SQLite would read ON CONFLICT as a join constraint of the SELECT.
      await this.db.run(
        sql`INSERT INTO agent_liveness (${LIVENESS_COLUMNS})
            SELECT value ->> 'agentId', value ->> 'intervalMs', value ->> 'lastHeartbeatAt', value ->> 'willAt',
              value ->> 'reportedSeq', value ->> 'offlineSince', value ->> 'gapSince', value ->> 'gapWatermark',
              value ->> 'lostSince'
            FROM json_each(${JSON.stringify(next)}) WHERE TRUE
            ${REPLACE_LIVENESS}`,
      );
    });
  }

  /** Runs `work` when the liveness updates before it on this database file are done. */
  private async inTurn(work: () => Promise<void>): Promise<void> {
    const file = this.db.handle.name;
    const turn = (livenessTurns.get(file) ?? Promise.resolve()).then(work);
    const settled = turn.catch(() => undefined);
    livenessTurns.set(file, settled);
    void settled.then(() => {
      if (livenessTurns.get(file) === settled) livenessTurns.delete(file);
    });
    await turn;
  }
}
