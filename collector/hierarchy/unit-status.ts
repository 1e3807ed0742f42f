import { createHash } from 'node:crypto';
import { SEVERITIES, type Severity } from '../../shared/levels.js';
import { type ClockOptions, incidentChain, systemSchedule } from '../clocks/clock-records.js';
import type { Store } from '../store/store.js';

/**
 * What an administration's 下级单位 page shows of each unit below (issue 18), as the unit itself
 * counts it: terminals online of total, open warnings by severity (all of them, not only those
 * at or above `parent.minSeverity` that go up one by one), overdue assessments, its incidents and
 * their late hops, and notices from above it has not answered. It goes up as one signed report,
 * `unit.status`, whenever a figure changes (and once an hour), so the page is as fresh as the
 * link.
 */
export interface UnitStatusFigures {
  terminals: { total: number; online: number };
  openWarnings: Record<Severity, number>;
  overdueAssessments: number;
  incidents: { total: number; open: number; lateHops: number };
  noticesUnanswered: number;
  /** 整改 items not yet closed (第59条), from self-inspections, assessments or entered by hand. */
  openRectifications: number;
}

/** Warning states that still need someone (待研判, 已研判, 处置中). */
const OPEN_STATES = ['discovered', 'identified', 'handling'] as const;
/** More open warnings than this are counted as this many: the page asks "which units need attention". */
const WARNING_COUNT_LIMIT = 100_000;

export async function unitStatusFigures(
  store: Store,
  clockOptions: ClockOptions,
  now: Date,
): Promise<UnitStatusFigures> {
  const terminals = await store.countAgents();
  const openWarnings = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const warning of await store.warnings.listWarnings({
    states: OPEN_STATES,
    limit: WARNING_COUNT_LIMIT,
  })) {
    openWarnings[warning.severity] += 1;
  }
  const systems = await store.clocks.listSystems({});
  const incidents = await store.clocks.listIncidents({});
  const notices = await store.hierarchy.listNotices(1000);
  const openRectifications = (await store.rectifications.list({ open: true })).length;
  return {
    terminals: { total: terminals.enrolled, online: terminals.online },
    openWarnings,
    overdueAssessments: systems.filter((s) => systemSchedule(s, now, clockOptions).state === 'overdue')
      .length,
    incidents: {
      total: incidents.length,
      open: incidents.filter((i) => i.closedAt === null).length,
      lateHops: incidents.reduce((n, i) => n + incidentChain(i, now).hops.filter((h) => h.late).length, 0),
    },
    // A policy update is applied, not answered: only a 预警通报 asks for a 排查 result.
    noticesUnanswered: notices.filter(
      (n) => n.source === 'received' && n.notice.type === 'notice' && n.result === null,
    ).length,
    openRectifications,
  };
}

/** The producer key: a new report when a figure changes, and one an hour (UTC) to say it is current. */
export function unitStatusKey(figures: UnitStatusFigures, now: Date): string {
  const digest = createHash('sha256').update(JSON.stringify(figures)).digest('hex').slice(0, 16);
  return `unit.status:${now.toISOString().slice(0, 13)}:${digest}`;
}
