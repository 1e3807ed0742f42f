/**
 * Agent footprint: a real `smew agent run` (dist/bin/smew.js) on a fixture host tree, enrolled with
 * a real collector, on the default scan and heartbeat intervals as on a workstation. After it has
 * settled, VmRSS (from /proc/PID/status) and CPU (utime+stime from /proc/PID/stat) are sampled
 * once a second; the table shows median and peak RSS and the CPU share over the window. Measured
 * twice: as `node dist/bin/smew.js agent run`, and with the Node.js flags the packaged systemd unit
 * gives the agent (SMEW_NODE_FLAGS in packaging/systemd/smew-agent.service, read from there), which
 * are the deployed figures. `--node-flags "…"` measures other flags instead of the unit's.
 *   npm run build && npx tsx test/bench/agent-footprint.bench.ts [--short] [--seconds S] [--node-flags F]
 * Targets (issue 9): idle RSS ≤ 60 MB, idle CPU ≤ 0.5 %. Not a test.
 */
import { readFileSync } from 'node:fs';
import { copyFixtureHost } from '../support/fixture-host.js';
import { eventually } from '../support/eventually.js';
import { REPO_ROOT, SMEW_BIN, start, type Running } from '../support/processes.js';
import { createSite, enrollAgent } from '../support/smew-site.js';
import { argValue, isShort, median, printTable, reportFigures } from './support/report.js';

const SHORT = isShort();
const SECONDS = argValue('--seconds', SHORT ? 3 : 10);
const SETTLE_MS = SHORT ? 2000 : 10_000;
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

/**
 * How the packaged unit runs the agent: its Environment= settings, of which SMEW_NODE_FLAGS are
 * the launcher's Node.js flags. `--node-flags "…"` replaces those flags.
 */
function unitRuntime(): { flags: string[]; env: Record<string, string> } {
  const unit = readFileSync(`${REPO_ROOT}/packaging/systemd/smew-agent.service`, 'utf8');
  const env: Record<string, string> = {};
  for (const [, assignment] of unit.matchAll(/^Environment=(.*)$/gm)) {
    const [name, ...value] = assignment!.replace(/^"|"$/g, '').split('=');
    env[name!] = value.join('=');
  }
  const { SMEW_NODE_FLAGS: unitFlags = '', ...rest } = env;
  const at = process.argv.indexOf('--node-flags');
  const flags = at >= 0 ? (process.argv[at + 1] ?? '') : unitFlags;
  return { flags: flags.split(/\s+/).filter(Boolean), env: rest };
}

interface Footprint {
  idleRssMb: number;
  idleRssPeakMb: number;
  idleCpuPercent: number;
}

/** Runs the agent as `runtime` says, lets it settle, samples it, stops it. */
async function measure(
  config: string,
  runtime: { flags: string[]; env: Record<string, string> },
): Promise<Footprint> {
  const args = [...runtime.flags, SMEW_BIN, 'agent', 'run', '--config', config];
  const running: Running = start(process.execPath, args, { env: runtime.env });
  try {
    const pid = running.child.pid!;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    if (running.child.exitCode !== null) throw new Error(`the agent exited: ${running.stderr()}`);
    const samples: number[] = [];
    const cpuStart = cpuSeconds(pid);
    const wallStart = performance.now();
    for (let i = 0; i < SECONDS; i++) {
      samples.push(rssMb(pid));
      await new Promise((r) => setTimeout(r, 1000));
    }
    samples.push(rssMb(pid));
    const idleCpuPercent = (100 * (cpuSeconds(pid) - cpuStart)) / ((performance.now() - wallStart) / 1000);
    return { idleRssMb: median(samples), idleRssPeakMb: Math.max(...samples), idleCpuPercent };
  } finally {
    await running.stop();
  }
}

const site = await createSite();
const host = copyFixtureHost('sys-wireless');
try {
  await site.startCollector();
  const agent = await enrollAgent(site, host, { scan: { interval: '60s' }, heartbeat: { interval: '30s' } });
  const unit = unitRuntime();
  const plain = await measure(agent.config, { flags: [], env: {} });
  await eventually(async () => (await site.api<{ items: unknown[] }>(`/api/v1/agents`)).items.length > 0, {
    what: 'agent listed',
  });
  const deployed = await measure(agent.config, unit);
  const how = [...Object.entries(unit.env).map(([k, v]) => `${k}=${v}`), ...unit.flags].join(' ');
  console.log(
    `\nagent footprint: smew agent run on the 'sys-wireless' fixture host, ${SECONDS} s after ${SETTLE_MS / 1000} s settling`,
  );
  const row = (how: string, f: Footprint) => ({
    how,
    'idle RSS, median': `${f.idleRssMb.toFixed(1)} MB`,
    'idle RSS, peak': `${f.idleRssPeakMb.toFixed(1)} MB`,
    'idle CPU': `${f.idleCpuPercent.toFixed(2)} %`,
  });
  printTable([
    row('node dist/bin/smew.js agent run', plain),
    row(`as the unit runs it: ${how || 'no flags'}`, deployed),
    { how: 'target (issue 9)', 'idle RSS, median': '≤ 60 MB', 'idle RSS, peak': '', 'idle CPU': '≤ 0.5 %' },
  ]);
  reportFigures({
    agent: {
      ...deployed,
      nodeFlags: unit.flags,
      env: unit.env,
      withoutFlags: plain,
      seconds: SECONDS,
    },
  });
} finally {
  await site.stopCollector();
}
process.exit(0);
