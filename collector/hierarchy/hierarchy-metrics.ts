import { Counter, Gauge, type Registry } from 'prom-client';
import { systemClock, type Clock } from '../../shared/clock.js';
import type { HierarchyStore } from '../store/hierarchy/hierarchy-store.js';

/**
 * The hierarchy's Prometheus metrics. The backlog and the parent's last contact are read from the
 * store at scrape time (right whichever process sent), the traffic is counted by this process.
 */
export interface HierarchyMetrics {
  /** Records posted to the parent, each try counted (a resend after a cut counts again). */
  sent: Counter;
  /** Batches (requests) posted to the parent: how well a burst of reports is coalesced. */
  batches: Counter;
  /** Records the parent confirmed with a signed receipt. */
  delivered: Counter;
  /** Records the parent refused (reason in the log). */
  refusedByParent: Counter;
  /** Rounds with the parent that failed (unreachable, or an answer that does not verify). */
  linkFailures: Counter;
  /** Records from child collectors, by result: accepted, duplicate, rejected. */
  received: Counter<'result'>;
  /** Whole batches or pulls from children refused before any record was read, by HTTP status. */
  refusedMessages: Counter<'status'>;
  /** Whatever a child sent that was refused (a whole batch or pull, or one record), by reason. */
  childRefused: Counter<'reason'>;
  /** Answers from the parent (receipts, notices) this collector did not trust, by reason. */
  parentAnswersRefused: Counter<'reason'>;
  /** Enrollments refused (agents here, child collectors at their parent), by kind and reason. */
  enrollRejected: Counter<'kind' | 'reason'>;
}

export function registerHierarchyMetrics(
  registry: Registry,
  store: HierarchyStore,
  clock: Clock = systemClock,
): HierarchyMetrics {
  const registers = [registry];
  const counter = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers });
  // A store that cannot answer (the domain missing on it) leaves the gauge unset rather than failing the scrape.
  const read = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch {
      return undefined;
    }
  };

  new Gauge({
    name: 'smew_hierarchy_outbox_pending',
    help: 'Reports queued for the parent collector and not yet confirmed by its receipt',
    registers,
    async collect() {
      const stats = await read(() => store.outboxStats());
      if (stats) this.set(stats.pending);
    },
  });
  new Gauge({
    name: 'smew_hierarchy_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest report waiting for the parent collector’s receipt (0 when none waits)',
    registers,
    async collect() {
      const stats = await read(() => store.outboxStats());
      if (!stats) return;
      const oldest = stats.oldestPendingAt;
      this.set(oldest ? Math.max(0, (clock.now().getTime() - Date.parse(oldest)) / 1000) : 0);
    },
  });
  new Gauge({
    name: 'smew_hierarchy_parent_last_contact_timestamp_seconds',
    help: 'When the parent collector last answered (Unix time); absent without a parent or before any answer',
    registers,
    async collect() {
      const parent = await read(() => store.getParent());
      this.reset();
      if (parent?.lastContactAt) this.set(Date.parse(parent.lastContactAt) / 1000);
    },
  });
  new Gauge({
    name: 'smew_hierarchy_parent_link_up',
    help: '1 when the last round with the parent collector succeeded, 0 when it failed; absent without a parent',
    registers,
    async collect() {
      const parent = await read(() => store.getParent());
      this.reset();
      if (parent) this.set(parent.lastError === null ? 1 : 0);
    },
  });

  return {
    sent: counter(
      'smew_hierarchy_reports_sent_total',
      'Reports posted to the parent collector, each try counted',
    ),
    batches: counter(
      'smew_hierarchy_batches_sent_total',
      'Signed batches (requests) posted to the parent collector, each try counted',
    ),
    delivered: counter(
      'smew_hierarchy_reports_delivered_total',
      'Reports the parent collector confirmed with a signed receipt',
    ),
    refusedByParent: counter(
      'smew_hierarchy_reports_refused_by_parent_total',
      'Reports the parent collector refused',
    ),
    linkFailures: counter(
      'smew_hierarchy_link_failures_total',
      'Rounds with the parent collector that failed (unreachable, or an answer that does not verify)',
    ),
    received: counter(
      'smew_hierarchy_reports_received_total',
      'Reports from child collectors, by result (accepted, duplicate, rejected)',
      ['result'],
    ),
    refusedMessages: counter(
      'smew_hierarchy_messages_refused_total',
      'Batches or pulls from child collectors refused whole, by HTTP status',
      ['status'],
    ),
    childRefused: counter(
      'smew_hierarchy_child_refused_total',
      'Batches, pulls and records from child collectors refused, by reason (also in the audit log)',
      ['reason'],
    ),
    parentAnswersRefused: counter(
      'smew_hierarchy_parent_answers_refused_total',
      'Receipts and notice replies from the parent collector that were not trusted, by reason',
      ['reason'],
    ),
    enrollRejected: counter(
      'smew_enroll_rejected_total',
      'Enrollment requests refused, by kind (agent, collector) and reason',
      ['kind', 'reason'],
    ),
  };
}
