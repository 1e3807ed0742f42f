import type { SignatureAlg } from '../../shared/crypto/suite.js';
import type { AgentKeyRecord, BrokerAccount, DeclaredDrop, LivenessRecord } from './transport-store.js';

/** Transport rows as both SQL stores read them, and their mapping to records. */
export interface LivenessRow {
  agent_id: string;
  interval_ms: number;
  last_heartbeat_at: string | null;
  will_at: string | null;
  reported_seq: number;
  offline_since: string | null;
  gap_since: string | null;
  gap_watermark: number;
  lost_since: string | null;
}

export function toLiveness(row: LivenessRow): LivenessRecord {
  return {
    agentId: row.agent_id,
    intervalMs: row.interval_ms,
    lastHeartbeatAt: row.last_heartbeat_at,
    willAt: row.will_at,
    reportedSeq: row.reported_seq,
    offlineSince: row.offline_since,
    gapSince: row.gap_since,
    gapWatermark: row.gap_watermark,
    lostSince: row.lost_since,
  };
}

/** The record's values in LIVENESS_COLUMNS order. */
export function livenessValues(r: LivenessRecord): unknown[] {
  return [
    r.agentId,
    r.intervalMs,
    r.lastHeartbeatAt,
    r.willAt,
    r.reportedSeq,
    r.offlineSince,
    r.gapSince,
    r.gapWatermark,
    r.lostSince,
  ];
}

export const LIVENESS_COLUMNS = `agent_id, interval_ms, last_heartbeat_at, will_at, reported_seq,
  offline_since, gap_since, gap_watermark, lost_since`;

/** `SET` list of an upsert replacing every liveness column with the incoming row's. */
export const LIVENESS_UPSERT = `interval_ms = excluded.interval_ms,
  last_heartbeat_at = excluded.last_heartbeat_at, will_at = excluded.will_at,
  reported_seq = excluded.reported_seq, offline_since = excluded.offline_since,
  gap_since = excluded.gap_since, gap_watermark = excluded.gap_watermark,
  lost_since = excluded.lost_since`;

export interface DeclaredDropRow {
  agent_id: string;
  from_seq: number;
  to_seq: number;
  declared_by_seq: number;
}

export function toDeclaredDrop(r: DeclaredDropRow): DeclaredDrop {
  return { agentId: r.agent_id, fromSeq: r.from_seq, toSeq: r.to_seq, declaredBySeq: r.declared_by_seq };
}

export interface OldKeyRow {
  agent_id: string;
  alg: SignatureAlg;
  public_key: string;
  valid_from: string;
  valid_to: string;
}

export interface CurrentKeyRow {
  alg: SignatureAlg;
  public_key: string;
  enrolled_at: string;
  key_rotated_at: string | null;
}

/** The agent's keys oldest first: those rotated away, then the current one (open-ended). */
export function toKeyHistory(
  agentId: string,
  old: readonly OldKeyRow[],
  current: CurrentKeyRow,
): AgentKeyRecord[] {
  return [
    ...old.map((r) => ({
      agentId: r.agent_id,
      alg: r.alg,
      publicKey: r.public_key,
      validFrom: r.valid_from,
      validTo: r.valid_to as string | null,
    })),
    {
      agentId,
      alg: current.alg,
      publicKey: current.public_key,
      validFrom: current.key_rotated_at ?? current.enrolled_at,
      validTo: null,
    },
  ];
}

export function toBrokerAccount(r: {
  id: string;
  broker_password_hash: string | null;
  revoked_at: string | null;
}): BrokerAccount {
  return { agentId: r.id, passwordHash: r.broker_password_hash, revoked: r.revoked_at !== null };
}

/**
 * The rows listLivenessToJudge returns, as a WHERE condition on agent_liveness `l` joined to
 * agents `a`; `SILENT` is the store's own test that the agent was silent (nearly) long enough.
 * Mirrors collector/liveness/assess.ts: offline by Last Will or silence, a gap while online, gap
 * fields to reset. An offline agent's gap waits for its return, so it is not listed.
 */
export function livenessToJudgeCondition(silent: string): string {
  return `a.revoked_at IS NULL AND (
    (l.offline_since IS NULL AND (
      (l.will_at IS NOT NULL AND (l.last_heartbeat_at IS NULL OR l.will_at >= l.last_heartbeat_at))
      OR (l.last_heartbeat_at IS NOT NULL AND ${silent})
      OR l.reported_seq > a.acked_seq))
    OR (l.reported_seq <= a.acked_seq
      AND (l.gap_since IS NOT NULL OR l.gap_watermark <> a.acked_seq OR l.lost_since IS NOT NULL)))`;
}

/** Silence within this of the missed-heartbeat limit is listed too: the sweep decides exactly. */
export const SILENCE_SLACK_MS = 1000;
