import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { verifyMessage } from '../../shared/envelope.js';
import { eventually } from '../support/eventually.js';
import {
  followChanges,
  NetnsLab,
  offlineAgentConfig,
  requireNetns,
  type Namespace,
} from '../support/netns.js';

/**
 * net.internet.reachable and `smew beacon` on a real kernel: the agent's namespace, and on the far
 * end of a veth an "internet" namespace where `smew beacon` listens at 203.0.113.10. The agent
 * probes only the targets its policy names, each probe carrying a beacon signed with its key;
 * the receiver keeps the verified ones and exports a signed file of them.
 */
const canRun = requireNetns();

let lab: NetnsLab;
afterEach(async () => {
  await lab?.cleanup();
});

const TARGETS = [
  { method: 'tcp', target: '203.0.113.10:7443' },
  { method: 'http', target: 'http://203.0.113.10:8080/beacon' },
  { method: 'dns', target: 'beacon.example.test@203.0.113.10:53' },
];

interface Identity {
  agentId: string;
  publicKey: string;
  alg: string;
}

async function setUp(): Promise<{
  agent: Namespace;
  internet: Namespace;
  identity: Identity;
  beaconDir: string;
  beaconConfig: string;
  agentConfig: string;
}> {
  lab = new NetnsLab();
  const agent = lab.namespace('agent');
  const internet = lab.namespace('inet');
  lab.veth(agent, 'a0', internet, 'n0');
  internet.ip(['addr', 'add', '203.0.113.10/24', 'dev', 'n0']);
  internet.ip(['link', 'set', 'n0', 'up']);

  const { file: agentConfig, dir } = offlineAgentConfig({ policy: { beacon: { targets: TARGETS } } });
  const identity = JSON.parse(readFileSync(join(dir, 'identity/identity.json'), 'utf8')) as Identity;
  // What the collector's GET /api/v1/agents exports, carried to the internet side.
  const agentsFile = join(dir, 'agents.json');
  writeFileSync(
    agentsFile,
    JSON.stringify({
      items: [{ id: identity.agentId, alg: identity.alg, publicKey: identity.publicKey, unit: 'u' }],
    }),
  );
  const beaconDir = join(dir, 'beacon');
  const beaconConfig = join(dir, 'beacon.yaml');
  writeFileSync(
    beaconConfig,
    stringify({
      listen: { tcp: '203.0.113.10:7443', http: '203.0.113.10:8080', dns: '203.0.113.10:53' },
      agents: agentsFile,
      data: { dir: beaconDir },
    }),
  );
  const beacon = internet.startSmew(['beacon', '--config', beaconConfig], { SMEW_LOG_LEVEL: 'info' });
  await eventually(() => beacon.stderr().includes('"msg":"beacon listening"'), {
    what: `smew beacon listening (${beacon.stderr()})`,
  });
  return { agent, internet, identity, beaconDir, beaconConfig, agentConfig };
}

interface Finding {
  type: string;
  key: string;
  severity: string;
  data: Record<string, unknown>;
}

