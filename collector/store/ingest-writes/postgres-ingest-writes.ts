import type { PostgresDatabase } from '../sql/database.js';
import { sql } from '../sql/query.js';
import type { InsertEventResult, NewEvent, RecordedHeartbeat } from '../store.js';
import { EVENT_INSERT_COLUMNS, eventValues, type IngestWrites } from './ingest-writes.js';

const EVENT_COLUMN_COUNT = EVENT_INSERT_COLUMNS.split(',').length;

/** Identifies an (agent, seq) in the maps a batch is matched with. */
const eventKey = (agentId: string, seq: number) => `${agentId}\u0000${seq}`;

/**
 * PostgreSQL's ingest writes, for several collectors sharing one database: one statement per
 * batch, and wherever rows are locked, they are locked in one order, so two collectors' batches
 * cannot deadlock each other.
 */
export class PostgresIngestWrites implements IngestWrites {
  constructor(private readonly db: PostgresDatabase) {}

  /**
   * One statement for the whole batch: rows that are new come back with their ids; for the rest,
   * one more query fetches what is stored under their (agent, seq).
   */
  async insertEvents(events: readonly NewEvent[]): Promise<InsertEventResult[]> {
    if (events.length === 0) return [];
    const params: unknown[] = [];
    // Rows go in (agent, seq) order: two collectors inserting overlapping batches then take the
    // unique-index locks in the same order and cannot deadlock each other.
    const ordered = [...events].sort((a, b) =>
      a.agentId === b.agentId ? a.seq - b.seq : a.agentId < b.agentId ? -1 : 1,
    );
    const tuples = ordered.map((event, i) => {
      params.push(...eventValues(event, event.skewed));
      const base = i * EVENT_COLUMN_COUNT;
      return `(${Array.from({ length: EVENT_COLUMN_COUNT }, (_, c) => `$${base + c + 1}`).join(', ')})`;
    });
    const inserted = await this.db.pool.query<{ id: number; agent_id: string; seq: number }>(
      `INSERT INTO events (${EVENT_INSERT_COLUMNS})
       VALUES ${tuples.join(', ')}
       ON CONFLICT (agent_id, seq) DO NOTHING
       RETURNING id, agent_id, seq`,
      params,
    );
    const ids = new Map(inserted.rows.map((r) => [eventKey(r.agent_id, r.seq), r.id]));
    const results: (InsertEventResult | undefined)[] = [];
    const missing: { agentId: string; seq: number }[] = [];
    for (const event of events) {
      const key = eventKey(event.agentId, event.seq);
      const id = ids.get(key);
      // A batch naming one (agent, seq) twice inserts it once; the second sees it as stored.
      if (id !== undefined) {
        ids.delete(key);
        results.push({ outcome: 'inserted', id });
      } else {
        results.push(undefined);
        missing.push({ agentId: event.agentId, seq: event.seq });
      }
    }
    if (missing.length > 0) await this.fillStored(events, results, missing);
    return results as InsertEventResult[];
  }

  /** The stored envelopes of the batch's events that were not inserted, into their places. */
  private async fillStored(
    events: readonly NewEvent[],
    results: (InsertEventResult | undefined)[],
    missing: { agentId: string; seq: number }[],
  ): Promise<void> {
    const { rows } = await this.db.pool.query<{ agent_id: string; seq: number; envelope: string }>(
      `SELECT e.agent_id, e.seq, e.envelope FROM events e
       JOIN UNNEST($1::text[], $2::bigint[]) AS m (agent_id, seq) ON e.agent_id = m.agent_id AND e.seq = m.seq`,
      [missing.map((m) => m.agentId), missing.map((m) => m.seq)],
    );
    const stored = new Map(rows.map((r) => [eventKey(r.agent_id, r.seq), r.envelope]));
    events.forEach((event, i) => {
      if (results[i] !== undefined) return;
      const envelope = stored.get(eventKey(event.agentId, event.seq));
      if (envelope === undefined)
        throw new Error(`event ${event.agentId} ${event.seq} neither inserted nor stored`);
      results[i] = { outcome: 'exists', envelope };
    });
  }

  async recordHeartbeats(heartbeats: readonly RecordedHeartbeat[]): Promise<void> {
    if (heartbeats.length === 0) return;
    const ids = heartbeats.map((h) => h.agentId);
    await this.db.transaction(async (tx) => {
      // The rows are locked first, in id order, before any is updated: collectors sharing the
      // database then take them in one order and two batches cannot deadlock (in one UPDATE …
      // FROM they did). NO KEY UPDATE is the lock an UPDATE takes anyway; unlike FOR UPDATE it
      // lets event inserts (whose foreign key takes KEY SHARE on the agent) pass.
      await tx.run(sql`SELECT 1 FROM agents WHERE id = ANY(${ids}::text[]) ORDER BY id FOR NO KEY UPDATE`);
      // One row per agent: an UPDATE … FROM changes a row once.
      await tx.run(
        sql`UPDATE agents SET last_seen = GREATEST(COALESCE(agents.last_seen, ''), h.at), online = TRUE,
              reported_seq = GREATEST(agents.reported_seq, h.reported_seq)
            FROM (
              SELECT agent_id, MAX(at COLLATE "C") AS at, MAX(reported_seq) AS reported_seq
              FROM UNNEST(${ids}::text[], ${heartbeats.map((h) => h.at)}::text[],
                ${heartbeats.map((h) => h.reportedSeq)}::bigint[]) AS t (agent_id, at, reported_seq)
              GROUP BY agent_id
            ) AS h
            WHERE agents.id = h.agent_id`,
      );
    });
  }

  /**
   * One statement, one round trip: rows after the watermark whose seq minus their rank equals the
   * watermark form the contiguous run. GREATEST and the guard keep it monotonic when another
   * collector moved it meanwhile (the row lock orders the two updates).
   */
  async advanceAckedSeq(agentId: string): Promise<number> {
    const { rows } = await this.db.pool.query<{ acked: number | null }>(
      `WITH cur AS (SELECT acked_seq FROM agents WHERE id = $1),
       run AS (
         SELECT MAX(s.seq) AS top FROM (
           SELECT seq, seq - ROW_NUMBER() OVER (ORDER BY seq) AS base
           FROM events WHERE agent_id = $1 AND seq > (SELECT acked_seq FROM cur)
         ) s WHERE s.base = (SELECT acked_seq FROM cur)
       ),
       moved AS (
         UPDATE agents SET acked_seq = GREATEST(acked_seq, (SELECT top FROM run))
         WHERE id = $1 AND acked_seq < (SELECT top FROM run)
         RETURNING acked_seq
       )
       SELECT COALESCE((SELECT acked_seq FROM moved), (SELECT top FROM run), (SELECT acked_seq FROM cur)) AS acked`,
      [agentId],
    );
    return rows[0]?.acked ?? 0;
  }
}
