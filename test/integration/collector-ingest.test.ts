import { connect } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { ackSchema, verifyMessage } from '../../shared/envelope.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import {
  connectAsAgent,
  enrollOverHttp,
  makeTestAgent,
  nextAck,
  signedEvent,
  tempDir,
  testCollectorConfig,
} from '../support/collector-harness.js';

const MOSQUITTO = { host: '127.0.0.1', port: 1883 };

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const mosquittoUp = await reachable(MOSQUITTO.host, MOSQUITTO.port);
const inCi = process.env.CI === 'true';
if (!mosquittoUp && !inCi) {
  console.warn(
    `collector-ingest: skipping the Mosquitto variant: nothing listens on ${MOSQUITTO.host}:${MOSQUITTO.port} ` +
      '(start mosquitto to run it; with CI=true its absence fails the test)',
  );
}

/**
 * The collector keeps a persistent session on an external broker (so events wait while it
 * restarts); a test collector will never come back, so its session is dropped.
 */
async function discardSession(clientId: string): Promise<void> {
  const client = await mqtt.connectAsync(`mqtt://${MOSQUITTO.host}:${MOSQUITTO.port}`, {
    clientId,
    clean: true,
    reconnectPeriod: 0,
  });
  await client.endAsync();
}

/**
 * The walking skeleton, collector half: enroll over HTTP with a real token, publish a
 * hand-signed envelope with the issued credentials, then find it in the API and receive the
 * collector's signed ack — against the embedded aedes and against a real Mosquitto.
 */
const variants = [
  { name: 'embedded aedes broker', external: false, run: true },
  // In CI the Mosquitto variant always runs, so a missing broker is a failure, not a skip.
  { name: 'external Mosquitto (broker.url)', external: true, run: mosquittoUp || inCi },
];

describe.each(variants)('collector ingest through $name', ({ external, run }) => {
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector | undefined;
  let agentClient: MqttClient | undefined;

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await agentClient?.endAsync();
    await collector?.stop();
    if (external && collector) await discardSession(`smew-${collector.collectorId}`);
    dir.remove();
  });

  it.runIf(run)('stores a signed event, lists it over HTTP and acks it with a signed ack', async () => {
    const overrides = external ? { broker: { url: `mqtt://${MOSQUITTO.host}:${MOSQUITTO.port}` } } : {};
    collector = await startCollector(testCollectorConfig(dir.path, overrides), {
      logger: createLogger('test', 'warn'),
    });
    const { token } = await createEnrollmentToken(collector.store, { unit: '测试单位' });
    const apiKey = await createApiKey(collector.store, { name: 'test', role: 'viewer' });

    const agent = makeTestAgent();
    const enrolled = await enrollOverHttp(collector.httpUrl, agent, token);
    expect(enrolled.agentId).toBe(agent.id);
    expect(enrolled.unit).toBe('测试单位');
    expect(enrolled.collector.id).toBe(collector.collectorId);
    expect(enrolled.broker.username).toBe(agent.id);

    agentClient = await connectAsAgent(
      enrolled.broker.url,
      enrolled.broker.username,
      enrolled.broker.password,
    );
    const acked = nextAck(agentClient, agent.id, (ack) => ack.ack >= 1);
    const envelope = signedEvent(agent, 1);
    await agentClient.publishAsync(agentTopic(agent.id, 'events'), JSON.stringify(envelope), { qos: 1 });

    const ack = await acked;
    expect(ackSchema.parse(ack)).toMatchObject({
      v: 1,
      agent: agent.id,
      ack: 1,
      collector: collector.collectorId,
    });
    expect(verifyMessage(ack, ed25519Suite.verifier(enrolled.collector.publicKey))).toBe(true);

    const response = await fetch(`${collector.httpUrl}/api/v1/events?agent=${agent.id}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(response.status).toBe(200);
    const { items } = (await response.json()) as {
      items: { seq: number; envelope: Record<string, unknown> }[];
    };
    expect(items).toHaveLength(1);
    expect(items[0]!.seq).toBe(1);
    expect(items[0]!.envelope).toEqual(envelope);
    // Anyone holding the agent's public key can check the stored envelope again.
    expect(verifyMessage(items[0]!.envelope, ed25519Suite.verifier(agent.keys.publicKey))).toBe(true);
  });
});
