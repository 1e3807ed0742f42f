import { randomUUID } from 'node:crypto';
import type { Incident, MeasureBody } from '../../shared/api/clocks.js';
import { terminalNames } from '../register/terminal-naming.js';
import type { Principal } from '../auth/api-keys.js';
import type { FireRecord, IncidentRecord, NewMeasure } from '../store/clocks/clock-store.js';
import type { Warning } from '../store/warnings/records.js';
import { requestIncident, type HandlingOptions, type Refusal } from '../warnings/lifecycle.js';
import { updateWarning } from '../warnings/update-warning.js';
import { SYSTEM_LEVELS, type SystemLevel } from './assessment-schedule.js';
import { incidentChain, incidentClock, MEASURES_FIRST, measuresMissing } from './clock-records.js';
import { ClockRefusal, inScope, notInFuture, ownerUnit, requireWriter } from './clock-requests.js';
import {
  chainHops,
  type ChainLevel,
  type Hop as ChainHop,
  type ChainReport,
  hopIdForReport,
  offSystemReportDue,
  type ReportChannel,
  WRITTEN_CHANNELS,
} from './report-chain.js';
import { fireView, type ClockDeps } from './system-register.js';

/**
 * 第61条 incidents and their report chain: recording an incident (by hand, or from a warning
 * whose signed events become its evidence), the reports along the chain and their receipts.
 * Every change rebuilds the chain's clock rows and runs a pass, so a hop made due fires now.
 */
export interface NewIncident {
  title: string;
  level: SystemLevel;
  discoveredAt?: string;
  evidence?: number[];
  description?: string | null;
  measures?: MeasuresInput;
  unit?: string;
}

/** A list of measures; a text (the older form) is read as one measure by the caller, now. */
export type MeasuresInput = (MeasureBody | string)[] | string | null;

export interface IncidentFromWarning {
  title?: string;
  level?: SystemLevel;
  discoveredAt?: string;
  description?: string | null;
  measures?: MeasuresInput;
  note?: string;
}

export interface NewReport {
  to: ChainReport['to'];
  reportedAt: string;
  channel: ReportChannel;
  from?: ChainLevel;
  receivedAt?: string;
  receipt?: string | null;
  by?: string;
  about?: 'leak' | 'closure';
}

/** A warning with more signed events than this opens an incident with the first ones. */
const MAX_INCIDENT_EVIDENCE = 1000;

export class IncidentDesk {
  constructor(private readonly deps: ClockDeps) {}

  async list(units: readonly string[] | undefined): Promise<Incident[]> {
    const now = this.deps.scheduler.now();
    const records = await this.deps.store.clocks.listIncidents({ units });
    return records.map((r) => incidentView(r, now, undefined, this.remindersMs));
  }

  async get(principal: Principal | null, id: string): Promise<Incident> {
    const record = await this.visible(principal, id);
    const fires = await this.deps.store.clocks.listFires({ type: 'incident', id: record.id });
    const events = await this.deps.store.clocks.evidenceEvents(record.evidence);
    const terminals = await terminalNames(
      this.deps.store,
      events.map((e) => e.agentId),
    );
    return {
      ...incidentView(record, this.deps.scheduler.now(), fires, this.remindersMs),
      terminals: [...terminals.values()],
    };
  }

  private get remindersMs(): readonly number[] | undefined {
    return this.deps.scheduler.options.chain.remindersMs;
  }

  async create(caller: Principal | null, input: NewIncident): Promise<Incident> {
    const principal = requireWriter(caller);
    const id = await this.store(principal, {
      ...input,
      unit: ownerUnit(principal, input.unit, this.deps.unit),
      evidence: [...new Set(input.evidence ?? [])],
    });
    return this.afterChange(id);
  }

  /** Adds a remedial measure to an incident; the first report may leave once there is one. */
  async addMeasure(caller: Principal | null, id: string, input: MeasureBody): Promise<Incident> {
    const principal = requireWriter(caller);
    const incident = await this.visible(principal, id);
    const [measure] = this.measures(principal, input ? [input] : []);
    await this.deps.store.clocks.addMeasure(incident.id, measure!);
    return this.afterChange(incident.id);
  }

