/**
 * Detection latency per change source, with a real `smew agent run` inside a network namespace
 * (periodic scan an hour away, so only change notices count): from the `ip` command that makes a
 * change (or the write that opens a TCP connection) to the agent's "condition changed" log line for
 * it (the event is in the outbox by then).
 * Also the cost of one full scan on this host (wall ms and CPU ms, in this process).
 * Run as root: npm run build && npx tsx test/bench/detection-latency.bench.ts  (ROUNDS=50 default)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DETECTORS } from '../../agent/detectors/registry.js';
import { runDetectors } from '../../agent/detectors/run-detectors.js';
import { collectObservations } from '../../agent/probes/collect.js';
import { systemClock } from '../../shared/clock.js';
import { defaultPolicy } from '../../shared/policy.js';
import { eventually } from '../support/eventually.js';
import {
  followChanges,
  listenOnInternet,
  NetnsLab,
  offlineAgentConfig,
  requireNetns,
} from '../support/netns.js';

const ROUNDS = Number(process.env.ROUNDS ?? 50);

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return `n=${sorted.length} median ${at(50).toFixed(1)} ms  p99 ${at(99).toFixed(1)} ms  max ${sorted.at(-1)!.toFixed(1)} ms`;
}

if (!requireNetns()) process.exit(0);
const lab = new NetnsLab();
try {
  const agentNs = lab.namespace('agent');
  const internet = lab.namespace('inet');
  const watched = mkdtempSync(join(tmpdir(), 'smew-bench-watched-'));
  const { file } = offlineAgentConfig({ policy: { files: { watch: [watched] } } });
  const agent = agentNs.startSmew(['agent', 'run', '--config', file], { SMEW_LOG_LEVEL: 'info' });
  const changes = followChanges(agent);
  await eventually(() => agent.stderr().includes('"msg":"change sources"'), { what: 'agent start' });
  const sources = /"sources":(\{[^}]*\})/.exec(agent.stderr())?.[1];
  console.log(`change sources on this machine: ${sources}`);

  const appear: number[] = [];
  const route: number[] = [];
  const vanish: number[] = [];
  const waitFor = async (key: string, state: string, since: number) =>
    (
      await eventually(() => changes.find((c) => c.key === key && c.state === state && c.seenAt >= since), {
        intervalMs: 1,
        timeoutMs: 10_000,
        what: `${key} ${state}`,
      })
    ).seenAt - since;

  for (let i = 0; i < ROUNDS; i++) {
    lab.veth(agentNs, 'a0', internet, 'n0');
    agentNs.ip(['addr', 'add', '203.0.113.2/24', 'dev', 'a0']);
    internet.ip(['link', 'set', 'n0', 'up']);
    let t0 = performance.now();
    agentNs.ip(['link', 'set', 'a0', 'up']);
    appear.push(await waitFor('net.link.unapproved:a0', 'raised', t0));

    t0 = performance.now();
    agentNs.ip(['route', 'add', 'default', 'via', '203.0.113.10', 'dev', 'a0']);
    route.push(await waitFor('net.route.unapproved:a0:0.0.0.0/0@203.0.113.10', 'raised', t0));

    t0 = performance.now();
    agentNs.ip(['link', 'del', 'a0']);
    vanish.push(await waitFor('net.link.unapproved:a0', 'cleared', t0));
  }
  const marked: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const path = join(watched, `notice-${i}.txt`);
    const t0 = performance.now();
    writeFileSync(path, '关于某事的通知\n秘密★1年\n');
    marked.push(await waitFor(`file.marked:${path}`, 'raised', t0));
    rmSync(path);
    await waitFor(`file.marked:${path}`, 'cleared', t0);
  }
  // A TCP connection from the agent's namespace to a listener in the other one: no kernel notice
  // exists for it, so this measures the socket watch (watch.sockets) and the scan it triggers.
  lab.veth(agentNs, 'a0', internet, 'n0');
  agentNs.ip(['addr', 'add', '203.0.113.2/24', 'dev', 'a0']);
  internet.ip(['addr', 'add', '203.0.113.10/24', 'dev', 'n0']);
  agentNs.ip(['link', 'set', 'a0', 'up']);
  internet.ip(['link', 'set', 'n0', 'up']);
  await listenOnInternet(internet, 8443);
  // Each stdin line opens a connection, the next one closes it.
  const client = agentNs.spawn(process.execPath, [
    '-e',
    `let s;
     process.stdin.on('data', () => {
       if (s) { s.destroy(); s = undefined; return; }
       s = require('node:net').connect(8443, '203.0.113.10');
       s.on('error', () => process.exit(3));
     });`,
  ]);
  const connectionKey = `net.connection.prohibited:tcp:203.0.113.10:8443:${client.child.pid}`;
  const connection: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    let t0 = performance.now();
    client.child.stdin!.write('open\n');
    connection.push(await waitFor(connectionKey, 'raised', t0));
    t0 = performance.now();
    client.child.stdin!.write('close\n');
    await waitFor(connectionKey, 'cleared', t0);
  }
  console.log(`veth up → net.link.unapproved raised      ${summary(appear)}`);
  console.log(`default route → net.route.unapproved      ${summary(route)}`);
  console.log(`veth deleted → net.link.unapproved cleared ${summary(vanish)}`);
  console.log(`marked file written → file.marked raised   ${summary(marked)}`);
  console.log(`TCP connect → net.connection.prohibited    ${summary(connection)}`);
} finally {
  await lab.cleanup();
}

// One full scan of this host (every probe and detector), in process.
const walls: number[] = [];
const cpus: number[] = [];
for (let i = 0; i < 20; i++) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const observations = await collectObservations(
    { sysfs: '/sys', procfs: '/proc', devfs: '/dev' },
    { clock: systemClock },
  );
  runDetectors(observations, defaultPolicy, { detectors: DETECTORS });
  walls.push(performance.now() - t0);
  const cpu = process.cpuUsage(cpu0);
  cpus.push((cpu.user + cpu.system) / 1000);
}
console.log(`full scan of this host (wall)              ${summary(walls)}`);
console.log(`full scan of this host (CPU)               ${summary(cpus)}`);
