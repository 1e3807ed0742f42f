import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { listenOnInternet, NetnsLab, requireNetns, type Namespace } from '../support/netns.js';
import { eventually } from '../support/eventually.js';

/**
 * The network detectors on a real kernel: `smew agent scan --json` runs inside a namespace of its
 * own (default paths: `ip netns exec` remounts /sys for the namespace, and /proc/net is the
 * reader's namespace), with veths, addresses, routes and sockets made by `ip`. A second namespace
 * on the far end of a veth stands in for the internet at 203.0.113.0/24.
 */
const canRun = requireNetns();

interface Finding {
  type: string;
  key: string;
  severity: string;
  data: Record<string, unknown>;
}

let lab: NetnsLab;
afterEach(async () => {
  await lab?.cleanup();
});

function agentConfig(policy: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'smew-netns-'));
  const file = join(dir, 'agent.yaml');
  writeFileSync(file, stringify({ identity: { dir: join(dir, 'identity') }, policy }));
  return file;
}

async function scan(ns: Namespace, policy: Record<string, unknown> = {}): Promise<Finding[]> {
  const result = await ns.smew(['agent', 'scan', '--json', '--config', agentConfig(policy)]);
  expect(result.stderr).toBe('');
  const { findings } = JSON.parse(result.stdout) as { findings: Finding[] };
  expect(result.code).toBe(findings.length > 0 ? 1 : 0);
  return findings;
}

function ofType(findings: Finding[], type: string): Finding[] {
  return findings.filter((f) => f.type === type);
}

function agentAndInternet(): { agent: Namespace; internet: Namespace } {
  lab = new NetnsLab();
  return lab.agentAndInternet();
}

describe.runIf(canRun)('network detectors in real network namespaces', () => {
  it('a fresh namespace with only loopback is clean', async () => {
    lab = new NetnsLab();
    const agent = lab.namespace('agent');
    expect(await scan(agent)).toEqual([]);
  });

  it('net.link.unapproved: an unapproved veth that is up, and nothing once it is approved or down', async () => {
    const { agent } = agentAndInternet();
    const mac = agent.ip(['-o', 'link', 'show', 'a0']).match(/link\/ether ([0-9a-f:]+)/)![1]!;

    const links = ofType(await scan(agent), 'net.link.unapproved');
    expect(links).toEqual([
      {
        type: 'net.link.unapproved',
        key: 'net.link.unapproved:a0',
        severity: 'medium',
        data: { iface: 'a0', mac, kind: 'virtual' },
      },
    ]);
    // 绝密 raises the same link one step.
    expect(ofType(await scan(agent, { level: '绝密' }), 'net.link.unapproved')[0]?.severity).toBe('high');
    expect(ofType(await scan(agent, { interfaces: { approved: ['a0'] } }), 'net.link.unapproved')).toEqual(
      [],
    );
    expect(ofType(await scan(agent, { interfaces: { approved: [mac] } }), 'net.link.unapproved')).toEqual([]);

    agent.ip(['link', 'set', 'a0', 'down']);
    expect(ofType(await scan(agent), 'net.link.unapproved')).toEqual([]);
  });

  it('net.route.unapproved: a default route via an unapproved interface', async () => {
    const { agent } = agentAndInternet();
    agent.ip(['route', 'add', 'default', 'via', '203.0.113.10', 'dev', 'a0']);

    const routes = ofType(await scan(agent), 'net.route.unapproved');
    expect(routes).toContainEqual({
      type: 'net.route.unapproved',
      key: 'net.route.unapproved:a0:0.0.0.0/0@203.0.113.10',
      severity: 'high',
      data: { iface: 'a0', gateway: '203.0.113.10', dest: '0.0.0.0/0' },
    });
    // The connected network of the address is a route through a0 too (medium).
    expect(routes.find((r) => r.key === 'net.route.unapproved:a0:203.0.113.0/24')?.severity).toBe('medium');
    expect(ofType(await scan(agent, { interfaces: { approved: ['a0'] } }), 'net.route.unapproved')).toEqual(
      [],
    );
  });

  it('net.multihomed: two uplinks, each with a default route', async () => {
    const { agent, internet } = agentAndInternet();
    lab.veth(agent, 'a1', internet, 'n1');
    agent.ip(['addr', 'add', '198.51.100.2/24', 'dev', 'a1']);
    internet.ip(['addr', 'add', '198.51.100.1/24', 'dev', 'n1']);
    agent.ip(['link', 'set', 'a1', 'up']);
    internet.ip(['link', 'set', 'n1', 'up']);
    agent.ip(['route', 'add', 'default', 'via', '203.0.113.10', 'dev', 'a0', 'metric', '100']);

    // One default route: one uplink (a virtual link without one is not an uplink).
    expect(ofType(await scan(agent), 'net.multihomed')).toEqual([]);

    agent.ip(['route', 'add', 'default', 'via', '198.51.100.1', 'dev', 'a1', 'metric', '200']);
    const approvedBoth = { interfaces: { approved: ['a0', 'a1'] } };
    // Approval does not silence it: two approved networks on one host are still 一机两用.
    expect(ofType(await scan(agent, approvedBoth), 'net.multihomed')).toEqual([
      {
        type: 'net.multihomed',
        key: 'net.multihomed:a0+a1',
        severity: 'high',
        data: { ifaces: ['a0', 'a1'] },
      },
    ]);
  });

  it('net.connection.prohibited: a TCP connection to 203.0.113.10 in the other namespace, with pid and process', async () => {
    const { agent, internet } = agentAndInternet();
    await listenOnInternet(internet, 8443);
    const client = agent.spawn(process.execPath, [
      '-e',
      `process.title = 'smew-leaker';
       const s = require('node:net').connect(8443, '203.0.113.10', () => console.log('connected'));
       s.on('error', (e) => { console.error(e.message); process.exit(3); });`,
    ]);
    await eventually(() => client.stdout().includes('connected'), {
      what: `connection from the agent namespace (${client.stderr()})`,
    });

    const connections = ofType(
      await scan(agent, { network: { allowedCidrs: ['10.200.0.0/16'] } }),
      'net.connection.prohibited',
    );
    expect(connections).toEqual([
      {
        type: 'net.connection.prohibited',
        key: `net.connection.prohibited:tcp:203.0.113.10:8443:${client.child.pid}`,
        severity: 'high',
        data: {
          remote: '203.0.113.10',
          port: 8443,
          proto: 'tcp',
          pid: client.child.pid,
          process: 'smew-leaker',
        },
      },
    ]);
    // The listener's end is in the other namespace: the agent's /proc/net does not show it.
    expect(
      ofType(
        await scan(agent, { network: { allowedCidrs: ['203.0.113.0/24'] } }),
        'net.connection.prohibited',
      ),
    ).toEqual([]);
  });
});
