import { WARNING_STATES } from '../../shared/api/warnings.js';
import type { Level, Severity } from '../../shared/levels.js';
import { WARNING_STATE_NAMES as STATE_NAMES, type Names } from '../../shared/terms.js';

/**
 * A 第64条 warning as the store keeps it and the API shows it (SPEC §8: id, state, severity,
 * rule, key, count, firstSeen, lastSeen, unit, agent, plus what handling and notices need).
 * Times are ISO 8601 UTC. Evidence is not an array here: every event folded into a warning is
 * an evidence row of its own (see RuleEffect.evidence), so 10 000 repeats cost 10 000 small
 * rows, not a warning that grows with each one.
 */
export { WARNING_STATES };
export type WarningState = (typeof WARNING_STATES)[number];

/** 发现、识别、处置, then 关闭, or 误报, in the officers' words (shared/terms.ts). */
export const WARNING_STATE_NAMES: Record<WarningState, Names> = STATE_NAMES;

export function isTerminalState(state: WarningState): boolean {
  return state === 'closed' || state === 'false-positive';
}

/** Points at one stored event; with `eventId` the store can show the original signed envelope. */
export interface EvidenceRef {
  eventId?: number;
  agent: string;
  seq: number;
  ts: string;
  state: 'raised' | 'cleared';
}

/** Who acts. `role` is a string so an unknown role (a newer or misspelt one) is refused, not trusted. */
export interface Actor {
  name: string;
  role: string;
  /** Null for a collector-wide account. */
  unit: string | null;
}

/** One step of handling; `action` tells a state change from a recorded action such as an incident. */
export interface TransitionRecord {
  action: 'transition' | 'open-incident';
  from: WarningState;
  to: WarningState;
  by: Actor;
  at: string;
  note: string;
  /** On an `open-incident` step: the 第61条 incident it opened. */
  incidentId?: string;
}

/** The incidents this warning opened, oldest first. */
export function incidentsOf(warning: Warning): string[] {
  return warning.history.flatMap((h) => (h.action === 'open-incident' && h.incidentId ? [h.incidentId] : []));
}

export interface Warning {
  /** Derived from the rule, the group and the first evidence event: the same input gives the same id. */
  id: string;
  rule: string;
  title: { zh: string; en: string };
  /** The rule-state row this warning occupies while open (see collector/rules/evaluate.ts). */
  slot: string;
  key: string;
  labels: Record<string, string>;
  /** Whether one event, a repeat threshold or a correlation across hosts opened it. */
  origin: 'event' | 'threshold' | 'correlation';
  state: WarningState;
  severity: Severity;
  count: number;
  firstSeen: string;
  lastSeen: string;
  /** When the collector opened it: the start of its handling. */
  createdAt: string;
  unit: string;
  /** The host, when the warning is about one host; null for unit-level (correlated) warnings. */
  agent: string | null;
  agents: string[];
  /** The most secret level among its hosts, when known. */
  level: Level | null;
  type: string;
  /** The event that opened it, for notices. `data` is the agent's text: show it, never interpret it. */
  sample: { type: string; key: string; data: Record<string, unknown> };
  /** Set when every condition of the warning has cleared; the warning itself stays until handled. */
  resolvedAt: string | null;
  history: TransitionRecord[];
}
