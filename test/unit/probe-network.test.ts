import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseIpv4Routes, parseIpv6Routes, routesProbe } from '../../agent/probes/routes.js';
import { parseSocketTable, readSockets } from '../../agent/probes/sockets.js';

const HOSTS = fileURLToPath(new URL('../fixtures/hosts', import.meta.url));
const host = (name: string) => ({
  sysfs: join(HOSTS, name, 'sys'),
  procfs: join(HOSTS, name, 'proc'),
  devfs: join(HOSTS, name, 'dev'),
});

describe('routes probe', () => {
  it('decodes host-order IPv4 and network-order IPv6 routes and the IPv6 addresses', async () => {
    const { routes, addresses } = await routesProbe.collect(host('tethered-phone'));
    expect(routes).toEqual([
      {
        family: 4,
        iface: 'enp2s0',
        dest: '0.0.0.0/0',
        prefix: 0,
        gateway: '10.30.0.1',
        flags: 3,
        metric: 100,
      },
      { family: 4, iface: 'enp2s0', dest: '10.30.0.0/24', prefix: 24, flags: 1, metric: 100 },
      {
        family: 4,
        iface: 'usb0',
        dest: '0.0.0.0/0',
        prefix: 0,
        gateway: '192.168.42.129',
        flags: 3,
        metric: 20100,
      },
      { family: 4, iface: 'usb0', dest: '192.168.42.0/24', prefix: 24, flags: 1, metric: 100 },
      { family: 6, iface: 'lo', dest: '::1/128', prefix: 128, flags: 0x80200001, metric: 0 },
      { family: 6, iface: 'enp2s0', dest: 'fe80::/64', prefix: 64, flags: 1, metric: 256 },
      { family: 6, iface: 'usb0', dest: 'fe80::/64', prefix: 64, flags: 1, metric: 256 },
      { family: 6, iface: 'usb0', dest: '2408:8456:3a10:8d2e::/64', prefix: 64, flags: 1, metric: 256 },
      {
        family: 6,
        iface: 'usb0',
        dest: '::/0',
        prefix: 0,
        gateway: 'fe80::ac1f:6bff:fe07:c401',
        flags: 3,
        metric: 1024,
      },
    ]);
    expect(addresses).toEqual([
      { iface: 'lo', address: '::1', prefix: 128, scope: 'host' },
      { iface: 'usb0', address: '2408:8456:3a10:8d2e:ac1f:6bff:fe07:c43e', prefix: 64, scope: 'global' },
      { iface: 'usb0', address: 'fe80::ac1f:6bff:fe07:c43e', prefix: 64, scope: 'link' },
    ]);
  });

  it('reads big-endian hosts the other way round', () => {
    const text =
      'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\nbr0\t00000000\tC0A80101\t0003\t0\t0\t0\t00000000\n';
    expect(parseIpv4Routes(text, 'BE')[0]).toMatchObject({ dest: '0.0.0.0/0', gateway: '192.168.1.1' });
    expect(parseIpv4Routes(text, 'LE')[0]).toMatchObject({ gateway: '1.1.168.192' });
  });

  it('skips malformed lines and tolerates missing files', async () => {
    expect(parseIpv4Routes('Iface\n\ngarbage line\n')).toEqual([]);
    expect(parseIpv6Routes('zz 40 \n')).toEqual([]);
    expect(
      await routesProbe.collect({ sysfs: '/nonexistent', procfs: '/nonexistent', devfs: '/nonexistent' }),
    ).toEqual({
      routes: [],
      addresses: [],
    });
  });
});

describe('sockets probe', () => {
  it('keeps sockets with a live peer, folds mapped IPv6, and names owners from /proc/<pid>', async () => {
    const sockets = await readSockets(host('laptop-wifi-bt').procfs, 'LE');
    expect(sockets.map((s) => [s.proto, s.remote, s.remotePort, s.state, s.pid, s.process])).toEqual([
      ['tcp', '203.0.113.10', 443, 'established', 2210, 'firefox'],
      ['tcp', '203.0.113.10', 443, 'established', 2210, 'firefox'],
      ['tcp', '192.168.31.5', 22, 'established', 3300, 'ssh'],
      // Loopback peers are never prohibited, so their owners are not looked up.
      ['tcp', '127.0.0.1', 631, 'established', undefined, undefined],
      ['tcp', '198.51.100.7', 8883, 'syn-sent', 3117, '"$(id)\n<i>'],
      ['tcp', '::1', 40010, 'established', undefined, undefined],
    ]);
    expect(sockets[4]).toMatchObject({ family: 6, local: '192.168.31.24', localPort: 47002 });
  });

  it('keeps connected UDP and drops unconnected UDP, listeners and TIME-WAIT', async () => {
    const sockets = await readSockets(host('tethered-phone').procfs, 'LE');
    expect(sockets.map((s) => [s.proto, s.remote, s.remotePort, s.process])).toEqual([
      ['tcp', '10.30.0.2', 445, 'systemd'],
      ['tcp', '240e:e9:6002:1ac:0:ff:b015:146f', 443, 'wechat'],
      ['udp', '192.168.42.129', 53, 'systemd-resolve'],
    ]);
  });

  it('parses a table line as the kernel prints it', () => {
    const text =
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
      '   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0 100 0 0 10 0\n' +
      '   1: 0F02000A:C350 0A0B0C0D:01BB 01 00000000:00000000 02:000A1B2C 00000000  1000        0 23456 2 0 20 4 30 10 -1\n';
    expect(parseSocketTable(text, 'tcp', 'LE')).toEqual([
      {
        proto: 'tcp',
        family: 4,
        local: '10.0.2.15',
        localPort: 50000,
        remote: '13.12.11.10',
        remotePort: 443,
        state: 'established',
        inode: 23456,
      },
    ]);
  });

  it('tolerates a procfs without tables', async () => {
    expect(await readSockets('/nonexistent')).toEqual([]);
  });
});
