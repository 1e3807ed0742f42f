import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import { eventually } from '../support/eventually.js';
import { requireMosquittoBinary, startOwnMosquitto, type OwnMosquitto } from '../support/mosquitto.js';
import {
  enrollAgent,
  signedEvent,
  tempDir,
  type TestAgent,
  testCollectorConfig,
} from '../support/collector-harness.js';

/**
 * A real Mosquitto of the test's own, run with the password and ACL files the collector writes
 * (broker.mosquitto): agents log in with the secret enrollment gave them, an agent cannot
 * publish under another agent's id, anonymous and wrong-password logins are refused, and a
 * revoked agent loses its login when the files are rewritten and Mosquitto reloads (SIGHUP).
 */
const logger = createLogger('test', 'silent');

const installed = requireMosquittoBinary('transport-mosquitto-acl');

/** The max_packet_size line of the Mosquitto configuration docs/mosquitto.md gives. */
function maxPacketSizeLine(): string {
  const docs = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'mosquitto.md'), 'utf8');
  const line = /^max_packet_size \d+$/m.exec(docs)?.[0];
  if (!line) throw new Error('docs/mosquitto.md gives no max_packet_size line');
  return line;
}

describe.skipIf(!installed)('Mosquitto access control written by the collector', () => {
  const dir = tempDir('smew-mosquitto-acl-');
  const passwordFile = join(dir.path, 'passwd');
  const aclFile = join(dir.path, 'acl');
  const pidFile = join(dir.path, 'mosquitto.pid');
  const collectorLogin = { username: 'smew-collector', password: 'collector-secret-for-test' };
  let mosquitto: OwnMosquitto;
  let collector: RunningCollector;
  const agents: { agent: TestAgent; password: string }[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    // Mosquitto needs its files before it starts: a first collector start (embedded broker)
    // writes them with the collector's own login.
    // Mosquitto drops root and re-reads the files (and writes its pid file) as its own user.
    chmodSync(dir.path, 0o777);
    const mosquittoKeys = { passwordFile, aclFile, pidFile, fileMode: '0644' };
    const first = await startCollector(
      testCollectorConfig(dir.path, {
        broker: { listen: '127.0.0.1:0', mosquitto: mosquittoKeys, ...collectorLogin },
      }),
      { logger },
    );
    await first.stop();
    mosquitto = await startOwnMosquitto(
      [
        'allow_anonymous false',
        `password_file ${passwordFile}`,
        `acl_file ${aclFile}`,
        `pid_file ${pidFile}`,
        'use_username_as_clientid true',
        maxPacketSizeLine(),
      ].join('\n'),
    );
    // Then the collector runs on that Mosquitto; each enrollment rewrites the files and reloads it.
    collector = await startCollector(
      testCollectorConfig(dir.path, {
        broker: { url: mosquitto.url, mosquitto: mosquittoKeys, ...collectorLogin },
      }),
      { logger },
    );
    for (let i = 0; i < 2; i++) {
      const { agent, reply } = await enrollAgent(collector);
      agents.push({ agent, password: reply.broker.password });
    }
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) await client.endAsync(true);
    await collector?.stop();
    await mosquitto?.stop();
    dir.remove();
  });

  async function connect(username: string | undefined, password: string | undefined): Promise<MqttClient> {
    const client = await mqtt.connectAsync(
      mosquitto.url,
      { clientId: username ?? 'anonymous', username, password, reconnectPeriod: 0, protocolVersion: 4 },
      false,
    );
    clients.push(client);
    return client;
  }

  it('an agent cannot publish under another agent’s id; its own events arrive', async () => {
    const [a, b] = agents as [(typeof agents)[0], (typeof agents)[0]];
    const clientA = await eventually(() => connect(a.agent.id, a.password), {
      what: 'A to log in',
      timeoutMs: 10_000,
    });
    // A forges an event for B, signed with A's key, on B's topic: Mosquitto drops it silently.
    const forged = signedEvent(a.agent, 1, { agent: b.agent.id });
    await clientA.publishAsync(agentTopic(b.agent.id, 'events'), JSON.stringify(forged), { qos: 1 });
    await clientA.publishAsync(agentTopic(b.agent.id, 'heartbeat'), 'x', { qos: 1 });
    // Then its own event, on the same connection: QoS 1 keeps the order, so once this is
    // stored, anything the broker had let through before would have reached ingest too.
    await clientA.publishAsync(agentTopic(a.agent.id, 'events'), JSON.stringify(signedEvent(a.agent, 1)), {
      qos: 1,
    });
    await eventually(async () => (await collector.store.getAgent(a.agent.id))?.ackedSeq === 1, {
      what: 'A’s own event to be stored',
    });
    expect(await collector.store.listEvents({ agentId: b.agent.id, limit: 10 })).toEqual([]);
    expect(await collector.store.listQuarantine({ limit: 10 })).toEqual([]);
  });

  it('disconnects an agent sending a packet over max_packet_size (docs/mosquitto.md); it goes on after', async () => {
    const [a] = agents as [(typeof agents)[0]];
    const client = await connect(a.agent.id, a.password);
    client.publish(agentTopic(a.agent.id, 'events'), Buffer.alloc(1024 * 1024, 0x20), { qos: 1 });
    await eventually(() => !client.connected, {
      what: 'Mosquitto to close the connection that sent 1 MiB (max_packet_size)',
    });
    await client.endAsync(true);
    const again = await connect(a.agent.id, a.password);
    await again.publishAsync(agentTopic(a.agent.id, 'events'), JSON.stringify(signedEvent(a.agent, 2)), {
      qos: 1,
    });
    await eventually(async () => (await collector.store.getAgent(a.agent.id))?.ackedSeq === 2, {
      what: 'the agent’s next event after the cut',
    });
    // Refused by the broker: nothing of it reached ingest.
    expect(await collector.store.listQuarantine({ limit: 10 })).toEqual([]);
  });

  it('refuses anonymous logins, wrong passwords and one agent’s secret under another’s name', async () => {
    const [a, b] = agents as [(typeof agents)[0], (typeof agents)[0]];
    await expect(connect(undefined, undefined)).rejects.toThrow(/Not authorized|Bad username/i);
    await expect(connect(a.agent.id, 'smew-bs-wrong')).rejects.toThrow(/Not authorized|Bad username/i);
    await expect(connect(b.agent.id, a.password)).rejects.toThrow(/Not authorized|Bad username/i);
  });

  it('a revoked agent loses its login once the collector rewrites the files and Mosquitto reloads', async () => {
    const [, b] = agents as [(typeof agents)[0], (typeof agents)[0]];
    expect((await connect(b.agent.id, b.password)).connected).toBe(true);
    const { createApiKey } = await import('../../collector/auth/api-keys.js');
    const admin = await createApiKey(collector.store, { name: 'admin', role: 'sysadmin' });
    const response = await fetch(`${collector.httpUrl}/api/v1/agents/${b.agent.id}/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(response.status).toBe(200);
    await eventually(
      async () => {
        try {
          const client = await connect(b.agent.id, b.password);
          await client.endAsync(true);
          return false;
        } catch {
          return true;
        }
      },
      { what: 'the revoked agent’s login to be refused', timeoutMs: 10_000, intervalMs: 200 },
    );
  });

  it('cuts a revoked agent’s open connection when Mosquitto reloads the rewritten files', async () => {
    const { agent, reply } = await enrollAgent(collector);
    const client = await eventually(() => connect(agent.id, reply.broker.password), {
      what: 'the new agent to log in',
      timeoutMs: 10_000,
    });
    const cut = new Promise<number>((resolve) => client.once('close', () => resolve(Date.now())));
    const { createApiKey } = await import('../../collector/auth/api-keys.js');
    const admin = await createApiKey(collector.store, { name: 'admin-cut', role: 'sysadmin' });
    const revokedAt = Date.now();
    const response = await fetch(`${collector.httpUrl}/api/v1/agents/${agent.id}/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(response.status).toBe(200);
    const closedAt = await Promise.race([
      cut,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000)),
    ]);
    expect(closedAt, 'the open connection of the revoked agent was not cut within 10 s').toBeDefined();
    expect(client.connected).toBe(false);
    process.stderr.write(
      `mosquitto cut the revoked agent's connection ${closedAt! - revokedAt} ms after the revocation\n`,
    );
  });
});
