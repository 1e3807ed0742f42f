import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import { Batcher } from '../ingest/batcher.js';
import { HEARTBEAT_LINGER_MS } from '../ingest/heartbeat-writer.js';
import type { Store } from '../store/store.js';
import type { LivenessRecord } from '../store/transport/transport-store.js';
import type { CollectorCondition, ConditionSink } from '../warnings/conditions.js';
import { assess, onHeartbeat, onOfflineStatus, type LivenessChange, type LivenessPolicy } from './assess.js';

/**
 * Liveness at the collector (issue 4): an agent is offline after `missedHeartbeats` missed
 * heartbeats or its Last Will, and a gap between the seq its heartbeats report and the stored
 * watermark that stands still for `lostGraceMs` is a loss. Each change is reported to the
 * ConditionSink (`agent.offline`, `agent.events.lost`, raised and cleared). The state lives in
 * the store, so a restarted collector neither forgets an open condition nor raises it twice.
 */
export interface LivenessOptions extends LivenessPolicy {
  store: Store;
  sink: ConditionSink;
  clock: Clock;
  logger: Logger;
  /** Used until an agent announces its heartbeat interval. */
  defaultIntervalMs: number;
  /** How often check() runs on its own once start() is called. */
  checkIntervalMs: number;
}

interface HeartbeatStep {
  agentId: string;
  at: string;
  lastSeq: number;
  intervalMs?: number;
}

/** Whether two records hold the same values (a sweep compares 100 000 of them every few seconds). */
function sameLiveness(a: LivenessRecord, b: LivenessRecord): boolean {
  return (
    a.agentId === b.agentId &&
    a.intervalMs === b.intervalMs &&
    a.lastHeartbeatAt === b.lastHeartbeatAt &&
    a.willAt === b.willAt &&
    a.reportedSeq === b.reportedSeq &&
    a.offlineSince === b.offlineSince &&
    a.gapSince === b.gapSince &&
    a.gapWatermark === b.gapWatermark &&
    a.lostSince === b.lostSince
  );
}

export class LivenessMonitor {
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();
  /** Heartbeat and Last Will steps under way, for stop() to wait for. */
  private readonly steps = new Set<Promise<void>>();
  private readonly log: Logger;
  /** Heartbeats waiting to be judged with the others of their turn; each answers its failure, if any. */
  private readonly heartbeats = new Batcher<HeartbeatStep, Error | undefined>(
    (steps) => this.judgeHeartbeats(steps),
    { lingerMs: HEARTBEAT_LINGER_MS },
  );

  constructor(private readonly options: LivenessOptions) {
    this.log = options.logger.child({ component: 'liveness' });
  }

  /**
   * A verified heartbeat. Judged at once, not behind a sweep of the whole fleet: the heartbeats
   * of one turn are judged together (one read and one write of their rows, updateLivenessMany,
   * which keeps every other update of those rows out of the way), and the promise settles when
   * this one's judgement is stored — so the agent's next message comes after it.
   */
  async heartbeat(
    agentId: string,
    heartbeat: { at: string; lastSeq: number; intervalMs?: number },
  ): Promise<void> {
    await this.logged(
      this.heartbeats.add({ agentId, ...heartbeat }).then((failure) => {
        if (failure) throw failure;
      }),
    );
  }

  /**
   * Judges a batch of heartbeats in arrival order (an agent's second heartbeat sees its first).
   * A report that fails leaves that agent's row as it was and fails its heartbeats only: a
   * change is stored only once it has been reported.
   */
  private async judgeHeartbeats(steps: readonly HeartbeatStep[]): Promise<(Error | undefined)[]> {
    const outcomes: (Error | undefined)[] = steps.map(() => undefined);
    await this.options.store.transport.updateLivenessMany(
      steps.map((s) => s.agentId),
      async (previous) => {
        const records = new Map(previous);
        const judged = new Set<string>();
        const failed = new Map<string, Error>();
        for (const [i, step] of steps.entries()) {
          const failure = failed.get(step.agentId);
          if (failure) {
            outcomes[i] = failure;
            continue;
          }
          const { record, changes } = onHeartbeat(
            records.get(step.agentId),
            step.agentId,
            { at: step.at, lastSeq: step.lastSeq, intervalMs: step.intervalMs },
            this.options.defaultIntervalMs,
          );
          try {
            await this.report(step.agentId, changes, step.at);
          } catch (err) {
            const error = err instanceof Error ? err : new Error(String(err));
            outcomes[i] = error;
            failed.set(step.agentId, error);
            continue;
          }
          records.set(step.agentId, record);
          judged.add(step.agentId);
        }
        // What was reported is stored; a failed step leaves the agent's row as its last good one.
        return [...judged].map((agentId) => records.get(agentId)!);
      },
    );
    return outcomes;
  }

