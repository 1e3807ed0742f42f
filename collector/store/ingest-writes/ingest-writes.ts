import type { InsertEventResult, NewEvent, RecordedHeartbeat } from '../store.js';

/**
 * The writes ingest makes per message — events, heartbeats, the watermark — which decide its
 * throughput, so each database does them its own fastest way: SQLite synchronously in one
 * IMMEDIATE transaction over cached statements, PostgreSQL in one statement per batch with row
 * locks taken in one order (several collectors share the database).
 */
export interface IngestWrites {
  insertEvents(events: readonly NewEvent[]): Promise<InsertEventResult[]>;
  recordHeartbeats(heartbeats: readonly RecordedHeartbeat[]): Promise<void>;
  advanceAckedSeq(agentId: string): Promise<number>;
}

/** The events columns an insert writes, in the order `eventValues` gives them. */
export const EVENT_INSERT_COLUMNS =
  'agent_id, seq, ts, received_at, type, state, key, severity, data, envelope, skewed';

/** One event's values for EVENT_INSERT_COLUMNS (the flag as the database binds it). */
export function eventValues(event: NewEvent, skewed: number | boolean): unknown[] {
  return [
    event.agentId,
    event.seq,
    event.ts,
    event.receivedAt,
    event.type,
    event.state,
    event.key,
    event.severity,
    JSON.stringify(event.data),
    event.envelope,
    skewed,
  ];
}
