import { createServer, type Server } from 'node:net';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { UserError } from '../../shared/errors.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import { enrollOverHttp, makeTestAgent, tempDir, testCollectorConfig } from '../support/collector-harness.js';

const quiet = { logger: createLogger('test', 'silent') };

function listenOnFreePort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as { port: number }).port }),
    );
  });
}
async function freePort(): Promise<number> {
  const { server, port } = await listenOnFreePort();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('collector lifecycle', () => {
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector | undefined;

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
    dir.remove();
  });

  it('refuses a busy http.listen with a UserError and releases the broker port it had taken', async () => {
    const squatter = await listenOnFreePort();
    const brokerPort = await freePort();
    try {
      const config = testCollectorConfig(dir.path, {
        http: { listen: `127.0.0.1:${squatter.port}` },
        broker: { listen: `127.0.0.1:${brokerPort}` },
      });
      const attempt = startCollector(config, quiet);
      await expect(attempt).rejects.toThrow(UserError);
      await expect(attempt).rejects.toThrow(`http.listen: 127.0.0.1:${squatter.port} is already in use`);
      // The embedded broker started before the HTTP failure; it must be gone again.
      const again = createServer();
      await new Promise<void>((resolve, reject) => {
        again.once('error', reject);
        again.listen(brokerPort, '127.0.0.1', resolve);
      });
      again.close();
    } finally {
      squatter.server.close();
    }
  });

  it('stops cleanly, starts again on the same ports and keeps its identity and data', async () => {
    const [httpPort, brokerPort] = [await freePort(), await freePort()];
    const config = testCollectorConfig(dir.path, {
      http: { listen: `127.0.0.1:${httpPort}` },
      broker: { listen: `127.0.0.1:${brokerPort}` },
    });
    collector = await startCollector(config, quiet);
    expect(collector.httpUrl).toBe(`http://127.0.0.1:${httpPort}`);
    expect(collector.brokerUrl).toBe(`mqtt://127.0.0.1:${brokerPort}`);
    const firstId = collector.collectorId;
    const key = await createApiKey(collector.store, { name: 'k', role: 'sysadmin' });
    await collector.stop();

    collector = await startCollector(config, quiet);
    expect(collector.collectorId).toBe(firstId);
    const response = await fetch(`${collector.httpUrl}/api/v1/agents`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(200);
  });

  it('names broker.url when the external broker cannot be reached', async () => {
    const port = await freePort();
    const config = testCollectorConfig(dir.path, { broker: { url: `mqtt://127.0.0.1:${port}` } });
    await expect(startCollector(config, quiet)).rejects.toThrow(
      new RegExp(`broker\\.url: cannot connect to the MQTT broker at mqtt://127\\.0\\.0\\.1:${port}`),
    );
  });

  it('names the missing key when broker.kind nats is not complete', async () => {
    const servers = ['nats://127.0.0.1:1'];
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { broker: { kind: 'nats', url: 'mqtt://127.0.0.1:1' } },
        /broker\.kind: nats needs broker\.nats\.servers/,
      ],
      [{ broker: { kind: 'nats', nats: { servers } } }, /broker\.kind: nats needs broker\.url/],
      [
        {
          broker: { kind: 'nats', url: 'mqtt://127.0.0.1:1', nats: { servers } },
          ingest: { sharedGroup: 'g' },
        },
        /ingest\.sharedGroup: not used with broker\.kind: nats/,
      ],
      [
        { broker: { url: 'mqtt://127.0.0.1:1', nats: { servers } } },
        /broker\.nats: is used only with broker\.kind: nats/,
      ],
      [
        {
          broker: {
            kind: 'nats',
            url: 'mqtt://127.0.0.1:1',
            nats: { servers, authFile: `${dir.path}/auth.conf` },
          },
        },
        /broker\.nats\.authFile: needs broker\.username and broker\.password/,
      ],
    ];
    for (const [overrides, message] of cases) {
      const attempt = startCollector(testCollectorConfig(dir.path, overrides), quiet);
      await expect(attempt).rejects.toThrow(UserError);
      await expect(attempt).rejects.toThrow(message);
    }
  });

  it('hands agents broker.publicUrl when it is set', async () => {
    const config = testCollectorConfig(dir.path, {
      broker: { listen: '127.0.0.1:0', publicUrl: 'mqtt://smew.internal:1883' },
    });
    collector = await startCollector(config, quiet);
    const { token } = await createEnrollmentToken(collector.store, { unit: 'u' });
    const enrolled = await enrollOverHttp(collector.httpUrl, makeTestAgent(), token);
    expect(enrolled.broker.url).toBe('mqtt://smew.internal:1883');
  });

  it('shows an agent online while connected and offline after its Last Will', async () => {
    collector = await startCollector(testCollectorConfig(dir.path), quiet);
    const key = await createApiKey(collector.store, { name: 'k', role: 'viewer' });
    const { token } = await createEnrollmentToken(collector.store, { unit: 'u' });
    const agent = makeTestAgent();
    const enrolled = await enrollOverHttp(collector.httpUrl, agent, token);
    const status = agentTopic(agent.id, 'status');
    const client = await mqtt.connectAsync(enrolled.broker.url, {
      clientId: agent.id,
      username: agent.id,
      password: enrolled.broker.password,
      reconnectPeriod: 0,
      will: { topic: status, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await client.publishAsync(status, 'online', { qos: 1, retain: true });

    const onlineState = async () => {
      const response = await fetch(`${collector!.httpUrl}/api/v1/agents`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const { items } = (await response.json()) as {
        items: { id: string; online: boolean; lastSeen: string | null }[];
      };
      return items.find((a) => a.id === agent.id)!;
    };
    await expect.poll(async () => (await onlineState()).online).toBe(true);
    expect((await onlineState()).lastSeen).not.toBeNull();

    // A dropped connection (no DISCONNECT) makes the broker publish the will.
    client.stream.destroy();
    await expect.poll(async () => (await onlineState()).online).toBe(false);
    client.end(true);
  });
});
