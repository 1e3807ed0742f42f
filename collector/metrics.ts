import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { registerHierarchyMetrics, type HierarchyMetrics } from './hierarchy/hierarchy-metrics.js';
import type { Store } from './store/store.js';

/**
 * The collector's Prometheus metrics, on a registry of its own so several collectors in one
 * process (tests, the demo) never share or clash. Names start with `smew_`.
 */
export class CollectorMetrics {
  readonly registry = new Registry();

  /** Every counter is registered on this collector's own registry. */
  private counter<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
  ): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  readonly eventsAccepted = this.counter(
    'smew_ingest_events_accepted_total',
    'Event envelopes verified and stored',
  );
  readonly batchesAccepted = this.counter(
    'smew_ingest_batches_accepted_total',
    'Signed batches of events verified (their events count in smew_ingest_events_accepted_total)',
  );
  readonly heartbeatsAccepted = this.counter(
    'smew_ingest_heartbeats_accepted_total',
    'Signed heartbeats verified',
  );
  readonly statusUpdates = this.counter(
    'smew_ingest_status_total',
    'Online/offline status messages applied',
    ['status'],
  );
  readonly rejected = this.counter(
    'smew_ingest_rejected_total',
    'Messages refused by ingest and kept in quarantine, by reason',
    ['reason'],
  );
  readonly duplicates = this.counter(
    'smew_ingest_duplicates_total',
    'Identical repeats of stored events, dropped (agents resend until acknowledged)',
  );
  readonly skewed = this.counter(
    'smew_ingest_skewed_total',
    'Events stored with a timestamp off the collector clock by more than ingest.maxSkew',
  );
  readonly acksPublished = this.counter(
    'smew_acks_published_total',
    'Signed acknowledgements published to agents',
  );
  readonly brokerRefused = this.counter(
    'smew_broker_refused_total',
    'Connections, packets, publications and subscriptions the embedded broker refused, by reason',
    ['reason'],
  );
  readonly enrollments = this.counter('smew_enrollments_total', 'Enrollment requests, by result', ['result']);

  /** Collectors in a hierarchy: the upward backlog, the parent link, reports to and from children. */
  readonly hierarchy: HierarchyMetrics;

  constructor(store: Store) {
    this.hierarchy = registerHierarchyMetrics(this.registry, store.hierarchy);
    // Read from the store at scrape time, so the figure is right whichever process changed it.
    const counts = async () => store.countAgents();
    new Gauge({
      name: 'smew_agents_online',
      help: 'Enrolled agents currently connected',
      registers: [this.registry],
      async collect() {
        this.set((await counts()).online);
      },
    });
    new Gauge({
      name: 'smew_agents_enrolled',
      help: 'Enrolled agents that are not revoked',
      registers: [this.registry],
      async collect() {
        this.set((await counts()).enrolled);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'smew_' });
  }
}
