/**
 * The load generator of the heartbeat benchmark, in a process of its own (so its CPU is not
 * counted as the collector's): many simulated agents multiplexed over a few MQTT connections,
 * each agent with its own ed25519 key and every heartbeat signed by it, as SPEC §5 asks.
 *
 * Over IPC: receives `prepare` (how many agents and rounds), has its own worker threads (one per
 * core; the collector is not started yet) generate the keys and sign every heartbeat beforehand,
 * printing progress, and answers `prepared` with the agents' ids and public keys (the benchmark
 * enrolls them); then on `start` connects and sends round after round, each agent once per
 * interval at its own offset within it (evenly spread, as agents started at random times are),
 * answering `round` after each and `done` at the end. Signing beforehand keeps the simulator
 * nearly idle while the collector is measured.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';
import { ENVELOPE_VERSION, signMessage } from '../../../shared/envelope.js';
import { agentIdFromPublicKey } from '../../../shared/identity.js';
import { agentTopic } from '../../../shared/topics.js';

export interface SimulatorPrepare {
  kind: 'prepare';
  agents: number;
  rounds: number;
  intervalMs: number;
  /**
   * A file to keep the keys and signed heartbeats in, so that runs compared side by side skip
   * making them again: read when it holds this many agents and rounds, else written.
   */
  cache?: string;
}

export interface SimulatorStart {
  kind: 'start';
  url: string;
  connections: number;
}

export type SimulatorReport =
  | { kind: 'prepared'; agents: { id: string; publicKey: string }[]; prepareMs: number }
  | { kind: 'connected' }
  | { kind: 'round'; round: number; lateMs: number }
  | { kind: 'done' };

/** What one signing thread is asked for, and what it answers. */
interface SignerJob {
  count: number;
  rounds: number;
  intervalMs: number;
}
type SignerMessage =
  | { kind: 'progress'; done: number }
  | {
      kind: 'signed';
      agents: { id: string; publicKey: string }[];
      /** payloads[round][agent], in the order of `agents`. */
      payloads: string[][];
    };

/** A signing thread's work: keys for `count` agents and each one's heartbeat of every round. */
function signSlice(job: SignerJob, progress: (done: number) => void): SignerMessage {
  const agents: { id: string; publicKey: string }[] = [];
  const payloads: string[][] = Array.from({ length: job.rounds }, () => []);
  for (let i = 0; i < job.count; i++) {
    // Signing with the KeyObject itself: a PEM round trip costs several times the key generation.
    const keys = generateKeyPairSync('ed25519');
    const publicKey = keys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const id = agentIdFromPublicKey(publicKey);
    const signer = (data: Uint8Array) => sign(null, data, keys.privateKey).toString('base64');
    agents.push({ id, publicKey });
    for (let round = 0; round < job.rounds; round++) {
      const heartbeat = {
        v: ENVELOPE_VERSION,
        agent: id,
        ts: new Date().toISOString(),
        type: 'agent.heartbeat' as const,
        lastSeq: 0,
        intervalMs: job.intervalMs,
        alg: 'ed25519',
        round,
      };
      payloads[round]!.push(JSON.stringify(signMessage(heartbeat, signer)));
    }
    if ((i + 1) % 1000 === 0) progress(i + 1);
  }
  return { kind: 'signed', agents, payloads };
}

/** Threads load this module from source: tsx registers itself first (execArgv hooks do not reach them). */
function startSigner(job: SignerJob): Worker {
  const url = new URL(import.meta.url);
  const code = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(code, { eval: true, workerData: job });
}

/** Keys and signed heartbeats for every agent, made by one thread per core, with progress on stderr. */
async function prepare(job: SimulatorPrepare): Promise<{
  agents: { id: string; publicKey: string }[];
  heartbeats: { topic: string; payload: string }[][];
}> {
  const threads = Math.max(1, Math.min(availableParallelism(), Math.ceil(job.agents / 1000)));
  const done = new Array<number>(threads).fill(0);
  const started = performance.now();
  const ticker = setInterval(() => {
    const sum = done.reduce((a, b) => a + b, 0);
    process.stderr.write(
      `heartbeat simulator: ${sum.toLocaleString('en-US')} / ${job.agents.toLocaleString('en-US')} ` +
        `agents keyed and signed (${job.rounds} heartbeats each), ${Math.round((performance.now() - started) / 1000)} s\n`,
    );
  }, 5000);
  try {
    const slices = await Promise.all(
      Array.from({ length: threads }, (_, t) => {
        const count = Math.floor(job.agents / threads) + (t < job.agents % threads ? 1 : 0);
        const worker = startSigner({ count, rounds: job.rounds, intervalMs: job.intervalMs });
        return new Promise<Extract<SignerMessage, { kind: 'signed' }>>((resolve, reject) => {
          worker.on('message', (message: SignerMessage) => {
            if (message.kind === 'progress') done[t] = message.done;
            else resolve(message);
          });
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`signing thread ${t} exited with code ${code}`)));
        }).finally(() => void worker.terminate());
      }),
    );
    const agents = slices.flatMap((s) => s.agents);
    const heartbeats = Array.from({ length: job.rounds }, (_, round) =>
      slices.flatMap((s) =>
        s.payloads[round]!.map((payload, i) => ({
          topic: agentTopic(s.agents[i]!.id, 'heartbeat'),
          payload,
        })),
      ),
    );
    return { agents, heartbeats };
  } finally {
    clearInterval(ticker);
  }
}

