/**
 * Helpers for the collector's own tests: a collector config on free ports in a temp dir, an
 * agent key pair enrolled over HTTP, and signed envelopes built by hand (no agent code), so
 * these tests pin the wire contract rather than one implementation of it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import type { KeyPairText } from '../../shared/crypto/suite.js';
import { ENROLL_PATH, signEnrollment } from '../../shared/enrollment-proof.js';
import { signMessage, type Ack } from '../../shared/envelope.js';
import { agentIdFromPublicKey } from '../../shared/identity.js';
import { agentTopic } from '../../shared/topics.js';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import { collectorConfigSchema, type CollectorConfig } from '../../collector/config.js';
import type { Store } from '../../collector/store/store.js';

export function tempDir(prefix = 'smew-collector-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A collector config on loopback with kernel-chosen ports, its data under `dir`. */
export function testCollectorConfig(dir: string, overrides: Record<string, unknown> = {}): CollectorConfig {
  return collectorConfigSchema.parse({
    unit: '测试单位',
    http: { listen: '127.0.0.1:0' },
    broker: { listen: '127.0.0.1:0' },
    store: { url: `sqlite:${join(dir, 'smew.db')}` },
    identity: { dir: join(dir, 'identity') },
    ingest: { ackDelay: 10 },
    ...overrides,
  });
}

export interface TestAgent {
  keys: KeyPairText;
  id: string;
  sign: (data: Uint8Array) => string;
}

export function makeTestAgent(): TestAgent {
  const keys = ed25519Suite.generateKeyPair();
  return { keys, id: agentIdFromPublicKey(keys.publicKey), sign: ed25519Suite.signer(keys.privateKey) };
}

export interface EnrollReply {
  agentId: string;
  unit: string;
  collector: { id: string; alg: string; publicKey: string };
  broker: { url: string; urls?: string[]; username: string; password: string };
}

/** Whom an enrollment at `httpUrl` is signed for, and that collector's clock (GET /api/v1/enroll). */
export async function enrollTarget(httpUrl: string): Promise<{ collector: string; time: string }> {
  const response = await fetch(`${httpUrl}${ENROLL_PATH}`);
  return (await response.json()) as { collector: string; time: string };
}

/**
 * A signed enrollment body, as `smew agent enroll` sends it from a machine whose clock agrees with
 * the collector's (a collector on a test clock included); `ts` and `collector` may be overridden.
 */
export async function signedEnrollBody(
  httpUrl: string,
  agent: Pick<TestAgent, 'keys' | 'sign'>,
  token: string,
  options: { ts?: Date; collector?: string } = {},
): Promise<Record<string, unknown>> {
  const target = await enrollTarget(httpUrl);
  const proof = signEnrollment(
    {
      token,
      publicKey: agent.keys.publicKey,
      alg: agent.keys.alg,
      collector: options.collector ?? target.collector,
      ts: options.ts ?? new Date(target.time),
    },
    agent.sign,
  );
  return { ...proof, hostname: 'test-host' };
}

export async function enrollOverHttp(httpUrl: string, agent: TestAgent, token: string): Promise<EnrollReply> {
  const response = await fetch(`${httpUrl}${ENROLL_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(await signedEnrollBody(httpUrl, agent, token)),
  });
  const body = (await response.json()) as EnrollReply & { error?: string };
  if (response.status !== 200) throw new Error(`enroll failed: ${response.status} ${body.error}`);
  return body;
}

/**
 * Enrolls `agent` (by default a fresh key pair) over HTTP at a running collector with a one-hour
 * token for `unit` (by default the test config's unit), as `smew agent enroll` would.
 */
export async function enrollAgent(
  collector: { store: Store; httpUrl: string },
  options: { unit?: string; agent?: TestAgent } = {},
): Promise<{ agent: TestAgent; reply: EnrollReply }> {
  const agent = options.agent ?? makeTestAgent();
  const unit = options.unit ?? '测试单位';
  const { token } = await createEnrollmentToken(collector.store, { unit, ttlMs: 3_600_000 });
  return { agent, reply: await enrollOverHttp(collector.httpUrl, agent, token) };
}

export function signedEvent(agent: TestAgent, seq: number, overrides: Record<string, unknown> = {}) {
  return signMessage(
    {
      v: 1,
      agent: agent.id,
      seq,
      ts: new Date().toISOString(),
      type: 'net.wireless.present',
      state: 'raised',
      key: 'net.wireless.present:wlp2s0',
      severity: 'high',
      data: { iface: 'wlp2s0', mac: '00:11:22:33:44:55', driver: 'iwlwifi' },
      alg: 'ed25519',
      ...overrides,
    },
    agent.sign,
  );
}

export async function connectAsAgent(url: string, username: string, password: string): Promise<MqttClient> {
  return mqtt.connectAsync(
    url,
    { clientId: username, username, password, reconnectPeriod: 0, protocolVersion: 4 },
    false,
  );
}

/** Resolves with the first ack on the agent's ack topic that satisfies `accept`. */
export function nextAck(client: MqttClient, agentId: string, accept: (ack: Ack) => boolean): Promise<Ack> {
  const topic = agentTopic(agentId, 'ack');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching ack on ${topic}`)), 10_000);
    const onMessage = (t: string, payload: Buffer) => {
      if (t !== topic) return;
      const ack = JSON.parse(payload.toString('utf8')) as Ack;
      if (!accept(ack)) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(ack);
    };
    client.on('message', onMessage);
    client.subscribe(topic, { qos: 1 }, (err) => {
      if (err) reject(err);
    });
  });
}
