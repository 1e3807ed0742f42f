import { randomBytes } from 'node:crypto';
import cron, { type ScheduledTask } from 'node-cron';
import { addCalendarDays, startOfShanghaiDay } from '../../shared/calendar.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type {
  ClockRecord,
  ClockStore,
  DeadlineRow,
  DeadlineSpec,
  FireDecision,
  FireRecord,
  IncidentRecord,
  SystemRecord,
} from '../store/clocks/clock-store.js';
import type { RectificationRecord } from '../store/rectifications/rectification-store.js';
import type { CollectorCondition, ConditionSink } from '../warnings/conditions.js';
import { rectificationCondition, rectificationDeadlineSpecs } from '../rectifications/rectification-clock.js';
import { type AssessmentDeadlineKind, nextDailyRepeat } from './assessment-schedule.js';
import {
  type ClockOptions,
  clearedCondition,
  incidentChain,
  incidentCondition,
  incidentDeadlineSpecs,
  subjectOf,
  systemCondition,
  systemDeadlineSpecs,
  systemSchedule,
} from './clock-records.js';

/**
 * The one scheduler of the legal clocks. It keeps no timers of its own: every deadline is a row
 * in the store with its due time, and each pass claims the rows that have fallen due since and
 * fires each once (a fire record, unique per row and due time) — a batch of rows per transaction,
 * the claim, the fires and the rows' next states committed together — then delivers the
 * resulting conditions to the ConditionSink. A pass runs at startup — so what fell due while the
 * collector was down fires at once, marked late — then on a node-cron schedule, and after every
 * change to a record.
 */
export interface ClockSchedulerOptions {
  store: ClockStore;
  /** The 整改 items whose deadlines are clock rows too; without it, none are reconciled at start. */
  rectifications?: { list(filter: { open?: boolean }): Promise<RectificationRecord[]> };
  clock: Clock;
  /** Given `reportAll`, a batch's conditions go to it in one call. */
  sink: ConditionSink | BatchConditionSink;
  logger: Logger;
  options: ClockOptions;
  /** A row fired more than this after its due time is marked late (the collector was down). */
  lateAfterMs: number;
  /** Names this process in claims; two collectors on one store never handle a row at once. */
  owner?: string;
  leaseMs?: number;
  /**
   * Rows per transaction. Past a few dozen the cost per row stops falling (test/bench/
   * clocks-pass.bench.ts --batch); 100 keeps each transaction — which on SQLite holds the event
   * loop while it runs, some 15 ms — and its row locks short.
   */
  batch?: number;
}

/**
 * A sink that takes several conditions at once, in order, all or none (one transaction, say):
 * a pass then pays one delivery per batch of fired rows, not one per row.
 */
export interface BatchConditionSink extends ConditionSink {
  reportAll(conditions: readonly CollectorCondition[]): Promise<void>;
}

export interface PassSummary {
  trigger: string;
  at: string;
  fired: number;
  late: number;
  stale: number;
  delivered: number;
  errors: number;
}

export class ClockScheduler {
  private readonly store: ClockStore;
  private readonly rectifications: ClockSchedulerOptions['rectifications'];
  private readonly clock: Clock;
  private readonly sink: ConditionSink | BatchConditionSink;
  private readonly logger: Logger;
  readonly options: ClockOptions;
  private readonly lateAfterMs: number;
  private readonly owner: string;
  private readonly leaseMs: number;
  private readonly batch: number;
  private passes: Promise<unknown> = Promise.resolve();
  private task: ScheduledTask | undefined;

