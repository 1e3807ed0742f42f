import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import { HIERARCHY_RECORDER, incidentClock, type ClockOptions } from '../clocks/clock-records.js';
import {
  type ChainLevel,
  chainReportSchema,
  DEFAULT_HOP_REMINDERS_MS,
  hopIdForReport,
  type ReportAbout,
  type ReportChannel,
} from '../clocks/report-chain.js';
import type { ClockScheduler } from '../clocks/scheduler.js';
import { markSent, SUBJECTS } from '../documents/sign-off.js';
import type { ConditionSink } from '../warnings/conditions.js';
import type { CollectorIdentity } from '../identity.js';
import type { DeliveredEntry, ParentState } from '../store/hierarchy/hierarchy-store.js';
import type { Store } from '../store/store.js';
import type { ParentConfig } from './hierarchy-config.js';
import { HIERARCHY_VERSION, sign, type CollectorLevel, type Notice, type RelayedNotice } from './messages.js';
import { ParentLink } from './parent-link.js';
import type { ParentSideDeps } from './parent-side.js';
import { ReportProducers, type AnnualAnswer } from './producers.js';
import type { HierarchyMetrics } from './hierarchy-metrics.js';
import { RelayDutyWatch } from './relay-duty.js';
import { PolicyDistribution, type PolicyDistributionDeps } from './policy-distribution.js';
import { ownReport } from './reports.js';
import {
  subordinateFigures,
  sumFigures,
  takeAnnualFigures,
  type Figures,
  type UnitFigures,
} from './annual-figures.js';

/**
 * One collector's place in the hierarchy: the link to its parent (reports up, notices down),
 * the producers that find what must go up, the parent side its children talk to, and the
 * hooks between them and the legal clocks (a receipt closes a 第61条 hop).
 */
export interface HierarchyDeps {
  store: Store;
  identity: CollectorIdentity;
  clock: Clock;
  logger: Logger;
  unit: string;
  level: CollectorLevel;
  config: ParentConfig;
  /** The legal clocks, when running: a receipt for an own incident records its hop there. */
  scheduler?: ClockScheduler;
  clockOptions: ClockOptions;
  /** Hook: a notice or policy update has arrived from above (after a policy update is applied). */
  onNotice?: (notice: RelayedNotice) => Promise<void>;
  /** Where this administration's 第61条 relay reminders and misses go (the warnings stage). */
  sink?: ConditionSink;
  /** Policy updates applied to this collector's agents; without it they are only relayed. */
  policy?: Omit<PolicyDistributionDeps, 'store' | 'identity' | 'clock' | 'logger'>;
  random?: () => number;
  metrics?: HierarchyMetrics;
  /** ingest.maxSkew, for a child's signed enrollment request. */
  enrollMaxSkewMs?: number;
}

export interface NewNotice {
  type: Notice['type'];
  title: string;
  body: string;
  severity?: string;
  dueAt?: string;
  policy?: Record<string, unknown>;
}

/** How long reportSoon gathers changes before its pass: a burst goes up as one batch. */
const REPORT_SOON_MS = 50;

/** This administration's onward hop as recorded: by the parent's receipt, or by hand. */
export interface RelayHopInput {
  reportedAt: string;
  receivedAt: string | null;
  channel: ReportChannel;
  by: string;
  receipt: string | null;
}

export class Hierarchy {
  readonly link: ParentLink;
  readonly producers: ReportProducers;
  readonly parentSide: ParentSideDeps;
  readonly policy: PolicyDistribution | undefined;
  private readonly relayDuties: RelayDutyWatch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private passing: Promise<void> | undefined;
  private stopped = false;
  /** A producer pass asked for by reportSoon, waiting out its short delay. */
  private soon: NodeJS.Timeout | undefined;
  /** reportSoon's pass, while it runs. */
  private reporting: Promise<void> | undefined;
  /** reportSoon was called while its pass ran: that pass may have read the store before the change. */
  private reportAgain = false;

  /** The collector's store, for views that read more than the hierarchy's own records. */
  get store(): Store {
    return this.deps.store;
  }

