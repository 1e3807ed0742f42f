import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import { beaconToName } from './dns.js';
import type { Beacon } from './message.js';

/**
 * Sends one beacon to one policy target. `reached` means the far side answered at the transport
 * level (a TCP connection was accepted, an HTTP response came back): on an isolated network that
 * alone is the violation, whatever the far side says. Nothing here runs a shell or resolves a
 * name the policy did not give.
 */
export interface SendResult {
  reached: boolean;
  /** what happened, for the log: the receiver's reply, an HTTP status or an error code */
  detail: string;
}

/**
 * `dnsServer` (host:port) asks that server directly instead of the system's resolvers; the policy
 * writes it as `zone@host:port`.
 */
export function sendBeacon(beacon: Beacon, timeoutMs: number, dnsServer?: string): Promise<SendResult> {
  if (beacon.method === 'tcp') return sendTcp(beacon, timeoutMs);
  if (beacon.method === 'http') return sendHttp(beacon, timeoutMs);
  return sendDns(beacon, timeoutMs, dnsServer);
}

/** A dns target: `zone` (system resolvers) or `zone@host:port`; the zone is compared lowercase. */
export function parseDnsTarget(target: string): { zone: string; server?: string } {
  const at = target.lastIndexOf('@');
  const zone = (at < 0 ? target : target.slice(0, at)).toLowerCase().replace(/\.$/, '');
  return at < 0 ? { zone } : { zone, server: target.slice(at + 1) };
}

async function sendDns(beacon: Beacon, timeoutMs: number, server?: string): Promise<SendResult> {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  try {
    if (server !== undefined) resolver.setServers([server]);
    const addresses = await resolver.resolve4(beaconToName(beacon));
    return { reached: addresses.length > 0, detail: `resolved ${addresses.join(',')}` };
  } catch (err) {
    return { reached: false, detail: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  }
}

/** `host:port`, `[v6]:port` (port 0 only makes sense to listen on: any free port). */
export function parseHostPort(target: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(target);
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { host: (match[1] ?? match[2])!, port };
}

function sendTcp(beacon: Beacon, timeoutMs: number): Promise<SendResult> {
  const endpoint = parseHostPort(beacon.target);
  if (endpoint === undefined) return Promise.resolve({ reached: false, detail: 'target is not host:port' });
  return new Promise((resolve) => {
    let reached = false;
    let reply = '';
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    const finish = (detail: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ reached, detail });
    };
    const timer = setTimeout(() => finish(reached ? `no reply (${reply.trim()})` : 'timeout'), timeoutMs);
    socket.once('connect', () => {
      reached = true;
      socket.end(`${JSON.stringify(beacon)}\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      reply = (reply + chunk.toString('utf8')).slice(0, 256);
      if (reply.includes('\n')) finish(`reply: ${reply.split('\n')[0]}`);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    socket.once('close', () => finish(reached ? `closed (${reply.trim()})` : 'closed'));
  });
}

function sendHttp(beacon: Beacon, timeoutMs: number): Promise<SendResult> {
  let url: URL;
  try {
    url = new URL(beacon.target);
  } catch {
    return Promise.resolve({ reached: false, detail: 'target is not a URL' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.resolve({ reached: false, detail: 'target is not an http(s) URL' });
  }
  const body = JSON.stringify(beacon);
  return new Promise((resolve) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      // No proxy from the environment and no keep-alive: one request, straight to the target.
      agent: false,
      timeout: timeoutMs,
    });
    const timer = setTimeout(() => request.destroy(new Error('timeout')), timeoutMs);
    request.once('response', (response) => {
      clearTimeout(timer);
      response.resume();
      resolve({ reached: true, detail: `http ${response.statusCode}` });
      request.destroy();
    });
    request.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ reached: false, detail: err.code ?? err.message });
    });
    request.end(body);
  });
}
