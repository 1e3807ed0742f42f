import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { UserError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { allAgentsTopic, parseAgentTopic } from '../../shared/topics.js';
import type { IngestPipeline } from './pipeline.js';

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
 * Feeds the collector's MQTT client into the pipeline, up to `maxInFlight` messages at a time so
 * that signature checks run on every core and inserts batch — one agent's backlog as well as many
 * agents'. A heartbeat or status waits for everything its agent sent before (an `offline` Last
 * Will must not overtake the heartbeat before it); events go at once, and the pipeline stores
 * each agent's in the order they came. At the limit, the message
 * callback is held back: mqtt.js then stops reading, TCP pushes back to the broker, which queues
 * — memory stays bounded. A message is acknowledged to the broker when it is taken in; an event
 * lost in a crash is safe all the same, since agents resend until the collector's signed ack.
 */
export async function subscribeIngest(
  client: MqttClient,
  pipeline: IngestPipeline,
  logger: Logger,
  options: IngestSubscriptionOptions = { maxInFlight: 1 },
): Promise<void> {
  let inFlight = 0;
  let held: (() => void) | undefined;
  const perAgent = new Map<string, Promise<void>>();

  client.handleMessage = (packet, done) => {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const topic = parseAgentTopic(packet.topic);
    const key = topic?.agentId ?? '';
    const previous = perAgent.get(key);
    inFlight += 1;
    // Events start at once (the pipeline keeps one agent's stores in order); a heartbeat or a
    // status waits until everything before it from that agent is done.
    const handled =
      previous === undefined || topic?.channel === 'events'
        ? pipeline.handle(packet.topic, payload)
        : previous.then(() => pipeline.handle(packet.topic, payload));
    const settled = handled.then(
      () => undefined,
      // handle() never rejects; if it did, dropping the message beats wedging the connection.
      (err: unknown) => logger.error({ err, topic: packet.topic }, 'ingest pipeline failed'),
    );
    void settled.then(() => {
      inFlight -= 1;
      if (held && inFlight < options.maxInFlight) {
        const release = held;
        held = undefined;
        release();
      }
    });
    // The agent's tail: done once this message and every one before it are.
    const tail: Promise<void> = previous ? Promise.all([previous, settled]).then(() => undefined) : settled;
    perAgent.set(key, tail);
    void tail.then(() => {
      if (perAgent.get(key) === tail) perAgent.delete(key);
    });
    if (inFlight < options.maxInFlight) done();
    else held = () => done();
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
