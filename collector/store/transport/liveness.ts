import { raw, sql, type Query } from '../sql/query.js';
import type { LivenessRecord, TransportStore } from './transport-store.js';

/**
 * How a database keeps every other update of an agent's liveness out while a judgement runs
 * between the read and the write (updateLiveness and updateLivenessMany of TransportStore): the
 * one part of the transport store each database does its own way.
 */
export type LivenessUpdater = Pick<TransportStore, 'updateLiveness' | 'updateLivenessMany'>;

/** The judgement of updateLiveness: the record to store, or nothing. */
export type LivenessChange = (previous: LivenessRecord | undefined) => Promise<LivenessRecord | undefined>;

/** The judgement of updateLivenessMany: the records to store. */
export type LivenessBatchChange = (
  previous: ReadonlyMap<string, LivenessRecord>,
) => Promise<readonly LivenessRecord[]>;

export const LIVENESS_COLUMNS = raw(`agent_id, interval_ms, last_heartbeat_at, will_at, reported_seq,
  offline_since, gap_since, gap_watermark, lost_since`);

/** agent_liveness `l` read back under the record's field names, so a row is the record. */
export const LIVENESS_FIELDS = raw(`l.agent_id AS "agentId", l.interval_ms AS "intervalMs",
  l.last_heartbeat_at AS "lastHeartbeatAt", l.will_at AS "willAt", l.reported_seq AS "reportedSeq",
  l.offline_since AS "offlineSince", l.gap_since AS "gapSince", l.gap_watermark AS "gapWatermark",
  l.lost_since AS "lostSince"`);

/** The conflict clause of an upsert replacing every liveness column with the incoming row's. */
export const REPLACE_LIVENESS = sql`ON CONFLICT (agent_id) DO UPDATE SET interval_ms = excluded.interval_ms,
  last_heartbeat_at = excluded.last_heartbeat_at, will_at = excluded.will_at,
  reported_seq = excluded.reported_seq, offline_since = excluded.offline_since,
  gap_since = excluded.gap_since, gap_watermark = excluded.gap_watermark,
  lost_since = excluded.lost_since`;

export function selectLiveness(agentId: string): Query {
  return sql`SELECT ${LIVENESS_FIELDS} FROM agent_liveness l WHERE l.agent_id = ${agentId}`;
}

/** Creates or replaces the agent's liveness row. */
export function upsertLiveness(r: LivenessRecord): Query {
  return sql`INSERT INTO agent_liveness (${LIVENESS_COLUMNS})
    VALUES (${r.agentId}, ${r.intervalMs}, ${r.lastHeartbeatAt}, ${r.willAt}, ${r.reportedSeq},
            ${r.offlineSince}, ${r.gapSince}, ${r.gapWatermark}, ${r.lostSince})
    ${REPLACE_LIVENESS}`;
}