  /** The agent's status topic said `offline`: judged at once. */
  async offline(agentId: string, at: string): Promise<void> {
    const { store, clock } = this.options;
    await this.logged(
      store.transport.updateLiveness(agentId, async (previous) => {
        const agent = await store.getAgent(agentId);
        const record = onOfflineStatus(previous, agentId, at, this.options.defaultIntervalMs);
        if (!agent || agent.revokedAt !== null) return record;
        // Judged at once, this agent only: a storm of Last Wills must not become a storm of sweeps.
        return (await this.judge(record, agent.ackedSeq, clock.now())) ?? record;
      }),
    );
  }

  /** Looks at every agent once. Runs one at a time; a failure is logged and retried next time. */
  check(): Promise<void> {
    return this.serial(async () => {
      const { store, clock } = this.options;
      const now = clock.now();
      const due = await store.transport.listLivenessToJudge({
        now: now.toISOString(),
        missedHeartbeats: this.options.missedHeartbeats,
      });
      for (const { record: listed, ackedSeq } of due) {
        const { record: next } = assess(listed, ackedSeq, now, this.options);
        if (sameLiveness(next, listed)) continue;
        // Judged again on the row as it is now: another collector may have moved it since the list.
        await store.transport.updateLiveness(listed.agentId, async (record) => {
          if (!record) return undefined;
          const fresh = (await store.getAgent(listed.agentId))?.ackedSeq ?? ackedSeq;
          return this.judge(record, fresh, now);
        });
      }
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.options.checkIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([this.checking, ...this.steps]);
  }

  /** The record as `now` finds it, after reporting what changed; undefined when nothing did. */
  private async judge(
    record: LivenessRecord,
    ackedSeq: number,
    now: Date,
  ): Promise<LivenessRecord | undefined> {
    const judged = assess(record, ackedSeq, now, this.options);
    if (judged.changes.length === 0 && sameLiveness(judged.record, record)) return undefined;
    await this.report(record.agentId, judged.changes, now.toISOString());
    return judged.record;
  }

  /** Reports before the state is stored: a crash between the two repeats a report, never loses one. */
  private async report(agentId: string, changes: readonly LivenessChange[], at: string): Promise<void> {
    if (changes.length === 0) return;
    const agent = await this.options.store.getAgent(agentId);
    if (!agent) return;
    for (const change of changes) {
      const condition: CollectorCondition = {
        type: change.type,
        state: change.state,
        key: `${change.type}:${agentId}`,
        unit: agent.unit,
        agent: agentId,
        // A silenced agent can be a tampered one; lost evidence is as serious.
        severity: 'high',
        data: { ...change.data, hostname: agent.hostname },
        at,
      };
      await this.options.sink.report(condition);
      this.log.info(
        { agent: agentId, type: change.type, state: change.state, data: change.data },
        'liveness condition',
      );
    }
  }

  /** Sweeps run one at a time. */
  private serial(work: () => Promise<void>): Promise<void> {
    const next = this.logged(this.checking.then(work));
    this.checking = next;
    return next;
  }

  private logged(step: Promise<void>): Promise<void> {
    const settled = step.catch((err: unknown) => {
      this.log.error({ err }, 'liveness step failed; it is retried at the next check');
    });
    this.steps.add(settled);
    void settled.then(() => this.steps.delete(settled));
    return settled;
  }
}
