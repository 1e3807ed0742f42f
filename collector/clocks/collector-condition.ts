import type { Severity } from '../../shared/levels.js';

/**
 * A condition the collector observes itself rather than receives from an agent: an agent gone
 * silent (`agent.offline`), a gap in its seq (`agent.events.lost`), an overdue risk assessment
 * (`assessment.overdue`), a missed 第61条 deadline (`incident.report.late`). It enters the same
 * rules as agent events, so one place decides what becomes a warning; `cleared` resolves it.
 * Defined here, beside the clocks that raise most of them, so that the store, which keeps each
 * clock fire's condition until it is delivered, needs nothing from the warnings stage.
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
