import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createSocket } from 'node:dgram';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { AgentKeys } from './agent-keys.js';
import { answer, beaconFromName, parseQuery } from './dns.js';
import { parseHostPort } from './send.js';
import { checkBeacon, MAX_BEACON_BYTES, type BeaconCheck } from './message.js';
import type { SightingLog } from './sightings.js';

/**
 * The listeners of `smew beacon`: a TCP port that takes one beacon line per connection and an
 * HTTP endpoint that takes one beacon per POST, and a DNS (UDP) server that reads a beacon from
 * each query name and answers with a documentation address. All are exposed to the internet, so every input
 * is bounded (size, time, connections), every refusal is counted by reason, and nothing a sender
 * writes reaches a shell, a log format string or a file name.
 */
const IDLE_MS = 5000;
const MAX_CONNECTIONS = 256;
/** What a DNS beacon resolves to: a documentation address, so nothing ever connects to it. */
const DNS_ANSWER = '192.0.2.53';

export interface BeaconReceiver {
  tcpPort?: number;
  httpPort?: number;
  dnsPort?: number;
  counts: Record<string, number>;
  close(): Promise<void>;
}

export async function startReceiver(options: {
  listen: { tcp?: string; http?: string; dns?: string };
  keys: AgentKeys;
  log: SightingLog;
  clock: Clock;
  maxSkewMs: number;
  logger: Logger;
}): Promise<BeaconReceiver> {
  const counts: Record<string, number> = { accepted: 0 };
  const { logger } = options;

  function receive(text: string, from: string, via: 'tcp' | 'http' | 'dns'): BeaconCheck {
    const now = options.clock.now();
    const result = checkBeacon(text, {
      verifierFor: (id, alg) => options.keys.verifierFor(id, alg),
      now,
      maxSkewMs: options.maxSkewMs,
      seen: (id, nonce) => options.log.seen(id, nonce),
    });
    if (result.ok) {
      options.log.add({ receivedAt: now.toISOString(), from, via, beacon: result.beacon });
      counts.accepted = (counts.accepted ?? 0) + 1;
      logger.warn(
        { agent: result.beacon.agent, method: result.beacon.method, target: result.beacon.target, from, via },
        'beacon from a host that should not reach the internet',
      );
    } else {
      counts[result.reason] = (counts[result.reason] ?? 0) + 1;
      logger.info({ reason: result.reason, from, via }, 'beacon refused');
    }
    return result;
  }

  const receiver: BeaconReceiver = { counts, close: async () => undefined };
  const closers: Array<() => Promise<void>> = [];

  if (options.listen.tcp !== undefined) {
    const server: TcpServer = createTcpServer((socket: Socket) => {
      let buffer = Buffer.alloc(0);
      let done = false;
      socket.setTimeout(IDLE_MS, () => socket.destroy());
      socket.on('error', () => undefined);
      const finish = (text: string) => {
        if (done) return;
        done = true;
        const result = receive(text, socket.remoteAddress ?? 'unknown', 'tcp');
        socket.end(result.ok ? 'ok\n' : `refused ${result.reason}\n`);
      };
      socket.on('data', (chunk: Buffer) => {
        if (done) return;
        buffer = Buffer.concat([buffer, chunk]);
        const newline = buffer.indexOf(0x0a);
        if (newline >= 0) finish(buffer.subarray(0, newline).toString('utf8'));
        else if (buffer.length > MAX_BEACON_BYTES) finish(buffer.toString('utf8'));
      });
      socket.on('end', () => {
        if (!done && buffer.length > 0) finish(buffer.toString('utf8'));
        else socket.end();
      });
    });
    server.maxConnections = MAX_CONNECTIONS;
    receiver.tcpPort = await listen(server, options.listen.tcp);
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  }

  if (options.listen.http !== undefined) {
    const server: HttpServer = createHttpServer((request, response) => {
      const reply = (status: number, body: Record<string, unknown>) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.method !== 'POST') {
        reply(405, { error: 'POST a beacon' });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BEACON_BYTES) {
          counts.malformed = (counts.malformed ?? 0) + 1;
          reply(413, { error: 'beacon too large' });
          request.destroy();
          return;
        }
        chunks.push(chunk);
      });
      request.on('end', () => {
        if (size > MAX_BEACON_BYTES) return;
        const result = receive(
          Buffer.concat(chunks).toString('utf8'),
          request.socket.remoteAddress ?? 'unknown',
          'http',
        );
        if (result.ok) reply(200, { ok: true });
        else reply(result.reason === 'malformed' ? 400 : 403, { error: result.reason });
      });
      request.on('error', () => undefined);
    });
    server.requestTimeout = IDLE_MS;
    server.headersTimeout = IDLE_MS;
    server.maxConnections = MAX_CONNECTIONS;
    receiver.httpPort = await listen(server, options.listen.http);
    closers.push(
      () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
  }

  if (options.listen.dns !== undefined) {
    const endpoint = parseHostPort(options.listen.dns)!;
    const socket = createSocket(endpoint.host.includes(':') ? 'udp6' : 'udp4');
    socket.on('message', (packet, rinfo) => {
      const query = parseQuery(packet);
      if (query === undefined) {
        counts.malformed = (counts.malformed ?? 0) + 1;
        return;
      }
      const beacon = beaconFromName(query.name);
      let known = false;
      if (beacon === undefined) counts.malformed = (counts.malformed ?? 0) + 1;
      else {
        const result = receive(JSON.stringify(beacon), rinfo.address, 'dns');
        // Resolvers retry: a replay of a beacon already kept is answered too.
        known = result.ok || result.reason === 'replayed';
      }
      socket.send(answer(packet, query, known ? DNS_ANSWER : undefined), rinfo.port, rinfo.address);
    });
    socket.on('error', (err) => logger.warn({ err }, 'dns listener error'));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(endpoint.port, endpoint.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    receiver.dnsPort = socket.address().port;
    closers.push(() => new Promise((resolve) => socket.close(() => resolve())));
  }

  receiver.close = async () => {
    await Promise.all(closers.map((close) => close()));
  };
  return receiver;
}

async function listen(server: TcpServer | HttpServer, address: string): Promise<number> {
  const endpoint = parseHostPort(address)!;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(endpoint.port, endpoint.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  return typeof bound === 'object' && bound !== null ? bound.port : endpoint.port;
}
