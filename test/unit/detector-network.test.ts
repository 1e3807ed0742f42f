import { describe, expect, it } from 'vitest';
import {
  connectionProhibitedDetector,
  MAX_CONNECTION_FINDINGS,
} from '../../agent/detectors/connection-prohibited.js';
import { linkUnapprovedDetector } from '../../agent/detectors/link-unapproved.js';
import { multihomedDetector } from '../../agent/detectors/multihomed.js';
import { routeUnapprovedDetector } from '../../agent/detectors/route-unapproved.js';
import type {
  InterfaceAddress,
  NetInterface,
  Observations,
  Route,
  SocketEntry,
} from '../../agent/probes/observations.js';
import { policySchema, type Policy } from '../../shared/policy.js';

const policy = (input: Record<string, unknown> = {}): Policy => policySchema.parse(input);
const at = '2026-11-26T00:00:00.000Z';

function nic(name: string, over: Partial<NetInterface> = {}): NetInterface {
  return {
    name,
    operstate: 'up',
    adminUp: true,
    carrier: true,
    arpType: 1,
    virtual: false,
    wirelessEvidence: [],
    ...over,
  };
}
const lo = nic('lo', { arpType: 772, virtual: true, operstate: 'unknown' });
function route(iface: string, dest: string, over: Partial<Route> = {}): Route {
  const prefix = Number(dest.split('/')[1]);
  return { family: dest.includes(':') ? 6 : 4, iface, dest, prefix, flags: 1, metric: 0, ...over };
}
const viaGateway = (gateway: string) => ({ gateway, flags: 3 });

describe('net.link.unapproved', () => {
  const cases: Array<{
    what: string;
    ifaces: NetInterface[];
    policy?: Policy;
    findings: Array<[string, object]>;
  }> = [
    {
      what: 'an up ethernet nobody approved',
      ifaces: [lo, nic('eth0', { mac: '52:54:00:12:34:56' })],
      findings: [['net.link.unapproved:eth0', { iface: 'eth0', mac: '52:54:00:12:34:56', kind: 'ethernet' }]],
    },
    {
      what: 'approved by name',
      ifaces: [nic('eth0')],
      policy: policy({ interfaces: { approved: ['eth0'] } }),
      findings: [],
    },
    {
      what: 'approved by MAC, any case',
      ifaces: [nic('eth0', { mac: '52:54:00:12:34:56' })],
      policy: policy({ interfaces: { approved: ['52:54:00:12:34:56'.toUpperCase()] } }),
      findings: [],
    },
    {
      what: 'approved wireless counts as approved',
      ifaces: [nic('wlan0', { wirelessEvidence: ['phy80211'] })],
      policy: policy({ wireless: { approved: ['wlan0'] } }),
      findings: [],
    },
    {
      what: 'down',
      ifaces: [nic('eth0', { adminUp: false, operstate: 'down', carrier: undefined })],
      findings: [],
    },
    {
      what: 'enabled but unplugged',
      ifaces: [nic('eth0', { carrier: false, operstate: 'down' })],
      findings: [],
    },
    {
      what: 'a veth into a namespace is reported',
      ifaces: [nic('veth-smew0', { virtual: true, mac: '7e:00:00:00:00:01' })],
      findings: [
        [
          'net.link.unapproved:veth-smew0',
          { iface: 'veth-smew0', mac: '7e:00:00:00:00:01', kind: 'virtual' },
        ],
      ],
    },
    {
      what: 'a tun tunnel without carrier file (operstate unknown) is reported as a tunnel',
      ifaces: [nic('tun0', { virtual: true, arpType: 65534, operstate: 'unknown', carrier: undefined })],
      findings: [['net.link.unapproved:tun0', { iface: 'tun0', kind: 'tunnel' }]],
    },
    {
      what: 'a VLAN keeps its DEVTYPE as kind',
      ifaces: [nic('eth0.100', { virtual: true, devtype: 'vlan' })],
      findings: [['net.link.unapproved:eth0.100', { iface: 'eth0.100', kind: 'vlan' }]],
    },
    {
      what: 'a virtual bridge is skipped (its ports are reported)',
      ifaces: [nic('docker0', { virtual: true, devtype: 'bridge' })],
      findings: [],
    },
    { what: 'loopback is skipped', ifaces: [lo], findings: [] },
    {
      what: 'a hostile name is carried as data',
      ifaces: [nic('a"$(x)\n<b>')],
      findings: [['net.link.unapproved:a"$(x)\n<b>', { iface: 'a"$(x)\n<b>', kind: 'ethernet' }]],
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const findings = linkUnapprovedDetector.detect({ at, interfaces: c.ifaces }, c.policy ?? policy());
      expect(findings.map((f) => [f.key, f.data])).toEqual(c.findings);
      for (const f of findings) expect(f.severity).toBe('medium');
    });
  }
});

