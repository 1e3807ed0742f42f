import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Store } from './store/store.js';

/**
 * The collector's Prometheus metrics, on a registry of its own so several collectors in one
 * process (tests, the demo) never share or clash. Names start with `smew_`.
 */
export class CollectorMetrics {
  readonly registry = new Registry();

  readonly eventsAccepted = new Counter({
    name: 'smew_ingest_events_accepted_total',
    help: 'Event envelopes verified and stored',
    registers: [this.registry],
  });
  readonly heartbeatsAccepted = new Counter({
    name: 'smew_ingest_heartbeats_accepted_total',
    help: 'Signed heartbeats verified',
    registers: [this.registry],
  });
  readonly statusUpdates = new Counter({
    name: 'smew_ingest_status_total',
    help: 'Online/offline status messages applied',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'smew_ingest_rejected_total',
    help: 'Messages refused by ingest and kept in quarantine, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'smew_ingest_duplicates_total',
    help: 'Identical repeats of stored events, dropped (agents resend until acknowledged)',
    registers: [this.registry],
  });
  readonly skewed = new Counter({
    name: 'smew_ingest_skewed_total',
    help: 'Events stored with a timestamp off the collector clock by more than ingest.maxSkew',
    registers: [this.registry],
  });
  readonly acksPublished = new Counter({
    name: 'smew_acks_published_total',
    help: 'Signed acknowledgements published to agents',
    registers: [this.registry],
  });
  readonly enrollments = new Counter({
    name: 'smew_enrollments_total',
    help: 'Enrollment requests, by result',
    labelNames: ['result'],
    registers: [this.registry],
  });

  constructor(store: Store) {
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