  constructor(options: ClockSchedulerOptions) {
    this.store = options.store;
    this.rectifications = options.rectifications;
    this.clock = options.clock;
    this.sink = options.sink;
    this.logger = options.logger.child({ component: 'clocks' });
    this.options = options.options;
    this.lateAfterMs = options.lateAfterMs;
    this.owner = options.owner ?? `clocks-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    this.batch = options.batch ?? 100;
  }

  now(): Date {
    return this.clock.now();
  }

  /**
   * Starts the clocks: rebuilds every record's rows (a crash between saving a record and its rows
   * loses nothing), runs the catch-up pass, then schedules passes with node-cron.
   */
  async start(schedule: string): Promise<PassSummary> {
    await this.reconcile();
    const summary = await this.runPass('startup');
    const log = this.logger;
    this.task = cron.schedule(schedule, () => this.runPass('cron'), {
      name: 'smew-clocks',
      noOverlap: true,
      // node-cron's own messages (a missed tick under load) go to our log, not the console.
      logger: {
        info: (message) => log.debug(message),
        warn: (message) => log.warn(message),
        error: (message, err) => log.error({ err }, String(message)),
        debug: (message) => log.debug(String(message)),
      },
    });
    return summary;
  }

  async stop(): Promise<void> {
    if (this.task) {
      await this.task.destroy();
      this.task = undefined;
    }
    await this.passes;
  }

  async reconcile(): Promise<void> {
    for (const system of await this.store.listSystems({})) await this.refreshSystem(system);
    for (const incident of await this.store.listIncidents({})) await this.refreshIncident(incident);
    // Closed items have no rows left to want; open ones are rebuilt as the others are.
    for (const item of (await this.rectifications?.list({ open: true })) ?? []) {
      await this.refreshRectification(item);
    }
  }

  /** Brings a system's rows in line with its record; clears what an assessment or decommission resolved. */
  async refreshSystem(record: SystemRecord): Promise<void> {
    const reason = record.status === 'decommissioned' ? 'decommissioned' : 'schedule-changed';
    await this.replace(record, systemDeadlineSpecs(record, this.options), record.unit, reason);
  }

  async refreshIncident(record: IncidentRecord): Promise<void> {
    await this.replace(record, incidentDeadlineSpecs(record, this.options), record.unit, 'reported');
  }

  /** A 整改 item's reminders and overdue warning; closing it clears what they raised. */
  async refreshRectification(record: RectificationRecord): Promise<void> {
    await this.replace(record, rectificationDeadlineSpecs(record), record.unit, 'rectified');
  }

  /** Stores the record's rows, less reminders already overtaken (never stored, so never stale). */
  private async replace(
    record: SystemRecord | IncidentRecord | RectificationRecord,
    specs: DeadlineSpec[],
    unit: string,
    reason: string,
  ): Promise<void> {
    const now = this.clock.now();
    const clearedKeys = new Set<string>();
    const wanted = specs.filter((spec) => !overtaken(spec, specs, now));
    const { clears } = await this.store.replaceDeadlines(
      subjectOf(record),
      wanted,
      now.toISOString(),
      (row) => {
        // Still due for the same deadline (a reminder overtaken by a nearer one): not resolved.
        if (wanted.some((spec) => spec.target === row.target && spec.forDue === row.forDue)) return null;
        const condition = clearedCondition(row, unit, now, reason);
        if (clearedKeys.has(condition.key)) return null;
        clearedKeys.add(condition.key);
        return condition;
      },
    );
    await this.deliver(clears);
  }

  /** Runs one pass after any pass in progress; passes never overlap within a process. */
  runPass(trigger: string): Promise<PassSummary> {
    const pass = this.passes.then(() => this.pass(trigger));
    this.passes = pass.catch(() => undefined);
    return pass;
  }

  private async pass(trigger: string): Promise<PassSummary> {
    const now = this.clock.now();
    const summary: PassSummary = {
      trigger,
      at: now.toISOString(),
      fired: 0,
      late: 0,
      stale: 0,
      delivered: 0,
      errors: 0,
    };
    const runId = await this.store.startRun({ trigger, owner: this.owner, startedAt: summary.at });
    let error: string | null = null;
    try {
      // Conditions recorded but not delivered before a stop go out first, in order.
      summary.delivered += await this.deliver(await this.store.listUndelivered(this.batch));
      for (;;) {
        // Rows that failed to fire in this batch: they stay leased, and are retried once the
        // lease runs out. Counted only once the batch has committed.
        let failed = 0;
        const batch = await this.store.fireDueDeadlines(
          {
            now: summary.at,
            owner: this.owner,
            leaseUntil: new Date(now.getTime() + this.leaseMs).toISOString(),
            limit: this.batch,
          },
          (row, record) => {
            try {
              return this.decide(row, record, now);
            } catch (err) {
              failed += 1;
              this.logger.error({ err, deadline: row.id }, 'a clock row failed to fire');
              return null;
            }
          },
        );
        summary.errors += failed;
        for (const fire of batch.fires) {
          if (fire.outcome === 'stale') summary.stale += 1;
          else summary.fired += 1;
          if (fire.late) summary.late += 1;
        }
        summary.delivered += await this.deliver(batch.fires);
        if (batch.claimed < this.batch) break;
      }
    } catch (err) {
      error = (err as Error).message;
      summary.errors += 1;
      this.logger.error({ err }, 'clock pass failed');
    }
    await this.store.finishRun(runId, {
      finishedAt: this.clock.now().toISOString(),
      fired: summary.fired,
      late: summary.late,
      stale: summary.stale,
      delivered: summary.delivered,
      error,
    });
    if (summary.fired || summary.stale || summary.errors) this.logger.info(summary, 'clock pass');
    return summary;
  }

  /**
   * What one claimed row does now, from its record's clock as it stands: a condition (marked late
   * if it waited on downtime), or `stale` when the record no longer asks for it.
   */
  private decide(row: DeadlineRow, record: ClockRecord, now: Date): FireDecision {
    const dueMs = new Date(row.dueAt).getTime();
    const lateByMs = Math.max(0, now.getTime() - dueMs);
    // Late only if the scheduler could have fired it earlier: not for a row stored already past
    // due (a system registered years after commissioning), only for one that waited on downtime.
    const firstChance = Math.max(dueMs, new Date(row.createdAt).getTime());
    const lateness = { late: now.getTime() - firstChance > this.lateAfterMs, lateByMs };
    let condition: CollectorCondition | null = null;
    let nextDueAt: string | null = null;

    if (row.subject.type === 'system') {
      const system = record as SystemRecord | undefined;
      const current = system && systemDeadlineSpecs(system, this.options);
      if (
        system &&
        current?.some((s) => s.kind === row.kind && s.forDue === row.forDue) &&
        !overtaken(row, current, now)
      ) {
        condition = systemCondition(system, row, systemSchedule(system, now, this.options), now, lateness);
        if (row.repeats) {
          nextDueAt = nextDailyRepeat(
            { kind: row.kind as AssessmentDeadlineKind, dueAt: new Date(row.dueAt), forDue: row.forDue },
            now,
          ).dueAt.toISOString();
        }
      }
    } else if (row.subject.type === 'rectification') {
      const item = record as RectificationRecord | undefined;
      const current = item && rectificationDeadlineSpecs(item);
      if (
        item &&
        current?.some((s) => s.kind === row.kind && s.forDue === row.forDue) &&
        !overtaken(row, current, now)
      ) {
        condition = rectificationCondition(item, row, now, lateness);
        if (row.repeats) {
          nextDueAt = nextDailyRepeat(
            { kind: 'overdue', dueAt: new Date(row.dueAt), forDue: row.forDue },
            now,
          ).dueAt.toISOString();
        }
      }
    } else {
      const incident = record as IncidentRecord | undefined;
      const current = incident && incidentDeadlineSpecs(incident, this.options);
      if (
        incident &&
        current?.some((s) => s.target === row.target && s.kind === row.kind && s.forDue === row.forDue) &&
        !overtaken(row, current, now)
      ) {
        condition = incidentCondition(
          incident,
          row,
          incidentChain(incident, now),
          now,
          lateness,
          this.options.chain.remindersMs,
        );
      }
    }

    return {
      outcome: condition ? 'fired' : 'stale',
      late: condition ? lateness.late : false,
      lateByMs: condition ? lateByMs : 0,
      condition,
      nextDueAt,
    };
  }

  /**
   * At least once: the fires' conditions go to the sink in order — all in one call when it takes
   * batches — and those it took are marked delivered together afterwards. Returns how many.
   */
  private async deliver(fires: readonly FireRecord[]): Promise<number> {
    const pending = fires.filter((fire) => fire.condition !== null);
    if (pending.length === 0) return 0;
    const delivered = (await this.deliverTogether(pending))
      ? pending.map((fire) => fire.id)
      : await this.deliverEach(pending);
    await this.store.markDelivered(delivered, this.clock.now().toISOString());
    return delivered.length;
  }

  /** All in one call, when the sink takes batches; false when it did not take them. */
  private async deliverTogether(fires: readonly FireRecord[]): Promise<boolean> {
    if (!('reportAll' in this.sink) || fires.length < 2) return false;
    try {
      await this.sink.reportAll(fires.map((fire) => fire.condition!));
      return true;
    } catch (err) {
      // One condition the sink cannot take must not hold up the others: each on its own.
      this.logger.warn({ err }, 'condition sink refused a batch of clock conditions; delivering one by one');
      return false;
    }
  }

  /** One by one; returns the fires whose condition the sink took. */
  private async deliverEach(fires: readonly FireRecord[]): Promise<number[]> {
    const delivered: number[] = [];
    for (const fire of fires) {
      try {
        await this.sink.report(fire.condition!);
        delivered.push(fire.id);
      } catch (err) {
        this.logger.warn(
          { err, fire: fire.id },
          'condition sink refused a clock condition; retried next pass',
        );
      }
    }
    return delivered;
  }
}

/**
 * A reminder whose later deadline (a nearer reminder, or the deadline itself) is also due by now
 * is overtaken: after downtime the collector sends the one that matters, not the whole backlog.
 * A reminder of the recommended date (`advice-N`) has no deadline after it: once that date is
 * past, it is overtaken by the date itself.
 */
function overtaken(row: DeadlineSpec, current: readonly DeadlineSpec[], now: Date): boolean {
  if (row.kind.startsWith('advice-')) {
    if (now.getTime() >= startOfShanghaiDay(addCalendarDays(row.forDue, 1)).getTime()) return true;
  } else if (!row.kind.startsWith('reminder-')) return false;
  return current.some(
    (s) =>
      s.target === row.target &&
      s.forDue === row.forDue &&
      s.dueAt > row.dueAt &&
      new Date(s.dueAt).getTime() <= now.getTime(),
  );
}
