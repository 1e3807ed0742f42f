import { createHash } from 'node:crypto';
import { LEVELS, type Level, type Severity } from '../../shared/levels.js';
import type { EvidenceRef, Warning } from '../warnings/warning.js';
import { groupKey, matchesRule, maxSeverity, severityFor, slotOf, type RuleEvent } from './match.js';
import type { Rule } from './schema.js';

/**
 * The rules stage of the pipeline (ingest → store → rules → warnings → notify), as a pure state
 * machine: `evaluate(state, event, rules, now)` returns the next state, the effects on warnings
 * and the row changes to persist. It does no I/O and keeps no hidden state, so:
 *
 * - the state lives in the store as rows (open warnings, threshold windows, correlation windows,
 *   a condition index) and a restart loses nothing;
 * - a store that shares work between processes loads only the rows `rowsNeeded` names, under a
 *   lock, into a small snapshot, evaluates, and writes `changes` in the same transaction as the
 *   event; a single process may instead keep the whole state in memory and write the changes;
 * - call it once per newly stored event: ingest already drops a repeated (agent, seq).
 *
 * Time: windows and firstSeen/lastSeen use the agent's attested `ts` (when the thing happened,
 * so an outbox replayed after an outage is not a burst), never later than `now` (a clock ahead
 * cannot hold a window open). `createdAt` of a warning is the collector's `now`.
 */

/** A raised event recorded in a window: enough to open a warning later and to follow its condition. */
export interface HitRow {
  at: string;
  agent: string;
  /** The condition (agent, key) while it is still raised; null once cleared or for a `cleared` event. */
  cond: string | null;
  severity: Severity;
  level: Level | null;
  ref: EvidenceRef;
}

/** An open warning's rule-side state: one per rule and group while the warning is not closed. */
export interface OpenRow {
  slot: string;
  rule: string;
  warningId: string;
  count: number;
  lastSeen: string;
  severity: Severity;
  level: Level | null;
  agents: string[];
  /**
   * How many conditions folded into the warning have not cleared yet. Which ones are the
   * (condition, slot) pairs of its slot (RuleState.conditions), not a list in the row: a unit-level
   * warning folds in every condition of its unit, and a list rewritten with every event made each
   * event cost more than the last.
   */
  raisedCount: number;
  resolvedAt: string | null;
}

/** Occurrences of a threshold rule's group not yet numerous enough (at most count − 1, oldest first). */
export interface WindowRow {
  slot: string;
  rule: string;
  hits: HitRow[];
}

/** Hosts seen by a correlate rule's group within its window: the latest hit of each. */
export interface CorrelationRow {
  slot: string;
  rule: string;
  hosts: HitRow[];
}

export interface RuleState {
  open: Record<string, OpenRow>;
  windows: Record<string, WindowRow>;
  correlations: Record<string, CorrelationRow>;
  /**
   * Condition id → slots that hold it raised: in the slot's open warning, or in a hit of its
   * window or correlation row. Exact: a pair is added with the hit or the warning that raises the
   * condition and removed with the last of them (its clearing, the hit leaving the window, the
   * warning's release), so a pair of an open slot is one of the warning's raised conditions.
   * Lets a `cleared` event find what it resolves. Stored as (condition, slot) pairs: changes add
   * or remove one pair, never rewrite a list, so a snapshot need not hold the pairs of conditions
   * it does not read.
   */
  conditions: Record<string, string[]>;
}

export type RowChange =
  | { table: 'open'; id: string; row: OpenRow | null }
  | { table: 'windows'; id: string; row: WindowRow | null }
  | { table: 'correlations'; id: string; row: CorrelationRow | null }
  /** Adds (row: true) or removes (row: null) the pair (condition `id`, `slot`). */
  | { table: 'conditions'; id: string; slot: string; row: true | null }
  /** Removes every pair of slot `id` (a released warning's raised conditions). */
  | { table: 'slotConditions'; id: string; row: null };

