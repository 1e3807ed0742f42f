/**
 * 100 000 agents heart-beating every 30 s: the collector's CPU and memory while it takes them in.
 *   npx tsx test/bench/heartbeats.bench.ts [--short] [--agents N] [--interval MS] [--rounds R] [--connections C]
 *     [--warmup W] [--cache FILE]
 * A simulator process (support/heartbeat-simulator.ts) holds N agents, each with its own ed25519
 * key, multiplexed over C connections to a Mosquitto of the benchmark's own (the embedded broker
 * allows one agent per connection, so multiplexing needs the external broker); every heartbeat is
 * signed by its agent beforehand and sent at the agent's own offset within the interval, QoS 0.
 * The collector (SQLite, verify threads, liveness, rules: startCollector as deployed) runs in
 * this process, whose CPU time and RSS are therefore the collector's. The first round is a warm-up
 * (each agent's first heartbeat creates its liveness row); the figures cover the rounds after it.
 * Target (issue 9): the collector under half the machine. Not a test.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { IngestOutcome } from '../../collector/ingest/pipeline.js';
import { startCollector } from '../../collector/server.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { createLogger } from '../../shared/log.js';
import { tempDir, testCollectorConfig } from '../support/collector-harness.js';
import { eventually } from '../support/eventually.js';
import { startOwnMosquitto } from '../support/mosquitto.js';
import type { SimulatorPrepare, SimulatorReport, SimulatorStart } from './support/heartbeat-simulator.js';
import { argValue, isShort, median, printTable, reportFigures } from './support/report.js';

const SHORT = isShort();
const AGENTS = argValue('--agents', SHORT ? 300 : 100_000);
const INTERVAL_MS = argValue('--interval', SHORT ? 2000 : 30_000);
const ROUNDS = argValue('--rounds', SHORT ? 2 : 3);
/** Rounds before the measured ones: the first makes each agent's liveness row and parses its key. */
const WARMUP = Math.min(ROUNDS - 1, argValue('--warmup', 1));
const CONNECTIONS = argValue('--connections', SHORT ? 4 : 50);
const CORES = availableParallelism();
/** `--cache FILE`: keep the simulator's keys and signed heartbeats there for the next run. */
const CACHE = process.argv.includes('--cache')
  ? process.argv[process.argv.indexOf('--cache') + 1]
  : undefined;