  constructor(private readonly deps: HierarchyDeps) {
    const { store, identity, clock, logger, unit, level } = deps;
    const log = logger.child({ component: 'hierarchy' });
    this.parentSide = {
      store: store.hierarchy,
      identity,
      clock,
      logger: log,
      unit,
      level,
      metrics: deps.metrics,
      enrollMaxSkewMs: deps.enrollMaxSkewMs,
      localUnits: () => store.listAgentUnits(),
      audit: async (entry) => {
        await store.audit.append({
          ...entry,
          at: clock.now().toISOString(),
          actorKind: 'collector',
          role: null,
          unit: null,
          status: null,
          ip: '',
        });
      },
    };
    this.link = new ParentLink({
      store: store.hierarchy,
      identity,
      clock,
      logger: log,
      unit,
      level,
      config: deps.config,
      random: deps.random,
      metrics: deps.metrics,
      onDelivered: (entries, parent) => this.onDelivered(entries, parent),
      onNotice: async (relayed) => {
        if (relayed.notice.type === 'policy') await this.distributePolicy();
        await deps.onNotice?.(relayed);
      },
    });
    this.relayDuties =
      deps.sink &&
      new RelayDutyWatch({
        store,
        sink: deps.sink,
        clock,
        logger: log,
        unit,
        level,
        remindersMs: deps.clockOptions.chain.remindersMs ?? DEFAULT_HOP_REMINDERS_MS,
      });
    this.policy =
      deps.policy && new PolicyDistribution({ store, identity, clock, logger: log, ...deps.policy });
    this.producers = new ReportProducers({
      store,
      origin: { identity, unit, level },
      clock,
      logger: log,
      minSeverity: deps.config.minSeverity,
      clockOptions: deps.clockOptions,
    });
  }

