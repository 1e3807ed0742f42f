import type { SqliteDatabase } from '../sql/database.js';
import {
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

  async updateLivenessMany(agentIds: readonly string[], change: LivenessBatchChange): Promise<void> {
    await this.inTurn(async () => {
      const previous = new Map<string, LivenessRecord>();
      for (const agentId of new Set(agentIds)) {
        const record = await this.db.get<LivenessRecord>(selectLiveness(agentId));
        if (record) previous.set(agentId, record);
      }
      const next = await change(previous);
      if (next.length === 0) return;
      await this.db.transaction(async (tx) => {
        for (const record of next) await tx.run(upsertLiveness(record));
      });
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
