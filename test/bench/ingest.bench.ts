/**
 * Ingest throughput: signed events per second from publish to stored, through the embedded aedes
 * broker, through Mosquitto and through a three-node NATS JetStream cluster, into SQLite and PostgreSQL, beside the single-core verify rate
 * measured in the same run (the ceiling: verification is the floor of the cost).
 *   npx tsx test/bench/ingest.bench.ts [--short] [--agents A] [--events E] [--batch B] [--only embeddedSqlite,…]
 * Each event is its own signed envelope, except in the "batches" row, where the same events go as
 * an agent draining a backlog sends them: signed batches of B (one signature checked per batch).
 * The "storm" rows (`--only stormSqlite,stormPostgres`) send as many events, each a new condition
 * (its own key), so every one opens a warning: A × E/A open by the end. Collector CPU per event in
 * the first and the second half of each run shows a cost that grows with what is open.
 * Events are signed before the clock starts; a publisher process (one connection per agent, QoS 1)
 * sends them while the collector runs in this process (its event loop and its verify workers),
 * so this process's CPU time is the collector's: reported per event beside the wall-clock rate,
 * it stays meaningful on a machine whose other load slows the clock. Not a test.
 */
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { type ChildProcess, fork } from 'node:child_process';
import Database from 'better-sqlite3';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import { startCollector } from '../../collector/server.js';
import { ed25519Suite, ed25519Verifier, useSodiumEd25519 } from '../../shared/crypto/ed25519.js';
import { signEventBatch, verifyMessage } from '../../shared/envelope.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import {
  type EnrollReply,
  enrollOverHttp,
  makeTestAgent,
  signedEvent,
  tempDir,
  testCollectorConfig,
  type TestAgent,
} from '../support/collector-harness.js';
import { eventually } from '../support/eventually.js';
import { startOwnMosquitto } from '../support/mosquitto.js';
import { requireNatsServer, startNatsCluster } from '../support/nats-cluster.js';
import { natsPasswordHash, renderNatsAuthorization } from '../../collector/broker/nats-access.js';
import { adminQuery, createTestSchema } from '../support/postgres.js';
import { portOpen } from '../support/services.js';
import type { PublisherAgent, PublisherJob } from './support/publisher-process.js';
import { argValue, isShort, printTable, reportFigures } from './support/report.js';

const SHORT = isShort();
const AGENTS = argValue('--agents', SHORT ? 4 : 50);
const EVENTS = argValue('--events', SHORT ? 200 : 20_000);
const PER_AGENT = Math.ceil(EVENTS / AGENTS);
const TOTAL = PER_AGENT * AGENTS;
const CORES = availableParallelism();
const logger = createLogger('bench', 'fatal');

const agents: TestAgent[] = Array.from({ length: AGENTS }, () => makeTestAgent());
const signStart = performance.now();
const payloads = agents.map((agent) =>
  Array.from({ length: PER_AGENT }, (_, i) => JSON.stringify(signedEvent(agent, i + 1))),
);
/**
 * The storm: the same count, but every event a new condition (its own key), so every one opens a
 * warning — thousands of agents raising new violations at once after a policy push.
 */
const stormPayloads = agents.map((agent) =>
  Array.from({ length: PER_AGENT }, (_, i) =>
    JSON.stringify(
      signedEvent(agent, i + 1, {
        key: `net.wireless.present:wlx${i}`,
        data: { iface: `wlx${i}`, mac: '00:11:22:33:44:55', driver: 'iwlwifi' },
      }),
    ),
  ),
);
const signMs = performance.now() - signStart;
/** The same events as an agent draining a backlog sends them: signed batches of BATCH (outbox.batch). */
const BATCH = argValue('--batch', 32);
const batched = agents.map((agent, a) => {
  const list = payloads[a]!;
  const out: string[] = [];
  for (let i = 0; i < list.length; i += BATCH) {
    const events = list.slice(i, i + BATCH);
    out.push(JSON.stringify(signEventBatch({ agent: agent.id, alg: 'ed25519', events }, agent.sign)));
  }
  return out;
});

/**
 * The ceiling: what one core does per second of the work a verify thread does per event. Timed
 * by this process's CPU clock (nothing else runs in it meanwhile), so other load on the machine
 * does not lower it. It uses the fastest verifier available (libsodium where it loads, as the
 * collector does), so the ratio stays honest.
 */
