import type { SqliteDatabase } from '../sql/database.js';
import type { InsertEventResult, NewEvent, RecordedHeartbeat } from '../store.js';
import { EVENT_INSERT_COLUMNS, eventValues, type IngestWrites } from './ingest-writes.js';

/** How many stored seqs beyond the watermark one step of advanceAckedSeq reads. */
const WATERMARK_PAGE = 512;

const INSERT_EVENT = `INSERT INTO events (${EVENT_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (agent_id, seq) DO NOTHING`;
const STORED_ENVELOPE = 'SELECT envelope FROM events WHERE agent_id = ? AND seq = ?';
const RECORD_HEARTBEAT = `UPDATE agents SET last_seen = MAX(COALESCE(last_seen, ''), ?), online = 1,
  reported_seq = MAX(reported_seq, ?) WHERE id = ?`;
const WATERMARK = 'SELECT acked_seq FROM agents WHERE id = ?';
const SEQS_AFTER = 'SELECT seq FROM events WHERE agent_id = ? AND seq > ? ORDER BY seq LIMIT ?';
const MOVE_WATERMARK = 'UPDATE agents SET acked_seq = ? WHERE id = ?';

/**
 * SQLite's ingest writes: each batch is synchronous work in one IMMEDIATE transaction (no await
 * inside, so nothing interleaves and no promise per statement) over statements prepared once.
 */
export class SqliteIngestWrites implements IngestWrites {
  constructor(private readonly db: SqliteDatabase) {}

  async insertEvents(events: readonly NewEvent[]): Promise<InsertEventResult[]> {
    return this.db.syncTransaction(() => events.map((event) => this.insertOne(event)));
  }

  private insertOne(event: NewEvent): InsertEventResult {
    const result = this.db.prepare(INSERT_EVENT).run(...eventValues(event, event.skewed ? 1 : 0));
    if (result.changes === 1) return { outcome: 'inserted', id: Number(result.lastInsertRowid) };
    const stored = this.db.prepare(STORED_ENVELOPE).get(event.agentId, event.seq) as { envelope: string };
    return { outcome: 'exists', envelope: stored.envelope };
  }

  async recordHeartbeats(heartbeats: readonly RecordedHeartbeat[]): Promise<void> {
    const update = this.db.prepare(RECORD_HEARTBEAT);
    await this.db.syncTransaction(() => {
      for (const h of heartbeats) update.run(h.at, h.reportedSeq, h.agentId);
    });
  }

  async advanceAckedSeq(agentId: string): Promise<number> {
    return this.db.syncTransaction((): number => {
      const agent = this.db.prepare(WATERMARK).get(agentId) as { acked_seq: number } | undefined;
      if (!agent) return 0;
      let watermark = agent.acked_seq;
      const page = this.db.prepare(SEQS_AFTER);
      for (;;) {
        const seqs = (page.all(agentId, watermark, WATERMARK_PAGE) as { seq: number }[]).map((r) => r.seq);
        let contiguous = 0;
        while (contiguous < seqs.length && seqs[contiguous] === watermark + 1) {
          watermark += 1;
          contiguous += 1;
        }
        if (contiguous < WATERMARK_PAGE) break;
      }
      if (watermark !== agent.acked_seq) this.db.prepare(MOVE_WATERMARK).run(watermark, agentId);
      return watermark;
    });
  }
}
