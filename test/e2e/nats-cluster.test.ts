/**
 * The broker tier on a three-node NATS JetStream cluster (issue 20): three nats-server processes
 * with JetStream, MQTT and routes on free loopback ports, two `smew collector` processes on one
 * PostgreSQL schema sharing one durable JetStream consumer, and 20 agents — the agent's own outbox
 * and publisher, failing over between the three MQTT URLs enrollment handed them — streaming
 * 10 000 events. Mid-stream one NATS node is SIGKILLed, then one collector: every event is stored
 * exactly once, none is lost, and the agents that were on the dead node are back on another within
 * 10 s. Then the node restarts and rejoins, and the same is done to another node and the other
 * collector.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as natsConnect } from 'nats';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Outbox } from '../../agent/outbox.js';
import { Publisher } from '../../agent/publisher.js';
import { brokerUrlsFor } from '../../agent/identity.js';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import { natsPasswordHash, renderNatsAuthorization } from '../../collector/broker/nats-access.js';
import { openStore } from '../../collector/store/open-store.js';
import type { Store } from '../../collector/store/store.js';
import { systemClock } from '../../shared/clock.js';
import type { SignatureAlg } from '../../shared/crypto/suite.js';
import { createLogger } from '../../shared/log.js';
import { eventually } from '../support/eventually.js';
import { enrollOverHttp, makeTestAgent } from '../support/collector-harness.js';
import {
  requireNatsServer,
  startNatsCluster,
  type NatsCluster,
  type NatsNode,
} from '../support/nats-cluster.js';
import { freePort } from '../support/ports.js';
import { adminQuery, createTestSchema, postgresAvailable, type TestSchema } from '../support/postgres.js';
import { startSmew, type Running } from '../support/processes.js';

const AGENTS = 20;
const TOTAL = 10_000;
const PER_AGENT = TOTAL / AGENTS;
/** Each phase streams half the events: ROUNDS rounds of this many per agent. */
const ROUNDS = 25;
const PER_ROUND = PER_AGENT / 2 / ROUNDS;
const ROUND_MS = 200;
const COLLECTOR_LOGIN = { username: 'smew', password: 'collector-secret-for-tests' };
const logger = createLogger('test', process.env.SMEW_TEST_AGENT_LOG === '1' ? 'warn' : 'silent');

interface Member {
  name: string;
  config: string;
  httpUrl: string;
  process?: Running;
}

interface TestAgentProcess {
  id: string;
  outbox: Outbox;
  publisher: Publisher;
  appended: number;
}

const ready = (await postgresAvailable()) && requireNatsServer('NATS cluster');

