import { shanghaiDate, startOfShanghaiDay } from '../../shared/calendar.js';
import { SEVERITIES } from '../../shared/levels.js';
import { SYSTEM_LEVELS } from '../clocks/assessment-schedule.js';
import { incidentChain, systemSchedule, type ClockOptions } from '../clocks/clock-records.js';
import type { Store } from '../store/store.js';
import type { CollectorLevel } from './messages.js';

/**
 * 第56条 annual figures, the annex (附表) of 年度保密工作情况: a unit reports its year to the same-level administration;
 * each administration reports its region's year upward. smew cannot know the whole of 保密工作
 * (training, personnel, 定密), so the figures are what its own records prove, counted over the
 * Shanghai calendar year [1 January, next 1 January):
 *
 * - systems: classified information systems in the register by level, in use or decommissioned at
 *   year end, and those commissioned during the year (第35条);
 * - assessments: risk assessments completed in the year, failed ones, and systems overdue at year end;
 * - incidents: leaks or possible leaks discovered in the year by level, and how the unit's first
 *   第61条 hop (to the same-level administration) went: on time, late, or still unreported;
 * - warnings: 第64条 warnings opened in the year by severity and how they ended (closed, false
 *   positive, still open), and by type in `warningTypes`;
 * - notices: 预警通报 and policy updates received from above in the year, acknowledged, answered
 *   with a 排查 result; those issued downward;
 * - agents: monitored hosts enrolled and not revoked at year end, enrolled and revoked during the
 *   year; `online` is the state when the figures were taken.
 *
 * Figures are two levels of whole numbers (section → name → count), so any set of them adds up
 * with `sumFigures`, whatever the sections a later version adds.
 */
export type Figures = Record<string, Record<string, number>>;

// A type, not an interface: it goes into a report's data, a plain record.
export type AnnualFigures = {
  year: number;
  unit: string;
  level: CollectorLevel;
  /** The year as instants: from (inclusive) and to (exclusive), ISO 8601 UTC. */
  from: string;
  to: string;
  /** When the figures were taken; before `to` they are a preliminary count of the year so far. */
  takenAt: string;
  final: boolean;
  figures: Figures;
};

export function yearBounds(year: number): { from: Date; to: Date } {
  return { from: startOfShanghaiDay(`${year}-01-01`), to: startOfShanghaiDay(`${year + 1}-01-01`) };
}

/** The Shanghai calendar year an instant falls in. */
export function shanghaiYear(instant: Date): number {
  return Number(shanghaiDate(instant).slice(0, 4));
}

function within(iso: string | null | undefined, from: Date, to: Date): boolean {
  if (!iso) return false;
  const t = Date.parse(iso);
  return t >= from.getTime() && t < to.getTime();
}

function bump(section: Record<string, number>, name: string, by = 1): void {
  section[name] = (section[name] ?? 0) + by;
}

/** Adds figures section by section and name by name. */
export function sumFigures(all: readonly Figures[]): Figures {
  const total: Figures = {};
  for (const figures of all) {
    for (const [section, names] of Object.entries(figures)) {
      const target = (total[section] ??= {});
      for (const [name, value] of Object.entries(names)) {
        if (typeof value === 'number' && Number.isFinite(value)) bump(target, name, value);
      }
    }
  }
  return total;
}

const PAGE = 1000;

export interface AnnualFiguresInput {
  store: Store;
  unit: string;
  level: CollectorLevel;
  year: number;
  now: Date;
  clockOptions: ClockOptions;
}

