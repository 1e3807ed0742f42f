import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AedesOptions, type AuthenticateError, type Client } from 'aedes';
import { AGENT_ID_PATTERN } from '../../shared/identity.js';
import type { Logger } from '../../shared/log.js';
import type { TlsMaterial } from '../../shared/tls.js';
import { generateSecret } from '../auth/secrets.js';
import { formatHostPort, listenOrExplain, parseListenAddress, reachableHost } from '../listen-address.js';
import type { Store } from '../store/store.js';
import { mayPublish, maySubscribe, type BrokerIdentity } from './access-control.js';
import { AgentCredentials } from './agent-credentials.js';
import { DEFAULT_MAX_PACKET_BYTES, limitPacketSize } from './packet-limit.js';

/** Why the broker refused a client or a packet: a metric label (smew_broker_refused_total). */
export type BrokerRefusal =
  | 'oversized-packet'
  | 'bad-credentials'
  | 'pending-approval'
  | 'publish-not-allowed'
  | 'subscribe-not-allowed';

/**
 * The aedes broker inside the collector (SPEC §2: one machine needs nothing else). It admits
 * enrolled agents by their broker secret and the collector's own client by a secret made at
 * start, and enforces the topic rules of access-control.ts itself.
 */
export interface EmbeddedBroker {
  /** mqtt:// (or mqtts:// with broker.tls) host:port as bound (the real port when `broker.listen` asked for port 0). */
  url: string;
  /** Credentials of the collector's own ingest client; valid for this process only. */
  internalCredentials: { username: string; password: string };
  credentials: AgentCredentials;
  /**
   * Forgets the agent's cached credential and closes its connection, if any (revocation). The
   * broker then publishes its Last Will; a reconnect is refused by the credential check.
   */
  disconnect(agentId: string): boolean;
  close(): Promise<void>;
}

export const INTERNAL_USERNAME = 'smew-collector';

// MQTT 3.1.1 CONNACK return codes (aedes' AuthErrorCode is a const enum, unusable at run time).
const BAD_USERNAME_OR_PASSWORD = 4;
const SERVER_UNAVAILABLE = 3;
const NOT_AUTHORIZED = 5;

