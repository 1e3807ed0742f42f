import type { MqttClient } from 'mqtt';
import { UserError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { allAgentsTopic } from '../../shared/topics.js';
import type { IngestPipeline } from './pipeline.js';

/** The topics the collector reads: every agent's events, heartbeats and status. */
export const INGEST_TOPICS = [
  allAgentsTopic('events'),
  allAgentsTopic('heartbeat'),
  allAgentsTopic('status'),
];

/**
 * Feeds the collector's MQTT client into the pipeline. mqtt.js calls handleMessage one message
 * at a time and sends the PUBACK only when it completes, so a slow store slows the broker's
 * delivery (back-pressure) instead of piling messages up in memory.
 */
export async function subscribeIngest(
  client: MqttClient,
  pipeline: IngestPipeline,
  logger: Logger,
): Promise<void> {
  client.handleMessage = (packet, done) => {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    pipeline.handle(packet.topic, payload).then(
      () => done(),
      // handle() never rejects; if it did, dropping the message beats wedging the connection.
      (err: unknown) => {
        logger.error({ err, topic: packet.topic }, 'ingest pipeline failed');
        done();
      },
    );
  };
  const granted = await client.subscribeAsync(INGEST_TOPICS, { qos: 1 }).catch((err: Error) => {
    throw new UserError(
      `the MQTT broker refused the collector's subscription to ${INGEST_TOPICS.join(', ')} (${err.message}); ` +
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
