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
 * that signature checks run on every core and inserts batch. Messages of one agent stay in order
 * (an `offline` Last Will must not overtake the heartbeat before it). At the limit, the message
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
    const key = parseAgentTopic(packet.topic)?.agentId ?? '';
    const previous = perAgent.get(key) ?? Promise.resolve();
    inFlight += 1;
    const current = previous
      .then(() => pipeline.handle(packet.topic, payload))
      .then(
        () => undefined,
        // handle() never rejects; if it did, dropping the message beats wedging the connection.
        (err: unknown) => logger.error({ err, topic: packet.topic }, 'ingest pipeline failed'),
      )
      .finally(() => {
        inFlight -= 1;
        if (perAgent.get(key) === current) perAgent.delete(key);
        if (held && inFlight < options.maxInFlight) {
          const release = held;
          held = undefined;
          release();
        }
      });
    perAgent.set(key, current);
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