function authError(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** What the access hooks check against and whom they tell of a refusal. */
interface AccessContext {
  log: Logger;
  refused: (reason: BrokerRefusal) => void;
  credentials: AgentCredentials;
  internalPassword: string;
  /** Who each authenticated client is, for the topic rules. */
  identities: WeakMap<Client, BrokerIdentity>;
}

/**
 * aedes' authenticate/authorize hooks: agents by their broker secret, the collector's own client
 * by the secret made at start, and every publication and subscription by access-control.ts.
 */
function accessHooks({
  log,
  refused,
  credentials,
  internalPassword,
  identities,
}: AccessContext): AedesOptions {
  return {
    authenticate(client, username, password, done) {
      const secret = password?.toString('utf8');
      if (!username || !secret) {
        log.info({ clientId: client.id }, 'refused a connection without credentials');
        refused('bad-credentials');
        return done(authError(BAD_USERNAME_OR_PASSWORD, 'credentials required'), null);
      }
      if (username === INTERNAL_USERNAME) {
        if (secret !== internalPassword) {
          log.warn({ clientId: client.id }, 'refused the collector username with a wrong secret');
          refused('bad-credentials');
          return done(authError(BAD_USERNAME_OR_PASSWORD, 'bad credentials'), null);
        }
        identities.set(client, { kind: 'collector' });
        return done(null, true);
      }
      // Agents connect as themselves: clientId = username = agent id, so no one can take another's session.
      if (!AGENT_ID_PATTERN.test(username) || client.id !== username) {
        log.info({ clientId: client.id, username }, 'refused a connection: clientId must equal the agent id');
        refused('bad-credentials');
        return done(authError(BAD_USERNAME_OR_PASSWORD, 'bad credentials'), null);
      }
      credentials.verify(username, secret).then(
        (check) => {
          if (check === 'pending-approval') {
            log.info({ agent: username }, 'refused an agent connection: it waits for approval');
            refused('pending-approval');
            return done(authError(NOT_AUTHORIZED, 'waiting for approval'), null);
          }
          if (check !== 'ok') {
            log.info({ agent: username }, 'refused an agent connection: unknown, revoked or wrong secret');
            refused('bad-credentials');
            return done(authError(BAD_USERNAME_OR_PASSWORD, 'bad credentials'), null);
          }
          identities.set(client, { kind: 'agent', agentId: username });
          done(null, true);
        },
        (err: unknown) => {
          log.error({ err, agent: username }, 'could not check agent credentials');
          done(authError(SERVER_UNAVAILABLE, 'credential check failed'), null);
        },
      );
    },
    authorizePublish(client, packet, done) {
      // client is null for the broker's own publications (there are none but wills, which carry their client).
      if (client === null) return done(null);
      const identity = identities.get(client);
      if (identity && mayPublish(identity, packet.topic)) return done(null);
      log.warn(
        { clientId: client.id, topic: packet.topic },
        'refused a publication outside the client’s topics',
      );
      refused('publish-not-allowed');
      done(new Error(`not allowed to publish on ${packet.topic}`));
    },
    authorizeSubscribe(client, subscription, done) {
      const identity = identities.get(client);
      if (identity && maySubscribe(identity, subscription.topic)) return done(null, subscription);
      log.warn(
        { clientId: client.id, topic: subscription.topic },
        'refused a subscription outside the client’s topics',
      );
      refused('subscribe-not-allowed');
      // A null subscription answers SUBACK 0x80 (failure) for this filter and keeps the connection.
      done(null, null);
    },
  };
}

export async function startEmbeddedBroker(options: {
  listen: string;
  store: Store;
  logger: Logger;
  /** broker.tls: the listener speaks MQTT over TLS only (no plain port beside it). */
  tls?: TlsMaterial;
  /** broker.maxPacket: a larger packet is refused as its header arrives and its client cut off. */
  maxPacketBytes?: number;
  /** Told of every refusal, by reason (the collector counts them on /metrics). */
  refused?: (reason: BrokerRefusal) => void;
}): Promise<EmbeddedBroker> {
  const refused = options.refused ?? (() => {});
  const maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  const log = options.logger.child({ component: 'broker' });
  const address = parseListenAddress(options.listen, 'broker.listen');
  const credentials = new AgentCredentials(options.store);
  const internalPassword = generateSecret('smew-internal-');
  const identities = new WeakMap<Client, BrokerIdentity>();

  const aedes = await Aedes.createBroker(
    accessHooks({ log, refused, credentials, internalPassword, identities }),
  );

  // Live connections by client id (= agent id), so a revoked agent can be cut off.
  const connected = new Map<string, Client>();
  aedes.on('client', (client) => connected.set(client.id, client));
  aedes.on('clientDisconnect', (client) => {
    if (connected.get(client.id) === client) connected.delete(client.id);
  });

  aedes.on('clientError', (client, err) =>
    log.debug({ clientId: client.id, err: err.message }, 'client error'),
  );
  aedes.on('connectionError', (client, err) =>
    log.debug({ clientId: client?.id, err: err.message }, 'connection error'),
  );

  // Every connection, before it authenticates, is held to broker.maxPacket: aedes would buffer a
  // packet up to the protocol's 256 MB before looking at it.
  const handle = (conn: Socket) => {
    aedes.handle(conn);
    limitPacketSize(conn, maxPacketBytes, (announced) => {
      log.warn(
        { remoteAddress: conn.remoteAddress, announced, maxPacketBytes },
        'closed a connection that announced an MQTT packet over broker.maxPacket',
      );
      refused('oversized-packet');
      conn.destroy();
    });
  };
  const server: Server = options.tls
    ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, handle)
    : createServer(handle);
  if (options.tls) {
    // A client that fails the handshake never reaches aedes; say so once at debug, not as a crash.
    server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));
  }
  let port: number;
  try {
    port = await listenOrExplain(server, address, 'broker.listen');
  } catch (err) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw err;
  }
  const url = `${options.tls ? 'mqtts' : 'mqtt'}://${formatHostPort(reachableHost(address.host), port)}`;
  log.info({ url }, 'embedded MQTT broker listening');

  return {
    url,
    internalCredentials: { username: INTERNAL_USERNAME, password: internalPassword },
    credentials,
    disconnect(agentId) {
      credentials.invalidate(agentId);
      const client = connected.get(agentId);
      if (!client) return false;
      log.warn({ agent: agentId }, 'disconnected a revoked agent');
      client.close();
      return true;
    },
    async close() {
      // aedes.close ends every client connection; the server then closes once idle.
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