export type RuleEffect =
  | {
      kind: 'open';
      reason: Warning['origin'];
      warning: Warning;
      /** Every event that made it: one for `event`, the window's hits for threshold and correlation. */
      evidence: EvidenceRef[];
    }
  | {
      kind: 'bump';
      warningId: string;
      rule: string;
      /** Absolute values, so applying an effect twice changes nothing. */
      count: number;
      lastSeen: string;
      severity: Severity;
      level: Level | null;
      agent: string;
      /** True when a condition was raised again after the warning had resolved. */
      reraised: boolean;
      evidence: EvidenceRef;
    }
  | {
      kind: 'resolve';
      warningId: string;
      rule: string;
      condition: { agent: string; key: string };
      /** Conditions of the warning still raised. */
      remaining: number;
      /** Set when none remain: the condition is gone. The warning stays open for handling. */
      resolvedAt: string | null;
      evidence: EvidenceRef;
    };

export interface Evaluation {
  state: RuleState;
  effects: RuleEffect[];
  changes: RowChange[];
}

export function emptyRuleState(): RuleState {
  return { open: {}, windows: {}, correlations: {}, conditions: {} };
}

export function conditionId(agent: string, key: string): string {
  return JSON.stringify([agent, key]);
}

/**
 * The rows an evaluation of `event` reads: the open, window and correlation rows of `slots`, the
 * condition pairs of `condition`, and, for a `cleared` event, the rows of every slot those pairs
 * name. (expireWindows is a sweep and reads everything.)
 */
export function rowsNeeded(event: RuleEvent, rules: readonly Rule[]): { slots: string[]; condition: string } {
  const slots = rules.filter((rule) => matchesRule(rule, event)).map((rule) => slotOf(rule, event));
  return { slots, condition: conditionId(event.envelope.agent, event.envelope.key) };
}

export function evaluate(state: RuleState, event: RuleEvent, rules: readonly Rule[], now: Date): Evaluation {
  const draft = new Draft(state);
  const effects: RuleEffect[] = [];
  const { envelope } = event;
  const at = eventTime(envelope.ts, now);
  // Built without a conditional spread: this runs for every event, and spreads are slow in V8.
  const ref: EvidenceRef = {
    agent: envelope.agent,
    seq: envelope.seq,
    ts: envelope.ts,
    state: envelope.state,
  };
  if (event.eventId !== undefined) ref.eventId = event.eventId;
  const cond = conditionId(envelope.agent, envelope.key);

  if (envelope.state === 'cleared') effects.push(...clearCondition(draft, cond, envelope, at, ref));

  for (const rule of rules) {
    if (!matchesRule(rule, event)) continue;
    const slot = slotOf(rule, event);
    const hit: HitRow = {
      at,
      agent: envelope.agent,
      cond: envelope.state === 'raised' ? cond : null,
      severity: severityFor(rule, event),
      level: event.agentLevel ?? null,
      ref,
    };
    const open = draft.state.open[slot];
    if (open) effects.push(bump(draft, open, hit));
    else if (rule.threshold)
      effects.push(...countInWindow(draft, rule, rule.threshold, slot, event, hit, now));
    else if (rule.correlate) effects.push(...correlate(draft, rule, rule.correlate, slot, event, hit, now));
    else effects.push(openWarning(draft, rule, slot, event, [hit], 'event', now));
  }
  return { state: draft.state, effects, changes: draft.changes };
}

/**
 * Frees a warning's slot once it is closed or marked a false positive, so the next occurrence
 * opens a new warning instead of reviving a handled one. Ignores a slot that already holds a
 * newer warning.
 */
export function releaseWarning(state: RuleState, warning: Pick<Warning, 'id' | 'slot'>): Evaluation {
  const draft = new Draft(state);
  const row = state.open[warning.slot];
  if (row && row.warningId === warning.id) {
    draft.write('open', warning.slot, null);
    draft.unindexSlot(warning.slot);
  }
  return { state: draft.state, effects: [], changes: draft.changes };
}

/**
 * Drops windows whose every hit is older than their rule's window (or whose rule is gone) and
 * index entries pointing at nothing. Run it from time to time; evaluation is correct without it,
 * it only keeps the tables small.
 */
