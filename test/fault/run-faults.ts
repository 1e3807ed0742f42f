/**
 * Fault run (issue 4): a collector (`smew collector`, embedded aedes or a Mosquitto of its own)
 * and a load agent (test/fault/load-agent.ts) are real processes; while the agent sends
 * `events` events, the run SIGKILLs and restarts the agent, SIGKILLs and restarts the collector
 * (with it the embedded broker) and, with Mosquitto, restarts the broker, `rounds` times each.
 * At the end the store must hold every seq from 1 to the agent's last exactly once.
 *
 *   npm run fault -- --events 10000 --rounds 5 --broker mosquitto
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface FaultOptions {
  events: number;
  rounds: number;
  broker: 'embedded' | 'mosquitto';
  /** Events per second the agent appends. */
  rate: number;
  log?: (line: string) => void;
}

export interface FaultReport {
  broker: string;
  events: number;
  lastSeq: number;
  stored: number;
  lost: number;
  duplicated: number;
  faults: string[];
  seconds: number;
}

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env: { ...process.env, SMEW_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, exited };
}

async function kill(proc: Proc | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill(signal);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5_000);
  await proc.exited;
  clearTimeout(timer);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`fault run: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runFaults(options: FaultOptions): Promise<FaultReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'smew-fault-'));
  const procs: { collector?: Proc; agent?: Proc; mosquitto?: Proc } = {};
  const faults: string[] = [];
  try {
    const httpPort = await freePort();
    const brokerPort = await freePort();
    const dbFile = join(dir, 'smew.db');
    let mosquittoConf: string | undefined;
    if (options.broker === 'mosquitto') {
      mosquittoConf = join(dir, 'mosquitto.conf');
      writeFileSync(
        mosquittoConf,
        [
          `listener ${brokerPort} 127.0.0.1`,
          'allow_anonymous true',
          'persistence false',
          'set_tcp_nodelay true',
          'max_queued_messages 100000',
        ].join('\n'),
      );
    }
    const startMosquitto = async () => {
      const child = spawn('mosquitto', ['-c', mosquittoConf!], { stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      procs.mosquitto = { child, out: () => '', exited };
      await until(() => portOpen(brokerPort), 'mosquitto');
    };
    if (options.broker === 'mosquitto') await startMosquitto();

    const collectorConfig = join(dir, 'collector.yaml');
    writeFileSync(
      collectorConfig,
      JSON.stringify({
        http: { listen: `127.0.0.1:${httpPort}` },
        store: { url: `sqlite:${dbFile}` },
        identity: { dir: join(dir, 'collector') },
        ingest: { ackDelay: 20 },
        broker:
          options.broker === 'mosquitto'
            ? { url: `mqtt://127.0.0.1:${brokerPort}` }
            : { listen: `127.0.0.1:${brokerPort}` },
      }),
    );
    const startCollector = async () => {
      procs.collector = run(['bin/smew.ts', 'collector', '--config', collectorConfig]);
      await until(
        async () => ((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok ? true : undefined),
        'collector',
      );
    };
    await startCollector();

    const token = run(['bin/smew.ts', 'token', 'create', '--unit', '故障测试', '--config', collectorConfig]);
    await token.exited;
    const tokenText = token
      .out()
      .split('\n')
      .find((l) => l.startsWith('smew-et-'));
    if (!tokenText) throw new Error(`fault run: no token: ${token.out()}`);
    const agentConfig = join(dir, 'agent.yaml');
    writeFileSync(
      agentConfig,
      JSON.stringify({
        collector: { url: `http://127.0.0.1:${httpPort}` },
        identity: { dir: join(dir, 'agent') },
        heartbeat: { interval: '1s' },
        ack: { timeout: '3s' },
      }),
    );
    const enroll = run([
      'bin/smew.ts',
      'agent',
      'enroll',
      '--collector',
      `http://127.0.0.1:${httpPort}`,
      '--token',
      tokenText.trim(),
      '--config',
      agentConfig,
    ]);
    if ((await enroll.exited) !== 0) throw new Error(`fault run: enroll failed: ${enroll.out()}`);

    const startAgent = () => {
      procs.agent = run([
        'test/fault/load-agent.ts',
        '--config',
        agentConfig,
        '--events',
        String(options.events),
        '--rate',
        String(options.rate),
      ]);
    };
    startAgent();
    const expectedSeconds = options.events / options.rate;
    const gap = Math.max(1_500, (expectedSeconds * 1000) / (options.rounds * 3 + 1));
    const kinds = ['agent', 'collector', ...(options.broker === 'mosquitto' ? ['broker'] : [])];
    for (let round = 0; round < options.rounds; round++) {
      for (const kind of kinds) {
        await sleep(gap);
        if (kind === 'agent') {
          await kill(procs.agent, 'SIGKILL');
          startAgent();
        } else if (kind === 'collector') {
          await kill(procs.collector, 'SIGKILL');
          await startCollector();
        } else {
          await kill(procs.mosquitto, 'SIGTERM');
          await startMosquitto();
        }
        faults.push(`${kind === 'broker' ? 'restart' : 'SIGKILL'} ${kind}`);
        log(`fault ${faults.length}: ${faults.at(-1)}`);
      }
    }
    // Let it finish: the agent exits once every event is acknowledged.
    const agent = procs.agent!;
    const deadline = Date.now() + Math.max(120_000, expectedSeconds * 3000);
    const code = await Promise.race([
      agent.exited,
      until(() => (Date.now() > deadline ? true : undefined), 'x', 1e9).then(() => 'timeout'),
    ]);
    if (code !== 0)
      throw new Error(`fault run: the agent did not drain (${String(code)}): ${agent.out().slice(-2000)}`);
    const lastSeq = Number(/drained (\d+)/.exec(agent.out())?.[1]);
    await kill(procs.collector, 'SIGTERM');

    const db = new Database(dbFile, { readonly: true });
    const row = db
      .prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS d, MAX(seq) AS max FROM events')
      .get() as { n: number; d: number; max: number };
    db.close();
    return {
      broker: options.broker,
      events: options.events,
      lastSeq,
      stored: row.d,
      lost: lastSeq - row.d,
      duplicated: row.n - row.d,
      faults,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    await kill(procs.agent, 'SIGKILL');
    await kill(procs.collector, 'SIGKILL');
    await kill(procs.mosquitto, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

function portOpen(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(undefined));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '10000' },
      rounds: { type: 'string', default: '3' },
      broker: { type: 'string', default: 'embedded' },
      rate: { type: 'string', default: '500' },
    },
  });
  const brokers =
    values.broker === 'both'
      ? (['embedded', 'mosquitto'] as const)
      : [values.broker as 'embedded' | 'mosquitto'];
  let failed = false;
  for (const broker of brokers) {
    const report = await runFaults({
      events: Number(values.events),
      rounds: Number(values.rounds),
      broker,
      rate: Number(values.rate),
    });
    process.stdout.write(`${JSON.stringify(report)}\n`);
    if (report.lost !== 0 || report.duplicated !== 0 || report.stored !== report.lastSeq) failed = true;
  }
  process.exit(failed ? 1 : 0);
}