  async start(): Promise<void> {
    await this.distributePolicy();
    await this.followUpReceipts();
    await this.scan();
    this.link.start();
    this.timer = setInterval(() => void this.scan(), this.deps.config.scanInterval);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.soon);
    await this.passing;
    await this.reporting;
    await this.link.stop();
  }

  /** A producer pass now (tests and API changes call it); new reports wake the link. */
  scan(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.passing ??= this.producers
      .pass()
      .then(async (queued) => {
        if (queued > 0) this.link.wake();
        await this.relayDuties?.pass();
        // Agents enrolled since the last pass get the policy in force.
        await this.distributePolicy();
      })
      .catch((err: unknown) => this.deps.logger.error({ err }, 'hierarchy: a producer pass failed'))
      .finally(() => {
        this.passing = undefined;
      });
    return this.passing;
  }

  /**
   * Something that may go up was just stored (a warning opened or changed, an incident, a hop):
   * a producer pass shortly, so it reaches the parent now rather than on the next round
   * (parent.scanInterval stays the fallback, with the relay duties and the policy). Coalesced:
   * however many changes a storm brings, at most one pass waits and one runs, and the link sends
   * what each found in batches. Without a parent a pass is one read.
   */
  reportSoon(): void {
    if (this.stopped || this.soon) return;
    if (this.reporting) {
      this.reportAgain = true;
      return;
    }
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.reporting = this.producers
        .pass()
        .then((queued) => {
          if (queued > 0) this.link.wake();
        })
        .catch((err: unknown) => this.deps.logger.error({ err }, 'hierarchy: a producer pass failed'))
        .finally(() => {
          this.reporting = undefined;
          if (this.reportAgain) {
            this.reportAgain = false;
            this.reportSoon();
          }
        });
    }, REPORT_SOON_MS);
    this.soon.unref();
  }

  /** Records a child sent were stored for relaying upward: send them on now. */
  relayed(): void {
    this.link.wake();
  }

  /** 预警通报 or a policy update from this administration to every subordinate collector. */
  async issueNotice(input: NewNotice): Promise<Notice> {
    const { identity, clock, unit, level } = this.deps;
    const notice = sign(
      {
        v: HIERARCHY_VERSION,
        kind: 'smew.hierarchy.notice' as const,
        id: `nt-${randomUUID().replaceAll('-', '').slice(0, 16)}`,
        type: input.type,
        issuer: identity.id,
        issuerUnit: unit,
        issuerLevel: level,
        ts: clock.now().toISOString(),
        title: input.title,
        body: input.body,
        ...(input.severity === undefined ? {} : { severity: input.severity }),
        ...(input.dueAt === undefined ? {} : { dueAt: input.dueAt }),
        ...(input.policy === undefined ? {} : { policy: input.policy }),
      },
      identity,
    );
    await this.deps.store.hierarchy.addNotice(
      { notice, issuerAlg: identity.alg, issuerPublicKey: identity.publicKey },
      'issued',
      notice.ts,
    );
    // An administration's ruling applies to its own agents as well as to its subordinates'.
    if (notice.type === 'policy') await this.distributePolicy();
    return notice;
  }

  /** Publishes the policy in force to agents that lack it; a failure is logged and retried next pass. */
  private async distributePolicy(): Promise<void> {
    await this.policy
      ?.refresh()
      .catch((err: unknown) => this.deps.logger.error({ err }, 'hierarchy: could not distribute the policy'));
  }

  /**
   * 第56条: this collector's figures for a finished year, queued for the parent once per unit and
   * year (a repeat answers with the report already queued). A year not over yet, or no parent to
   * send to, is refused with the reason.
   */
  async produceAnnual(year: number): Promise<AnnualAnswer> {
    const answer = await this.producers.produceAnnual(year);
    if (answer.ok && answer.created) this.link.wake();
    return answer;
  }

  /**
   * The figures of `year` by unit as this administration sees them: its own (as reported upward
   * when they were, else taken now) and each subordinate's latest report, within `units`; with totals.
   */
  async annualView(
    year: number,
    units: readonly string[] | undefined,
  ): Promise<{ year: number; items: UnitFigures[]; totals: Figures; missing: string[] }> {
    const { store, unit, level, identity, clock } = this.deps;
    const items: UnitFigures[] = [];
    if (units === undefined || units.includes(unit)) {
      const reported = await store.hierarchy.ownReport(`annual:${year}`);
      const data = reported
        ? (reported.report.data as { final?: unknown; takenAt?: unknown; figures?: unknown })
        : await takeAnnualFigures({
            store,
            unit,
            level,
            year,
            now: clock.now(),
            clockOptions: this.deps.clockOptions,
          });
      items.push({
        unit,
        level,
        origin: identity.id,
        own: true,
        final: data.final === true,
        takenAt: String(data.takenAt),
        receivedAt: null,
        figures: data.figures as Figures,
      });
    }
    const below = await subordinateFigures(store, year, units);
    items.push(...below);
    const reported = new Set(below.map((b) => b.unit));
    const missing = [...new Set((await store.hierarchy.listSubordinates({ units })).map((s) => s.unit))]
      .filter((u) => !reported.has(u))
      .sort((a, b) => a.localeCompare(b, 'zh'));
    return { year, items, totals: sumFigures(items.map((i) => i.figures)), missing };
  }

  /** This collector's 排查 result for a notice from above; false when one was already sent. */
  async recordResult(noticeId: string, result: string, by: string): Promise<boolean> {
    const at = this.deps.clock.now().toISOString();
    const sent = await this.deps.store.hierarchy.setOwnResult(noticeId, result, at, (seq) =>
      ownReport(this.origin(), seq, at, 'notice.result', `notice:${noticeId}`, {
        notice: noticeId,
        result,
        by,
      }),
    );
    if (sent) this.link.wake();
    return sent;
  }

  /**
   * A receipt is stored before its follow-up (the hop it closes or reports up) is: a crash between
   * the two would lose the hop. Both steps are idempotent, so every start redoes them for every
   * delivered incident.
   */
  private async followUpReceipts(): Promise<void> {
    const parent = await this.deps.store.hierarchy.getParent();
    if (!parent) return;
    const delivered = [
      ...(await this.deps.store.hierarchy.deliveredOutbox('incident')),
      ...(await this.deps.store.hierarchy.deliveredOutbox('incident.closure')),
    ];
    if (delivered.length > 0) await this.onDelivered(delivered, parent);
  }

  private origin() {
    return { identity: this.deps.identity, unit: this.deps.unit, level: this.deps.level };
  }

  /**
   * The parent's receipt is the receipt of the 第61条 report: for an incident of this collector
   * it is recorded as the hop to the parent, with the parent's receipt time; for one forwarded
   * from below, this collector's hop is reported upward in turn, so the top sees every hop. The
   * receipt of an own incident's closure (第60条, a signed written report) is its closure hop.
   */
  private async onDelivered(entries: DeliveredEntry[], parent: ParentState): Promise<void> {
    for (const entry of entries) {
      if (entry.report.origin === this.deps.identity.id) await this.documentSent(entry);
      const type = entry.report.type;
      if (type !== 'incident' && type !== 'incident.closure') continue;
      const incidentId = typeof entry.report.data.id === 'string' ? entry.report.data.id : undefined;
      if (!incidentId) continue;
      const reportedAt = entry.firstSentAt ?? entry.receivedAt;
      const receipt = `smew receipt ${parent.id} ${entry.report.origin}#${entry.report.seq}`;
      const about = type === 'incident' ? 'leak' : 'closure';
      if (entry.report.origin === this.deps.identity.id) {
        await this.closeOwnHop(incidentId, parent, {
          reportedAt,
          receivedAt: entry.receivedAt,
          receipt,
          about,
        });
      } else if (about === 'leak') {
        await this.queueRelayHop(entry.report.origin, incidentId, parent, {
          reportedAt,
          receivedAt: entry.receivedAt,
          channel: 'system',
          by: this.deps.identity.id,
          receipt,
        });
      }
    }
  }

  /** The signed document an own incident or annual report went up under is sent, at the parent's receipt. */
  private async documentSent(entry: DeliveredEntry): Promise<void> {
    const { type, data } = entry.report;
    const documents = this.deps.store.documents;
    if (type === 'incident' && typeof data.id === 'string') {
      await markSent(documents, 'incident-report', SUBJECTS.incident(data.id), entry.receivedAt);
    } else if (type === 'annual' && typeof data.year === 'number') {
      await markSent(documents, 'annual-report', SUBJECTS.annual(data.year), entry.receivedAt);
    }
  }

  /**
   * Records by hand this administration's onward hop for an incident from below (第61条 ¶2): a
   * call, a paper or another system, with its receipt. It closes the duty as the parent's receipt
   * would, and goes up as incident.hop. False when no parent is enrolled: nowhere to send it.
   */
  async recordRelayHop(origin: string, incidentId: string, hop: RelayHopInput): Promise<boolean> {
    const parent = await this.deps.store.hierarchy.getParent();
    if (!parent) return false;
    await this.queueRelayHop(origin, incidentId, parent, hop);
    return true;
  }

  /** One per incident from below: the first recorded (by hand or by receipt) is the hop. */
  private async queueRelayHop(
    origin: string,
    incidentId: string,
    parent: ParentState,
    hop: RelayHopInput,
  ): Promise<void> {
    const at = this.deps.clock.now().toISOString();
    await this.deps.store.hierarchy.enqueueOwn(`incident.hop:${origin}:${incidentId}`, at, (seq) =>
      ownReport(this.origin(), seq, at, 'incident.hop', `incident:${incidentId}`, {
        incident: incidentId,
        origin,
        from: this.deps.level,
        to: parent.level,
        ...hop,
      }),
    );
    this.link.wake();
  }

  private async closeOwnHop(
    incidentId: string,
    parent: ParentState,
    delivery: { reportedAt: string; receivedAt: string; receipt: string; about: ReportAbout },
  ): Promise<void> {
    const { store, logger, identity } = this.deps;
    const incident = await store.clocks.getIncident(incidentId);
    if (!incident || incident.reports.some((r) => r.receipt === delivery.receipt)) return;
    const report = {
      // The unit reports by its own rank (clocks.unitRank), which need not be this collector's level.
      fromLevel: incident.unitLevel as ChainLevel,
      to: parent.level,
      ...delivery,
      channel: 'system' as const,
      by: identity.id,
    };
    const parsed = chainReportSchema.safeParse(report);
    if (!parsed.success || !hopIdForReport(incidentClock(incident), parsed.data)) {
      logger.warn(
        { incident: incidentId, from: report.fromLevel, to: report.to },
        'hierarchy: the receipt fits no hop of this incident',
      );
      return;
    }
    await store.clocks.addReport(incidentId, {
      ...report,
      recordedAt: this.deps.clock.now().toISOString(),
      recordedBy: HIERARCHY_RECORDER,
    });
    const updated = await store.clocks.getIncident(incidentId);
    if (updated && this.deps.scheduler) await this.deps.scheduler.refreshIncident(updated);
    // The hop just recorded goes up too (as incident.hop).
    this.reportSoon();
  }
}
