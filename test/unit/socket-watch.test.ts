import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { SocketEntry } from '../../agent/probes/observations.js';
import { readSocketTables } from '../../agent/probes/sockets.js';
import {
  prohibitedPeersChanged,
  startSocketWatch,
  type SocketWatch,
} from '../../agent/watch/socket-watch.js';
import { policySchema } from '../../shared/policy.js';
import { eventually } from '../support/eventually.js';

const policy = policySchema.parse({ network: { allowedCidrs: ['10.0.0.0/8', 'fd00::/8'] } });

function socket(
  remote: string,
  remotePort = 443,
  proto: 'tcp' | 'udp' = 'tcp',
  localPort = 50_000,
): SocketEntry {
  return {
    proto,
    family: remote.includes(':') ? 6 : 4,
    local: remote.includes(':') ? 'fd00::2' : '10.0.0.2',
    localPort,
    remote,
    remotePort,
    state: 'established',
    inode: localPort,
  };
}

describe('prohibitedPeersChanged', () => {
  it('a new peer outside the allowed ranges is a change, IPv4 and IPv6 alike', () => {
    expect(prohibitedPeersChanged([], [socket('203.0.113.10')], policy)).toBe(true);
    expect(prohibitedPeersChanged([], [socket('2001:db8::1')], policy)).toBe(true);
    expect(prohibitedPeersChanged([], [socket('203.0.113.10', 53, 'udp')], policy)).toBe(true);
  });

  it('a prohibited peer that goes away is a change too (so the clear is prompt)', () => {
    expect(prohibitedPeersChanged([socket('203.0.113.10')], [], policy)).toBe(true);
  });

  it('allowed, loopback and dual-stack-mapped allowed peers are not a change', () => {
    expect(
      prohibitedPeersChanged(
        [],
        [
          socket('10.1.2.3'),
          socket('127.0.0.1'),
          socket('::1'),
          socket('fd00::9'),
          socket('::ffff:10.9.9.9'),
        ],
        policy,
      ),
    ).toBe(false);
  });

  it('the same sockets again are no change; a new connection to a peer already reached is one', () => {
    const before = [socket('203.0.113.10', 443, 'tcp', 50_000)];
    expect(prohibitedPeersChanged(before, [socket('203.0.113.10', 443, 'tcp', 50_000)], policy)).toBe(false);
    // A reconnect while the old connection lingers (FIN-WAIT), or another process to the same peer.
    expect(
      prohibitedPeersChanged(
        before,
        [socket('203.0.113.10', 443, 'tcp', 50_000), socket('203.0.113.10', 443, 'tcp', 50_001)],
        policy,
      ),
    ).toBe(true);
    expect(prohibitedPeersChanged(before, [socket('203.0.113.10', 8443, 'tcp', 50_001)], policy)).toBe(true);
    expect(prohibitedPeersChanged(before, [socket('203.0.113.10', 443, 'udp', 50_001)], policy)).toBe(true);
  });

  it('an empty allowedCidrs allows nothing but loopback, as the detector does', () => {
    const open = policySchema.parse({ network: { allowedCidrs: [] } });
    expect(prohibitedPeersChanged([], [socket('10.1.2.3')], open)).toBe(true);
    expect(prohibitedPeersChanged([], [socket('127.0.0.1')], open)).toBe(false);
  });
});

/** An IPv4 `HEX:PORT` as the kernel prints it: one 32-bit word in host byte order. */
function hexEndpoint(address: string, port: number): string {
  const bytes = address.split('.').map(Number);
  const word = endianness() === 'LE' ? bytes.reverse() : bytes;
  const hex = word
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
  return `${hex}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
}

const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

/** Each connection as [remote, remote port, local port]. */
function writeTcp(procfs: string, connections: Array<[string, number, number]>): void {
  const lines = connections.map(
    ([remote, port, localPort], i) =>
      `   ${i}: ${hexEndpoint('10.0.0.2', localPort)} ${hexEndpoint(remote, port)} 01 00000000:00000000 00:00000000 00000000  1000        0 ${9000 + i} 1 0000000000000000 20 4 30 10 -1\n`,
  );
  writeFileSync(join(procfs, 'net', 'tcp'), HEADER + lines.join(''));
}

describe('socket watch over a procfs tree', () => {
  let watch: SocketWatch | undefined;
  afterEach(() => watch?.stop());

  it('reads the kernel tables every interval and fires only when the prohibited peers change', async () => {
    const procfs = mkdtempSync(join(tmpdir(), 'smew-socket-watch-'));
    mkdirSync(join(procfs, 'net'));
    writeTcp(procfs, [['10.1.2.3', 22, 40_000]]);
    let reads = 0;
    let changes = 0;
    watch = startSocketWatch({
      procfs,
      intervalMs: 20,
      policy: () => policy,
      onChange: () => (changes += 1),
      logger: pino({ level: 'silent' }),
      read: async (dir) => {
        reads += 1;
        return readSocketTables(dir);
      },
    });
    await eventually(() => reads >= 3, { what: 'a few reads' });
    expect(changes).toBe(0);

    writeTcp(procfs, [
      ['10.1.2.3', 22, 40_000],
      ['203.0.113.10', 8443, 40_001],
    ]);
    await eventually(() => changes === 1, { what: 'the new prohibited peer' });

    // An allowed peer coming and going does not matter.
    const seen = reads;
    writeTcp(procfs, [['203.0.113.10', 8443, 40_001]]);
    await eventually(() => reads >= seen + 3, { what: 'more reads' });
    expect(changes).toBe(1);

    writeTcp(procfs, []);
    await eventually(() => changes === 2, { what: 'the peer gone' });
    expect(watch.active()).toBe(true);
  });
});