  /**
   * 第60条: closes the incident with its 处理结果. The written report of it to the same-level
   * administration is one more hop (about: closure), recorded as the others are.
   */
  async close(
    caller: Principal | null,
    id: string,
    input: { outcome: string; closedAt?: string },
  ): Promise<Incident> {
    const principal = requireWriter(caller);
    const incident = await this.visible(principal, id);
    const now = this.deps.scheduler.now();
    const closedAt = input.closedAt === undefined ? now : new Date(input.closedAt);
    notInFuture(closedAt, now, 'closedAt');
    if (closedAt < new Date(incident.discoveredAt)) {
      throw new ClockRefusal(
        400,
        `closedAt: ${closedAt.toISOString()} is before the discovery ${incident.discoveredAt}`,
      );
    }
    const closed = await this.deps.store.clocks.closeIncident(incident.id, {
      closedAt: closedAt.toISOString(),
      outcome: input.outcome.trim(),
      closedBy: principal.name,
    });
    if (!closed) {
      throw new ClockRefusal(409, `incident ${incident.id} was closed already at ${incident.closedAt}`);
    }
    return this.afterChange(incident.id);
  }

  /** Measures as stored: each with who did it and when (default: the caller, now). */
  private measures(principal: Principal, input: MeasuresInput | undefined): NewMeasure[] {
    const now = this.deps.scheduler.now();
    const given = typeof input === 'string' ? [input] : (input ?? []);
    const list = given
      .map((m) => (typeof m === 'string' ? { what: m } : m))
      .filter((m): m is MeasureBody => m.what.trim() !== '');
    return list.map((m, i) => {
      const at = m.at === undefined ? now : new Date(m.at);
      notInFuture(at, now, `measures[${i}].at`);
      return {
        what: m.what.trim(),
        by: m.by?.trim() || principal.name,
        at: at.toISOString(),
        recordedAt: now.toISOString(),
        recordedBy: principal.name,
      };
    });
  }

  /**
   * Opens an incident from a warning: its signed events are the evidence. Discovery is when the
   * unit found the leak (第61条 发现): the warning's 识别 time unless the officer enters another;
   * the evidence times are kept beside it. A step the lifecycle refuses comes back as its refusal.
   */
  async openFromWarning(
    caller: Principal | null,
    warningId: string,
    input: IncidentFromWarning,
    scope: HandlingOptions,
    onUnlinked: (incidentId: string) => void,
  ): Promise<{ ok: true; incident: Incident } | Refusal> {
    const principal = requireWriter(caller);
    const warning = await this.deps.store.warnings.getWarning(warningId);
    if (!warning || !inScope(principal, warning.unit)) throw new ClockRefusal(404, `no warning ${warningId}`);
    const actor = { name: principal.name, role: principal.role, unit: principal.unit };
    // Checked before the incident exists, so a refused step leaves no incident behind.
    const check = requestIncident(warning, { actor, note: input.note }, this.deps.scheduler.now(), scope);
    if (!check.ok) return check;
    const level = input.level ?? SYSTEM_LEVELS.find((l) => l === warning.level);
    if (!level) {
      throw new ClockRefusal(
        400,
        `level: the warning’s hosts have no classified level on record; give 绝密, 机密 or 秘密`,
      );
    }
    const evidence = await this.deps.store.warnings.listEvidence(warning.id, MAX_INCIDENT_EVIDENCE);
    const eventIds = [...new Set(evidence.flatMap((e) => (e.eventId === undefined ? [] : [e.eventId])))];
    const identifiedAt = identificationOf(warning) ?? this.deps.scheduler.now().toISOString();
    const id = await this.store(principal, {
      title: input.title ?? check.effect.title,
      level,
      unit: warning.unit,
      evidence: eventIds,
      discoveredAt: input.discoveredAt,
      identifiedAt,
      description: input.description,
      measures: input.measures,
    });
    const linked = await updateWarning(this.deps.store.warnings, warning.id, (current) =>
      requestIncident(current, { actor, note: input.note, incidentId: id }, this.deps.scheduler.now(), scope),
    );
    if (!linked?.ok) onUnlinked(id);
    return { ok: true, incident: await this.afterChange(id) };
  }

