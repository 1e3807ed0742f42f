import mqtt, { type MqttClient } from 'mqtt';
import { UserError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';

/**
 * The collector's own MQTT connection, to the embedded broker or an external one. It reads
 * agents' messages and publishes acks; the first connection must succeed (or the start fails
 * with the key to fix), later drops reconnect on their own.
 */
export interface CollectorClientOptions {
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  /** false keeps the session on an external broker, so QoS 1 events wait while the collector restarts. */
  clean: boolean;
  /** The config key that named `url`, for the error message. */
  urlKey: string;
  logger: Logger;
  connectTimeoutMs?: number;
}

export async function connectCollectorClient(options: CollectorClientOptions): Promise<MqttClient> {
  const log = options.logger.child({ component: 'mqtt' });
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  let client: MqttClient;
  try {
    client = mqtt.connect(options.url, {
      clientId: options.clientId,
      username: options.username,
      password: options.password,
      clean: options.clean,
      protocolVersion: 4,
      reconnectPeriod: 1000,
      connectTimeout: timeoutMs,
      // After a reconnect to a broker that lost our session, subscribe again.
      resubscribe: true,
    });
  } catch (err) {
    throw new UserError(
      `${options.urlKey}: cannot use ${JSON.stringify(options.url)}: ${(err as Error).message}`,
    );
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      cleanup();
      client.end(true);
      reject(
        new UserError(
          `${options.urlKey}: cannot connect to the MQTT broker at ${options.url}: ${err.message}; ` +
            `check that it runs and that ${options.urlKey} and the broker credentials are right`,
        ),
      );
    };
    const onConnect = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', fail);
    };
    client.on('connect', onConnect);
    client.on('error', fail);
  });
  client.on('error', (err) => log.warn({ err: err.message }, 'MQTT connection error'));
  client.on('offline', () => log.warn({ url: options.url }, 'MQTT connection lost; reconnecting'));
  client.on('reconnect', () => log.debug({ url: options.url }, 'MQTT reconnecting'));
  return client;
}