export function expireWindows(state: RuleState, rules: readonly Rule[], now: Date): Evaluation {
  const draft = new Draft(state);
  const byName = new Map(rules.map((rule) => [rule.name, rule]));
  const stale = (ruleName: string, hits: HitRow[]) => {
    const rule = byName.get(ruleName);
    const within = rule?.threshold?.withinMs ?? rule?.correlate?.withinMs;
    if (within === undefined) return true;
    return hits.every((hit) => Date.parse(hit.at) < now.getTime() - within);
  };
  for (const [slot, row] of Object.entries(state.windows))
    if (stale(row.rule, row.hits)) draft.write('windows', slot, null);
  for (const [slot, row] of Object.entries(state.correlations)) {
    if (stale(row.rule, row.hosts)) draft.write('correlations', slot, null);
  }
  for (const [cond, slots] of Object.entries(state.conditions)) {
    for (const slot of slots) if (!draft.holds(slot, cond)) draft.unindex(cond, slot);
  }
  return { state: draft.state, effects: [], changes: draft.changes };
}

function clearCondition(
  draft: Draft,
  cond: string,
  envelope: RuleEvent['envelope'],
  at: string,
  ref: EvidenceRef,
): RuleEffect[] {
  const effects: RuleEffect[] = [];
  const slots = draft.state.conditions[cond] ?? [];
  for (const slot of slots) {
    // The pair says the open warning holds the condition raised (see RuleState.conditions).
    const open = draft.state.open[slot];
    if (open) {
      const raisedCount = Math.max(0, open.raisedCount - 1);
      const resolvedAt = raisedCount === 0 ? at : null;
      draft.write('open', slot, { ...open, raisedCount, resolvedAt: resolvedAt ?? open.resolvedAt });
      effects.push({
        kind: 'resolve',
        warningId: open.warningId,
        rule: open.rule,
        condition: { agent: envelope.agent, key: envelope.key },
        remaining: raisedCount,
        resolvedAt,
        evidence: ref,
      });
    }
    // Hits still waiting in windows keep counting as occurrences, but no longer as raised.
    const window = draft.state.windows[slot];
    if (window?.hits.some((hit) => hit.cond === cond)) {
      draft.write('windows', slot, { ...window, hits: window.hits.map((hit) => unraise(hit, cond)) });
    }
    const correlation = draft.state.correlations[slot];
    if (correlation?.hosts.some((hit) => hit.cond === cond)) {
      draft.write('correlations', slot, {
        ...correlation,
        hosts: correlation.hosts.map((hit) => unraise(hit, cond)),
      });
    }
  }
  for (const slot of slots) draft.unindex(cond, slot);
  return effects;
}

function unraise(hit: HitRow, cond: string): HitRow {
  return hit.cond === cond ? { ...hit, cond: null } : hit;
}

function bump(draft: Draft, open: OpenRow, hit: HitRow): RuleEffect {
  const raisedAgain = hit.cond !== null && open.resolvedAt !== null;
  const newlyRaised = hit.cond !== null && !draft.indexed(hit.cond, open.slot);
  // Spelled out rather than spread: this is the hot path of deduplication.
  const row: OpenRow = {
    slot: open.slot,
    rule: open.rule,
    warningId: open.warningId,
    count: open.count + 1,
    lastSeen: hit.at > open.lastSeen ? hit.at : open.lastSeen,
    severity: maxSeverity(open.severity, hit.severity),
    level: maxLevel(open.level, hit.level),
    agents: open.agents.includes(hit.agent) ? open.agents : [...open.agents, hit.agent],
    raisedCount: open.raisedCount + (newlyRaised ? 1 : 0),
    resolvedAt: hit.cond !== null ? null : open.resolvedAt,
  };
  draft.write('open', open.slot, row);
  if (hit.cond !== null) draft.index(hit.cond, open.slot);
  return {
    kind: 'bump',
    warningId: open.warningId,
    rule: open.rule,
    count: row.count,
    lastSeen: row.lastSeen,
    severity: row.severity,
    level: row.level,
    agent: hit.agent,
    reraised: raisedAgain,
    evidence: hit.ref,
  };
}

/** Threshold: the group's occurrences within the window; N of them open the warning. */
function countInWindow(
  draft: Draft,
  rule: Rule,
  threshold: NonNullable<Rule['threshold']>,
  slot: string,
  event: RuleEvent,
  hit: HitRow,
  now: Date,
): RuleEffect[] {
  const previous = draft.state.windows[slot]?.hits ?? [];
  const hits = inWindow([...previous, hit], threshold.withinMs);
  draft.reindexHits(slot, previous, hits);
  if (hits.length >= threshold.count) {
    draft.write('windows', slot, null);
    return [openWarning(draft, rule, slot, event, hits, 'threshold', now)];
  }
  draft.write('windows', slot, { slot, rule: rule.name, hits });
  return [];
}