type Prepared = Awaited<ReturnType<typeof prepare>>;

/** prepare(), or what an earlier run with the same figures kept in `job.cache`. */
async function prepareOrReuse(job: SimulatorPrepare): Promise<Prepared> {
  const fits = (p: Prepared) =>
    p.agents.length === job.agents &&
    p.heartbeats.length === job.rounds &&
    // The announced interval is signed into every heartbeat.
    (JSON.parse(p.heartbeats[0]![0]!.payload) as { intervalMs: number }).intervalMs === job.intervalMs;
  if (job.cache && existsSync(job.cache)) {
    const kept = JSON.parse(readFileSync(job.cache, 'utf8')) as Prepared;
    if (fits(kept)) {
      process.stderr.write(`heartbeat simulator: keys and signed heartbeats read from ${job.cache}\n`);
      return kept;
    }
  }
  const made = await prepare(job);
  if (job.cache) writeFileSync(job.cache, JSON.stringify(made));
  return made;
}

async function simulate(): Promise<void> {
  const report = (message: SimulatorReport) => process.send!(message);
  const nextMessage = <T>() => new Promise<T>((resolve) => process.once('message', (m) => resolve(m as T)));

  const job = await nextMessage<SimulatorPrepare>();
  const prepareStart = performance.now();
  const { agents, heartbeats } = await prepareOrReuse(job);
  report({ kind: 'prepared', agents, prepareMs: performance.now() - prepareStart });

  const start = await nextMessage<SimulatorStart>();
  const clients = await Promise.all(
    Array.from({ length: start.connections }, (_, i) =>
      mqtt.connectAsync(start.url, {
        clientId: `heartbeat-simulator-${process.pid}-${i}`,
        protocolVersion: 4,
        reconnectPeriod: 0,
      }),
    ),
  );
  clients.forEach((client, i) =>
    client.on('close', () => process.stderr.write(`heartbeat simulator: connection ${i} closed\n`)),
  );
  report({ kind: 'connected' });

  /** Sends agent i's heartbeat at i/N of the interval, in ticks of TICK_MS. */
  const TICK_MS = 20;
  const begin = performance.now();
  for (let round = 0; round < job.rounds; round++) {
    const roundStart = begin + round * job.intervalMs;
    let sent = 0;
    let lateMs = 0;
    while (sent < agents.length) {
      const due = Math.min(
        agents.length,
        Math.floor(((performance.now() - roundStart) / job.intervalMs) * agents.length) + 1,
      );
      for (; sent < due; sent++) {
        const heartbeat = heartbeats[round]![sent]!;
        // QoS 0, as the agent sends heartbeats: a lost one is replaced by the next.
        clients[sent % clients.length]!.publish(heartbeat.topic, heartbeat.payload, { qos: 0 });
      }
      lateMs = Math.max(
        lateMs,
        performance.now() - (roundStart + ((sent - 1) / agents.length) * job.intervalMs),
      );
      if (sent < agents.length) await new Promise((r) => setTimeout(r, TICK_MS));
    }
    const roundEnd = roundStart + job.intervalMs;
    if (performance.now() < roundEnd) await new Promise((r) => setTimeout(r, roundEnd - performance.now()));
    report({ kind: 'round', round, lateMs });
  }
  await Promise.all(clients.map((c) => c.endAsync()));
  report({ kind: 'done' });
  process.disconnect();
}

if (isMainThread) {
  await simulate();
} else {
  const job = workerData as SignerJob;
  parentPort!.postMessage(signSlice(job, (done) => parentPort!.postMessage({ kind: 'progress', done })));
}
