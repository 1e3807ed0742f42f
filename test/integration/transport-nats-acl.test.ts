import { readFileSync, writeFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { connect as natsConnect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsPasswordHash, renderNatsAuthorization } from '../../collector/broker/nats-access.js';
import { agentTopic, natsSubjectOfTopic } from '../../shared/topics.js';
import { eventually } from '../support/eventually.js';
import { requireNatsServer, startNatsCluster, type NatsCluster } from '../support/nats-cluster.js';

/**
 * Access control on NATS as the collector writes it (collector/broker/nats-access.ts), enforced by
 * a real nats-server's MQTT gateway: an agent logs in with its own secret, publishes only under
 * its own id, reads only its own ack and policy; a revoked agent and a wrong secret are refused.
 */
const A = { id: 'ag-aaaaaaaaaaaaaaaaaaaa', secret: 'secret-a' };
const B = { id: 'ag-bbbbbbbbbbbbbbbbbbbb', secret: 'secret-b' };
const REVOKED = { id: 'ag-cccccccccccccccccccc', secret: 'secret-c' };
const COLLECTOR = { username: 'smew', password: 'collector-secret' };

const ready = requireNatsServer('NATS access control');

describe.runIf(ready)('NATS authorization written by the collector', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  const clients: mqtt.MqttClient[] = [];

  const connectAgent = (agent: { id: string; secret: string }) =>
    mqtt.connectAsync(cluster.nodes[0]!.mqttUrl, {
      clientId: agent.id,
      username: agent.id,
      password: agent.secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });

  beforeAll(async () => {
    cluster = await startNatsCluster(
      renderNatsAuthorization(
        [
          { agentId: A.id, passwordHash: natsPasswordHash(A.secret), revoked: false },
          { agentId: B.id, passwordHash: natsPasswordHash(B.secret), revoked: false },
          { agentId: REVOKED.id, passwordHash: natsPasswordHash(REVOKED.secret), revoked: true },
          // Enrolled under Mosquitto: no bcrypt hash, so no NATS login.
          { agentId: 'ag-dddddddddddddddddddd', passwordHash: '$7$101$x$y', revoked: false },
        ],
        { username: COLLECTOR.username, passwordHash: natsPasswordHash(COLLECTOR.password) },
      ),
      1,
    );
    nc = await natsConnect({
      servers: cluster.nodes[0]!.natsUrl,
      user: COLLECTOR.username,
      pass: COLLECTOR.password,
    });
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) await client.endAsync(true).catch(() => undefined);
    await nc?.close();
    await cluster?.stop();
  });

  it('renders no login for revoked agents or hashes NATS cannot read', () => {
    const text = renderNatsAuthorization(
      [
        { agentId: REVOKED.id, passwordHash: '$2b$10$abc', revoked: true },
        { agentId: 'ag-dddddddddddddddddddd', passwordHash: '$7$101$x$y', revoked: false },
        { agentId: B.id, passwordHash: null, revoked: false },
      ],
      { username: 'smew', passwordHash: '$2b$10$xyz' },
    );
    expect(text).not.toContain(REVOKED.id);
    expect(text).not.toContain('ag-dddd');
    expect(text).not.toContain(B.id);
    expect(text).toContain('{ user: "smew", password: "$2b$10$xyz"');
  });

  it('an agent publishes only under its own id', async () => {
    const seen: string[] = [];
    const sub = nc.subscribe('smew.v1.agents.*.events', { callback: (_err, msg) => seen.push(msg.subject) });
    await nc.flush();
    const a = await connectAgent(A);
    clients.push(a);
    await a.publishAsync(agentTopic(B.id, 'events'), 'forged', { qos: 1 }).catch(() => undefined);
    await a.publishAsync(agentTopic(A.id, 'events'), 'own', { qos: 1 });
    // The own event, sent after the forged one, is the signal that both were handled.
    await eventually(() => seen.includes(natsSubjectOfTopic(agentTopic(A.id, 'events'))), {
      what: 'the agent’s own event',
    });
    expect(seen).toEqual([natsSubjectOfTopic(agentTopic(A.id, 'events'))]);
    sub.unsubscribe();
  });

  it('an agent reads only its own ack and policy', async () => {
    const a = await connectAgent(A);
    clients.push(a);
    const own = await a.subscribeAsync([agentTopic(A.id, 'ack'), agentTopic(A.id, 'policy')], { qos: 1 });
    expect(own.map((g) => g.qos)).toEqual([1, 1]);
    for (const filter of [agentTopic(B.id, 'ack'), 'smew/v1/agents/+/ack', '$MQTT/sub/#', '#']) {
      const refused = await a.subscribeAsync(filter, { qos: 1 }).then(
        (granted) => granted.map((g) => g.qos),
        () => [128],
      );
      expect(refused, filter).toEqual([128]);
    }
  });

  it('a reload without an agent closes its open connection (revocation)', async () => {
    const b = await connectAgent(B);
    clients.push(b);
    const closed = new Promise<void>((resolve) => b.once('close', () => resolve()));
    writeFileSync(
      cluster.authFile,
      renderNatsAuthorization([{ agentId: A.id, passwordHash: natsPasswordHash(A.secret), revoked: false }], {
        username: COLLECTOR.username,
        passwordHash: natsPasswordHash(COLLECTOR.password),
      }),
    );
    process.kill(Number(readFileSync(cluster.nodes[0]!.pidFile, 'utf8').trim()), 'SIGHUP');
    await closed;
    await expect(connectAgent(B)).rejects.toThrow(/Not authorized|Bad username or password/);
  });

  it('refuses a revoked agent, an agent without a NATS hash and a wrong secret', async () => {
    for (const agent of [
      REVOKED,
      { id: 'ag-dddddddddddddddddddd', secret: 'x' },
      { id: B.id, secret: 'wrong' },
    ]) {
      await expect(connectAgent(agent), agent.id).rejects.toThrow(/Not authorized|Bad username or password/);
    }
  });
});
