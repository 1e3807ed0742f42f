import { X509Certificate } from 'node:crypto';
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { UserError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { certificateRefusal, explainCertificateRefusal } from '../../shared/tls.js';

/**
 * The collector's own MQTT connection, to the embedded broker or an external one. It reads
 * agents' messages and publishes acks; the first connection must succeed (or the start fails
 * with the key to fix), later drops reconnect on their own.
 */
export interface CollectorClientOptions {
  url: string;
  /** Further nodes of the same broker cluster (broker.urls): on a lost connection the client moves on. */
  otherUrls?: readonly string[];
  username?: string;
  password?: string;
  clientId: string;
  /** false keeps the session on an external broker, so QoS 1 events wait while the collector restarts. */
  clean: boolean;
  /** The config key that named `url`, for the error message. */
  urlKey: string;
  logger: Logger;
  connectTimeoutMs?: number;
  /** For mqtts://: the CA to trust instead of the system's, and the config key that named it. */
  tls?: { ca?: Buffer; caKey: string; caFile?: string; pinnedCert?: Buffer; unsetTrusts?: string };
}

/**
 * TLS options for the collector's client. With `pinnedCert` (its own embedded broker) the name
 * check is replaced by "the server shows exactly this certificate": the collector dials its own
 * listener by whatever address it bound, which the certificate need not name.
 */
function tlsClientOptions(
  tls: NonNullable<CollectorClientOptions['tls']>,
): Partial<IClientOptions> & Pick<ConnectionOptions, 'checkServerIdentity'> {
  // mqtt.js hands its options to tls.connect, checkServerIdentity included.
  const options: Partial<IClientOptions> & Pick<ConnectionOptions, 'checkServerIdentity'> = {
    rejectUnauthorized: true,
  };
  if (tls.ca) options.ca = tls.ca;
  if (tls.pinnedCert) {
    const pinned = new X509Certificate(tls.pinnedCert).fingerprint256;
    options.checkServerIdentity = (_host: string, peer: PeerCertificate) =>
      peer.fingerprint256 === pinned
        ? undefined
        : new Error('the broker does not show the collector’s own certificate');
  }
  return options;
}

/** mqtt.js's failover list: on each reconnect it takes the next. */
function brokerServers(urls: readonly string[]): NonNullable<IClientOptions['servers']> {
  return urls.map((url) => {
    const parsed = new URL(url);
    const protocol = parsed.protocol.replace(/:$/, '') as 'mqtt' | 'mqtts';
    return {
      host: parsed.hostname,
      port: Number(parsed.port) || (protocol === 'mqtts' ? 8883 : 1883),
      protocol,
    };
  });
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
      ...(options.otherUrls?.length ? { servers: brokerServers([options.url, ...options.otherUrls]) } : {}),
      ...(options.tls ? tlsClientOptions(options.tls) : {}),
    });
  } catch (err) {
    throw new UserError(
      `${options.urlKey}: cannot use ${JSON.stringify(options.url)}: ${(err as Error).message}`,
    );
  }
  await new Promise<void>((resolve, reject) => {
    // With other nodes to try, a node that does not answer yet is not the end: mqtt.js moves on to
    // the next, and only a whole round without a connection fails the start.
    const nodes = 1 + (options.otherUrls?.length ?? 0);
    const timer = setTimeout(
      () => fail(new Error(lastError ?? `no answer within ${timeoutMs * nodes} ms`)),
      timeoutMs * nodes,
    );
    let lastError: string | undefined;
    const onError = (err: Error) => {
      if (nodes > 1 && !certificateRefusal(err)) {
        lastError = err.message;
        log.warn({ err: err.message }, 'MQTT broker node refused or failed; trying the next');
        return;
      }
      fail(err);
    };
    const fail = (err: Error) => {
      cleanup();
      client.end(true);
      const refusal = certificateRefusal(err);
      if (refusal && options.tls) {
        reject(
          new UserError(
            explainCertificateRefusal(`${options.urlKey} ${options.url}`, refusal, {
              key: options.tls.caKey,
              file: options.tls.caFile,
              unsetTrusts: options.tls.unsetTrusts,
            }),
          ),
        );
        return;
      }
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
      client.off('error', onError);
    };
    client.on('connect', onConnect);
    client.on('error', onError);
  });
  client.on('error', (err) => log.warn({ err: err.message }, 'MQTT connection error'));
  client.on('offline', () => log.warn({ url: options.url }, 'MQTT connection lost; reconnecting'));
  client.on('reconnect', () => log.debug({ url: options.url }, 'MQTT reconnecting'));
  return client;
}
