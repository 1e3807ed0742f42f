/**
 * Agent footprint: a real `smew agent run` (dist/bin/smew.js) on a fixture host tree, enrolled with
 * a real collector, on the default scan and heartbeat intervals as on a workstation. After it has
 * settled, VmRSS (from /proc/PID/status) and CPU (utime+stime from /proc/PID/stat) are sampled
 * once a second; the table shows median and peak RSS and the CPU share over the window.
 *   npm run build && npx tsx test/bench/agent-footprint.bench.ts [--short] [--seconds S]
 * Targets (issue 9): idle RSS ≤ 60 MB, idle CPU ≤ 0.5 %. Not a test.
 */
import { readFileSync } from 'node:fs';
import { copyFixtureHost } from '../support/fixture-host.js';
import { eventually } from '../support/eventually.js';
import { createSite, enrollAgent, type AgentHandle } from '../support/smew-site.js';
import { isShort, median, printTable, reportFigures } from './support/report.js';

function argValue(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const SHORT = isShort();
const SECONDS = argValue('--seconds', SHORT ? 3 : 10);
const SETTLE_MS = SHORT ? 2000 : 5000;
/** Clock ticks per second for /proc/PID/stat times; 100 on every Linux this runs on. */
const CLK_TCK = 100;

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** utime + stime of the process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is parenthesised and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

const site = await createSite();
const host = copyFixtureHost('sys-wireless');
let running: ReturnType<AgentHandle['run']> | undefined;
try {
  await site.startCollector();
  const agent = await enrollAgent(site, host, { scan: { interval: '60s' }, heartbeat: { interval: '30s' } });
  running = agent.run();
  const pid = running.child.pid!;
  await eventually(async () => (await site.api<{ items: unknown[] }>(`/api/v1/agents`)).items.length > 0, {
    what: 'agent listed',
  });
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const samples: number[] = [];
  const cpuStart = cpuSeconds(pid);
  const wallStart = performance.now();
  for (let i = 0; i < SECONDS; i++) {
    samples.push(rssMb(pid));
    await new Promise((r) => setTimeout(r, 1000));
  }
  samples.push(rssMb(pid));
  const cpuPercent = (100 * (cpuSeconds(pid) - cpuStart)) / ((performance.now() - wallStart) / 1000);
  const idleRssMb = median(samples);
  console.log(
    `\nagent footprint: smew agent run on the 'sys-wireless' fixture host, ${SECONDS} s after ${SETTLE_MS / 1000} s settling`,
  );
  printTable([
    { figure: 'idle RSS, median', value: `${idleRssMb.toFixed(1)} MB`, target: '≤ 60 MB' },
    { figure: 'idle RSS, peak', value: `${Math.max(...samples).toFixed(1)} MB`, target: '' },
    { figure: 'idle CPU', value: `${cpuPercent.toFixed(2)} %`, target: '≤ 0.5 %' },
  ]);
  reportFigures({
    agent: { idleRssMb, idleRssPeakMb: Math.max(...samples), idleCpuPercent: cpuPercent, seconds: SECONDS },
  });
} finally {
  await running?.stop();
  await site.stopCollector();
}
process.exit(0);