/** Correlation: distinct hosts of the group within the window; N of them open one unit-level warning. */
function correlate(
  draft: Draft,
  rule: Rule,
  correlation: NonNullable<Rule['correlate']>,
  slot: string,
  event: RuleEvent,
  hit: HitRow,
  now: Date,
): RuleEffect[] {
  const previous = draft.state.correlations[slot]?.hosts ?? [];
  const mine = previous.find((h) => h.agent === hit.agent);
  // One entry per host, its latest hit; an older replayed event does not displace a newer one.
  const latest = mine && mine.at > hit.at ? mine : hit;
  const hosts = inWindow([...previous.filter((h) => h.agent !== hit.agent), latest], correlation.withinMs);
  draft.reindexHits(slot, [...previous, hit], hosts);
  if (hosts.length >= correlation.hosts) {
    draft.write('correlations', slot, null);
    return [openWarning(draft, rule, slot, event, hosts, 'correlation', now)];
  }
  draft.write('correlations', slot, { slot, rule: rule.name, hosts });
  return [];
}

/** Sorted by time, keeping those within `withinMs` of the newest. */
function inWindow(hits: HitRow[], withinMs: number): HitRow[] {
  const sorted = hits.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const newest = Date.parse(sorted[sorted.length - 1]!.at);
  return sorted.filter((hit) => Date.parse(hit.at) >= newest - withinMs);
}

function openWarning(
  draft: Draft,
  rule: Rule,
  slot: string,
  event: RuleEvent,
  hits: HitRow[],
  origin: Warning['origin'],
  now: Date,
): RuleEffect {
  const first = hits[0]!;
  const agents = [...new Set(hits.map((hit) => hit.agent))];
  const raised = [...new Set(hits.flatMap((hit) => (hit.cond === null ? [] : [hit.cond])))];
  const severity = hits.map((hit) => hit.severity).reduce(maxSeverity);
  const level = hits.map((hit) => hit.level).reduce(maxLevel);
  const lastSeen = hits.reduce((last, hit) => (hit.at > last ? hit.at : last), first.at);
  const group = groupKey(rule, event);
  const id = warningId(slot, first.ref);
  const warning: Warning = {
    id,
    rule: rule.name,
    title: rule.title,
    slot,
    key: group.key,
    labels: group.labels,
    origin,
    state: 'discovered',
    severity,
    count: hits.length,
    firstSeen: first.at,
    lastSeen,
    createdAt: now.toISOString(),
    unit: event.unit,
    agent: rule.groupBy.includes('agent') ? event.envelope.agent : null,
    agents,
    level,
    type: event.envelope.type,
    sample: { type: event.envelope.type, key: event.envelope.key, data: event.envelope.data },
    // Opened by occurrences that all cleared already (a `cleared`-matching rule, or a window whose
    // conditions went away): nothing is raised now, but it happened and is handled like any other.
    resolvedAt: raised.length === 0 ? lastSeen : null,
    history: [],
  };
  draft.write('open', slot, {
    slot,
    rule: rule.name,
    warningId: id,
    count: warning.count,
    lastSeen,
    severity,
    level,
    agents,
    raisedCount: raised.length,
    resolvedAt: warning.resolvedAt,
  });
  for (const cond of raised) draft.index(cond, slot);
  return { kind: 'open', reason: origin, warning, evidence: hits.map((hit) => hit.ref) };
}

const CANONICAL_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The event's time in canonical UTC form, no later than `now`. */
function eventTime(ts: string, now: Date): string {
  const ms = Date.parse(ts);
  if (ms > now.getTime()) return now.toISOString();
  return CANONICAL_UTC.test(ts) ? ts : new Date(ms).toISOString();
}

function warningId(slot: string, first: EvidenceRef): string {
  const digest = createHash('sha256').update(`${slot}\n${first.agent}\n${first.seq}`).digest('hex');
  return `w-${digest.slice(0, 24)}`;
}

function maxLevel(a: Level | null, b: Level | null): Level | null {
  if (a === null) return b;
  if (b === null) return a;
  return LEVELS.indexOf(a) <= LEVELS.indexOf(b) ? a : b;
}

