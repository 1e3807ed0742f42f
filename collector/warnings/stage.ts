import type { Clock } from '../../shared/clock.js';
import type { EventEnvelope } from '../../shared/envelope.js';
import type { Logger } from '../../shared/log.js';
import { eachOutcome, type IngestPipeline } from '../ingest/pipeline.js';
import { evaluate, expireWindows, rowsNeeded, type RuleState } from '../rules/evaluate.js';
import type { RuleEvent } from '../rules/match.js';
import type { Rule } from '../rules/schema.js';
import type { NotifyRoute } from '../notify/occasion.js';
import type { Store } from '../store/store.js';
import { conditionSeq } from '../store/warnings/records.js';
import { isRecordOnlyEventType } from '../../shared/events.js';
import { isCollectorConditionType, type CollectorCondition, type ConditionSink } from './conditions.js';
import { runRulesBatch, sweepRuleState, type RulesRunResult } from './rules-batch.js';

/**
 * The rules stage (ingest → store → rules → warnings → notify). It reads stored events past the
 * store's rules cursor, so it needs no message of its own from ingest: a stored event is
 * evaluated exactly once, whether the collector saw it a moment ago or crashed before its turn.
 * Ingest only nudges it (`kick`) so it runs at once; a slow poll covers anything else.
 *
 * It is also the ConditionSink: liveness and the clocks report their conditions here and they go
 * through the same rules, recorded with the evidence they carry.
 */
export interface WarningStageOptions {
  store: Store;
  rules: readonly Rule[];
  clock: Clock;
  logger: Logger;
  /** Which channels hear of a new or re-raised warning (notifyRoute of notify.channels). */
  notify: NotifyRoute;
  /** Told after warnings opened or changed, e.g. to wake the notifier or the live feed. */
  onChange?: (result: RulesRunResult) => void;
  pollMs?: number;
  /** How often expired windows are dropped (housekeeping; evaluation is right without it). */
  sweepMs?: number;
}

const BATCH = 256;

export class WarningStage implements ConditionSink {
  private readonly log: Logger;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly listeners = new Set<(result: RulesRunResult) => void>();

  constructor(private readonly options: WarningStageOptions) {
    this.log = options.logger.child({ component: 'warnings' });
  }

  /** Evaluates what the last run left behind, then keeps up with new events. */
  async start(): Promise<void> {
    await this.drain();
    this.timer = setInterval(() => this.kick(), this.options.pollMs ?? 1000);
    this.timer.unref();
    this.sweeper = setInterval(() => void this.sweep(), this.options.sweepMs ?? 600_000);
    this.sweeper.unref();
  }

  /** Drops threshold and correlation windows whose hits are all too old to count. */
  async sweep(): Promise<number> {
    try {
      const now = this.options.clock.now();
      return await sweepRuleState(this.options.store.warnings, (state) =>
        expireWindows(state, this.options.rules, now),
      );
    } catch (err) {
      this.log.warn({ err }, 'rule-state sweep failed');
      return 0;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.sweeper) clearInterval(this.sweeper);
    await this.running;
  }

  /** Calls `listener` after warnings opened or changed (e.g. the dashboard's live feed). */
  subscribe(listener: (result: RulesRunResult) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Wakes the stage after ingest stored events; runs coalesce, never overlap. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when every event stored so far has been evaluated. */
  async drain(): Promise<void> {
    this.kick();
    while (this.running) await this.running;
  }

  /** Nudges the stage whenever ingest stores a new event (wraps handle, as the live feed does). */
  follow(pipeline: IngestPipeline): void {
    const handle = pipeline.handle.bind(pipeline);
    pipeline.handle = async (topic, payload) => {
      const outcome = await handle(topic, payload);
      let stored = false;
      eachOutcome(outcome, payload, (one) => (stored ||= one.kind === 'event'));
      if (stored) this.kick();
      return outcome;
    };
  }

  async report(condition: CollectorCondition): Promise<void> {
    await this.reportAll([condition]);
  }

  /** Several conditions, in order, through the rules in one transaction (the clocks' batches). */
  async reportAll(conditions: readonly CollectorCondition[]): Promise<void> {
    if (conditions.length === 0) return;
    const { rules, clock, notify } = this.options;
    const now = clock.now();
    const steps = conditions.map((condition) => {
      const event: RuleEvent = {
        envelope: {
          agent: condition.agent ?? '',
          seq: 0,
          ts: condition.at,
          type: condition.type,
          state: condition.state,
          key: condition.key,
          severity: condition.severity,
          data: condition.data,
        },
        unit: condition.unit,
      };
      return {
        input: { kind: 'condition' as const, condition, needed: rowsNeeded(event, rules) },
        evaluate: (state: RuleState, conditionId: number | undefined) =>
          evaluate(
            state,
            { ...event, envelope: { ...event.envelope, seq: conditionSeq(conditionId!) } },
            rules,
            now,
          ),
      };
    });
    const results = await runRulesBatch(this.options.store.warnings, steps, {
      now: now.toISOString(),
      notify,
    });
    this.changed(mergeResults(results));
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        while (!this.stopped) {
          const batch = await this.options.store.warnings.eventsAfterRulesCursor(BATCH);
          await this.evaluateStored(batch);
          if (batch.length < BATCH) break;
        }
      } catch (err) {
        // The cursor did not move past the failed event: the next kick or poll tries it again.
        this.log.error({ err }, 'rules stage failed');
        return;
      }
    } while (this.again && !this.stopped);
  }

  private async evaluateStored(rows: { id: number; unit: string; envelope: string }[]): Promise<void> {
    if (rows.length === 0) return;
    const { rules, clock, notify, store } = this.options;
    const now = clock.now();
    const steps = rows.map((row) => {
      const envelope = JSON.parse(row.envelope) as EventEnvelope;
      const event: RuleEvent = { eventId: row.id, envelope, unit: row.unit };
      // Collector conditions come only from the collector: an agent naming one is not believed.
      // A record-only event (the inventory) updates the register and is never a warning, whatever a rule says.
      const applicable =
        isCollectorConditionType(envelope.type) || isRecordOnlyEventType(envelope.type) ? [] : rules;
      return {
        input: { kind: 'event' as const, eventId: row.id, needed: rowsNeeded(event, applicable) },
        evaluate: (state: RuleState) => evaluate(state, event, applicable, now),
      };
    });
    const results = await runRulesBatch(store.warnings, steps, { now: now.toISOString(), notify });
    this.changed(mergeResults(results));
  }

  private changed(result: RulesRunResult): void {
    if (result.opened.length === 0 && result.updated.length === 0) return;
    if (result.opened.length > 0) this.log.info({ opened: result.opened }, 'warnings opened');
    const listeners = [...(this.options.onChange ? [this.options.onChange] : []), ...this.listeners];
    for (const listener of listeners) {
      try {
        listener(result);
      } catch (err) {
        this.log.warn({ err }, 'a warnings listener failed');
      }
    }
  }
}

/** One batch's results as one: every warning opened, and the others changed, each named once. */
function mergeResults(results: readonly (RulesRunResult | undefined)[]): RulesRunResult {
  const opened = results.flatMap((r) => r?.opened ?? []);
  const updated = [...new Set(results.flatMap((r) => r?.updated ?? []))].filter((id) => !opened.includes(id));
  return { opened, updated };
}
