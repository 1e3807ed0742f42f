import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { UserError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { allAgentsTopic, parseAgentTopic } from '../../shared/topics.js';
import type { IngestOutcome, IngestPipeline } from './pipeline.js';

/** The topics the collector reads: every agent's events, heartbeats and status. */
export const INGEST_TOPICS = [
  allAgentsTopic('events'),
  allAgentsTopic('heartbeat'),
  allAgentsTopic('status'),
];

export interface IngestSubscriptionOptions {
  /**
   * Subscribe as `$share/<group>/…`: the broker hands each message to one collector of the
   * group, so several collectors sharing one database split the load (external broker only).
   */
  sharedGroup?: string;
  /** Messages being handled at once; at the limit the client stops reading its socket. */
  maxInFlight: number;
}

/**
 * The collector's MQTT client id and session. Alone, it keeps one persistent session, so events
 * wait at the broker while it restarts. In a shared group the members hold one key, so each needs
 * an id of its own, and a clean session: the broker then gives a dead member's share to the
 * living ones at once instead of queueing it for a member that may never return.
 */
export function ingestClientSession(
  collectorId: string,
  sharedGroup?: string,
): { clientId: string; clean: boolean } {
  if (sharedGroup === undefined) return { clientId: `smew-${collectorId}`, clean: false };
  return { clientId: `smew-${collectorId}-${randomBytes(4).toString('hex')}`, clean: true };
}

/** The topic filters to subscribe to, shared within `group` when one is named. */
export function ingestTopics(group?: string): string[] {
  return group === undefined ? INGEST_TOPICS : INGEST_TOPICS.map((topic) => `$share/${group}/${topic}`);
}

/**
 * Feeds messages into the pipeline, up to `maxInFlight` at a time so that signature checks run on
 * every core and inserts batch — one agent's backlog as well as many agents'. A heartbeat or
 * status waits for everything its agent sent before (an `offline` Last Will must not overtake the
 * heartbeat before it); events go at once, and the pipeline stores each agent's in the order they
 * came. The MQTT subscription and the NATS JetStream consumer both feed through it.
 */
export class IngestFeed {
  private inFlight = 0;
  private held: (() => void) | undefined;
  private readonly perAgent = new Map<string, Promise<void>>();

  constructor(
    private readonly pipeline: IngestPipeline,
    private readonly logger: Logger,
    private readonly maxInFlight: number,
  ) {}

  /**
   * Takes one message. `next` is called once another may be taken: at once while under the
   * limit, else when a message in flight settles. The promise gives the outcome once handled
   * (stored, when it is an event), or undefined if the pipeline failed.
   */
  take(topic: string, payload: Buffer, next: () => void): Promise<IngestOutcome | undefined> {
    const parsed = parseAgentTopic(topic);
    const key = parsed?.agentId ?? '';
    const previous = this.perAgent.get(key);
    this.inFlight += 1;
    // Events start at once (the pipeline keeps one agent's stores in order); a heartbeat or a
    // status waits until everything before it from that agent is done.
    const handled =
      previous === undefined || parsed?.channel === 'events'
        ? this.pipeline.handle(topic, payload)
        : previous.then(() => this.pipeline.handle(topic, payload));
    const outcome = handled.then(
      (result): IngestOutcome | undefined => result,
      // handle() never rejects; if it did, dropping the message beats wedging the connection.
      (err: unknown) => {
        this.logger.error({ err, topic }, 'ingest pipeline failed');
        return undefined;
      },
    );
    const settled = outcome.then(() => undefined);
    void settled.then(() => {
      this.inFlight -= 1;
      if (this.held && this.inFlight < this.maxInFlight) {
        const release = this.held;
        this.held = undefined;
        release();
      }
    });
    // The agent's tail: done once this message and every one before it are.
    const tail: Promise<void> = previous ? Promise.all([previous, settled]).then(() => undefined) : settled;
    this.perAgent.set(key, tail);
    void tail.then(() => {
      if (this.perAgent.get(key) === tail) this.perAgent.delete(key);
    });
    if (this.inFlight < this.maxInFlight) next();
    else this.held = next;
    return outcome;
  }
}

/**
 * Feeds the collector's MQTT client into the pipeline through an IngestFeed. At the limit, the
 * message callback is held back: mqtt.js then stops reading, TCP pushes back to the broker, which
 * queues — memory stays bounded. A message is acknowledged to the broker when it is taken in; an
 * event lost in a crash is safe all the same, since agents resend until the collector's signed ack.
 */
export async function subscribeIngest(
  client: MqttClient,
  pipeline: IngestPipeline,
  logger: Logger,
  options: IngestSubscriptionOptions = { maxInFlight: 1 },
): Promise<void> {
  const feed = new IngestFeed(pipeline, logger, options.maxInFlight);
  client.handleMessage = (packet, done) => {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    void feed.take(packet.topic, payload, () => done());
  };

  const topics = ingestTopics(options.sharedGroup);
  const granted = await client.subscribeAsync(topics, { qos: 1 }).catch((err: Error) => {
    throw new UserError(
      `the MQTT broker refused the collector's subscription to ${topics.join(', ')} (${err.message}); ` +
        'its ACL must let broker.username read them',
    );
  });
  const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
  if (refused.length > 0) {
    throw new UserError(
      `the MQTT broker refused the collector's subscription to ${refused.join(', ')}; its ACL must let broker.username read them`,
    );
  }
}
