import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { Store } from '../store/store.js';
import type { LivenessRecord } from '../store/transport-store.js';
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

export class LivenessMonitor {
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();
  /** Heartbeat and Last Will steps under way, for stop() to wait for. */
  private readonly steps = new Set<Promise<void>>();
  private readonly log: Logger;

  constructor(private readonly options: LivenessOptions) {
    this.log = options.logger.child({ component: 'liveness' });
  }

  /**
   * A verified heartbeat. Judged at once, not behind a sweep of the whole fleet: the store makes
   * each agent's read-judge-write one turn (updateLiveness), so nothing else needs ordering.
   */
  async heartbeat(
    agentId: string,
    heartbeat: { at: string; lastSeq: number; intervalMs?: number },
  ): Promise<void> {
    await this.logged(
      this.options.store.transport.updateLiveness(agentId, async (previous) => {
        const { record, changes } = onHeartbeat(
          previous,
          agentId,
          { at: heartbeat.at, lastSeq: heartbeat.lastSeq, intervalMs: heartbeat.intervalMs },
          this.options.defaultIntervalMs,
        );
        await this.report(agentId, changes, heartbeat.at);
        return record;
      }),
    );
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
      const agents = new Map((await store.listAgents({})).map((a) => [a.id, a]));
      for (const listed of await store.transport.listLiveness()) {
        const agent = agents.get(listed.agentId);
        if (!agent || agent.revokedAt !== null) continue;
        const { record: next } = assess(listed, agent.ackedSeq, now, this.options);
        if (JSON.stringify(next) === JSON.stringify(listed)) continue;
        // Judged again on the row as it is now: another collector may have moved it since the list.
        await store.transport.updateLiveness(agent.id, async (record) => {
          if (!record) return undefined;
          const fresh = (await store.getAgent(agent.id))?.ackedSeq ?? agent.ackedSeq;
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
    if (judged.changes.length === 0 && JSON.stringify(judged.record) === JSON.stringify(record))
      return undefined;
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
