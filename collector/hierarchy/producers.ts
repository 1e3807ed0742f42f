import type { Clock } from '../../shared/clock.js';
import type { SignatureAlg } from '../../shared/crypto/suite.js';
import { SEVERITIES, severityRank, type Severity } from '../../shared/levels.js';
import type { Logger } from '../../shared/log.js';
import { measuresMissing, systemSchedule, type ClockOptions } from '../clocks/clock-records.js';
import { signedOff, SUBJECTS } from '../documents/sign-off.js';
import type { Store } from '../store/store.js';
import type { TerminalName } from '../../shared/api/register.js';
import { terminalNames, warningTerminal } from '../register/terminal-naming.js';
import { annualReportData, shanghaiYear, yearBounds } from './annual-figures.js';
import type { ReportType } from './messages.js';
import { unitStatusFigures, unitStatusKey } from './unit-status.js';
import { ownReport, type ReportEvidence, type ReportOrigin } from './reports.js';
import { selfInspectionItems } from './self-inspection-reports.js';

/**
 * What goes up, found by looking at the store rather than by catching events in flight: a pass
 * reads warnings, incidents and their recorded hops, overdue assessments, agent health and the
 * subordinate register, and queues each item under a producer key, so a crash between a change
 * and its report only delays the report to the next pass, and a repeat pass queues nothing twice.
 */
export interface ProducerDeps {
  store: Store;
  origin: ReportOrigin;
  clock: Clock;
  logger: Logger;
  minSeverity: Severity;
  /** The clocks' options (reminder offsets), for the assessment schedule. */
  clockOptions: ClockOptions;
}

export type AnnualAnswer =
  { ok: true; created: boolean; data: Record<string, unknown> } | { ok: false; reason: AnnualRefusalReason };

export type AnnualRefusalReason = 'unfinished' | 'no-parent' | 'unsigned';

/** Why annual figures cannot go up, for people (API and CLI). */
export function annualRefusal(reason: AnnualRefusalReason, year: number): string {
  if (reason === 'unfinished') {
    return `year: ${year} is not over yet (Asia/Shanghai); annual figures go up for a finished year`;
  }
  if (reason === 'unsigned') {
    return (
      `the ${year} 年度保密工作情况 is not signed off (签发): draft it (POST /api/v1/documents, kind annual-report, ` +
      `year ${year}) and have a secadmin sign it off; its figures go up as its 附表 then`
    );
  }
  return 'this collector has no parent; enroll it with smew collector enroll --parent URL --token T';
}

interface Item {
  producerKey: string;
  type: ReportType;
  key: string;
  data: Record<string, unknown>;
  evidenceIds?: number[];
}

const EVIDENCE_LIMIT = 20;
/** The unit's figures are counted at most this often (a producer pass may run every 50 ms). */
const UNIT_STATUS_EVERY_MS = 60_000;