describe('net.multihomed', () => {
  const run = (
    interfaces: NetInterface[],
    routes: Route[],
    addresses: InterfaceAddress[] = [],
    p = policy(),
  ) => multihomedDetector.detect({ at, interfaces, routes, addresses }, p);

  it('two default routes on two physical NICs', () => {
    const findings = run(
      [lo, nic('eth0'), nic('wwan0', { devtype: 'wwan' })],
      [route('eth0', '0.0.0.0/0', viaGateway('10.0.0.1')), route('wwan0', '0.0.0.0/0')],
    );
    expect(findings).toEqual([
      {
        type: 'net.multihomed',
        key: 'net.multihomed:eth0+wwan0',
        severity: 'high',
        data: { ifaces: ['eth0', 'wwan0'] },
      },
    ]);
  });

  it('two physical NICs on two networks without a second default route (一机两用 all the same)', () => {
    const findings = run(
      [nic('eth0'), nic('eth1')],
      [
        route('eth0', '0.0.0.0/0', viaGateway('10.0.0.1')),
        route('eth0', '10.0.0.0/24'),
        route('eth1', '172.16.5.0/24'),
      ],
    );
    expect(findings.map((f) => f.key)).toEqual(['net.multihomed:eth0+eth1']);
  });

  it('an IPv6-only second uplink with a global address', () => {
    const findings = run(
      [nic('eth0'), nic('usb0')],
      [route('eth0', '10.0.0.0/24')],
      [{ iface: 'usb0', address: '2408:8456::1', prefix: 64, scope: 'global' }],
    );
    expect(findings.map((f) => f.key)).toEqual(['net.multihomed:eth0+usb0']);
  });

  it('approval does not silence it', () => {
    const findings = run(
      [nic('eth0'), nic('eth1')],
      [route('eth0', '10.0.0.0/24'), route('eth1', '10.1.0.0/24')],
      [],
      policy({ interfaces: { approved: ['eth0', 'eth1'] } }),
    );
    expect(findings).toHaveLength(1);
  });

  const quiet: Array<{
    what: string;
    ifaces: NetInterface[];
    routes: Route[];
    addresses?: InterfaceAddress[];
  }> = [
    {
      what: 'one uplink',
      ifaces: [lo, nic('eth0')],
      routes: [route('eth0', '0.0.0.0/0', viaGateway('10.0.0.1'))],
    },
    {
      what: 'a container bridge and veth beside one uplink',
      ifaces: [
        nic('eth0'),
        nic('docker0', { virtual: true, devtype: 'bridge' }),
        nic('veth1a2b', { virtual: true }),
      ],
      routes: [route('eth0', '0.0.0.0/0', viaGateway('10.0.0.1')), route('docker0', '172.17.0.0/16')],
    },
    {
      what: 'a second NIC with only link-local addresses',
      ifaces: [nic('eth0'), nic('eth1')],
      routes: [route('eth0', '10.0.0.0/24'), route('eth1', '169.254.0.0/16'), route('eth1', 'fe80::/64')],
      addresses: [{ iface: 'eth1', address: 'fe80::1', prefix: 64, scope: 'link' }],
    },
    {
      what: 'a second NIC with an address but no carrier',
      ifaces: [nic('eth0'), nic('eth1', { carrier: false, operstate: 'down' })],
      routes: [route('eth0', '10.0.0.0/24'), route('eth1', '10.1.0.0/24')],
    },
    {
      what: 'the unreachable IPv6 default on lo',
      ifaces: [lo, nic('eth0')],
      routes: [route('eth0', '10.0.0.0/24'), route('lo', '::/0', { flags: 0x00200200 })],
    },
  ];
  for (const c of quiet)
    it(`not for ${c.what}`, () => expect(run(c.ifaces, c.routes, c.addresses)).toEqual([]));

  it('a VPN taking the default route is a second uplink', () => {
    const findings = run(
      [nic('eth0'), nic('wg0', { virtual: true, arpType: 65534, operstate: 'unknown', carrier: undefined })],
      [route('eth0', '10.0.0.0/24'), route('wg0', '0.0.0.0/0')],
    );
    expect(findings.map((f) => f.key)).toEqual(['net.multihomed:eth0+wg0']);
  });
});

