/**
 * Agent footprint: a real `smew agent run` on a fixture host tree, enrolled with a real collector,
 * on the default scan and heartbeat intervals as on a workstation. The host is the 'sys-wireless'
 * tree plus what a workstation's agent keeps busy with: socket tables of SOCKETS connections (read
 * every 500 ms by the socket watch) and a watched documents folder of FILES files (policy
 * files.watch, so chokidar watches it and every scan walks it).
 *
 * Each way of running the agent gets one process, measured in three phases:
 * - idle: after settling, VmRSS (/proc/PID/status) once a second and CPU (utime+stime from
 *   /proc/PID/stat) over the window: median and peak RSS, CPU share. The change-notice helpers the
 *   agent starts (`ip monitor`, `udevadm monitor`) are separate processes: their RSS is shown apart.
 * - scans: SCANS full scans, each triggered as a change would trigger it (a new file in the
 *   watched folder, 1.5 s apart): CPU per scan (the phase's CPU less the idle rate, divided by the
 *   scans) and peak RSS (sampled every 100 ms); then the RSS it settles at after them.
 * - check: a marked file dropped into the folder must come out as a file.marked change, so the
 *   scans measured are real ones; and the host inventory (agent/inventory.ts) must have been taken
 *   at start, so the figures hold with it loaded.
 * Two ways: `node dist/bin/smew.js agent run` (the unbundled tree, no flags), and as the packaged
 * systemd unit runs it — the launcher runs the agent's bundle dist/bin/smew-agent.js for `agent …`
 * commands (packaging/smew.sh.in), with the unit's Environment= (SMEW_NODE_FLAGS are the Node.js
 * flags; read from packaging/systemd/smew-agent.service): the deployed figures.
 * `--node-flags "…"` measures other flags instead of the unit's; `--compare-node PATH` adds the
 * unit's way under another Node.js binary (e.g. the previous runtime), measured in the same run;
 * `--compare-entry FILE` runs that binary on another copy of the bundle (one beside a better-sqlite3
 * built for that runtime's ABI); `--runs N` measures the unit's way N times (idle RSS of each run
 * is reported).
 *   npm run build && npx tsx test/bench/agent-footprint.bench.ts [--short] [--seconds S] [--scans N]
 *     [--node-flags F] [--compare-node PATH [--compare-entry FILE]] [--runs N]
 * Targets: idle RSS ≤ 55 MB in each run (issue 19), idle CPU ≤ 0.5 % (issue 9). Not a test.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyFixtureHost } from '../support/fixture-host.js';
import { eventually } from '../support/eventually.js';
import { REPO_ROOT, SMEW_BIN, start, type Running } from '../support/processes.js';
import { createSite, enrollAgent, loggedChanges } from '../support/smew-site.js';
import { argValue, isShort, median, printTable, reportFigures } from './support/report.js';

const SHORT = isShort();
const SECONDS = argValue('--seconds', SHORT ? 3 : 10);
const SCANS = argValue('--scans', SHORT ? 2 : 10);
const SETTLE_MS = SHORT ? 2000 : 30_000;
const SCAN_GAP_MS = 1500;
const SOCKETS = 200;
const FILES = 200;
/** The agent's bundle, which the packaged launcher runs for `smew agent …` (packaging/smew.sh.in). */
const AGENT_BUNDLE = join(REPO_ROOT, 'dist/bin/smew-agent.js');
/** Clock ticks per second for /proc/PID/stat times; 100 on every Linux this runs on. */
const CLK_TCK = 100;

function statusMb(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
}

const rssMb = (pid: number) => statusMb(pid, 'VmRSS');

