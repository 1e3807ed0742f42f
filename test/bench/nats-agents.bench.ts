/**
 * How many agents one NATS node holds (docs/nats.md): one nats-server with JetStream and MQTT,
 * the smew authorization file, and N clients that behave as agents do on connect — persistent
 * session under their id, bcrypt login, QoS 1 subscriptions to their ack and policy topics (two
 * JetStream consumers each), a retained `online`. Prints the node's memory and CPU per agent and
 * the connect rate. `--agents N` (default 1000; --short 50).
 */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { natsPasswordHash, renderNatsAuthorization } from '../../collector/broker/nats-access.js';
import { agentTopic } from '../../shared/topics.js';
import { startNatsCluster } from '../support/nats-cluster.js';
import { argValue, isShort, printTable, reportFigures } from './support/report.js';

const AGENTS = isShort() ? 50 : argValue('--agents', 1000);
const CONCURRENT = 25;
const SECRET = 'bench-agent-secret';

function agentId(i: number): string {
  return `ag-${i.toString(36).padStart(20, 'a')}`;
}

/** Resident memory (MiB) and CPU seconds so far of a process. */
function usage(pid: number): { rssMiB: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMiB: rssKiB / 1024, cpuSeconds: ticks / 100 };
}

const hash = natsPasswordHash(SECRET);
const accounts = Array.from({ length: AGENTS }, (_, i) => ({
  agentId: agentId(i),
  passwordHash: hash,
  revoked: false,
}));
const cluster = await startNatsCluster(
  renderNatsAuthorization(accounts, { username: 'smew', passwordHash: natsPasswordHash('bench') }),
  1,
);
const node = cluster.nodes[0]!;
const pid = Number(readFileSync(node.pidFile, 'utf8').trim());
const clients: mqtt.MqttClient[] = [];
try {
  const before = usage(pid);
  const started = performance.now();
  for (let from = 0; from < AGENTS; from += CONCURRENT) {
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENT, AGENTS - from) }, async (_, k) => {
        const id = agentId(from + k);
        const client = await mqtt.connectAsync(node.mqttUrl, {
          clientId: id,
          username: id,
          password: SECRET,
          clean: false,
          protocolVersion: 4,
          reconnectPeriod: 0,
          connectTimeout: 60_000,
          will: { topic: agentTopic(id, 'status'), payload: Buffer.from('offline'), qos: 1, retain: true },
        });
        clients.push(client);
        // A reset while the node shuts down at the end is not a finding.
        client.on('error', () => undefined);
        await client.subscribeAsync([agentTopic(id, 'ack'), agentTopic(id, 'policy')], { qos: 1 });
        await client.publishAsync(agentTopic(id, 'status'), 'online', { qos: 1, retain: true });
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  const after = usage(pid);
  const rows = {
    agents: AGENTS,
    'connect s': Number(seconds.toFixed(1)),
    'agents/s': Math.round(AGENTS / seconds),
    'node RSS MiB': Math.round(after.rssMiB),
    'KiB per agent': Math.round(((after.rssMiB - before.rssMiB) * 1024) / AGENTS),
    'node CPU ms per connect': Number((((after.cpuSeconds - before.cpuSeconds) * 1000) / AGENTS).toFixed(1)),
  };
  printTable([rows]);
  reportFigures({ natsAgentsPerNode: rows });
} finally {
  await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
  await cluster.stop();
}