export class ReportProducers {
  /** Domain stores that are absent on this store (e.g. PostgreSQL) are skipped and said once. */
  private readonly unavailable = new Set<string>();
  /** When this process last counted the unit's figures (ms; -Infinity: not yet). */
  private unitStatusAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: ProducerDeps) {}

  /** One pass; returns how many new reports it queued (0 when no parent is enrolled). */
  async pass(): Promise<number> {
    if (!(await this.deps.store.hierarchy.getParent())) return 0;
    let queued = 0;
    for (const [name, produce] of [
      ['warnings', () => this.warnings()],
      ['incidents', () => this.incidents()],
      ['assessments', () => this.overdueAssessments()],
      ['agent health', () => this.agentHealth()],
      ['unit status', () => this.unitStatus()],
      ['subordinates', () => this.subordinates()],
      ['annual figures', () => this.lastYear()],
      ['self-inspections', () => this.selfInspections()],
    ] as const) {
      let items: Item[];
      try {
        items = await produce();
      } catch (err) {
        if (!this.unavailable.has(name)) {
          this.unavailable.add(name);
          this.deps.logger.warn(
            { err: (err as Error).message },
            `hierarchy: cannot read ${name} to report them upward`,
          );
        }
        continue;
      }
      for (const item of items) if (await this.enqueue(item)) queued += 1;
    }
    return queued;
  }

  private async enqueue(item: Item): Promise<boolean> {
    const { store, origin, clock } = this.deps;
    const evidence = await this.evidence(item.evidenceIds ?? []);
    const now = clock.now().toISOString();
    const result = await store.hierarchy.enqueueOwn(item.producerKey, now, (seq) =>
      ownReport(origin, seq, now, item.type, item.key, item.data, evidence),
    );
    return result?.created ?? false;
  }

  private async evidence(ids: readonly number[]): Promise<ReportEvidence> {
    if (ids.length === 0) return {};
    const rows = await this.deps.store.hierarchy.evidenceEnvelopes(ids.slice(0, EVIDENCE_LIMIT));
    const current = new Map(rows.map((r) => [r.agent.id, r.agent]));
    // Every key each agent has had: events signed before a rotation verify with the key of their time.
    const agents: { id: string; alg: SignatureAlg; publicKey: string }[] = [];
    for (const [id, key] of current) {
      const history = await this.deps.store.transport.listKeys(id);
      if (history.length === 0) agents.push(key);
      for (const old of history) agents.push({ id, alg: old.alg, publicKey: old.publicKey });
    }
    return {
      evidence: rows.map((r) => JSON.parse(r.envelope) as Record<string, unknown>),
      agents,
    };
  }

  /** The registered terminals the evidence came from, by the register's names. */
  private async evidenceTerminals(evidence: readonly number[]): Promise<TerminalName[]> {
    if (evidence.length === 0) return [];
    const events = await this.deps.store.clocks.evidenceEvents(evidence);
    return [
      ...(
        await terminalNames(
          this.deps.store,
          events.map((e) => e.agentId),
        )
      ).values(),
    ];
  }

  /** Warnings at or above parent.minSeverity, once per state they reach. */
  private async warnings(): Promise<Item[]> {
    const min = severityRank(this.deps.minSeverity);
    const severities = SEVERITIES.filter((s) => severityRank(s) >= min);
    const warnings = await this.deps.store.warnings.listWarnings({ severities, limit: 1000 });
    const items: Item[] = [];
    for (const w of warnings) {
      const producerKey = `warning:${w.id}:${w.state}`;
      if (await this.deps.store.hierarchy.ownReport(producerKey)) continue;
      const evidence = await this.deps.store.warnings.listEvidence(w.id, EVIDENCE_LIMIT);
      items.push({
        producerKey,
        type: 'warning',
        key: `warning:${w.id}`,
        data: {
          id: w.id,
          rule: w.rule,
          title: w.title,
          state: w.state,
          severity: w.severity,
          count: w.count,
          firstSeen: w.firstSeen,
          lastSeen: w.lastSeen,
          unit: w.unit,
          agent: w.agent,
          // The register's name beside the id (SPEC §8): 编号 · hostname · 责任人, null when unregistered.
          terminal: await warningTerminal(this.deps.store, w),
          agents: w.agents,
          level: w.level,
          type: w.type,
          sample: w.sample,
        },
        evidenceIds: evidence.flatMap((e) => (e.eventId === undefined ? [] : [e.eventId])),
      });
    }
    return items;
  }

  /**
   * Each incident once (with its evidence) once it has a remedial measure (第61条: the measures
   * come first) and its 泄密事件报告 is signed off (签发) — until then it stays a local draft, its
   * clock running —, then each hop recorded on it (by hand or by a receipt), then its closure with
   * the 处理结果 (第60条), whose receipt is the closure hop.
   */
  private async incidents(): Promise<Item[]> {
    const items: Item[] = [];
    for (const incident of await this.deps.store.clocks.listIncidents({})) {
      if (measuresMissing(incident)) continue;
      if (!(await signedOff(this.deps.store.documents, 'incident-report', SUBJECTS.incident(incident.id))))
        continue;
      // Built once: an incident already queued is not read again (its evidence and terminals) each pass.
      const incidentKey = `incident:${incident.id}`;
      if (!(await this.deps.store.hierarchy.ownReport(incidentKey))) {
        items.push({
          producerKey: incidentKey,
          type: 'incident',
          key: `incident:${incident.id}`,
          data: {
            id: incident.id,
            title: incident.title,
            level: incident.level,
            unit: incident.unit,
            unitLevel: incident.unitLevel,
            discoveredAt: incident.discoveredAt,
            discoverySource: incident.discoverySource,
            measures: incident.measures.map(({ what, by, at }) => ({ what, by, at })),
            terminals: await this.evidenceTerminals(incident.evidence),
            createdAt: incident.createdAt,
          },
          evidenceIds: incident.evidence,
        });
      }
      for (const report of incident.reports) {
        items.push({
          producerKey: `incident.hop:${incident.id}:${report.id}`,
          type: 'incident.hop',
          key: `incident:${incident.id}`,
          data: {
            incident: incident.id,
            origin: this.deps.origin.identity.id,
            from: report.fromLevel,
            to: report.to,
            reportedAt: report.reportedAt,
            receivedAt: report.receivedAt,
            channel: report.channel,
            by: report.by,
            receipt: report.receipt,
            about: report.about,
          },
        });
      }
      if (incident.closedAt) {
        items.push({
          producerKey: `incident.closure:${incident.id}`,
          type: 'incident.closure',
          key: `incident:${incident.id}`,
          data: {
            id: incident.id,
            closedAt: incident.closedAt,
            outcome: incident.outcome,
            closedBy: incident.closedBy,
          },
        });
      }
    }
    return items;
  }

  /** Overdue 第35条 assessments, once per due date (the daily repeat stays with the local warning). */
  private async overdueAssessments(): Promise<Item[]> {
    const now = this.deps.clock.now();
    const items: Item[] = [];
    for (const system of await this.deps.store.clocks.listSystems({})) {
      const schedule = systemSchedule(system, now, this.deps.clockOptions);
      if (schedule.state !== 'overdue') continue;
      items.push({
        producerKey: `assessment.overdue:${system.id}:${schedule.nextDue}`,
        type: 'assessment.overdue',
        key: `system:${system.id}`,
        data: {
          systemId: system.id,
          name: system.name,
          level: system.level,
          unit: system.unit,
          nextDue: schedule.nextDue,
          daysLeft: schedule.daysLeft,
          lastAssessedAt: schedule.lastAssessedAt,
        },
      });
    }
    return items;
  }

  /** One summary per UTC hour: how many agents, how many online, how many with unacknowledged events. */
  private async agentHealth(): Promise<Item[]> {
    const hour = this.deps.clock.now().toISOString().slice(0, 13);
    const producerKey = `agent.health:${hour}`;
    if (await this.deps.store.hierarchy.ownReport(producerKey)) return [];
    const agents = await this.deps.store.listAgents({});
    const live = agents.filter((a) => a.revokedAt === null);
    return [
      {
        producerKey,
        type: 'agent.health',
        key: 'agent.health',
        data: {
          hour: `${hour}:00:00.000Z`,
          enrolled: live.length,
          online: live.filter((a) => a.online).length,
          offline: live.filter((a) => !a.online).length,
          revoked: agents.length - live.length,
          behind: live.filter((a) => a.reportedSeq > a.ackedSeq).length,
        },
      },
    ];
  }

  /**
   * This unit's figures for the 下级单位 page above: when one changes, and once an hour. Counted
   * at most once a minute: a burst of warnings asks for many passes, and each count reads every
   * open warning.
   */
  private async unitStatus(): Promise<Item[]> {
    const now = this.deps.clock.now();
    if (Math.abs(now.getTime() - this.unitStatusAt) < UNIT_STATUS_EVERY_MS) return [];
    this.unitStatusAt = now.getTime();
    const data = await unitStatusFigures(this.deps.store, this.deps.clockOptions, now);
    const producerKey = unitStatusKey(data, now);
    if (await this.deps.store.hierarchy.ownReport(producerKey)) return [];
    return [
      {
        producerKey,
        type: 'unit.status',
        key: `unit.status:${this.deps.origin.unit}`,
        data: { ...data, takenAt: now.toISOString() },
      },
    ];
  }

  /**
   * 第56条: last year's figures, on the first pass after the year ends (Asia/Shanghai), for a year
   * this collector was enrolled at its parent in; other years go up on demand (produceAnnual).
   */
  private async lastYear(): Promise<Item[]> {
    const parent = await this.deps.store.hierarchy.getParent();
    const year = shanghaiYear(this.deps.clock.now()) - 1;
    if (!parent || Date.parse(parent.enrolledAt) >= yearBounds(year).to.getTime()) return [];
    const item = await this.annualItem(year);
    return item ? [item] : [];
  }

  /** The year's report, unless queued already or its 年度保密工作情况 is not signed off (签发) yet. */
  private async annualItem(year: number): Promise<Item | undefined> {
    const producerKey = `annual:${year}`;
    if (await this.deps.store.hierarchy.ownReport(producerKey)) return undefined;
    if (!(await signedOff(this.deps.store.documents, 'annual-report', SUBJECTS.annual(year))))
      return undefined;
    const { store, origin, clock, clockOptions } = this.deps;
    const data = await annualReportData({
      store,
      unit: origin.unit,
      level: origin.level,
      year,
      now: clock.now(),
      clockOptions,
    });
    return { producerKey, type: 'annual', key: `annual:${origin.unit}:${year}`, data };
  }

  /**
   * The annual figures of a finished `year` queued for the parent now, once per unit and year: a
   * repeat answers with the report already queued. Refused for a year not over (Asia/Shanghai) or
   * when no parent is enrolled.
   */
  async produceAnnual(year: number): Promise<AnnualAnswer> {
    const hierarchy = this.deps.store.hierarchy;
    if (year >= shanghaiYear(this.deps.clock.now())) return { ok: false, reason: 'unfinished' };
    if (!(await hierarchy.getParent())) return { ok: false, reason: 'no-parent' };
    if (
      !(await hierarchy.ownReport(`annual:${year}`)) &&
      !(await signedOff(this.deps.store.documents, 'annual-report', SUBJECTS.annual(year)))
    ) {
      return { ok: false, reason: 'unsigned' };
    }
    const item = await this.annualItem(year);
    const created = item ? await this.enqueue(item) : false;
    const stored = await hierarchy.ownReport(`annual:${year}`);
    return stored ? { ok: true, created, data: stored.report.data } : { ok: false, reason: 'no-parent' };
  }

  /** 第58–59条: each finalised self-inspection and the unit's open 整改 items, again when they change. */
  private async selfInspections(): Promise<Item[]> {
    const items: Item[] = [];
    for (const item of await selfInspectionItems(
      this.deps.store,
      this.deps.origin.unit,
      this.deps.clock.now(),
    )) {
      if (!(await this.deps.store.hierarchy.ownReport(item.producerKey))) items.push(item);
    }
    return items;
  }

  /** Direct children, so every level above knows the whole tree below it. */
  private async subordinates(): Promise<Item[]> {
    const children = await this.deps.store.hierarchy.listSubordinates({});
    return children
      .filter((c) => c.direct)
      .map((c) => ({
        producerKey: `collector.enrolled:${c.id}:${c.enrolledAt}`,
        type: 'collector.enrolled' as const,
        key: `collector:${c.id}`,
        data: { cert: c.cert },
      }));
  }
}