function startSimulator(): {
  child: ChildProcess;
  next(kind: SimulatorReport['kind']): Promise<SimulatorReport>;
} {
  const path = new URL('./support/heartbeat-simulator.ts', import.meta.url).pathname;
  const child = fork(path, { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const inbox: SimulatorReport[] = [];
  const waiting: { kind: string; resolve: (m: SimulatorReport) => void }[] = [];
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the heartbeat simulator exited with code ${code}`))),
  );
  exited.catch(() => undefined);
  child.on('message', (message: SimulatorReport) => {
    const at = waiting.findIndex((w) => w.kind === message.kind);
    if (at >= 0) waiting.splice(at, 1)[0]!.resolve(message);
    else inbox.push(message);
  });
  return {
    child,
    next(kind) {
      const at = inbox.findIndex((m) => m.kind === kind);
      if (at >= 0) return Promise.resolve(inbox.splice(at, 1)[0]!);
      return Promise.race([
        new Promise<SimulatorReport>((resolve) => waiting.push({ kind, resolve })),
        exited,
      ]);
    },
  };
}

/** Enrolls the simulated agents straight into a fresh store, as `smew agent enroll` would leave them. */
function enrollAll(path: string, agents: { id: string; publicKey: string }[]): void {
  openSqliteStore(path).close();
  const db = new Database(path);
  const now = new Date().toISOString();
  const insert = db.prepare(
    `INSERT INTO agents (id, unit, alg, public_key, enrolled_at, broker_secret_hash)
     VALUES (?, '基准', 'ed25519', ?, ?, 'x')`,
  );
  db.transaction(() => {
    for (const agent of agents) insert.run(agent.id, agent.publicKey, now);
  })();
  db.close();
}

const logger = createLogger('bench', 'fatal');
const dir = tempDir('smew-bench-heartbeats-');
const mosquitto = await startOwnMosquitto(
  process.env.HB_MOSQ_LOG ? `log_dest file ${process.env.HB_MOSQ_LOG}\nlog_type all` : '',
);
const simulator = startSimulator();
try {
  const prepare: SimulatorPrepare = {
    kind: 'prepare',
    agents: AGENTS,
    rounds: ROUNDS,
    intervalMs: INTERVAL_MS,
    ...(CACHE ? { cache: CACHE } : {}),
  };
  simulator.child.send(prepare);
  const prepared = await simulator.next('prepared');
  if (prepared.kind !== 'prepared') throw new Error('unexpected simulator message');
  const dbPath = join(dir.path, 'smew.db');
  enrollAll(dbPath, prepared.agents);
  prepared.agents.length = 0;

  const config = testCollectorConfig(dir.path, {
    broker: { url: mosquitto.url },
    liveness: { defaultInterval: INTERVAL_MS },
  });
  const collector = await startCollector(config, { logger });
  const outcomes = new Map<IngestOutcome['kind'], number>();
  const handle = collector.ingest.handle.bind(collector.ingest);
  collector.ingest.handle = async (topic, payload) => {
    const outcome = await handle(topic, payload);
    outcomes.set(outcome.kind, (outcomes.get(outcome.kind) ?? 0) + 1);
    return outcome;
  };
  // HB_TRACE=1: each second, what the collector took in, its event loop's use and the CPU.
  const trace = process.env.HB_TRACE
    ? (() => {
        let last = { n: 0, elu: performance.eventLoopUtilization(), cpu: process.cpuUsage() };
        return setInterval(() => {
          const n = outcomes.get('heartbeat') ?? 0;
          const elu = performance.eventLoopUtilization(last.elu);
          const cpu = process.cpuUsage(last.cpu);
          console.error(
            `trace: +${n - last.n} heartbeats, loop ${(elu.utilization * 100).toFixed(0)} %, ` +
              `cpu ${((cpu.user + cpu.system) / 1e4).toFixed(0)} % of a core, ${JSON.stringify(Object.fromEntries(outcomes))}`,
          );
          last = { n, elu: performance.eventLoopUtilization(), cpu: process.cpuUsage() };
        }, 1000);
      })()
    : undefined;
  const start: SimulatorStart = { kind: 'start', url: mosquitto.url, connections: CONNECTIONS };
  simulator.child.send(start);
  await simulator.next('connected');

  // Warm-up rounds, then the measured ones: CPU over the window, RSS sampled each second.
  for (let round = 0; round < WARMUP; round++) await simulator.next('round');
  const acceptedBefore = outcomes.get('heartbeat') ?? 0;
  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(process.memoryUsage.rss() / 2 ** 20), 1000);
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  const lateMs: number[] = [];
  for (let round = WARMUP; round < ROUNDS; round++) {
    const done = await simulator.next('round');
    if (done.kind === 'round') lateMs.push(done.lateMs);
  }
  const cpu = process.cpuUsage(cpuStart);
  const seconds = (performance.now() - wallStart) / 1000;
  const acceptedInWindow = (outcomes.get('heartbeat') ?? 0) - acceptedBefore;
  const cpuUsPerHeartbeat = (cpu.user + cpu.system) / Math.max(1, acceptedInWindow);
  clearInterval(sampler);
  rss.push(process.memoryUsage.rss() / 2 ** 20);
  const cpuPercentOfCore = (100 * (cpu.user + cpu.system)) / 1e6 / seconds;
  await simulator.next('done');
  const expected = AGENTS * ROUNDS;
  // QoS 0 heartbeats still in the pipes when the last round ends.
  await eventually(() => (outcomes.get('heartbeat') ?? 0) >= expected, {
    what: `${expected} heartbeats accepted`,
    timeoutMs: 60_000,
  }).catch(() => undefined);
  const accepted = outcomes.get('heartbeat') ?? 0;
  const rejected = outcomes.get('rejected') ?? 0;
  clearInterval(trace);
  await collector.stop();

  console.log(
    `\nheartbeats: ${AGENTS.toLocaleString('en-US')} agents (own ed25519 key each) every ${INTERVAL_MS / 1000} s over ` +
      `${CONNECTIONS} connections to Mosquitto; ${ROUNDS - WARMUP} measured round(s) after ${WARMUP} warm-up round(s); ` +
      `${CORES} cores (${cpus()[0]?.model ?? 'unknown cpu'}); keys and signatures made beforehand in ` +
      `${Math.round(prepared.prepareMs / 1000)} s`,
  );
  printTable([
    { figure: 'heartbeats/s offered', value: Math.round(AGENTS / (INTERVAL_MS / 1000)), target: '' },
    {
      figure: 'accepted / sent',
      value: `${accepted} / ${expected}${rejected ? `, ${rejected} rejected` : ''}`,
      target: 'all',
    },
    {
      figure: 'collector CPU',
      value: `${cpuPercentOfCore.toFixed(1)} % of a core = ${(cpuPercentOfCore / CORES).toFixed(1)} % of the machine`,
      target: '< 50 % of the machine',
    },
    {
      figure: 'collector CPU per heartbeat',
      value: `${Math.round(cpuUsPerHeartbeat)} µs (${acceptedInWindow} heartbeats in the window)`,
      target: '',
    },
    { figure: 'collector RSS, median', value: `${median(rss).toFixed(0)} MB`, target: '' },
    { figure: 'collector RSS, peak', value: `${Math.max(...rss).toFixed(0)} MB`, target: '' },
    {
      figure: 'simulator lateness, worst round',
      value: `${Math.round(Math.max(0, ...lateMs))} ms`,
      target: '',
    },
  ]);
  reportFigures({
    heartbeats: {
      agents: AGENTS,
      intervalMs: INTERVAL_MS,
      connections: CONNECTIONS,
      measuredSeconds: seconds,
      collectorCpuPercent: cpuPercentOfCore / CORES,
      collectorCpuPercentOfCore: cpuPercentOfCore,
      collectorCpuUsPerHeartbeat: cpuUsPerHeartbeat,
      collectorRssMb: median(rss),
      collectorRssPeakMb: Math.max(...rss),
      accepted,
      sent: expected,
      rejected,
    },
  });
} finally {
  simulator.child.kill();
  await mosquitto.stop();
  dir.remove();
}
process.exit(0);
