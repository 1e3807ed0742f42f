import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { signingBytes, signMessage, verifyMessage } from '../../shared/envelope.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import { eventually } from '../support/eventually.js';
import {
  enrollAgent,
  makeTestAgent,
  signedEvent,
  tempDir,
  testCollectorConfig,
} from '../support/collector-harness.js';

/**
 * Key rotation through the real API and ingest: the old key signs the new, the agent keeps its
 * id and watermark, events signed by the new key are accepted, by the old one refused, and the
 * old events still verify against the key history.
 */
const logger = createLogger('test', 'silent');

describe('agent key rotation', () => {
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector;
  beforeEach(async () => {
    dir = tempDir('smew-rotate-');
    collector = await startCollector(
      testCollectorConfig(dir.path, { ingest: { ackDelay: 10, verifyWorkers: 0 } }),
      {
        logger,
      },
    );
  });
  afterEach(async () => {
    await collector.stop();
    dir.remove();
  });

  function statement(agentId: string, newKey: string, sign: (b: Uint8Array) => string, ts = new Date()) {
    return signMessage(
      {
        v: 1 as const,
        type: 'agent.key.rotate' as const,
        agent: agentId,
        newAlg: 'ed25519' as const,
        newPublicKey: newKey,
        ts: ts.toISOString(),
        alg: 'ed25519' as const,
      },
      sign,
    );
  }

  async function post(agentId: string, body: unknown) {
    const response = await fetch(`${collector.httpUrl}/api/v1/agents/${agentId}/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('keeps the id and history; the new key signs from then on, the old one no longer', async () => {
    const { agent, reply } = await enrollAgent(collector);
    const client = await mqtt.connectAsync(
      collector.brokerUrl,
      { clientId: agent.id, username: agent.id, password: reply.broker.password, reconnectPeriod: 0 },
      false,
    );
    try {
      const first = signedEvent(agent, 1);
      await client.publishAsync(agentTopic(agent.id, 'events'), JSON.stringify(first), { qos: 1 });
      await eventually(async () => (await collector.store.getAgent(agent.id))?.ackedSeq === 1, {
        what: 'seq 1',
      });

      const next = ed25519Suite.generateKeyPair();
      const signNew = ed25519Suite.signer(next.privateKey);
      const good = statement(agent.id, next.publicKey, agent.sign);
      const proof = signNew(signingBytes(good));

      // Refusals first: signed by a stranger, no proof of the new key, stale, wrong agent.
      const stranger = makeTestAgent();
      expect(
        (await post(agent.id, { statement: statement(agent.id, next.publicKey, stranger.sign), proof }))
          .status,
      ).toBe(403);
      expect(
        (await post(agent.id, { statement: good, proof: stranger.sign(signingBytes(good)) })).status,
      ).toBe(403);
      const stale = statement(agent.id, next.publicKey, agent.sign, new Date(Date.now() - 3_600_000));
      expect((await post(agent.id, { statement: stale, proof: signNew(signingBytes(stale)) })).status).toBe(
        400,
      );
      expect((await post(stranger.id, { statement: good, proof })).status).toBe(404);

      const rotated = await post(agent.id, { statement: good, proof });
      expect(rotated.status).toBe(200);
      expect(rotated.body.agentId).toBe(agent.id);
      const record = await collector.store.getAgent(agent.id);
      expect(record).toMatchObject({
        id: agent.id,
        publicKey: next.publicKey,
        ackedSeq: 1,
        unit: '测试单位',
      });
      // A replay of the same statement changes nothing.
      expect((await post(agent.id, { statement: good, proof })).status).toBe(409);

      // The old key no longer signs; the new one does, under the same id and numbering.
      const oldSigned = await collector.ingest.handle(
        agentTopic(agent.id, 'events'),
        Buffer.from(JSON.stringify(signedEvent(agent, 2))),
      );
      expect(oldSigned).toMatchObject({ kind: 'rejected', reason: 'bad-signature' });
      const newAgent = { ...agent, sign: signNew };
      await client.publishAsync(agentTopic(agent.id, 'events'), JSON.stringify(signedEvent(newAgent, 2)), {
        qos: 1,
      });
      await eventually(async () => (await collector.store.getAgent(agent.id))?.ackedSeq === 2, {
        what: 'seq 2',
      });

      // History: both keys, and the first event verifies against the old one.
      const keys = await collector.store.transport.listKeys(agent.id);
      expect(keys.map((k) => [k.publicKey, k.validTo === null])).toEqual([
        [agent.keys.publicKey, false],
        [next.publicKey, true],
      ]);
      const [stored1] = await collector.store
        .listEvents({ agentId: agent.id, limit: 10 })
        .then((events) => events.filter((e) => e.seq === 1));
      expect(verifyMessage(JSON.parse(stored1!.envelope), ed25519Suite.verifier(keys[0]!.publicKey))).toBe(
        true,
      );
    } finally {
      await client.endAsync(true);
    }
  });
});
