import type { Clock } from '../../shared/clock.js';
import { ENVELOPE_VERSION, signMessage, type Ack } from '../../shared/envelope.js';
import type { Logger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import type { CollectorIdentity } from '../identity.js';
import type { CollectorMetrics } from '../metrics.js';
import type { Store } from '../store/store.js';

/**
 * Publishes the collector's signed statement "every event of this agent up to `ack` is stored"
 * (SPEC §5), retained with QoS 1 so an agent that reconnects reads it at once. Stored events
 * are batched: one ack per agent per `ingest.ackDelay`, carrying the watermark at that moment.
 */
export type PublishRetained = (topic: string, payload: string) => Promise<void>;

export interface AckPublisherOptions {
  store: Store;
  identity: CollectorIdentity;
  clock: Clock;
  delayMs: number;
  publish: PublishRetained;
  logger: Logger;
  metrics: CollectorMetrics;
}

export class AckPublisher {
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly sending = new Set<Promise<void>>();

  constructor(private readonly options: AckPublisherOptions) {}

  /** Asks for an ack to `agentId` soon; repeated calls within the delay make one ack. */
  schedule(agentId: string): void {
    this.pending.add(agentId);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.delayMs);
  }

  /** Publishes every pending ack now. Flushes run one after another, never interleaved. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.publishPending());
    return this.flushing;
  }

  /** Publishes what is pending and stops the timer; used on shutdown. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    // A broker that stopped answering must not hold up the shutdown: agents resend what stays unacked.
    await Promise.race([
      Promise.all(this.sending),
      new Promise((resolve) => setTimeout(resolve, 2000).unref()),
    ]);
  }

  private async publishPending(): Promise<void> {
    const agents = [...this.pending];
    this.pending.clear();
    await Promise.all(agents.map((agentId) => this.publishAck(agentId)));
  }

  private async publishAck(agentId: string): Promise<void> {
    const { store, identity, clock, publish, logger, metrics } = this.options;
    try {
      const watermark = await store.advanceAckedSeq(agentId);
      const ack: Ack = signMessage(
        {
          v: ENVELOPE_VERSION,
          agent: agentId,
          ack: watermark,
          ts: clock.now().toISOString(),
          collector: identity.id,
          alg: identity.alg,
        },
        identity.sign,
      );
      // Not awaited: the broker's PUBACK queues behind every message it is delivering to this
      // client, and the next flush must not wait for it (its acks carry the newer watermark).
      const sent = publish(agentTopic(agentId, 'ack'), JSON.stringify(ack))
        .then(
          () => metrics.acksPublished.inc(),
          (err: unknown) => logger.warn({ err, agent: agentId }, 'could not publish an ack'),
        )
        .finally(() => this.sending.delete(sent));
      this.sending.add(sent);
    } catch (err) {
      // The agent resends what stays unacknowledged, and the next stored event schedules a new ack.
      logger.warn({ err, agent: agentId }, 'could not publish an ack');
    }
  }
}
