import type { LivenessRecord } from '../store/transport/transport-store.js';

/**
 * The pure part of liveness (SPEC §5, issue 4): from an agent's stored liveness, its watermark
 * and the time, decide whether `agent.offline` or `agent.events.lost` should be raised or
 * cleared. No I/O; the monitor stores the new record and reports the changes.
 */
export interface LivenessPolicy {
  /** Missed heartbeats before an agent is offline (3). */
  missedHeartbeats: number;
  /** How long a gap between the reported seq and the watermark may stand still before it is a loss. */
  lostGraceMs: number;
}

export type LivenessChange =
  | {
      type: 'agent.offline';
      state: 'raised';
      data: { reason: 'last-will' | 'missed-heartbeats'; lastHeartbeatAt: string | null; intervalMs: number };
    }
  | { type: 'agent.offline'; state: 'cleared'; data: { lastHeartbeatAt: string | null } }
  | {
      type: 'agent.events.lost';
      state: 'raised';
      data: { fromSeq: number; toSeq: number; missing: number; since: string };
    }
  | { type: 'agent.events.lost'; state: 'cleared'; data: { watermark: number } };

export interface Assessment {
  record: LivenessRecord;
  changes: LivenessChange[];
}

/** A new heartbeat: the agent is alive; an open offline condition clears. */
export function onHeartbeat(
  previous: LivenessRecord | undefined,
  agentId: string,
  heartbeat: { at: string; lastSeq: number; intervalMs: number | undefined },
  defaultIntervalMs: number,
): Assessment {
  const intervalMs = heartbeat.intervalMs ?? inferInterval(previous, heartbeat.at) ?? defaultIntervalMs;
  const record: LivenessRecord = {
    agentId,
    intervalMs,
    lastHeartbeatAt: heartbeat.at,
    willAt: null,
    reportedSeq: Math.max(previous?.reportedSeq ?? 0, heartbeat.lastSeq),
    offlineSince: null,
    // Back from offline: the backlog is on its way; the gap clock starts afresh.
    gapSince: previous?.offlineSince ? null : (previous?.gapSince ?? null),
    gapWatermark: previous?.gapWatermark ?? 0,
    lostSince: previous?.lostSince ?? null,
  };
  const changes: LivenessChange[] = previous?.offlineSince
    ? [{ type: 'agent.offline', state: 'cleared', data: { lastHeartbeatAt: heartbeat.at } }]
    : [];
  return { record, changes };
}

/** The agent's status topic said `offline` (its Last Will, or a clean stop). */
export function onOfflineStatus(
  previous: LivenessRecord | undefined,
  agentId: string,
  at: string,
  defaultIntervalMs: number,
): LivenessRecord {
  return {
    agentId,
    intervalMs: previous?.intervalMs ?? defaultIntervalMs,
    lastHeartbeatAt: previous?.lastHeartbeatAt ?? null,
    willAt: at,
    reportedSeq: previous?.reportedSeq ?? 0,
    offlineSince: previous?.offlineSince ?? null,
    gapSince: previous?.gapSince ?? null,
    gapWatermark: previous?.gapWatermark ?? 0,
    lostSince: previous?.lostSince ?? null,
  };
}

/** A periodic look at one agent: offline by Last Will or silence; lost events by a gap that stands still. */
export function assess(
  record: LivenessRecord,
  watermark: number,
  now: Date,
  policy: LivenessPolicy,
): Assessment {
  const next = { ...record };
  const changes: LivenessChange[] = [];
  const nowIso = now.toISOString();

  if (next.offlineSince === null) {
    const silentFor = next.lastHeartbeatAt === null ? 0 : now.getTime() - Date.parse(next.lastHeartbeatAt);
    const willAfterHeartbeat =
      next.willAt !== null && (next.lastHeartbeatAt === null || next.willAt >= next.lastHeartbeatAt);
    const missed = next.lastHeartbeatAt !== null && silentFor > policy.missedHeartbeats * next.intervalMs;
    if (willAfterHeartbeat || missed) {
      next.offlineSince = nowIso;
      changes.push({
        type: 'agent.offline',
        state: 'raised',
        data: {
          reason: willAfterHeartbeat ? 'last-will' : 'missed-heartbeats',
          lastHeartbeatAt: next.lastHeartbeatAt,
          intervalMs: next.intervalMs,
        },
      });
    }
  }

  if (next.reportedSeq <= watermark) {
    next.gapSince = null;
    next.gapWatermark = watermark;
    if (next.lostSince !== null) {
      next.lostSince = null;
      changes.push({ type: 'agent.events.lost', state: 'cleared', data: { watermark } });
    }
  } else if (next.offlineSince !== null) {
    // An offline agent cannot fill a gap; its events wait in its outbox. Judge after it returns.
  } else if (next.gapSince === null || watermark > next.gapWatermark) {
    next.gapSince = nowIso;
    next.gapWatermark = watermark;
  } else if (next.lostSince === null && now.getTime() - Date.parse(next.gapSince) >= policy.lostGraceMs) {
    next.lostSince = nowIso;
    changes.push({
      type: 'agent.events.lost',
      state: 'raised',
      data: {
        fromSeq: watermark + 1,
        toSeq: next.reportedSeq,
        missing: next.reportedSeq - watermark,
        since: next.gapSince,
      },
    });
  }
  return { record: next, changes };
}

/** Without an announced interval, the time since the previous heartbeat (when plausible). */
function inferInterval(previous: LivenessRecord | undefined, at: string): number | undefined {
  if (!previous?.lastHeartbeatAt || previous.offlineSince) return undefined;
  const gap = Date.parse(at) - Date.parse(previous.lastHeartbeatAt);
  return gap >= 1000 && gap <= 3_600_000 ? gap : undefined;
}
