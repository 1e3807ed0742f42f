import type { EvidenceFigures, EvidenceLink } from '../../shared/api/self-inspection.js';
import type { WarningState } from '../store/warnings/records.js';
import { shanghaiDate } from '../../shared/calendar.js';
import { incidentChain, systemSchedule, type ClockOptions } from '../clocks/clock-records.js';
import { rectificationState } from '../rectifications/rectification-clock.js';
import type { Store } from '../store/store.js';
import { findingsOf } from '../register/register-checks.js';

/**
 * smew's own records as evidence for a self-inspection answer, as figures taken from the store:
 * shown live while the inspection is open, kept as they stood when it is finalised. Terminals are
 * the enrolled agents and the register's entries: how many are registered, how many lack what the
 * register checks ask for (register-checks.ts findingsOf, the one rule), how many agents are not
 * registered at all.
 */
const OPEN_WARNING_STATES: readonly WarningState[] = ['discovered', 'identified', 'handling'];
const PAGE = 1000;

type Figures = Record<string, number>;

async function terminals(store: Store): Promise<Figures> {
  const live = (await store.listAgents({})).filter((a) => a.revokedAt === null);
  const online = live.filter((a) => a.online).length;
  const registered = await store.register.listTerminals({});
  return {
    enrolled: live.length,
    online,
    offline: live.length - online,
    registered: registered.length,
    registerFindings: registered.filter((t) => findingsOf(t).size > 0).length,
    unregistered: (await store.register.listUnregisteredAgents(undefined)).length,
  };
}

async function assessments(store: Store, now: Date, options: ClockOptions): Promise<Figures> {
  const figures: Figures = { systems: 0, overdue: 0, dueSoon: 0, reassess: 0, unapproved: 0 };
  for (const system of await store.clocks.listSystems({})) {
    if (system.status !== 'in-use') continue;
    figures.systems! += 1;
    const schedule = systemSchedule(system, now, options);
    if (schedule.state === 'overdue') figures.overdue! += 1;
    if (schedule.state === 'due-soon') figures.dueSoon! += 1;
    if (schedule.state === 'reassess') figures.reassess! += 1;
    if (schedule.unapproved) figures.unapproved! += 1;
  }
  return figures;
}

async function warnings(store: Store): Promise<Figures> {
  const figures: Figures = { open: 0, critical: 0, high: 0 };
  for (let offset = 0; ; offset += PAGE) {
    const page = await store.warnings.listWarnings({ states: OPEN_WARNING_STATES, limit: PAGE, offset });
    for (const w of page) {
      figures.open! += 1;
      if (w.severity === 'critical' || w.severity === 'high') figures[w.severity]! += 1;
    }
    if (page.length < PAGE) return figures;
  }
}

async function incidents(store: Store, now: Date): Promise<Figures> {
  const year = shanghaiDate(now).slice(0, 4);
  const figures: Figures = { total: 0, inYear: 0, unreported: 0 };
  for (const incident of await store.clocks.listIncidents({})) {
    figures.total! += 1;
    if (shanghaiDate(new Date(incident.discoveredAt)).startsWith(year)) figures.inYear! += 1;
    if (incidentChain(incident, now).hops[0]?.state !== 'done') figures.unreported! += 1;
  }
  return figures;
}

async function rectifications(store: Store, now: Date): Promise<Figures> {
  const figures: Figures = { open: 0, overdue: 0, done: 0 };
  for (const item of await store.rectifications.list({})) figures[rectificationState(item, now)]! += 1;
  return figures;
}

/** The figures of each link asked for, read now. */
export async function evidenceFigures(
  store: Store,
  links: readonly EvidenceLink[],
  now: Date,
  options: ClockOptions,
): Promise<EvidenceFigures> {
  const readers: Record<EvidenceLink, () => Promise<Figures>> = {
    terminals: () => terminals(store),
    assessments: () => assessments(store, now, options),
    warnings: () => warnings(store),
    incidents: () => incidents(store, now),
    rectifications: () => rectifications(store, now),
  };
  const figures: EvidenceFigures = {};
  for (const link of new Set(links)) figures[link] = await readers[link]();
  return figures;
}
