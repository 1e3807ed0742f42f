import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import {
  followChanges,
  listenOnInternet,
  NetnsLab,
  offlineAgentConfig,
  requireNetns,
} from '../support/netns.js';

/**
 * The running agent (`smew agent run` inside a namespace) turns kernel changes into events within
 * a second, from rtnetlink notices alone: its periodic scan is an hour away.
 */
const canRun = requireNetns();

let lab: NetnsLab;
afterEach(async () => {
  await lab?.cleanup();
});

describe.runIf(canRun)('event-driven detection in a network namespace', () => {
  it('a veth coming up, a default route through it and its removal each become an event within 1 s', async () => {
    lab = new NetnsLab();
    const agentNs = lab.namespace('agent');
    const internet = lab.namespace('inet');
    const { file } = offlineAgentConfig({ watch: { uevent: false } });
    const agent = agentNs.startSmew(['agent', 'run', '--config', file], { SMEW_LOG_LEVEL: 'info' });
    const changes = followChanges(agent);
    await eventually(() => agent.stderr().includes('"msg":"change sources"'), {
      what: `agent start (${agent.stderr()})`,
    });

    lab.veth(agentNs, 'a0', internet, 'n0');
    agentNs.ip(['addr', 'add', '203.0.113.2/24', 'dev', 'a0']);
    const up = performance.now();
    agentNs.ip(['link', 'set', 'a0', 'up']);
    internet.ip(['link', 'set', 'n0', 'up']);
    const link = await eventually(
      () => changes.find((c) => c.key === 'net.link.unapproved:a0' && c.state === 'raised'),
      { what: 'net.link.unapproved:a0 raised', timeoutMs: 5000 },
    );
    expect(link.seenAt - up).toBeLessThan(1000);

    const routed = performance.now();
    agentNs.ip(['route', 'add', 'default', 'via', '203.0.113.10', 'dev', 'a0']);
    const route = await eventually(
      () => changes.find((c) => c.key === 'net.route.unapproved:a0:0.0.0.0/0@203.0.113.10'),
      { what: 'default route raised', timeoutMs: 5000 },
    );
    expect(route.state).toBe('raised');
    expect(route.seenAt - routed).toBeLessThan(1000);

    const removed = performance.now();
    agentNs.ip(['link', 'del', 'a0']);
    const cleared = await eventually(
      () => changes.find((c) => c.key === 'net.link.unapproved:a0' && c.state === 'cleared'),
      { what: 'net.link.unapproved:a0 cleared', timeoutMs: 5000 },
    );
    expect(cleared.seenAt - removed).toBeLessThan(1000);
    expect(agent.stderr()).toContain('"netlink":"event"');
  });

  it('with the change sources off, the same veth waits for the periodic scan (the notices are what make it prompt)', async () => {
    lab = new NetnsLab();
    const agentNs = lab.namespace('agent');
    const internet = lab.namespace('inet');
    const { file } = offlineAgentConfig({ watch: { netlink: false, uevent: false } });
    const agent = agentNs.startSmew(['agent', 'run', '--config', file], { SMEW_LOG_LEVEL: 'info' });
    const changes = followChanges(agent);
    await eventually(() => agent.stderr().includes('"msg":"change sources"'), { what: 'agent start' });
    expect(agent.stderr()).toContain('"netlink":"off"');

    lab.veth(agentNs, 'a0', internet, 'n0');
    agentNs.ip(['link', 'set', 'a0', 'up']);
    internet.ip(['link', 'set', 'n0', 'up']);
    // The event-driven agent reports this within a second; give this one twice that.
    const waited = performance.now();
    await expect(
      eventually(() => changes.find((c) => c.key === 'net.link.unapproved:a0'), { timeoutMs: 2000 }),
    ).rejects.toThrow(/timed out/);
    expect(performance.now() - waited).toBeGreaterThanOrEqual(2000);
  });

  it('a TCP connection to 203.0.113.10 becomes net.connection.prohibited within 1 s (socket watch), and its close clears it', async () => {
    lab = new NetnsLab();
    const { agent: agentNs, internet } = lab.agentAndInternet();
    await listenOnInternet(internet, 8443);
    // The link is approved, so the only thing to report is the connection itself.
    const { file } = offlineAgentConfig({
      watch: { uevent: false },
      policy: { network: { allowedCidrs: ['10.200.0.0/16'] }, interfaces: { approved: ['a0'] } },
    });
    const agent = agentNs.startSmew(['agent', 'run', '--config', file], { SMEW_LOG_LEVEL: 'info' });
    const changes = followChanges(agent);
    await eventually(() => agent.stderr().includes('"msg":"change sources"'), { what: 'agent start' });
    expect(agent.stderr()).toContain('"sockets":"event"');

    // The client connects when told to (a line on stdin) and closes on the next one.
    const client = agentNs.spawn(process.execPath, [
      '-e',
      `let s;
       process.stdin.on('data', () => {
         if (s) { s.destroy(); console.log('closed'); return; }
         s = require('node:net').connect(8443, '203.0.113.10', () => console.log('connected'));
         s.on('error', (e) => { console.error(e.message); process.exit(3); });
       });`,
    ]);
    const key = `net.connection.prohibited:tcp:203.0.113.10:8443:${client.child.pid}`;
    const connected = performance.now();
    client.child.stdin!.write('connect\n');
    const raised = await eventually(() => changes.find((c) => c.key === key && c.state === 'raised'), {
      what: `${key} raised (${JSON.stringify(changes)}; client: ${client.stderr()})`,
      timeoutMs: 5000,
    });
    expect(raised.seenAt - connected).toBeLessThan(1000);

    const closed = performance.now();
    client.child.stdin!.write('close\n');
    const cleared = await eventually(() => changes.find((c) => c.key === key && c.state === 'cleared'), {
      what: `${key} cleared`,
      timeoutMs: 5000,
    });
    expect(cleared.seenAt - closed).toBeLessThan(1000);
  });

  it('with watch.sockets 0, the same connection waits for the periodic scan', async () => {
    lab = new NetnsLab();
    const { agent: agentNs, internet } = lab.agentAndInternet();
    await listenOnInternet(internet, 8443);
    const { file } = offlineAgentConfig({
      watch: { uevent: false, sockets: 0 },
      policy: { network: { allowedCidrs: ['10.200.0.0/16'] }, interfaces: { approved: ['a0'] } },
    });
    const agent = agentNs.startSmew(['agent', 'run', '--config', file], { SMEW_LOG_LEVEL: 'info' });
    const changes = followChanges(agent);
    await eventually(() => agent.stderr().includes('"msg":"change sources"'), { what: 'agent start' });
    expect(agent.stderr()).toContain('"sockets":"off"');

    const client = agentNs.spawn(process.execPath, [
      '-e',
      `require('node:net').connect(8443, '203.0.113.10', () => console.log('connected')).on('error', () => process.exit(3));`,
    ]);
    await eventually(() => client.stdout().includes('connected'), { what: 'connection' });
    await expect(
      eventually(() => changes.find((c) => c.type === 'net.connection.prohibited'), { timeoutMs: 2000 }),
    ).rejects.toThrow(/timed out/);
  });

  it('the running agent records agent.config.changed and agent.tamper when its own files change', async () => {
    lab = new NetnsLab();
    const agentNs = lab.namespace('agent');
    const { file, dir } = offlineAgentConfig({ watch: { uevent: false } });
    const agent = agentNs.startSmew(['agent', 'run', '--config', file], { SMEW_LOG_LEVEL: 'info' });
    await eventually(() => agent.stderr().includes('"msg":"change sources"'), { what: 'agent start' });
    const selfChanges = () =>
      agent
        .stderr()
        .split('\n')
        .filter((line) => line.includes('own files or clock changed'))
        .map((line) => JSON.parse(line) as { type: string; what: string; hash: string });

    appendFileSync(file, '# edited by hand\n');
    await eventually(() => selfChanges().length === 1, { what: 'config change', timeoutMs: 3000 });
    expect(selfChanges()[0]).toMatchObject({ type: 'agent.config.changed', what: 'config' });
    expect(selfChanges()[0]!.hash).toMatch(/^[0-9a-f]{64}$/);

    const identity = join(dir, 'identity', 'identity.json');
    const record = JSON.parse(readFileSync(identity, 'utf8')) as Record<string, unknown>;
    writeFileSync(identity, JSON.stringify({ ...record, unit: 'another' }));
    const tamper = await eventually(() => selfChanges().find((c) => c.type === 'agent.tamper'), {
      what: `identity change (${JSON.stringify(selfChanges())})`,
      timeoutMs: 3000,
    });
    expect(tamper).toMatchObject({ type: 'agent.tamper', what: 'identity' });
  });
});
