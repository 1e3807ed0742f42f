import type { Severity } from '../../shared/levels.js';

/**
 * The condition types the collector itself reports. Rules may match them like event types; an
 * agent's event never does (the rules stage skips agent events bearing one of these types).
 */
export const COLLECTOR_CONDITION_TYPES = [
  'agent.offline',
  'agent.events.lost',
  'assessment.overdue',
  'assessment.reminder',
  'incident.report.late',
  'incident.report.reminder',
] as const;

export function isCollectorConditionType(type: string): boolean {
  return (COLLECTOR_CONDITION_TYPES as readonly string[]).includes(type);
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

/** Where liveness, the clocks and other collector stages report conditions. */
export interface ConditionSink {
  report(condition: CollectorCondition): Promise<void>;
}