describe.runIf(ready)('three NATS nodes, two collectors on PostgreSQL, 20 agents', () => {
  let dir: string;
  let schema: TestSchema;
  let cluster: NatsCluster;
  let store: Store;
  const members: Member[] = [];
  const agents: TestAgentProcess[] = [];

  async function startMember(member: Member): Promise<void> {
    const running = startSmew(['collector', '--config', member.config]);
    member.process = running;
    await eventually(
      async () => {
        if (running.child.exitCode !== null) {
          const nodes = cluster.nodes.map((node) => `${node.name}: ${node.output().slice(-1500)}`).join('\n');
          throw new Error(
            `${member.name} exited: ${running.stderr()} ${running.stdout().slice(-3000)}\n${nodes}`,
          );
        }
        return (await fetch(`${member.httpUrl}/healthz`)).ok;
      },
      { what: `collector ${member.name} /healthz`, timeoutMs: 60_000, intervalMs: 100 },
    );
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'smew-nats-e2e-'));
    schema = await createTestSchema();
    // The collector's own login must be there before it connects; it then rewrites the file.
    cluster = await startNatsCluster(
      renderNatsAuthorization([], {
        username: COLLECTOR_LOGIN.username,
        passwordHash: natsPasswordHash(COLLECTOR_LOGIN.password),
      }),
    );
    const mqttUrls = cluster.nodes.map((node) => node.mqttUrl);
    for (const [i, name] of ['a', 'b'].entries()) {
      const port = await freePort();
      const config = join(dir, `collector-${name}.yaml`);
      // Each collector's MQTT client starts on its own node and fails over to the others.
      const own = [...mqttUrls.slice(i), ...mqttUrls.slice(0, i)];
      writeFileSync(
        config,
        stringify({
          unit: '某市保密局',
          http: { listen: `127.0.0.1:${port}` },
          broker: {
            kind: 'nats',
            url: own[0],
            urls: own.slice(1),
            publicUrls: mqttUrls,
            ...COLLECTOR_LOGIN,
            nats: {
              servers: cluster.nodes.map((node) => node.natsUrl),
              replicas: 3,
              ackWait: '4s',
              authFile: cluster.authFile,
              pidFiles: cluster.nodes.map((node) => node.pidFile),
              fileMode: '0600',
            },
          },
          store: { url: schema.url },
          identity: { dir: join(dir, 'collector-identity') },
          ingest: { verifyWorkers: 0, ackDelay: 50 },
        }),
      );
      members.push({ name, config, httpUrl: `http://127.0.0.1:${port}` });
    }
    // A first start alone makes the key and migrates the schema; then both run.
    await startMember(members[0]!);
    await startMember(members[1]!);
    store = await openStore(schema.url);
  }, 120_000);

  afterAll(async () => {
    for (const agent of agents) {
      await agent.publisher.stop(200).catch(() => undefined);
      agent.outbox.close();
    }
    for (const member of members) await member.process?.stop('SIGKILL').catch(() => undefined);
    await store?.close();
    await cluster?.stop();
    await schema?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const storedCount = async () =>
    (await adminQuery<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${schema.name}.events`))[0]!.n;

  /**
   * On a stall: every live node's /jsz (stream and consumer state) and /connz, and both collectors'
   * output, into SMEW_NATS_DIAG_DIR when it is set.
   */
  async function dumpDiagnostics(): Promise<void> {
    const out = process.env.SMEW_NATS_DIAG_DIR;
    if (!out) return;
    mkdirSync(out, { recursive: true });
    for (const node of cluster.nodes) {
      writeFileSync(join(out, `${node.name}.log`), node.output(100_000));
      if (!node.running) continue;
      for (const path of ['jsz?consumers=true&config=true', 'connz?subs=true', 'routez']) {
        const body = await fetch(`${node.monitorUrl}/${path}`)
          .then((response) => response.text())
          .catch((err: unknown) => String(err));
        writeFileSync(join(out, `${node.name}-${path.split('?')[0]}.json`), body);
      }
    }
    for (const member of members) {
      writeFileSync(
        join(out, `collector-${member.name}.log`),
        `${member.process?.stdout() ?? ''}\n--- stderr\n${member.process?.stderr() ?? ''}`,
      );
    }
  }

  /** Appends events round by round; `during` runs at the rounds named, while the stream goes on. */
  async function stream(during: Map<number, () => Promise<void>>): Promise<void> {
    const pending: Promise<void>[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const agent of agents) {
        agent.outbox.append(
          Array.from({ length: PER_ROUND }, () => {
            agent.appended += 1;
            return {
              type: 'file.marked',
              state: 'raised' as const,
              key: `file.marked:${agent.appended}`,
              severity: 'medium' as const,
              data: { path: `/secret/${agent.appended}.docx`, marking: '秘密' },
            };
          }),
        );
        agent.publisher.flush();
      }
      const action = during.get(round);
      if (action) pending.push(action());
      await new Promise((resolve) => setTimeout(resolve, ROUND_MS));
    }
    await Promise.all(pending);
  }

  /**
   * SIGKILLs `node`; resolves with how long the agents that were on it took to be on another (the
   * worst and the median), after checking them: the median within 10 s, the worst within 15 s.
   * The time is mostly NATS electing a new leader for its MQTT session stream (raft, 4–9 s) when
   * the dead node led it; on a 2-core machine at load average 20 the worst agent once took 13 s.
   */
  async function killNode(node: NatsNode): Promise<number> {
    const onIt = agents.filter(
      (agent) => agent.publisher.connected && agent.publisher.brokerUrl === node.mqttUrl,
    );
    expect(onIt.length).toBeGreaterThan(0);
    const killedAt = Date.now();
    await node.kill();
    const back = await Promise.all(
      onIt.map((agent) =>
        eventually(
          () =>
            agent.publisher.connected && agent.publisher.brokerUrl !== node.mqttUrl
              ? Date.now() - killedAt
              : undefined,
          { what: `agent ${agent.id} on another node`, timeoutMs: 30_000, intervalMs: 20 },
        ),
      ),
    );
    const sorted = [...back].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const worst = sorted.at(-1)!;
    console.log(
      `[nats cluster] ${onIt.length} agents on ${node.name}: median ${median} ms, worst ${worst} ms`,
    );
    expect(median).toBeLessThan(10_000);
    expect(worst).toBeLessThan(15_000);
    return worst;
  }

  /**
   * The running node most agents are on when the kill comes: agents start at a random node and
   * move on refusals (their logins reach the nodes a moment after enrollment), so a fixed node
   * sometimes had none.
   */
  function busiestNode(except?: NatsNode): NatsNode {
    const running = cluster.nodes.filter((node) => node.running && node !== except);
    const on = (node: NatsNode) =>
      agents.filter((agent) => agent.publisher.connected && agent.publisher.brokerUrl === node.mqttUrl)
        .length;
    return running.reduce((best, node) => (on(node) > on(best) ? node : best));
  }

  let firstKilled: NatsNode | undefined;

  async function expectAllStoredOnce(expected: number): Promise<void> {
    await eventually(async () => (await storedCount()) >= expected, {
      what: `${expected} events in PostgreSQL`,
      // Generous for a CI machine shared with other jobs; about 20 s on a quiet one.
      timeoutMs: 120_000,
      intervalMs: 250,
    }).catch(async (err: unknown) => {
      // What each agent was doing (+ connected, the broker, events waiting) and each node's state.
      const states = agents.map(
        (agent) =>
          `${agent.publisher.connected ? '+' : '-'}${agent.publisher.brokerUrl}:${agent.outbox.pendingCount()}`,
      );
      const nodes = cluster.nodes.map((node) => node.output()).join('\n');
      await dumpDiagnostics();
      throw new Error(
        `${(err as Error).message}; stored ${await storedCount()}; agents ${states.join(' ')}\n${nodes}`,
      );
    });
    await eventually(() => agents.every((agent) => agent.outbox.pendingCount() === 0), {
      what: 'every agent’s outbox emptied by signed acks',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    const [counts] = await adminQuery<{ n: number; distinct: number }>(
      `SELECT COUNT(*)::int AS n, COUNT(DISTINCT (agent_id, seq))::int AS distinct FROM ${schema.name}.events`,
    );
    expect(counts).toEqual({ n: expected, distinct: expected });
    for (const agent of agents) expect((await store.getAgent(agent.id))!.ackedSeq).toBe(agent.appended);
  }

  it('node and collector killed mid-stream: every event stored once, agents on another node within 10 s (median)', async () => {
    const [a] = members as [Member, Member];
    for (let i = 0; i < AGENTS; i++) {
      const agent = makeTestAgent();
      const { token } = await createEnrollmentToken(store, { unit: '某市保密局', ttlMs: 3_600_000 });
      const reply = await enrollOverHttp(a.httpUrl, agent, token);
      expect(reply.broker.urls).toEqual(cluster.nodes.map((node) => node.mqttUrl));
      const outbox = Outbox.open({
        dir: join(dir, `agent-${i}`),
        agentId: agent.id,
        alg: 'ed25519',
        sign: agent.sign,
        collector: { ...reply.collector, alg: reply.collector.alg as SignatureAlg },
        clock: systemClock,
      });
      const publisher = new Publisher({
        agentId: agent.id,
        alg: 'ed25519',
        sign: agent.sign,
        brokerUrls: brokerUrlsFor(undefined, reply.broker),
        username: reply.broker.username,
        password: reply.broker.password,
        outbox,
        clock: systemClock,
        logger,
        ackTimeoutMs: 5_000,
        heartbeatIntervalMs: 5_000,
      });
      publisher.start();
      agents.push({ id: agent.id, outbox, publisher, appended: 0 });
    }
    await eventually(() => agents.every((agent) => agent.publisher.connected), {
      what: 'every agent connected',
      timeoutMs: 30_000,
    });

    let failoverMs = 0;
    const started = Date.now();
    await stream(
      new Map([
        [8, async () => void (failoverMs = await killNode((firstKilled = busiestNode())))],
        [16, () => a.process!.stop('SIGKILL').then(() => undefined)],
      ]),
    );
    await expectAllStoredOnce(TOTAL / 2);
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `[nats cluster] ${TOTAL / 2} events stored once in ${seconds.toFixed(1)} s with a node and a collector ` +
        `SIGKILLed; agents on the dead node were on another within ${failoverMs} ms`,
    );
  }, 240_000);

  it('the node restarts and rejoins; another node and the other collector die: still every event once', async () => {
    const [a, b] = members as [Member, Member];
    await firstKilled!.restart();
    await startMember(a);
    // The restarted node has caught up with the stream: all three replicas current.
    const nc = await natsConnect({
      servers: cluster.nodes.map((node) => node.natsUrl),
      user: COLLECTOR_LOGIN.username,
      pass: COLLECTOR_LOGIN.password,
    });
    try {
      const jsm = await nc.jetstreamManager({ checkAPI: false });
      await eventually(
        async () => {
          const info = await jsm.streams.info('SMEW_AGENTS');
          const replicas = info.cluster?.replicas ?? [];
          return replicas.length === 2 && replicas.every((replica) => replica.current && !replica.offline);
        },
        { what: 'the restarted node current in the stream’s replicas', timeoutMs: 30_000, intervalMs: 250 },
      );
    } finally {
      await nc.close();
    }
    let failoverMs = 0;
    await stream(
      new Map([
        [8, async () => void (failoverMs = await killNode(busiestNode(firstKilled)))],
        [16, () => b.process!.stop('SIGKILL').then(() => undefined)],
      ]),
    );
    await expectAllStoredOnce(TOTAL);
    console.log(
      `[nats cluster] after the restarted node rejoined: ${TOTAL} events stored once; agents on the second ` +
        `dead node were on another within ${failoverMs} ms`,
    );
  }, 240_000);
});