  /** Records a report along the chain: who, to whom, when, by which channel, and its receipt. */
  async addReport(caller: Principal | null, id: string, input: NewReport): Promise<Incident> {
    const principal = requireWriter(caller);
    const incident = await this.visible(principal, id);
    const now = this.deps.scheduler.now();
    const reportedAt = new Date(input.reportedAt);
    const receivedAt = input.receivedAt === undefined ? undefined : new Date(input.receivedAt);
    notInFuture(reportedAt, now, 'reportedAt');
    if (reportedAt < new Date(incident.discoveredAt)) {
      throw new ClockRefusal(
        400,
        `reportedAt: ${reportedAt.toISOString()} is before the discovery ${incident.discoveredAt}`,
      );
    }
    if (receivedAt) {
      notInFuture(receivedAt, now, 'receivedAt');
      if (receivedAt < reportedAt) throw new ClockRefusal(400, 'receivedAt: cannot be before reportedAt');
    }
    const fromLevel = input.from ?? (incident.unitLevel as ChainLevel);
    const about = input.about ?? 'leak';
    const report: ChainReport = {
      fromLevel,
      to: input.to,
      reportedAt,
      receivedAt,
      channel: input.channel,
      by: input.by ?? principal.name,
      about,
    };
    const clock = incidentClock(incident);
    if (!hopIdForReport(clock, report)) {
      const hops = chainHops(clock.unitLevel).map((h) => `${h.from === 'unit' ? fromLevel : h.from}→${h.to}`);
      throw new ClockRefusal(
        400,
        `to: a report from ${fromLevel} to ${input.to} is no hop of this chain; expected one of ${hops.join(', ')}`,
      );
    }
    this.checkReportable(incident, report);
    await this.deps.store.clocks.addReport(incident.id, {
      fromLevel,
      to: input.to,
      reportedAt: reportedAt.toISOString(),
      receivedAt: receivedAt?.toISOString() ?? null,
      channel: input.channel,
      by: report.by,
      receipt: input.receipt ?? null,
      recordedAt: now.toISOString(),
      recordedBy: principal.name,
      about,
    });
    return this.afterChange(incident.id);
  }

  /**
   * The unit's first report waits for a measure (第61条); the closure report for the closure, and
   * it goes in writing (第60条 书面告知).
   */
  private checkReportable(incident: IncidentRecord, report: ChainReport): void {
    const ownFirst =
      report.about !== 'closure' &&
      report.fromLevel === incident.unitLevel &&
      !incident.reports.some((r) => r.about === 'leak' && r.fromLevel === incident.unitLevel);
    if (ownFirst && measuresMissing(incident)) {
      throw new ClockRefusal(409, MEASURES_FIRST.en, MEASURES_FIRST.zh);
    }
    if (report.about !== 'closure') return;
    if (!incident.closedAt) {
      throw new ClockRefusal(
        409,
        `about: incident ${incident.id} is not closed; close it with its 处理结果 first (第60条)`,
        '事件尚未办结：请先登记处理结果（第六十条），再登记其书面告知',
      );
    }
    // To the minute: the forms give minutes, and one made in the minute of the closure is after it.
    const closedMinute = Math.floor(Date.parse(incident.closedAt) / 60_000) * 60_000;
    if (report.reportedAt.getTime() < closedMinute) {
      throw new ClockRefusal(
        400,
        `reportedAt: ${report.reportedAt.toISOString()} is before the closure ${incident.closedAt}; the 处理结果 is reported after it`,
        '报告时间早于办结时间：处理结果应在办结后书面告知',
      );
    }
    if (!WRITTEN_CHANNELS.includes(report.channel)) {
      throw new ClockRefusal(
        400,
        `channel: the 处理结果 goes in writing (第60条 书面告知): paper or system, not ${report.channel}`,
        '处理结果应当书面告知（第六十条）：请选择书面或信息系统方式',
      );
    }
  }

