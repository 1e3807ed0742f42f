import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';

/**
 * Ports are picked below the kernel's ephemeral range (where `listen(0)` picks too): the ports
 * given to outgoing connections — to PostgreSQL, brokers, other collectors, of every test process
 * — come from that range, and one of them could take a port between this check and the bind by
 * the process it was chosen for (seen in CI: "already in use by another program").
 */
const LOWEST = 20_000;
const ephemeralStart = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32_768;
  }
})();
const HIGHEST = Math.max(LOWEST + 1_000, Math.min(ephemeralStart, 65_536)) - 1;
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port free on loopback right now, never the same twice in a process; tests never use the defaults. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST + 1));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port found between ${LOWEST} and ${HIGHEST} on 127.0.0.1`);
}
