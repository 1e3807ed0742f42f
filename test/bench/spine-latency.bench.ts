/**
 * Time from a fixture change (a wireless NIC plugged or unplugged in a fixture sysfs tree) to the
 * event visible in GET /api/v1/events, with real `smew collector` and `smew agent run` processes.
 * Also reports the agent's idle RSS. Run: npm run build && npx tsx test/bench/spine-latency.bench.ts
 */
import { readFileSync } from 'node:fs';
import { copyFixtureHost } from '../support/fixture-host.js';
import { eventually } from '../support/eventually.js';
import { createSite, enrollAgent } from '../support/smew-site.js';

const ROUNDS = Number(process.env.ROUNDS ?? 20);
const SCAN_INTERVAL = process.env.SCAN_INTERVAL ?? '100ms';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const site = await createSite();
const collector = await site.startCollector();
const host = copyFixtureHost('sys-wireless');
const agent = await enrollAgent(site, host, { scan: { interval: SCAN_INTERVAL } });
const agentProcess = agent.run();
try {
  const count = async () =>
    (await site.api<{ items: unknown[] }>(`/api/v1/events?agent=${agent.agentId}&limit=10000`)).items.length;
  await eventually(async () => (await count()) >= 2, { what: 'agent started' });
  const latencies: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const before = await count();
    const t0 = performance.now();
    if (i % 2 === 0) host.unplug('wlp2s0');
    else host.plug('wlp2s0');
    await eventually(async () => (await count()) > before, { intervalMs: 2, what: `event ${i}` });
    latencies.push(performance.now() - t0);
  }
  const busyRss = rssMb(agentProcess.child.pid!);
  // Idle as on a workstation: a second agent on the default scan and heartbeat intervals, 15 s after start.
  const idleAgent = await enrollAgent(site, copyFixtureHost('sys-wireless'), {
    scan: { interval: '60s' },
    heartbeat: { interval: '30s' },
  });
  const idleProcess = idleAgent.run();
  await new Promise((r) => setTimeout(r, 15_000));
  const idleRss = rssMb(idleProcess.child.pid!);
  await idleProcess.stop();
  latencies.sort((a, b) => a - b);
  console.log(`fixture change → event in API, ${ROUNDS} changes, scan.interval ${SCAN_INTERVAL}`);
  console.log(
    `  median ${percentile(latencies, 50).toFixed(1)} ms   p95 ${percentile(latencies, 95).toFixed(1)} ms   max ${latencies.at(-1)!.toFixed(1)} ms`,
  );
  console.log(`agent RSS after scanning every ${SCAN_INTERVAL}: ${busyRss.toFixed(1)} MB`);
  console.log(`agent idle RSS (scan 60s, heartbeat 30s, 15 s after start): ${idleRss.toFixed(1)} MB`);
} finally {
  await agentProcess.stop();
  await collector.stop();
}
