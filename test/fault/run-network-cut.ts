/**
 * Network-cut fault run (issue 4): the collector (`smew collector`, embedded broker, SQLite) and a
 * load agent (test/fault/load-agent.ts) each run in a network namespace of their own, joined by
 * one veth pair (10.200.62.0/30) and nothing else. While the agent appends events, the run takes
 * the agent's end of the link down and destroys its open sockets (what a long outage does to a
 * TCP connection once keepalives fail), keeps it down for `cutSeconds`, and brings it back. The
 * agent keeps appending to its outbox throughout; afterwards the store must hold every seq
 * exactly once and the backlog must drain.
 *
 *   npx tsx test/fault/run-network-cut.ts --events 10000 --cut 60 --rate 200
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { NetnsLab } from '../support/netns.js';
import { runSmew, type Running } from '../support/processes.js';
import { sleep, until } from './run-faults.js';

const AGENT_ADDR = '10.200.62.1';
const COLLECTOR_ADDR = '10.200.62.2';
// Inside a namespace of its own nothing else listens, so fixed ports cannot collide.
const HTTP = `${COLLECTOR_ADDR}:18080`;
const BROKER = `${COLLECTOR_ADDR}:18830`;

export interface NetworkCutOptions {
  events: number;
  /** How long the agent's link stays down. */
  cutSeconds: number;
  /** Events per second the agent appends. */
  rate: number;
  log?: (line: string) => void;
}

export interface NetworkCutReport {
  events: number;
  lastSeq: number;
  stored: number;
  lost: number;
  duplicated: number;
  cutSeconds: number;
  /** Events stored while the link was down: only what was already inside the collector at the cut. */
  storedDuringCut: number;
  /** Events waiting in the agent's outbox when the link came back. */
  backlogAtRestore: number;
  /** From the link coming back to the agent's last event acknowledged. */
  drainSeconds: number;
  seconds: number;
}

/** The last `progress <lastSeq> <pending>` line the load agent printed. */
function progress(agent: Running): { lastSeq: number; pending: number } | undefined {
  const lines = agent
    .stdout()
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('progress '));
  const last = lines.at(-1)?.split(' ');
  return last ? { lastSeq: Number(last[1]), pending: Number(last[2]) } : undefined;
}

function storedCounts(dbFile: string): { rows: number; distinct: number } {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS d FROM events').get() as {
      n: number;
      d: number;
    };
    return { rows: row.n, distinct: row.d };
  } finally {
    db.close();
  }
}

export async function runNetworkCut(options: NetworkCutOptions): Promise<NetworkCutReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'smew-netcut-'));
  const lab = new NetnsLab();
  try {
    const agentNs = lab.namespace('agent');
    const collectorNs = lab.namespace('collector');
    lab.veth(agentNs, 'a0', collectorNs, 'c0');
    agentNs.ip(['addr', 'add', `${AGENT_ADDR}/30`, 'dev', 'a0']);
    collectorNs.ip(['addr', 'add', `${COLLECTOR_ADDR}/30`, 'dev', 'c0']);
    agentNs.ip(['link', 'set', 'a0', 'up']);
    collectorNs.ip(['link', 'set', 'c0', 'up']);

    const dbFile = join(dir, 'smew.db');
    const collectorConfig = join(dir, 'collector.yaml');
    writeFileSync(
      collectorConfig,
      stringify({
        unit: '断网测试',
        http: { listen: HTTP },
        broker: { listen: BROKER },
        store: { url: `sqlite:${dbFile}` },
        identity: { dir: join(dir, 'collector') },
        ingest: { ackDelay: 20, verifyWorkers: 0 },
      }),
    );
    const collector = collectorNs.startSmew(['collector', '--config', collectorConfig], {
      ...process.env,
      SMEW_LOG_LEVEL: 'warn',
    });
    // The token is written straight into the collector's SQLite file, as `smew token` does.
    const token = await until(async () => {
      const created = await runSmew(['token', 'create', '--unit', '断网测试', '--config', collectorConfig]);
      return created.code === 0 ? created.stdout.trim() : undefined;
    }, 'an enrollment token');

    const agentConfig = join(dir, 'agent.yaml');
    writeFileSync(
      agentConfig,
      stringify({
        collector: { url: `http://${HTTP}` },
        identity: { dir: join(dir, 'agent') },
        heartbeat: { interval: '1s' },
        ack: { timeout: '3s' },
      }),
    );
    await until(
      async () => {
        if (collector.child.exitCode !== null) throw new Error(`collector exited: ${collector.stderr()}`);
        const enrolled = await agentNs.smew(['agent', 'enroll', '--token', token, '--config', agentConfig]);
        return enrolled.code === 0 ? true : undefined;
      },
      'the agent to enroll over the veth',
      90_000,
    );
    const agent = agentNs.spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/fault/load-agent.ts',
        '--config',
        agentConfig,
        '--events',
        String(options.events),
        '--rate',
        String(options.rate),
      ],
      { ...process.env, SMEW_LOG_LEVEL: 'warn' },
    );

    // Cut once a quarter of the events have been stored: the link is busy when it goes.
    await until(
      () => (storedCounts(dbFile).distinct >= options.events / 4 ? true : undefined),
      'a quarter of the events stored before the cut',
      120_000,
    );
    agentNs.ip(['link', 'set', 'a0', 'down']);
    // A minute-long outage ends the TCP connection (keepalives fail); destroying the agent's
    // sockets now makes that happen at once, so the agent reconnects through the cut.
    agentNs.spawn('ss', ['-K', 'dst', COLLECTOR_ADDR]);
    const atCut = storedCounts(dbFile).rows;
    log(`network cut: link down with ${atCut} events stored`);
    await sleep(options.cutSeconds * 1000);
    // Anything still in flight at the cut may land within the first moment; nothing after.
    const beforeRestore = storedCounts(dbFile).rows;
    const backlogAtRestore = progress(agent)?.pending ?? 0;
    agentNs.ip(['link', 'set', 'a0', 'up']);
    const restored = Date.now();
    log(`network cut: link up after ${options.cutSeconds} s with ${backlogAtRestore} events waiting`);

    const deadline = Math.max(180_000, (options.events / options.rate) * 4000);
    const code = await Promise.race([agent.exited, sleep(deadline).then(() => 'timeout')]);
    if (code !== 0) {
      throw new Error(
        `network cut: the agent did not drain (${String(code)}): ${agent.stderr().slice(-2000)}`,
      );
    }
    const drainSeconds = (Date.now() - restored) / 1000;
    const lastSeq = Number(/drained (\d+)/.exec(agent.stdout())?.[1]);
    await collector.stop('SIGTERM');
    const final = storedCounts(dbFile);
    return {
      events: options.events,
      lastSeq,
      stored: final.distinct,
      lost: lastSeq - final.distinct,
      duplicated: final.rows - final.distinct,
      cutSeconds: options.cutSeconds,
      storedDuringCut: beforeRestore - atCut,
      backlogAtRestore,
      drainSeconds: Math.round(drainSeconds * 10) / 10,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '10000' },
      cut: { type: 'string', default: '60' },
      rate: { type: 'string', default: '200' },
    },
  });
  const report = await runNetworkCut({
    events: Number(values.events),
    cutSeconds: Number(values.cut),
    rate: Number(values.rate),
  });
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(report.lost === 0 && report.duplicated === 0 && report.stored === report.lastSeq ? 0 : 1);
}