function verifyRate(): number {
  useSodiumEd25519();
  const verifiers = agents.map((a) => ed25519Suite.verifier(a.keys.publicKey));
  const sample = payloads.flatMap((list, a) =>
    list.slice(0, 200).map((text) => ({ text, verify: verifiers[a]! })),
  );
  let count = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  while (performance.now() - start < (SHORT ? 300 : 2000)) {
    for (const { text, verify } of sample) {
      if (!verifyMessage(JSON.parse(text) as Record<string, unknown>, verify))
        throw new Error('bad signature');
    }
    count += sample.length;
  }
  const cpu = process.cpuUsage(cpuStart);
  return count / ((cpu.user + cpu.system) / 1e6);
}

function startPublisher(job: PublisherJob): ChildProcess {
  const path = new URL('./support/publisher-process.ts', import.meta.url).pathname;
  const child = fork(path, { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  child.send(job);
  return child;
}

interface Target {
  brokerUrl: string;
  /** Connection options per agent (embedded: its issued credentials). */
  agents: PublisherAgent[];
  stored(): Promise<number>;
  stop(): Promise<void>;
}

interface Measured {
  eventsPerSecond: number;
  seconds: number;
  /** Collector CPU time (all its threads) per stored event. */
  cpuMicrosPerEvent: number;
  /** The same over the first and the second half of the events stored: a cost that grows shows. */
  cpuMicrosPerEventFirstHalf: number;
  cpuMicrosPerEventSecondHalf: number;
}

/** Publishes every event and times until the store holds all of them. */
async function measure(target: Target): Promise<Measured> {
  const publisher = startPublisher({ url: target.brokerUrl, agents: target.agents, window: 32 });
  const failed = new Promise<never>((_, reject) => {
    publisher.once('error', reject);
    publisher.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the publisher exited with code ${code}`));
    });
  });
  await Promise.race([
    new Promise<void>((resolve) =>
      publisher.on('message', (m: { kind: string }) => m.kind === 'connected' && resolve()),
    ),
    failed,
  ]);
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let half: { stored: number; cpu: NodeJS.CpuUsage } | undefined;
  await Promise.race([
    eventually(
      async () => {
        const stored = await target.stored();
        if (!half && stored >= TOTAL / 2) half = { stored, cpu: process.cpuUsage(cpuStart) };
        return stored >= TOTAL;
      },
      {
        what: `${TOTAL} events stored`,
        timeoutMs: 600_000,
        intervalMs: 20,
      },
    ),
    failed,
  ]);
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  publisher.kill();
  const micros = (usage: NodeJS.CpuUsage) => usage.user + usage.system;
  const firstHalf = half ?? { stored: TOTAL, cpu };
  return {
    eventsPerSecond: TOTAL / seconds,
    seconds,
    cpuMicrosPerEvent: micros(cpu) / TOTAL,
    cpuMicrosPerEventFirstHalf: micros(firstHalf.cpu) / firstHalf.stored,
    cpuMicrosPerEventSecondHalf:
      (micros(cpu) - micros(firstHalf.cpu)) / Math.max(1, TOTAL - firstHalf.stored),
  };
}

/** What the agents send: the bench's events one envelope each, in signed batches, or the storm. */
type Sending = 'single' | 'batched' | 'storm';

function agentPayloads(
  agent: TestAgent,
  index: number,
  credentials: { username: string; password: string } | undefined,
  sending: Sending,
) {
  return {
    clientId: credentials?.username ?? agent.id,
    ...credentials,
    topic: agentTopic(agent.id, 'events'),
    payloads: { single: payloads, batched, storm: stormPayloads }[sending][index]!,
  };
}

/** An external broker: the collector's broker config, and whether agents log in with their enrolled secret. */
interface BrokerSetup {
  config: Record<string, unknown>;
  logins: boolean;
}

/**
 * A whole collector (startCollector, as deployed: rules, liveness, live feed) on SQLite or on a
 * PostgreSQL schema of its own, using its embedded broker or `brokerUrl`.
 */
async function collectorOn(
  storeKind: 'sqlite' | 'postgres',
  broker: string | BrokerSetup | undefined,
  sending: Sending = 'single',
): Promise<Target> {
  const setup: BrokerSetup | undefined =
    typeof broker === 'string' ? { config: { url: broker }, logins: false } : broker;
  const dir = tempDir('smew-bench-');
  const schema = storeKind === 'postgres' ? await createTestSchema() : undefined;
  const config = testCollectorConfig(dir.path, {
    ...(setup ? { broker: setup.config } : {}),
    ...(schema ? { store: { url: schema.url } } : {}),
    ingest: { ackDelay: 50, maxInFlight: 1000 },
  });
  const collector = await startCollector(config, { logger });
  const credentials: EnrollReply['broker'][] = [];
  for (const agent of agents) {
    const { token } = await createEnrollmentToken(collector.store, { unit: '基准' });
    credentials.push((await enrollOverHttp(collector.httpUrl, agent, token)).broker);
  }
  const db = schema ? undefined : new Database(join(dir.path, 'smew.db'), { readonly: true });
  const count = db?.prepare('SELECT COUNT(*) AS n FROM events');
  return {
    brokerUrl: collector.brokerUrl,
    agents: agents.map((agent, i) =>
      agentPayloads(agent, i, setup && !setup.logins ? undefined : credentials[i], sending),
    ),
    stored: async () =>
      schema
        ? (await adminQuery<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${schema.name}.events`))[0]!.n
        : (count!.get() as { n: number }).n,
    async stop() {
      db?.close();
      await collector.stop();
      await schema?.drop();
      dir.remove();
    },
  };
}

const ceiling = verifyRate();
const rows: Record<string, string | number>[] = [];
const results: Record<string, number | null> = {};
const cpuPerEvent: Record<string, number> = {};
/** Per scenario: collector CPU µs per event over the first and the second half of the run. */
const cpuByHalf: Record<string, { firstHalf: number; secondHalf: number }> = {};
const pgUp = await portOpen(5432, '127.0.0.1', 5000);
const verifyMicros = 1e6 / ceiling;

/** `--only KEY[,KEY]` runs just those scenarios (e.g. to profile one). */
const only = process.argv.includes('--only')
  ? process.argv[process.argv.indexOf('--only') + 1]?.split(',')
  : undefined;

/** `eventsPerVerify`: events one signature check covers (1, or the batch size). */
async function scenario(
  name: string,
  key: string,
  make: () => Promise<Target>,
  eventsPerVerify = 1,
): Promise<void> {
  if (only && !only.includes(key)) return;
  const target = await make();
  try {
    const measured = await measure(target);
    const { eventsPerSecond, seconds, cpuMicrosPerEvent } = measured;
    results[key] = eventsPerSecond;
    cpuPerEvent[key] = cpuMicrosPerEvent;
    cpuByHalf[key] = {
      firstHalf: measured.cpuMicrosPerEventFirstHalf,
      secondHalf: measured.cpuMicrosPerEventSecondHalf,
    };
    rows.push({
      scenario: name,
      events: TOTAL,
      seconds: Number(seconds.toFixed(2)),
      'events/s': Math.round(eventsPerSecond),
      [`of ${CORES}-core verify`]: `${Math.round((100 * eventsPerSecond) / (ceiling * CORES))} %`,
      'collector CPU µs/event': Math.round(cpuMicrosPerEvent),
      '1st half → 2nd half': `${Math.round(measured.cpuMicrosPerEventFirstHalf)} → ${Math.round(measured.cpuMicrosPerEventSecondHalf)}`,
      // A batch's one check covers its events (its size makes it dearer than one event's: roughly).
      'verify share of it': `${Math.round((100 * verifyMicros) / eventsPerVerify / cpuMicrosPerEvent)} %${eventsPerVerify > 1 ? ' (≈)' : ''}`,
    });
  } finally {
    await target.stop();
  }
}

/** Each path twice: every event its own envelope, then the same events in signed batches. */
async function both(
  name: string,
  key: string,
  storeKind: 'sqlite' | 'postgres',
  brokerUrl?: string | BrokerSetup,
) {
  if (storeKind === 'postgres' && !pgUp) {
    rows.push({ scenario: name, events: 'skipped: PostgreSQL not running' });
    return;
  }
  await scenario(name, key, () => collectorOn(storeKind, brokerUrl));
  await scenario(
    `${name}, batches of ${BATCH}`,
    `${key}Batched`,
    () => collectorOn(storeKind, brokerUrl, 'batched'),
    BATCH,
  );
}

/**
 * The storm: one envelope per event, every event a new condition, so every one opens a warning
 * (AGENTS × PER_AGENT of them by the end). Its cost per event must not grow with the warnings open.
 */
async function storm(name: string, key: string, storeKind: 'sqlite' | 'postgres') {
  if (storeKind === 'postgres' && !pgUp) {
    rows.push({ scenario: name, events: 'skipped: PostgreSQL not running' });
    return;
  }
  await scenario(name, key, () => collectorOn(storeKind, undefined, 'storm'));
}

await both('embedded aedes → SQLite', 'embeddedSqlite', 'sqlite');
await storm('embedded aedes → SQLite, storm (each event a new warning)', 'stormSqlite', 'sqlite');
await both('embedded aedes → PostgreSQL', 'embeddedPostgres', 'postgres');
await storm('embedded aedes → PostgreSQL, storm (each event a new warning)', 'stormPostgres', 'postgres');
const mosquitto = await startOwnMosquitto();
try {
  await both('Mosquitto → SQLite', 'mosquittoSqlite', 'sqlite', mosquitto.url);
  await both('Mosquitto → PostgreSQL', 'mosquittoPostgres', 'postgres', mosquitto.url);
} finally {
  await mosquitto.stop();
}
// The broker tier that survives losing a machine (docs/nats.md): three NATS nodes, the stream
// replicated three ways, the collector reading through JetStream and acking over MQTT.
const NATS_LOGIN = { username: 'smew', password: 'bench-collector-secret' };
// Not in the smoke run (--short): broker.kind nats is a preview whose cluster start-up is not yet
// reliable (docs/nats.md, Known problems); `--only natsPostgres` still runs it short.
const natsWanted = only ? only.some((key) => key.startsWith('nats')) : !SHORT;
const natsCluster =
  natsWanted && requireNatsServer('ingest through a NATS cluster')
    ? await startNatsCluster(
        renderNatsAuthorization([], {
          username: NATS_LOGIN.username,
          passwordHash: natsPasswordHash(NATS_LOGIN.password),
        }),
      )
    : undefined;
if (natsCluster) {
  try {
    const [first, ...others] = natsCluster.nodes.map((node) => node.mqttUrl);
    await both('NATS cluster (3 nodes, R3) → PostgreSQL', 'natsPostgres', 'postgres', {
      config: {
        kind: 'nats',
        url: first,
        urls: others,
        ...NATS_LOGIN,
        nats: {
          servers: natsCluster.nodes.map((node) => node.natsUrl),
          authFile: natsCluster.authFile,
          pidFiles: natsCluster.nodes.map((node) => node.pidFile),
          fileMode: '0600',
        },
      },
      logins: true,
    });
  } catch (err) {
    for (const node of natsCluster.nodes) console.error(node.output());
    throw err;
  } finally {
    await natsCluster.stop();
  }
} else if (natsWanted) {
  rows.push({ scenario: 'NATS cluster → PostgreSQL', events: 'skipped: nats-server not installed' });
}

console.log(
  `\ningest: ${AGENTS} agents × ${PER_AGENT} ed25519-signed events (signed in ${Math.round(signMs)} ms beforehand), ` +
    `${CORES} cores (${cpus()[0]?.model ?? 'unknown cpu'})`,
);
console.log(
  `verify ceiling, one core (JSON parse + JCS + ed25519 verify by ${ed25519Verifier()}): ${Math.round(ceiling)} events/s ` +
    `(${Math.round(verifyMicros)} µs of CPU each), ${CORES} cores: ${Math.round(ceiling * CORES)} events/s`,
);
console.log(
  'events/s is wall-clock and falls with other load on the machine; collector CPU µs/event (all its ' +
    'threads, the embedded broker included) does not, and "verify share" is the part of it that is the ' +
    'signature check itself — the rest is what every other stage costs.\n',
);
printTable(rows);

reportFigures({
  ingest: {
    eventsPerSecond: results.embeddedSqlite ?? null,
    /** The same, as agents draining a backlog send them: signed batches (outbox.batch). */
    batchedEventsPerSecond: results.embeddedSqliteBatched ?? null,
    batchEvents: BATCH,
    verifyCeilingPerSecond: ceiling,
    verifyCeilingAllCoresPerSecond: ceiling * CORES,
    cores: CORES,
    events: TOTAL,
    agents: AGENTS,
    byScenario: results,
    collectorCpuMicrosPerEvent: cpuPerEvent,
    collectorCpuMicrosPerEventByHalf: cpuByHalf,
    /** Every event a new condition (each opens a warning), one envelope each, embedded broker. */
    storm: {
      eventsPerSecond: results.stormSqlite ?? null,
      cpuMicrosPerEventFirstHalf: cpuByHalf.stormSqlite?.firstHalf ?? null,
      cpuMicrosPerEventSecondHalf: cpuByHalf.stormSqlite?.secondHalf ?? null,
      postgresEventsPerSecond: results.stormPostgres ?? null,
      postgresCpuMicrosPerEventFirstHalf: cpuByHalf.stormPostgres?.firstHalf ?? null,
      postgresCpuMicrosPerEventSecondHalf: cpuByHalf.stormPostgres?.secondHalf ?? null,
    },
  },
});
process.exit(0);
