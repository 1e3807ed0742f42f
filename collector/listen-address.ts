import type { Server } from 'node:net';
import { z } from 'zod';
import { UserError } from '../shared/errors.js';

/** A `host:port` config value (`127.0.0.1:8080`, `[::1]:1883`); port 0 asks for a free port. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** A listen address in the config (http.listen, broker.listen); parseListenAddress reads it. */
export const hostPortSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'a host:port such as 127.0.0.1:8080');

export function parseListenAddress(text: string, key: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new UserError(`${key}: found ${JSON.stringify(text)}; expected host:port such as 127.0.0.1:8080`);
  }
  return { host: match[1] ?? match[2]!, port };
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A wildcard bind address is no address to hand out; loopback is the honest fallback. */
export function reachableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}

/**
 * Listens, turning the errors a user can fix (port busy, no permission, no such address) into
 * a UserError that names the address and the config key to change.
 */
export function listenOrExplain(server: Server, address: ListenAddress, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(explainListenError(err, address, key));
    };
    const onListening = () => {
      server.off('error', onError);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound !== null ? bound.port : address.port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(address.port, address.host);
  });
}

export function explainListenError(err: NodeJS.ErrnoException, address: ListenAddress, key: string): Error {
  const where = formatHostPort(address.host, address.port);
  switch (err.code) {
    case 'EADDRINUSE':
      return new UserError(
        `${key}: ${where} is already in use by another program; set ${key} to a free host:port`,
      );
    case 'EACCES':
      return new UserError(
        `${key}: not allowed to listen on ${where} (ports below 1024 need privileges); set ${key} to another port`,
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new UserError(
        `${key}: ${address.host} is not an address of this machine; set ${key} to one that is`,
      );
    default:
      return err;
  }
}