async function scanReachable(agent: Namespace, config: string): Promise<Finding[]> {
  const result = await agent.smew(['agent', 'scan', '--json', '--config', config]);
  expect(result.stderr).toBe('');
  return (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter(
    (f) => f.type === 'net.internet.reachable',
  );
}

describe.runIf(canRun)('net.internet.reachable and smew beacon in network namespaces', () => {
  it('unreachable while the link is down; once up, both probes reach the beacon, which verifies, keeps and exports them signed', async () => {
    const { agent, identity, beaconConfig, agentConfig, internet } = await setUp();

    expect(await scanReachable(agent, agentConfig)).toEqual([]);

    agent.ip(['addr', 'add', '203.0.113.2/24', 'dev', 'a0']);
    agent.ip(['link', 'set', 'a0', 'up']);
    const findings = await scanReachable(agent, agentConfig);
    expect(findings).toEqual([
      {
        type: 'net.internet.reachable',
        key: 'net.internet.reachable:dns:beacon.example.test@203.0.113.10:53',
        severity: 'critical',
        data: { target: 'beacon.example.test@203.0.113.10:53', method: 'dns' },
      },
      {
        type: 'net.internet.reachable',
        key: 'net.internet.reachable:http:http://203.0.113.10:8080/beacon',
        severity: 'critical',
        data: { target: 'http://203.0.113.10:8080/beacon', method: 'http' },
      },
      {
        type: 'net.internet.reachable',
        key: 'net.internet.reachable:tcp:203.0.113.10:7443',
        severity: 'critical',
        data: { target: '203.0.113.10:7443', method: 'tcp' },
      },
    ]);

    // A forged beacon (this agent's id, another key's signature) and junk are refused, not kept.
    const forger = agent.spawn(process.execPath, [
      '-e',
      `const net = require('node:net');
       const forged = ${JSON.stringify(JSON.stringify({ v: 1, kind: 'smew.beacon', agent: identity.agentId, alg: 'ed25519', ts: new Date().toISOString(), nonce: 'ab'.repeat(16), method: 'tcp', target: 'x', sig: ed25519Suite.signer(ed25519Suite.generateKeyPair().privateKey)(Buffer.from('x')) }))};
       const send = (line) => new Promise((r) => { const s = net.connect(7443, '203.0.113.10', () => s.write(line + '\\n')); let out = ''; s.on('data', (d) => out += d); s.on('close', () => r(out.trim())); });
       (async () => { console.log(await send(forged)); console.log(await send('<script>"\\u0000')); })();`,
    ]);
    await eventually(() => forger.stdout().split('\n').length >= 3, {
      what: `forger replies (${forger.stderr()})`,
    });
    expect(forger.stdout().trim().split('\n')).toEqual(['refused bad-signature', 'refused malformed']);

    const out = join(beaconConfig, '..', 'export.json');
    const exported = await internet.smew(['beacon', '--config', beaconConfig, '--export', out]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/^wrote 3 sighting\(s\) signed by bc-[a-z2-7]{20} to /);
    const file = JSON.parse(readFileSync(out, 'utf8')) as {
      kind: string;
      publicKey: string;
      sightings: Array<{
        from: string;
        via: string;
        beacon: Record<string, unknown> & { agent: string; method: string };
      }>;
    };
    expect(file.kind).toBe('smew.beacon.export');
    expect(verifyMessage(file, ed25519Suite.verifier(file.publicKey))).toBe(true);
    expect(
      verifyMessage({ ...file, sightings: file.sightings.slice(1) }, ed25519Suite.verifier(file.publicKey)),
    ).toBe(false);
    const agentVerify = ed25519Suite.verifier(identity.publicKey);
    expect(file.sightings.map((s) => [s.beacon.method, s.via, s.from, s.beacon.agent]).sort()).toEqual([
      ['dns', 'dns', '203.0.113.2', identity.agentId],
      ['http', 'http', '203.0.113.2', identity.agentId],
      ['tcp', 'tcp', '203.0.113.2', identity.agentId],
    ]);
    for (const sighting of file.sightings) expect(verifyMessage(sighting.beacon, agentVerify)).toBe(true);
  });

  it('the running agent reports the beacon reached within 1 s of its link coming up', async () => {
    const { agent } = await setUp();
    const { file } = offlineAgentConfig({
      watch: { uevent: false },
      policy: { beacon: { targets: [TARGETS[0]] } },
    });
    // The beacon knows only the first agent's key; this one's beacons are refused, but the probe
    // still reaches the receiver, which is what the agent reports.
    const running = agent.startSmew(['agent', 'run', '--config', file], { SMEW_LOG_LEVEL: 'info' });
    const changes = followChanges(running);
    await eventually(() => running.stderr().includes('"msg":"change sources"'), { what: 'agent start' });
    expect(changes.find((c) => c.type === 'net.internet.reachable')).toBeUndefined();

    agent.ip(['addr', 'add', '203.0.113.2/24', 'dev', 'a0']);
    const t0 = performance.now();
    agent.ip(['link', 'set', 'a0', 'up']);
    const reached = await eventually(
      () =>
        changes.find((c) => c.key === 'net.internet.reachable:tcp:203.0.113.10:7443' && c.state === 'raised'),
      { what: 'net.internet.reachable raised', timeoutMs: 5000 },
    );
    expect(reached.seenAt - t0).toBeLessThan(1000);
  });
});