/** utime + stime of the process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is parenthesised and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** The RSS of the processes the agent started (its change-notice helpers). */
function helpersRssMb(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean);
  return children.reduce((sum, child) => {
    try {
      return sum + rssMb(Number(child));
    } catch {
      return sum; // exited meanwhile
    }
  }, 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A loopback or 192.0.2.0/24 (allowed by the bench's policy) /proc/net/tcp line. */
function tcpLine(i: number): string {
  const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');
  // /proc/net/tcp writes IPv4 addresses as little-endian hex: 192.0.2.10 is 0A0200C0.
  const local = i % 2 ? '0100007F' : '0A0200C0';
  const remote = i % 2 ? '0100007F' : `${hex((i % 250) + 1, 2)}0200C0`;
  return `${String(i).padStart(4)}: ${local}:${hex(40000 + i, 4)} ${remote}:${hex(i % 2 ? 5432 : 443, 4)} 01 00000000:00000000 00:00000000 00000000  1000        0 ${50000 + i} 1 0000000000000000 20 4 30 10 -1`;
}

/** The fixture host with socket tables and a watched documents folder. */
function workstationHost() {
  const host = copyFixtureHost('sys-wireless');
  const net = join(host.procfs, 'net');
  mkdirSync(net, { recursive: true });
  const header =
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
  const lines = Array.from({ length: SOCKETS }, (_, i) => tcpLine(i));
  writeFileSync(join(net, 'tcp'), `${header}\n${lines.join('\n')}\n`);
  for (const table of ['tcp6', 'udp', 'udp6']) writeFileSync(join(net, table), `${header}\n`);
  const documents = join(host.root, 'documents');
  mkdirSync(documents);
  const text = '工作总结：本季度完成了计划中的各项任务。\n'.repeat(60);
  for (let i = 0; i < FILES; i++) writeFileSync(join(documents, `doc-${i}.txt`), text);
  return { host, documents, text };
}

interface Runtime {
  how: string;
  /** The Node.js binary; this process's own unless --compare-node names another. */
  node?: string;
  entry: string;
  flags: string[];
  env: Record<string, string>;
}

/**
 * How the packaged unit runs the agent: its Environment= settings, of which SMEW_NODE_FLAGS are
 * the launcher's Node.js flags, and the launcher's agent entry. `--node-flags "…"` replaces the flags.
 */
function unitRuntime(): Runtime {
  const unit = readFileSync(`${REPO_ROOT}/packaging/systemd/smew-agent.service`, 'utf8');
  const env: Record<string, string> = {};
  for (const [, assignment] of unit.matchAll(/^Environment=(.*)$/gm)) {
    const [name, ...value] = assignment!.replace(/^"|"$/g, '').split('=');
    env[name!] = value.join('=');
  }
  const { SMEW_NODE_FLAGS: unitFlags = '', ...rest } = env;
  const at = process.argv.indexOf('--node-flags');
  const flags = (at >= 0 ? (process.argv[at + 1] ?? '') : unitFlags).split(/\s+/).filter(Boolean);
  const how = [...Object.entries(rest).map(([k, v]) => `${k}=${v}`), ...flags, 'dist/bin/smew-agent.js'];
  return { how: `as the unit runs it: ${how.join(' ')}`, entry: AGENT_BUNDLE, flags, env: rest };
}

interface Footprint {
  idleRssMb: number;
  /** Of the idle RSS at its end: anonymous memory (heaps, stacks) and mapped files (the binary). */
  idleRssAnonMb: number;
  idleRssFileMb: number;
  idleRssPeakMb: number;
  idleCpuPercent: number;
  helpersRssMb: number;
  scans: number;
  scanCpuMs: number;
  scanRssPeakMb: number;
  afterScansRssMb: number;
}

/** Runs the agent as `runtime` says through the three phases, and stops it. */
async function measure(
  config: string,
  documents: string,
  text: string,
  runtime: Runtime,
  round: number,
): Promise<Footprint> {
  const args = [...runtime.flags, runtime.entry, 'agent', 'run', '--config', config];
  const running: Running = start(runtime.node ?? process.execPath, args, { env: runtime.env });
  const created: string[] = [];
  try {
    const pid = running.child.pid!;
    await sleep(SETTLE_MS);
    if (running.child.exitCode !== null) throw new Error(`the agent exited: ${running.stderr()}`);
    // Measured with the host inventory loaded: the agent takes it at start (agent/inventory.ts).
    await eventually(() => running.stderr().includes('"inventory recorded"'), {
      what: 'the host inventory taken at start',
    });

    const idle: number[] = [];
    const idleCpu = cpuSeconds(pid);
    const idleStart = performance.now();
    for (let i = 0; i < SECONDS; i++) {
      idle.push(rssMb(pid));
      await sleep(1000);
    }
    idle.push(rssMb(pid));
    const idleRssAnonMb = statusMb(pid, 'RssAnon');
    const idleRssFileMb = statusMb(pid, 'RssFile');
    const idleCpuPerSecond = (cpuSeconds(pid) - idleCpu) / ((performance.now() - idleStart) / 1000);
    const helpers = helpersRssMb(pid);

    let scanPeak = 0;
    const scanCpu = cpuSeconds(pid);
    const scanStart = performance.now();
    for (let i = 0; i < SCANS; i++) {
      const file = join(documents, `new-${round}-${i}.txt`);
      writeFileSync(file, text);
      created.push(file);
      for (let t = 0; t < SCAN_GAP_MS; t += 100) {
        scanPeak = Math.max(scanPeak, rssMb(pid));
        await sleep(100);
      }
    }
    const scanSeconds = (performance.now() - scanStart) / 1000;
    const scanCpuMs = ((cpuSeconds(pid) - scanCpu - idleCpuPerSecond * scanSeconds) * 1000) / SCANS;
    const after: number[] = [];
    for (let i = 0; i < 5; i++) {
      await sleep(1000);
      after.push(rssMb(pid));
    }

    const marked = join(documents, `marked-${round}.txt`);
    writeFileSync(marked, `机密★10年\n${text}`);
    created.push(marked);
    await eventually(
      () => loggedChanges(running).some((c) => c.key.startsWith('file.marked') && c.key.includes(marked)),
      { what: `the scan a new marked file triggers (${marked})`, timeoutMs: 10_000 },
    );

    return {
      idleRssMb: median(idle),
      idleRssAnonMb,
      idleRssFileMb,
      idleRssPeakMb: Math.max(...idle),
      idleCpuPercent: 100 * idleCpuPerSecond,
      helpersRssMb: helpers,
      scans: SCANS,
      scanCpuMs,
      scanRssPeakMb: scanPeak,
      afterScansRssMb: median(after),
    };
  } finally {
    await running.stop();
    for (const file of created) rmSync(file, { force: true });
  }
}

if (!existsSync(AGENT_BUNDLE)) {
  throw new Error(`${AGENT_BUNDLE} is missing: run npm run build (scripts/build-agent.mjs makes it)`);
}
const site = await createSite();
const { host, documents, text } = workstationHost();
try {
  await site.startCollector();
  const agent = await enrollAgent(site, host, {
    scan: { interval: '60s' },
    heartbeat: { interval: '30s' },
    policy: { network: { allowedCidrs: ['192.0.2.0/24'] }, files: { watch: [documents] } },
  });
  const plain: Runtime = { how: 'node dist/bin/smew.js agent run', entry: SMEW_BIN, flags: [], env: {} };
  const unit = unitRuntime();
  const before = await measure(agent.config, documents, text, plain, 0);
  await eventually(async () => (await site.api<{ items: unknown[] }>(`/api/v1/agents`)).items.length > 0, {
    what: 'agent listed',
  });
  const deployed = await measure(agent.config, documents, text, unit, 1);
  const runs = [deployed];
  for (let r = 1; r < argValue('--runs', 1); r++)
    runs.push(await measure(agent.config, documents, text, unit, 1 + r));
  const compareAt = process.argv.indexOf('--compare-node');
  const otherNode = compareAt >= 0 ? process.argv[compareAt + 1] : undefined;
  const entryAt = process.argv.indexOf('--compare-entry');
  const otherEntry = entryAt >= 0 ? process.argv[entryAt + 1] : undefined;
  const other: Runtime | undefined = otherNode
    ? {
        ...unit,
        node: otherNode,
        entry: otherEntry ?? unit.entry,
        how: `${unit.how}, under ${otherNode}${otherEntry ? ` on ${otherEntry}` : ''}`,
      }
    : undefined;
  const compared = other ? await measure(agent.config, documents, text, other, 100) : undefined;
  console.log(
    `\nagent footprint: smew agent run on the 'sys-wireless' fixture host with ${SOCKETS} sockets and ${FILES} watched files;` +
      ` idle ${SECONDS} s after ${SETTLE_MS / 1000} s settling, then ${SCANS} full scans ${SCAN_GAP_MS / 1000} s apart`,
  );
  const mb = (v: number) => `${v.toFixed(1)} MB`;
  const row = (how: string, f: Footprint) => ({
    how,
    'idle RSS, median': mb(f.idleRssMb),
    'idle RSS, peak': mb(f.idleRssPeakMb),
    'anon / file': `${f.idleRssAnonMb.toFixed(1)} / ${f.idleRssFileMb.toFixed(1)}`,
    'idle CPU': `${f.idleCpuPercent.toFixed(2)} %`,
    'CPU per scan': `${f.scanCpuMs.toFixed(0)} ms`,
    'RSS peak in scans': mb(f.scanRssPeakMb),
    'RSS after scans': mb(f.afterScansRssMb),
    'helpers RSS': mb(f.helpersRssMb),
  });
  printTable([
    row(plain.how, before),
    ...runs.map((f, i) => row(runs.length > 1 ? `${unit.how} (run ${i + 1})` : unit.how, f)),
    ...(other && compared ? [row(other.how, compared)] : []),
    { how: 'target (issue 19)', 'idle RSS, median': '≤ 55 MB', 'idle CPU': '≤ 0.5 %' },
  ]);
  const idleRuns = runs.map((f) => f.idleRssMb);
  console.log(
    `idle RSS as the unit runs it, each run: ${idleRuns.map((v) => v.toFixed(1)).join(', ')} MB;` +
      ` median ${median(idleRuns).toFixed(1)} MB; ≤ 55 MB in every run: ${idleRuns.every((v) => v <= 55) ? 'yes' : 'no'}`,
  );
  reportFigures({
    agent: {
      ...deployed,
      nodeFlags: unit.flags,
      env: unit.env,
      entry: 'dist/bin/smew-agent.js',
      withoutFlags: before,
      idleRssMbRuns: runs.map((f) => f.idleRssMb),
      ...(compared ? { comparedNode: { node: otherNode, ...compared } } : {}),
      seconds: SECONDS,
      host: { sockets: SOCKETS, watchedFiles: FILES },
    },
  });
} finally {
  await site.stopCollector();
  rmSync(host.root, { recursive: true, force: true });
}
process.exit(0);
