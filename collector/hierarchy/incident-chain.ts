import { COLLECTOR_LEVELS } from '../config.js';
import { arrivalOf, HOP_DEADLINE_MS, hopStatus } from '../clocks/report-chain.js';
import type { CollectorLevel } from './messages.js';

/**
 * The 第61条 chain of an incident reported from below, as a parent sees it: each hop with its
 * deadline (24 h from discovery for the unit, 24 h from its own receipt for each administration),
 * when it was reported and received, and whether it was late — including this collector's own
 * onward hop, still open until the parent's receipt arrives.
 */
export interface HopFact {
  from: string;
  to: string;
  reportedAt: string | null;
  receivedAt: string | null;
  /** How it went (system, paper, phone, in-person); a call arrives as it is made. */
  channel?: string;
}

export interface ChainHop extends HopFact {
  dueAt: string;
  late: boolean;
}

export interface IncidentChainInput {
  discoveredAt: string;
  /** When this collector received the incident. */
  receivedHere: string;
  here: CollectorLevel;
  /** Hops reported from below (incident.hop reports) in any order. */
  hops: readonly HopFact[];
  /** This collector's own onward hop, once its parent has confirmed it. */
  ownHop: HopFact | undefined;
  /** The level this collector reports to; undefined for the top of this deployment. */
  parentLevel: CollectorLevel | undefined;
  now: Date;
}

function plus24h(iso: string): string {
  return new Date(Date.parse(iso) + HOP_DEADLINE_MS).toISOString();
}

function arrival(fact: HopFact): Date | null {
  const date = (iso: string | null) => (iso === null ? null : new Date(iso));
  return arrivalOf({
    channel: fact.channel,
    reportedAt: date(fact.reportedAt),
    receivedAt: date(fact.receivedAt),
  });
}

/** Late by the one rule (report-chain.ts): made when it arrives. */
function isLate(dueAt: string, fact: HopFact, now: Date): boolean {
  const sentAt = fact.reportedAt === null ? null : new Date(fact.reportedAt);
  return hopStatus(new Date(dueAt), sentAt, arrival(fact), now).late;
}

export function incidentChain(input: IncidentChainInput): ChainHop[] {
  const rank = (level: string) => COLLECTOR_LEVELS.indexOf(level as CollectorLevel);
  const facts = [...input.hops].sort((a, b) => rank(a.from) - rank(b.from));
  const out: ChainHop[] = [];
  let clockStart = input.discoveredAt;
  for (const fact of facts) {
    // The superior department (上级主管部门) is an end point with the unit's own 24 h.
    const toSuperior = fact.to === 'superior-dept';
    const dueAt = plus24h(toSuperior ? input.discoveredAt : clockStart);
    out.push({ ...fact, dueAt, late: isLate(dueAt, fact, input.now) });
    const arrivedAt = arrival(fact);
    if (arrivedAt && !toSuperior) clockStart = arrivedAt.toISOString();
  }
  // This collector's hop: its clock starts at its own receipt.
  const next = input.parentLevel ?? COLLECTOR_LEVELS[rank(input.here) + 1];
  if (next !== undefined && !out.some((h) => h.from === input.here)) {
    const dueAt = plus24h(input.receivedHere);
    const own = input.ownHop ?? { from: input.here, to: next, reportedAt: null, receivedAt: null };
    out.push({ ...own, dueAt, late: isLate(dueAt, own, input.now) });
  }
  return out;
}
