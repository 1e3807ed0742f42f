import type { Level, Severity } from '../../../shared/levels.js';

/**
 * The 第64条 records as the store keeps them: warnings with their audit trail and evidence,
 * silences, notices, collector conditions and the notification outbox. They live on the store's
 * side so the store imports nothing from the pipeline (rules, warnings, notify); the pipeline's
 * pure decisions take and return these records (collector/warnings re-exports them).
 */

import { WARNING_STATES } from '../../../shared/api/warnings.js';

/** The states are the API's words (shared/api/warnings.ts); the store keeps them as they are. */
export { WARNING_STATES };
export type WarningState = (typeof WARNING_STATES)[number];

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

/**
 * A 第64条 warning as the store keeps it and the API shows it (SPEC §8: id, state, severity,
 * rule, key, count, firstSeen, lastSeen, unit, agent, plus what handling and notices need).
 * Times are ISO 8601 UTC. Evidence is not an array here: every event folded into a warning is
 * an evidence row of its own (see RuleEffect.evidence), so 10 000 repeats cost 10 000 small
 * rows, not a warning that grows with each one.
 */
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

/**
 * A condition the collector observes itself rather than receives from an agent: an agent gone
 * silent (`agent.offline`), a gap in its seq (`agent.events.lost`), an overdue risk assessment
 * (`assessment.overdue`), a missed 第61条 deadline (`incident.report.late`). It enters the same
 * rules as agent events, so one place decides what becomes a warning; `cleared` resolves it.
 */
export interface CollectorCondition {
  type: string;
  state: 'raised' | 'cleared';
  /** Names the condition so its `cleared` finds what `raised` opened, e.g. `agent.offline:ag-…`. */
  key: string;
  unit: string;
  /** The agent concerned, when there is one. */
  agent?: string;
  severity: Severity;
  data: Record<string, unknown>;
  /** When it was observed, ISO 8601 UTC. */
  at: string;
}

/** Collector conditions have no agent seq: evidence refs carry −(condition row id) instead. */
export function conditionSeq(conditionId: number): number {
  return -conditionId;
}

/** A negative seq is a collector condition's row id (conditionSeq), not an agent's event. */
export function evidenceConditionId(ref: EvidenceRef): number | null {
  return ref.seq < 0 ? -ref.seq : null;
}

export interface EvidenceRecord extends EvidenceRef {
  /** For a collector condition: its row id, type, key and data. */
  condition?: { id: number; type: string; key: string; data: Record<string, unknown>; at: string };
  /** The stored event's envelope exactly as received, when `eventId` is set and still stored. */
  envelope?: string;
}

/** Every given field must equal the warning's; `data` fields compare with the warning's sample data. */
export interface SilenceMatcher {
  rule?: string;
  severity?: Severity;
  agent?: string;
  unit?: string;
  key?: string;
  data?: Record<string, string | number | boolean>;
}

export interface Silence {
  id: string;
  matcher: SilenceMatcher;
  startsAt: string;
  endsAt: string;
  author: Actor;
  reason: string;
  createdAt: string;
  /** The second person, needed before it mutes a critical warning of a 绝密 host. */
  approvedBy: (Actor & { at: string }) | null;
}

export interface StoredSilence extends Silence {
  /** Set when someone ended it early. */
  expiredBy: { name: string; role: string; unit: string | null; at: string } | null;
}

export interface NoticeRecipient {
  unit: string;
  acknowledgedAt: string | null;
  acknowledgedBy: Actor | null;
  result: string | null;
  resultAt: string | null;
  resultBy: Actor | null;
}

export interface Notice {
  id: string;
  title: string;
  text: string;
  requiredAction: string;
  deadline: string;
  /** The issuer's unit; null for a collector-wide account. */
  issuerUnit: string | null;
  issuedBy: Actor;
  issuedAt: string;
  /** The warning the notice is about, when there is one. */
  warningId: string | null;
  recipients: NoticeRecipient[];
}

export type NotificationState = 'pending' | 'sent' | 'muted' | 'failed';

export interface NotificationRecord {
  id: number;
  warningId: string;
  channel: string;
  /** occasionKey: `opened`, `reraised:<time>` or `state:<to>`; one row per warning, channel and occasion. */
  occasion: string;
  state: NotificationState;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  doneAt: string | null;
  mutedBy: string | null;
}

export type NotificationOutcome =
  | { state: 'sent'; at: string }
  | { state: 'muted'; at: string; silenceId: string }
  /** Not delivered; `nextAttemptAt` null gives up (state failed). */
  | { state: 'retry'; error: string; nextAttemptAt: string | null; at: string };