describe('net.route.unapproved', () => {
  const ifaces = [
    lo,
    nic('eth0', { mac: '52:54:00:00:00:01' }),
    nic('usb0'),
    nic('docker0', { virtual: true, devtype: 'bridge' }),
  ];
  const run = (routes: Route[], p = policy({ interfaces: { approved: ['eth0'] } })) =>
    routeUnapprovedDetector.detect({ at, interfaces: ifaces, routes }, p);

  it('a default route through an unapproved interface is high, another route medium', () => {
    expect(
      run([route('usb0', '0.0.0.0/0', viaGateway('192.168.42.129')), route('usb0', '192.168.42.0/24')]),
    ).toEqual([
      {
        type: 'net.route.unapproved',
        key: 'net.route.unapproved:usb0:0.0.0.0/0@192.168.42.129',
        severity: 'high',
        data: { iface: 'usb0', gateway: '192.168.42.129', dest: '0.0.0.0/0' },
      },
      {
        type: 'net.route.unapproved',
        key: 'net.route.unapproved:usb0:192.168.42.0/24',
        severity: 'medium',
        data: { iface: 'usb0', dest: '192.168.42.0/24' },
      },
    ]);
  });

  it('IPv6 default via a link-local router', () => {
    const findings = run([route('usb0', '::/0', viaGateway('fe80::1'))]);
    expect(findings.map((f) => [f.key, f.severity])).toEqual([
      ['net.route.unapproved:usb0:::/0@fe80::1', 'high'],
    ]);
  });

  it('approved interfaces, by name or by the MAC of the interface', () => {
    expect(run([route('eth0', '0.0.0.0/0', viaGateway('10.0.0.1'))])).toEqual([]);
    const byMac = policy({ interfaces: { approved: ['52:54:00:00:00:01'] } });
    expect(run([route('eth0', '0.0.0.0/0', viaGateway('10.0.0.1'))], byMac)).toEqual([]);
  });

  const ignored: Array<[string, Route]> = [
    ['loopback', route('lo', '::1/128')],
    ['a local route', route('usb0', '2001:db8::5/128', { flags: 0x80200001 })],
    ['an unreachable route', route('usb0', '10.9.0.0/16', { flags: 0x201 })],
    ['a route not up', route('usb0', '10.9.0.0/16', { flags: 0 })],
    ['IPv6 multicast', route('usb0', 'ff00::/8')],
    ['IPv6 link-local network', route('usb0', 'fe80::/64')],
    ['IPv4 link-local network', route('usb0', '169.254.0.0/16')],
    ['a container bridge network', route('docker0', '172.17.0.0/16')],
  ];
  for (const [what, r] of ignored) it(`ignores ${what}`, () => expect(run([r])).toEqual([]));

  it('a default route through a bridge still counts', () => {
    expect(run([route('docker0', '0.0.0.0/0', viaGateway('172.17.0.1'))]).map((f) => f.key)).toEqual([
      'net.route.unapproved:docker0:0.0.0.0/0@172.17.0.1',
    ]);
  });
});

