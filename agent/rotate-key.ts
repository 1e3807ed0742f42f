import mqtt from 'mqtt';
import type { Clock } from '../shared/clock.js';
import { suiteFor } from '../shared/crypto/suites.js';
import { UserError } from '../shared/errors.js';
import { rotationPath, signRotation } from '../shared/key-rotation.js';
import { readPemFile } from '../shared/tls.js';
import { agentTopic } from '../shared/topics.js';
import { postJson, replyError, type CollectorTrust } from './collector-http.js';
import { agentIdentitySchema, loadIdentity, writeIdentity, type AgentIdentity } from './identity.js';
import { Outbox } from './outbox.js';

/**
 * `smew agent rotate-key`: replaces the agent's key pair and keeps everything else — its id, its
 * seq numbering (the outbox), its history at the collector (collector/key-rotation.ts). The
 * collector takes the new key only with a statement signed by the current key and proven by the
 * new one.
 *
 * Crash-safe in both directions: the new key is written into identity.json (as `pendingKey`)
 * before the request, so an answer lost on the way back is retried with the same key; the
 * collector then answers "already current", and the rotation completes.
 */
export interface RotateKeyOptions {
  /** identity.dir */
  dir: string;
  collectorUrl: string;
  /** broker.url when the config overrides the one enrollment taught. */
  brokerUrl?: string;
  trust?: CollectorTrust;
  clock: Clock;
  timeoutMs?: number;
}

export interface RotateKeyOutcome {
  identity: AgentIdentity;
  previousPublicKey: string;
  /** The collector already held the new key (a retry after a lost answer). */
  resumed: boolean;
}

export async function rotateAgentKey(options: RotateKeyOptions): Promise<RotateKeyOutcome> {
  let identity = loadIdentity(options.dir);
  await refuseWithUndeliveredEvents(options, identity);

  if (!identity.pendingKey) {
    const generated = suiteFor(identity.alg).generateKeyPair();
    identity = { ...identity, pendingKey: generated };
    writeIdentity(options.dir, identity);
  }
  const next = identity.pendingKey!;
  const request = signRotation({
    agentId: identity.agentId,
    current: { alg: identity.alg, sign: suiteFor(identity.alg).signer(identity.privateKey) },
    next: { alg: next.alg, publicKey: next.publicKey, sign: suiteFor(next.alg).signer(next.privateKey) },
    ts: options.clock.now(),
  });
  const endpoint = `${options.collectorUrl.replace(/\/+$/, '')}${rotationPath(identity.agentId)}`;
  const reply = await postJson(endpoint, request, {
    ...(options.trust ? { trust: options.trust } : {}),
    timeoutMs: options.timeoutMs ?? 15_000,
  });
  const alreadyCurrent = reply.status === 409 && /new key is the current key/.test(replyError(reply));
  if (reply.status !== 200 && !alreadyCurrent) {
    // The pending key stays: running the command again retries with it.
    throw new UserError(
      `the collector at ${endpoint} refused the key rotation (HTTP ${reply.status}): ${replyError(reply)}; ` +
        'the agent keeps its current key',
    );
  }

  const { pendingKey: _done, ...rest } = identity;
  const rotated = agentIdentitySchema.parse({
    ...rest,
    alg: next.alg,
    publicKey: next.publicKey,
    privateKey: next.privateKey,
    // The id stays the one the first key made (SPEC §5: identity is the enrolled key's).
    idPublicKey: identity.idPublicKey ?? identity.publicKey,
    keyRotatedAt: options.clock.now().toISOString(),
  });
  writeIdentity(options.dir, rotated);
  return { identity: rotated, previousPublicKey: identity.publicKey, resumed: alreadyCurrent };
}

/**
 * Events in the outbox are signed already; once the collector holds the new key it would refuse
 * them as bad signatures. So they must be acknowledged first. A stopped agent usually still holds
 * its last events (agent.stopping) whose ack came after it left: the collector's retained ack on
 * the broker says how far it got.
 */
async function refuseWithUndeliveredEvents(
  options: RotateKeyOptions,
  identity: AgentIdentity,
): Promise<void> {
  const outbox = Outbox.open({
    dir: options.dir,
    agentId: identity.agentId,
    alg: identity.alg,
    sign: suiteFor(identity.alg).signer(identity.privateKey),
    collector: identity.collector,
    clock: options.clock,
  });
  let pending: number;
  try {
    if (outbox.pendingCount() > 0) {
      for (const ack of await retainedAcks(options, identity)) outbox.acceptAck(ack);
    }
    pending = outbox.pendingCount();
  } finally {
    outbox.close();
  }
  if (pending > 0) {
    throw new UserError(
      `${pending} event(s) in ${options.dir}/outbox.db are not yet acknowledged by the collector and are signed ` +
        'with the current key, which the collector would no longer accept; run the agent until they are ' +
        'delivered (smew agent run), stop it, and rotate again',
    );
  }
}

/**
 * The collector's acks for this agent waiting at the broker (retained, or queued in the agent's
 * session), gathered for a moment after the first: an agent stopped just now may have its last
 * ack on the way. None when the broker has none or is unreachable.
 */
async function retainedAcks(options: RotateKeyOptions, identity: AgentIdentity): Promise<Buffer[]> {
  const caFile = options.trust?.caFile;
  const topic = agentTopic(identity.agentId, 'ack');
  let client: mqtt.MqttClient | undefined;
  try {
    client = await mqtt.connectAsync(
      options.brokerUrl ?? identity.broker.url,
      {
        clientId: identity.agentId,
        username: identity.broker.username,
        password: identity.broker.password,
        // The agent's own persistent session: its queued acks and policies stay for its next start.
        clean: false,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
        rejectUnauthorized: true,
        ...(caFile ? { ca: readPemFile(caFile, 'collector.ca', 'certificate') } : {}),
      },
      false,
    );
    const connected = client;
    return await new Promise<Buffer[]>((resolve) => {
      const acks: Buffer[] = [];
      let timer = setTimeout(() => resolve(acks), 3_000);
      connected.on('message', (t, payload) => {
        if (t !== topic) return;
        acks.push(payload);
        if (acks.length > 1) return;
        clearTimeout(timer);
        timer = setTimeout(() => resolve(acks), 500);
      });
      connected.subscribe(topic, { qos: 1 }, (err) => {
        if (err) {
          clearTimeout(timer);
          resolve(acks);
        }
      });
    });
  } catch {
    return [];
  } finally {
    await client?.endAsync().catch(() => undefined);
  }
}
