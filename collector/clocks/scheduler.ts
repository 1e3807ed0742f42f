import { randomBytes } from 'node:crypto';
import cron, { type ScheduledTask } from 'node-cron';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type {
  ClockStore,
  DeadlineRow,
  DeadlineSpec,
  FireRecord,
  IncidentRecord,
  SystemRecord,
} from '../store/clock-store.js';
import type { CollectorCondition, ConditionSink } from '../warnings/conditions.js';
import { nextDailyRepeat } from './assessment-schedule.js';
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
 * in the store with its due time, and each pass claims the rows that have fallen due since, fires
 * each once (a fire record, unique per row and due time), and delivers the resulting condition
 * to the ConditionSink. A pass runs at startup — so what fell due while the collector was down
 * fires at once, marked late — then on a node-cron schedule, and after every change to a record.
 */
export interface ClockSchedulerOptions {
  store: ClockStore;
  clock: Clock;
  sink: ConditionSink;
  logger: Logger;
  options: ClockOptions;
  /** A row fired more than this after its due time is marked late (the collector was down). */
  lateAfterMs: number;
  /** Names this process in claims; two collectors on one store never handle a row at once. */
  owner?: string;
  leaseMs?: number;
  batch?: number;
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
  private readonly clock: Clock;
  private readonly sink: ConditionSink;
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
    this.clock = options.clock;
    this.sink = options.sink;
    this.logger = options.logger.child({ component: 'clocks' });
    this.options = options.options;
    this.lateAfterMs = options.lateAfterMs;
    this.owner = options.owner ?? `clocks-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    this.batch = options.batch ?? 500;
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
  }

  /** Brings a system's rows in line with its record; clears what an assessment or decommission resolved. */
  async refreshSystem(record: SystemRecord): Promise<void> {
    const reason = record.status === 'decommissioned' ? 'decommissioned' : 'schedule-changed';
    await this.replace(record, systemDeadlineSpecs(record, this.options), record.unit, reason);
  }

  async refreshIncident(record: IncidentRecord): Promise<void> {
    await this.replace(record, incidentDeadlineSpecs(record, this.options), record.unit, 'reported');
  }

  /** Stores the record's rows, less reminders already overtaken (never stored, so never stale). */
  private async replace(
    record: SystemRecord | IncidentRecord,
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
    for (const fire of clears) await this.deliver(fire);
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
      for (const fire of await this.store.listUndelivered(this.batch)) {
        if (await this.deliver(fire)) summary.delivered += 1;
      }
      for (;;) {
        const rows = await this.store.claimDueDeadlines({
          now: summary.at,
          owner: this.owner,
          leaseUntil: new Date(now.getTime() + this.leaseMs).toISOString(),
          limit: this.batch,
        });
        for (const row of rows) {
          try {
            const fire = await this.fire(row, now);
            if (!fire) continue;
            if (fire.outcome === 'stale') summary.stale += 1;
            else summary.fired += 1;
            if (fire.late) summary.late += 1;
            if (fire.condition && (await this.deliver(fire))) summary.delivered += 1;
          } catch (err) {
            // The row stays leased and is retried once the lease runs out; the pass goes on.
            summary.errors += 1;
            this.logger.error({ err, deadline: row.id }, 'a clock row failed to fire');
          }
        }
        if (rows.length < this.batch) break;
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

  /** Fires one claimed row: recomputes the record's clock, and records a condition or `stale`. */
  private async fire(row: DeadlineRow, now: Date): Promise<FireRecord | null> {
    const dueMs = new Date(row.dueAt).getTime();
    const lateByMs = Math.max(0, now.getTime() - dueMs);
    // Late only if the scheduler could have fired it earlier: not for a row stored already past
    // due (a system registered years after commissioning), only for one that waited on downtime.
    const firstChance = Math.max(dueMs, new Date(row.createdAt).getTime());
    const lateness = { late: now.getTime() - firstChance > this.lateAfterMs, lateByMs };
    let condition: CollectorCondition | null = null;
    let nextDueAt: string | null = null;

    if (row.subject.type === 'system') {
      const record = await this.store.getSystem(row.subject.id);
      const current = record && systemDeadlineSpecs(record, this.options);
      if (
        record &&
        current?.some((s) => s.kind === row.kind && s.forDue === row.forDue) &&
        !overtaken(row, current, now)
      ) {
        condition = systemCondition(record, row, systemSchedule(record, now, this.options), now, lateness);
        if (row.repeats) {
          nextDueAt = nextDailyRepeat(
            { kind: row.kind as 'overdue' | 'reassess', dueAt: new Date(row.dueAt), forDue: row.forDue },
            now,
          ).dueAt.toISOString();
        }
      }
    } else {
      const record = await this.store.getIncident(row.subject.id);
      const current = record && incidentDeadlineSpecs(record, this.options);
      if (
        record &&
        current?.some((s) => s.target === row.target && s.kind === row.kind && s.forDue === row.forDue) &&
        !overtaken(row, current, now)
      ) {
        condition = incidentCondition(record, row, incidentChain(record, now), now, lateness);
      }
    }

    return this.store.completeDeadline({
      deadlineId: row.id,
      owner: this.owner,
      dueAt: row.dueAt,
      firedAt: now.toISOString(),
      outcome: condition ? 'fired' : 'stale',
      late: condition ? lateness.late : false,
      lateByMs: condition ? lateByMs : 0,
      condition,
      nextDueAt,
    });
  }

  /** At least once: a condition is marked delivered only after the sink took it. */
  private async deliver(fire: FireRecord): Promise<boolean> {
    if (!fire.condition) return false;
    try {
      await this.sink.report(fire.condition);
    } catch (err) {
      this.logger.warn({ err, fire: fire.id }, 'condition sink refused a clock condition; retried next pass');
      return false;
    }
    await this.store.markDelivered(fire.id, this.clock.now().toISOString());
    return true;
  }
}

/**
 * A reminder whose later deadline (a nearer reminder, or the deadline itself) is also due by now
 * is overtaken: after downtime the collector sends the one that matters, not the whole backlog.
 */
function overtaken(row: DeadlineSpec, current: readonly DeadlineSpec[], now: Date): boolean {
  if (!row.kind.startsWith('reminder-')) return false;
  return current.some(
    (s) =>
      s.target === row.target &&
      s.forDue === row.forDue &&
      s.dueAt > row.dueAt &&
      new Date(s.dueAt).getTime() <= now.getTime(),
  );
}