/** This collector's own figures for `year`, from its store. */
export async function takeAnnualFigures(input: AnnualFiguresInput): Promise<AnnualFigures> {
  const { store, year, now } = input;
  const { from, to } = yearBounds(year);
  // States (overdue, unreported, enrolled) are read at year end, or now for a year not over.
  const asOf = new Date(Math.min(now.getTime(), to.getTime() - 1));

  const systems: Record<string, number> = { inUse: 0, decommissioned: 0, commissioned: 0 };
  const assessments: Record<string, number> = { completed: 0, failed: 0, overdue: 0 };
  for (const level of SYSTEM_LEVELS) systems[level] = 0;
  for (const system of await store.clocks.listSystems({})) {
    if (Date.parse(system.createdAt) >= to.getTime()) continue;
    bump(systems, system.level);
    const decommissionedBy = system.changes.some(
      (c) => c.kind === 'status' && c.to === 'decommissioned' && Date.parse(c.at) < to.getTime(),
    );
    bump(systems, system.status === 'decommissioned' && decommissionedBy ? 'decommissioned' : 'inUse');
    if (within(startOfShanghaiDay(system.commissionedAt).toISOString(), from, to))
      bump(systems, 'commissioned');
    for (const a of system.assessments) {
      if (!within(startOfShanghaiDay(a.completedAt).toISOString(), from, to)) continue;
      bump(assessments, 'completed');
      if (a.result === 'major-risks') bump(assessments, 'failed');
    }
    if (
      system.status !== 'decommissioned' &&
      systemSchedule(system, asOf, input.clockOptions).state === 'overdue'
    )
      bump(assessments, 'overdue');
  }

  const incidents: Record<string, number> = {
    discovered: 0,
    reportedOnTime: 0,
    reportedLate: 0,
    unreported: 0,
  };
  for (const level of SYSTEM_LEVELS) incidents[level] = 0;
  for (const incident of await store.clocks.listIncidents({})) {
    if (!within(incident.discoveredAt, from, to)) continue;
    bump(incidents, 'discovered');
    bump(incidents, incident.level);
    const first = incidentChain(incident, asOf).hops[0];
    if (first?.state === 'done') bump(incidents, first.late ? 'reportedLate' : 'reportedOnTime');
    else bump(incidents, 'unreported');
  }

  const warnings: Record<string, number> = { opened: 0, closed: 0, falsePositive: 0, open: 0 };
  for (const severity of SEVERITIES) warnings[severity] = 0;
  const warningTypes: Record<string, number> = {};
  for (let offset = 0; ; offset += PAGE) {
    const page = await store.warnings.listWarnings({ limit: PAGE, offset });
    for (const w of page) {
      if (!within(w.createdAt, from, to)) continue;
      bump(warnings, 'opened');
      bump(warnings, w.severity);
      bump(warningTypes, w.type);
      if (w.state === 'closed') bump(warnings, 'closed');
      else if (w.state === 'false-positive') bump(warnings, 'falsePositive');
      else bump(warnings, 'open');
    }
    if (page.length < PAGE) break;
  }

  const notices: Record<string, number> = { received: 0, acknowledged: 0, answered: 0, issued: 0 };
  for (const n of await store.hierarchy.listNotices(10_000)) {
    if (!within(n.receivedAt, from, to)) continue;
    if (n.source === 'issued') {
      bump(notices, 'issued');
      continue;
    }
    bump(notices, 'received');
    if (n.ackedAt) bump(notices, 'acknowledged');
    if (n.result !== null) bump(notices, 'answered');
  }

  const agents: Record<string, number> = { enrolled: 0, online: 0, enrolledInYear: 0, revokedInYear: 0 };
  for (const agent of await store.listAgents({})) {
    if (Date.parse(agent.enrolledAt) >= to.getTime()) continue;
    if (within(agent.enrolledAt, from, to)) bump(agents, 'enrolledInYear');
    if (within(agent.revokedAt, from, to)) bump(agents, 'revokedInYear');
    const revoked = agent.revokedAt !== null && Date.parse(agent.revokedAt) < to.getTime();
    if (revoked) continue;
    bump(agents, 'enrolled');
    if (agent.online) bump(agents, 'online');
  }

  return {
    year,
    unit: input.unit,
    level: input.level,
    from: from.toISOString(),
    to: to.toISOString(),
    takenAt: now.toISOString(),
    final: now.getTime() >= to.getTime(),
    figures: { systems, assessments, incidents, warnings, warningTypes, notices, agents },
  };
}

/** One unit's figures for a year as a parent holds them: its own, or the latest report from below. */
export interface UnitFigures {
  unit: string;
  level: CollectorLevel;
  origin: string;
  own: boolean;
  final: boolean;
  takenAt: string;
  /** When this collector received the report; null for its own figures. */
  receivedAt: string | null;
  figures: Figures;
}

function asFigures(value: unknown): Figures {
  if (typeof value !== 'object' || value === null) return {};
  const out: Figures = {};
  for (const [section, names] of Object.entries(value)) {
    if (typeof names !== 'object' || names === null) continue;
    const numbers: Record<string, number> = {};
    for (const [name, n] of Object.entries(names as Record<string, unknown>)) {
      if (typeof n === 'number' && Number.isFinite(n)) numbers[name] = n;
    }
    out[section] = numbers;
  }
  return out;
}

/**
 * The annual figures received from subordinates for `year`, one per unit (the newest report, should
 * a unit have re-enrolled with a new key), limited to `units` as the other scoped views are.
 */
export async function subordinateFigures(
  store: Store,
  year: number,
  units: readonly string[] | undefined,
): Promise<UnitFigures[]> {
  const reports = await store.hierarchy.listReports({ units, type: 'annual', limit: 10_000 });
  const byUnit = new Map<string, UnitFigures>();
  for (const r of reports) {
    if (r.report.data.year !== year) continue;
    const previous = byUnit.get(r.unit);
    if (previous && previous.receivedAt !== null && previous.receivedAt >= r.receivedAt) continue;
    byUnit.set(r.unit, {
      unit: r.unit,
      level: r.level,
      origin: r.origin,
      own: false,
      final: r.report.data.final === true,
      takenAt: typeof r.report.data.takenAt === 'string' ? r.report.data.takenAt : r.report.ts,
      receivedAt: r.receivedAt,
      figures: asFigures(r.report.data.figures),
    });
  }
  return [...byUnit.values()].sort((a, b) => a.unit.localeCompare(b.unit, 'zh'));
}

/**
 * What an `annual` report carries: the figures, and for an administration its region's (第56条 ¶2
 * 本行政区域): its own plus every subordinate's received so far, and the subordinate units still
 * missing, so the level above sees a region total even where a unit is silent.
 */
export async function annualReportData(
  input: AnnualFiguresInput,
): Promise<AnnualFigures & { region?: { units: number; missing: string[]; figures: Figures } }> {
  const own = await takeAnnualFigures(input);
  if (input.level === 'unit') return own;
  const below = await subordinateFigures(input.store, input.year, undefined);
  const reported = new Set(below.map((b) => b.unit));
  const missing = [...new Set((await input.store.hierarchy.listSubordinates({})).map((s) => s.unit))]
    .filter((unit) => !reported.has(unit))
    .sort((a, b) => a.localeCompare(b, 'zh'));
  return {
    ...own,
    region: {
      units: below.length + 1,
      missing,
      figures: sumFigures([own.figures, ...below.map((b) => b.figures)]),
    },
  };
}