describe('net.connection.prohibited', () => {
  function sock(remote: string, remotePort: number, over: Partial<SocketEntry> = {}): SocketEntry {
    return {
      proto: 'tcp',
      family: remote.includes(':') ? 6 : 4,
      local: '10.0.0.5',
      localPort: 50000,
      remote,
      remotePort,
      state: 'established',
      inode: 1,
      ...over,
    };
  }
  const run = (sockets: SocketEntry[], allowedCidrs: string[] = ['10.0.0.0/8', 'fd00::/8'], level = '秘密') =>
    connectionProhibitedDetector.detect(
      { at, sockets } as Observations,
      policy({ level, network: { allowedCidrs } }),
    );

  it('reports a peer outside the allowed ranges with its process', () => {
    expect(run([sock('203.0.113.10', 443, { pid: 2210, process: 'firefox' })])).toEqual([
      {
        type: 'net.connection.prohibited',
        key: 'net.connection.prohibited:tcp:203.0.113.10:443:2210',
        severity: 'high',
        data: { remote: '203.0.113.10', port: 443, proto: 'tcp', pid: 2210, process: 'firefox' },
      },
    ]);
  });

  const allowed: Array<[string, SocketEntry, string[]?]> = [
    ['inside an IPv4 range', sock('10.1.2.3', 443)],
    ['inside an IPv6 range', sock('fd12::5', 443)],
    ['IPv4 loopback, even with nothing allowed', sock('127.0.0.53', 53), []],
    ['IPv6 loopback, even with nothing allowed', sock('::1', 5432), []],
    ['a bare address entry', sock('198.51.100.7', 22), ['198.51.100.7']],
    ['an IPv4 range written as mapped IPv6', sock('192.168.1.9', 80), ['::ffff:192.168.0.0/112']],
  ];
  for (const [what, s, cidrs] of allowed) it(`allows ${what}`, () => expect(run([s], cidrs)).toEqual([]));

  it('with no allowed ranges every non-loopback peer is outside', () => {
    expect(run([sock('10.0.0.1', 1883), sock('127.0.0.1', 80)], []).map((f) => f.key)).toEqual([
      'net.connection.prohibited:tcp:10.0.0.1:1883:unknown',
    ]);
  });

  it('ignores malformed entries instead of allowing everything', () => {
    expect(
      run([sock('8.8.8.8', 53, { proto: 'udp' })], ['0.0.0.0/99', 'internet', '10.0.0.0/8/8']).map(
        (f) => f.key,
      ),
    ).toEqual(['net.connection.prohibited:udp:8.8.8.8:53:unknown']);
  });

  it('IPv6 peers are bracketed in the key', () => {
    expect(run([sock('2001:db8::1', 443, { pid: 7 })]).map((f) => f.key)).toEqual([
      'net.connection.prohibited:tcp:[2001:db8::1]:443:7',
    ]);
  });

  it('one finding per peer and process, whatever the local ports', () => {
    const findings = run([
      sock('203.0.113.10', 443, { pid: 1, localPort: 1 }),
      sock('203.0.113.10', 443, { pid: 1, localPort: 2 }),
      sock('203.0.113.10', 443, { pid: 2, localPort: 3 }),
    ]);
    expect(findings.map((f) => f.key)).toEqual([
      'net.connection.prohibited:tcp:203.0.113.10:443:1',
      'net.connection.prohibited:tcp:203.0.113.10:443:2',
    ]);
  });

  it('carries a hostile process name as data', () => {
    const [finding] = run([sock('203.0.113.10', 443, { pid: 3, process: '"$(id)\n<script>' })]);
    expect(finding!.data.process).toBe('"$(id)\n<script>');
  });

  it('caps the findings, keeping the same ones whatever the order read', () => {
    const many = Array.from({ length: 300 }, (_, i) => sock(`203.0.${i >> 8}.${i & 0xff}`, 443, { pid: i }));
    const first = run(many);
    const again = run([...many].reverse());
    expect(first).toHaveLength(MAX_CONNECTION_FINDINGS);
    expect(again.map((f) => f.key)).toEqual(first.map((f) => f.key));
  });

  it('is critical on a 绝密 host', () => {
    expect(run([sock('203.0.113.10', 443)], [], '绝密')[0]!.severity).toBe('critical');
  });
});