  /** Records the receipt of an earlier report; the recipient's 24 h run from it. */
  async confirmReceipt(
    caller: Principal | null,
    id: string,
    reportId: number,
    input: { receivedAt: string; receipt?: string | null },
  ): Promise<Incident> {
    requireWriter(caller);
    const incident = await this.visible(caller, id);
    const report = incident.reports.find((r) => r.id === reportId);
    if (!report) throw new ClockRefusal(404, `no report ${reportId} on incident ${incident.id}`);
    const receivedAt = new Date(input.receivedAt);
    notInFuture(receivedAt, this.deps.scheduler.now(), 'receivedAt');
    if (receivedAt < new Date(report.reportedAt)) {
      throw new ClockRefusal(400, 'receivedAt: cannot be before the report it confirms');
    }
    await this.deps.store.clocks.setReportReceipt(
      incident.id,
      report.id,
      receivedAt.toISOString(),
      input.receipt ?? null,
    );
    return this.afterChange(incident.id);
  }

  /**
   * Stores a new incident after checking its evidence: every event must be stored and in the
   * caller's scope. Discovery is the time the officer gives, else the warning's identification;
   * the evidence's own times are kept beside it, never taken for it. Returns the new id.
   */
  private async store(
    principal: Principal,
    input: Omit<NewIncident, 'unit' | 'evidence'> & {
      unit: string;
      evidence: number[];
      identifiedAt?: string;
    },
  ): Promise<string> {
    const now = this.deps.scheduler.now();
    const events = await this.deps.store.clocks.evidenceEvents(input.evidence);
    const missing = input.evidence.filter(
      (id) => !events.some((e) => e.id === id && inScope(principal, e.unit)),
    );
    if (missing.length > 0) throw new ClockRefusal(400, `evidence: no stored event ${missing.join(', ')}`);
    const given = input.discoveredAt ?? input.identifiedAt;
    if (given === undefined) {
      throw new ClockRefusal(400, 'discoveredAt: required (ISO 8601 time): when the unit found the leak');
    }
    const discoveredAt = new Date(given);
    notInFuture(discoveredAt, now, 'discoveredAt');
    const id = `inc-${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    await this.deps.store.clocks.createIncident({
      id,
      title: input.title,
      level: input.level,
      unit: input.unit,
      unitLevel: this.deps.rankOf?.(input.unit) ?? this.deps.level,
      discoveredAt: discoveredAt.toISOString(),
      discoverySource: input.discoveredAt !== undefined ? 'manual' : 'identified',
      description: input.description ?? null,
      measures: this.measures(principal, input.measures),
      evidence: input.evidence,
      createdAt: now.toISOString(),
      createdBy: principal.name,
      identifiedAt: input.identifiedAt ?? null,
      evidenceFrom: events[0]?.ts ?? null,
      evidenceTo: events.at(-1)?.ts ?? null,
    });
    return id;
  }

  private async visible(principal: Principal | null, id: string): Promise<IncidentRecord> {
    const record = await this.deps.store.clocks.getIncident(id);
    if (!record || !inScope(principal, record.unit)) throw new ClockRefusal(404, `no incident ${id}`);
    return record;
  }

  /** Rebuilds the chain's rows and runs a pass, then answers with the incident as it now stands. */
  private async afterChange(id: string): Promise<Incident> {
    this.deps.onIncidentChange?.(id);
    const record = (await this.deps.store.clocks.getIncident(id))!;
    await this.deps.scheduler.refreshIncident(record);
    await this.deps.scheduler.runPass('change');
    const fires = await this.deps.store.clocks.listFires({ type: 'incident', id });
    return incidentView(record, this.deps.scheduler.now(), fires, this.remindersMs);
  }
}

function hoursMinutes(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

function toChainReport(r: IncidentRecord['reports'][number]): ChainReport {
  return {
    fromLevel: r.fromLevel as ChainReport['fromLevel'],
    to: r.to as ChainReport['to'],
    reportedAt: new Date(r.reportedAt),
    receivedAt: r.receivedAt === null ? undefined : new Date(r.receivedAt),
    channel: r.channel,
    by: r.by,
    about: r.about,
  };
}

/**
 * When a warning was identified (识别): its first step out of 发现 into handling, not into 误报.
 * Undefined while it is still 发现.
 */
function identificationOf(warning: Warning): string | undefined {
  return warning.history.find(
    (step) => step.action === 'transition' && step.from === 'discovered' && step.to !== 'false-positive',
  )?.at;
}

function hopView(
  hop: ChainHop,
  now: Date,
  remindersMs: readonly number[] | undefined,
  reportIdsByHop: Map<string, number[]>,
): Incident['hops'][number] {
  return {
    id: hop.id,
    from: hop.from,
    to: hop.to,
    startedAt: iso(hop.startedAt),
    dueAt: iso(hop.dueAt),
    reportedAt: iso(hop.reportedAt),
    receivedAt: iso(hop.receivedAt),
    late: hop.late,
    lateByMs: hop.lateByMs,
    state: hop.state,
    offSystemDue: offSystemReportDue({ dueAt: hop.dueAt, arrivedAt: hop.receivedAt }, now, remindersMs),
    escalatesTo: hop.escalatesTo,
    reportIds: reportIdsByHop.get(hop.id) ?? [],
  };
}

export function incidentView(
  record: IncidentRecord,
  now: Date,
  fires?: FireRecord[],
  remindersMs?: readonly number[],
): Incident {
  const chain = incidentChain(record, now);
  const clock = incidentClock(record);
  const reportIdsByHop = new Map<string, number[]>();
  for (const report of record.reports) {
    const hop = hopIdForReport(clock, toChainReport(report));
    if (hop) reportIdsByHop.set(hop, [...(reportIdsByHop.get(hop) ?? []), report.id]);
  }
  return {
    id: record.id,
    title: record.title,
    level: record.level,
    unit: record.unit,
    unitLevel: record.unitLevel as ChainLevel,
    discoveredAt: record.discoveredAt,
    discoverySource: record.discoverySource,
    identifiedAt: record.identifiedAt ?? null,
    evidenceFrom: record.evidenceFrom ?? null,
    evidenceTo: record.evidenceTo ?? null,
    description: record.description,
    measures: record.measures.map(({ id, what, by, at, recordedAt, recordedBy }) => ({
      id,
      what,
      by,
      at,
      recordedAt,
      recordedBy,
    })),
    evidence: record.evidence,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    hops: chain.hops.map((hop) => hopView(hop, now, remindersMs, reportIdsByHop)),
    endToEndDue: {
      startedAt: iso(chain.endToEnd.startedAt),
      dueAt: iso(chain.endToEnd.dueAt),
      state: chain.endToEnd.state,
      late: chain.endToEnd.late,
      lateByMs: chain.endToEnd.lateByMs,
      heldBy: chain.endToEnd.heldBy,
      waitingOn: chain.endToEnd.waitingOn,
      watchedAbove: chain.endToEnd.watchedAbove,
    },
    closedAt: record.closedAt,
    outcome: record.outcome,
    closedBy: record.closedBy,
    closure: chain.closure && hopView(chain.closure, now, remindersMs, reportIdsByHop),
    reports: record.reports.map((r) => ({
      id: r.id,
      about: r.about,
      from: r.fromLevel,
      to: r.to,
      reportedAt: r.reportedAt,
      receivedAt: r.receivedAt,
      channel: r.channel,
      by: r.by,
      receipt: r.receipt,
      recordedAt: r.recordedAt,
      recordedBy: r.recordedBy,
    })),
    nationalReceivedAt: iso(chain.nationalReceivedAt),
    endToEndMs: chain.endToEndMs,
    endToEnd: chain.endToEndMs === null ? null : hoursMinutes(chain.endToEndMs),
    reminders: fires?.map(fireView),
  };
}
