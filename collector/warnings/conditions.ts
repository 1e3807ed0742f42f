import type { CollectorCondition } from '../store/warnings/records.js';

export type { CollectorCondition } from '../store/warnings/records.js';

/**
 * The condition types the collector itself reports. Rules may match them like event types; an
 * agent's event never does (the rules stage skips agent events bearing one of these types).
 */
export const COLLECTOR_CONDITION_TYPES = [
  'agent.offline',
  'agent.events.lost',
  'assessment.overdue',
  'assessment.reminder',
  'assessment.unapproved',
  'incident.report.late',
  'incident.report.reminder',
  'rectification.overdue',
  'rectification.reminder',
  'incident.report.stuck',
  'register.level.mismatch',
  'register.terminal.incomplete',
  'register.owner.left',
] as const;

export function isCollectorConditionType(type: string): boolean {
  return (COLLECTOR_CONDITION_TYPES as readonly string[]).includes(type);
}

/** Where liveness, the clocks and other collector stages report conditions. */
export interface ConditionSink {
  report(condition: CollectorCondition): Promise<void>;
}
