import type { EventEnvelope } from '../../shared/envelope.js';
import { severityForLevel, severityRank, type Level, type Severity } from '../../shared/levels.js';
import type { Rule } from './schema.js';

/**
 * What the rules see of one stored event: the envelope fields (as received and verified) plus
 * what the collector knows of its agent. `eventId` is the store's row id, when it has one, so
 * evidence can point at the stored, re-verifiable envelope.
 */
export interface RuleEvent {
  eventId?: number;
  envelope: Pick<EventEnvelope, 'agent' | 'seq' | 'ts' | 'type' | 'state' | 'key' | 'severity' | 'data'>;
  /** The agent's unit (from enrollment, not from the event: an agent cannot choose it). */
  unit: string;
  /** The host's classification level, when the collector knows it (policy). */
  agentLevel?: Level;
}

export function matchesRule(rule: Rule, event: RuleEvent): boolean {
  const { envelope } = event;
  if (rule.match.state !== 'any' && rule.match.state !== envelope.state) return false;
  if (!rule.match.types.some((re) => re.test(envelope.type))) return false;
  for (const [field, condition] of rule.match.data) {
    const value = Object.hasOwn(envelope.data, field) ? envelope.data[field] : undefined;
    if ('equals' in condition) {
      if (value !== condition.equals) return false;
    } else if (typeof value === 'string' || typeof value === 'number') {
      // Event text is bounded (4 KiB per field by the catalogue); rule authors should still avoid
      // nested quantifiers, since the text is the agent's and the pattern runs on every event.
      if (!condition.regex.test(String(value))) return false;
    } else return false;
  }
  return true;
}

/** The value of a group field for this event; undefined when the event lacks it. */
export function fieldValue(field: string, event: RuleEvent): unknown {
  switch (field) {
    case 'agent':
      return event.envelope.agent;
    case 'key':
      return event.envelope.key;
    case 'type':
      return event.envelope.type;
    case 'unit':
      return event.unit;
    default: {
      const name = field.slice('data.'.length);
      return Object.hasOwn(event.envelope.data, name) ? event.envelope.data[name] : undefined;
    }
  }
}

export interface GroupKey {
  /**
   * Unique per rule and group: the row id of the rule state. The unit is always part of it, so
   * a warning never spans units and per-unit access control holds for every warning.
   */
  slot: string;
  /** For people: the group's values joined, e.g. `ag-…|net.wireless.present:wlp2s0`. */
  key: string;
  /** The group's fields and values, for display and silence matching. */
  labels: Record<string, string>;
}

export function groupKey(rule: Rule, event: RuleEvent): GroupKey {
  const labels: Record<string, string> = {};
  for (const field of rule.groupBy) {
    const value = fieldValue(field, event);
    labels[field] = value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  }
  const key = rule.groupBy.map((field) => labels[field]).join('|');
  return { slot: slotOf(rule, event), key, labels };
}

/**
 * The slot alone, for the hot path: `rule:[unit, value…]` in JSON, which keeps it unambiguous
 * whatever the (agent-supplied) values contain; a missing value is null.
 */
export function slotOf(rule: Rule, event: RuleEvent): string {
  let slot = `${rule.name}:[${JSON.stringify(event.unit)}`;
  for (const field of rule.groupBy) {
    const value = fieldValue(field, event);
    slot += `,${value === undefined ? 'null' : JSON.stringify(value)}`;
  }
  return `${slot}]`;
}

/**
 * The warning's severity for this event. For `host-level` rules without a known host level, the
 * more severe of the rule's base and the agent's own judgement (it knows its policy level), so
 * a missing lookup never under-reports.
 */
export function severityFor(rule: Rule, event: RuleEvent): Severity {
  switch (rule.severity.kind) {
    case 'fixed':
      return rule.severity.value;
    case 'from-event':
      return event.envelope.severity;
    case 'host-level':
      return event.agentLevel
        ? severityForLevel(rule.severity.base, event.agentLevel)
        : maxSeverity(rule.severity.base, event.envelope.severity);
  }
}

export function maxSeverity(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}