/**
 * A copy-on-write view of the state that records every row it writes. Tables are copied on their
 * first write in an evaluation, so the caller's state is never modified.
 */
class Draft {
  readonly state: RuleState;
  readonly changes: RowChange[] = [];
  private readonly copied: Partial<Record<keyof RuleState, true>> = {};

  constructor(base: RuleState) {
    this.state = { ...base };
  }

  write<T extends 'open' | 'windows' | 'correlations'>(
    table: T,
    id: string,
    row: RuleState[T][string] | null,
  ): void {
    const rows = this.table(table) as Record<string, unknown>;
    if (row === null) delete rows[id];
    else rows[id] = row;
    this.record({ table, id, row } as RowChange);
  }

  index(cond: string, slot: string): void {
    const slots = this.state.conditions[cond] ?? [];
    if (slots.includes(slot)) return;
    this.table('conditions')[cond] = [...slots, slot];
    this.record({ table: 'conditions', id: cond, slot, row: true });
  }

  /** Whether the pair (cond, slot) is known to exist. */
  indexed(cond: string, slot: string): boolean {
    return this.state.conditions[cond]?.includes(slot) === true;
  }

  unindex(cond: string, slot: string): void {
    const slots = this.state.conditions[cond];
    if (!slots?.includes(slot)) return;
    const rest = slots.filter((s) => s !== slot);
    const conditions = this.table('conditions');
    if (rest.length > 0) conditions[cond] = rest;
    else delete conditions[cond];
    this.record({ table: 'conditions', id: cond, slot, row: null });
  }

  /**
   * Keeps the pairs of a window or correlation row exact when its hits change from `before` to
   * `after`: a condition no hit holds any longer loses its pair (recorded even when the snapshot
   * did not read that condition's pairs: removing a missing pair is harmless), one a hit holds
   * gains it.
   */
  reindexHits(slot: string, before: readonly HitRow[], after: readonly HitRow[]): void {
    const kept = new Set<string>();
    for (const hit of after) if (hit.cond !== null) kept.add(hit.cond);
    for (const hit of before) {
      if (hit.cond === null || kept.has(hit.cond)) continue;
      if (this.state.conditions[hit.cond]) this.unindex(hit.cond, slot);
      else this.record({ table: 'conditions', id: hit.cond, slot, row: null });
    }
    for (const cond of kept) this.index(cond, slot);
  }

  /** Removes every pair of `slot`, read or not (a released warning's raised conditions). */
  unindexSlot(slot: string): void {
    const conditions = this.table('conditions');
    for (const [cond, slots] of Object.entries(conditions)) {
      if (!slots.includes(slot)) continue;
      const rest = slots.filter((s) => s !== slot);
      if (rest.length > 0) conditions[cond] = rest;
      else delete conditions[cond];
    }
    this.record({ table: 'slotConditions', id: slot, row: null });
  }

  /** The table, copied on its first write in this evaluation. */
  private table<T extends keyof RuleState>(table: T): RuleState[T] {
    if (!this.copied[table]) {
      this.state[table] = { ...this.state[table] };
      this.copied[table] = true;
    }
    return this.state[table];
  }

  /** Keeps only the last change of each row (or condition pair). */
  private record(change: RowChange): void {
    const same = (other: RowChange) =>
      other.table === change.table &&
      other.id === change.id &&
      (change.table !== 'conditions' || (other.table === 'conditions' && other.slot === change.slot));
    if (change.table === 'slotConditions') {
      // Every earlier change to a pair of the slot is overtaken by its removal.
      for (let i = this.changes.length - 1; i >= 0; i--) {
        const other = this.changes[i]!;
        if (other.table === 'conditions' && other.slot === change.id) this.changes.splice(i, 1);
      }
    }
    const previous = this.changes.findIndex(same);
    if (previous !== -1) this.changes.splice(previous, 1);
    this.changes.push(change);
  }

  /** Whether any row of `slot` still holds `cond` raised. */
  holds(slot: string, cond: string): boolean {
    return (
      (this.state.open[slot] !== undefined && this.indexed(cond, slot)) ||
      this.state.windows[slot]?.hits.some((hit) => hit.cond === cond) === true ||
      this.state.correlations[slot]?.hosts.some((hit) => hit.cond === cond) === true
    );
  }
}
