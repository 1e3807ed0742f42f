import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfigSchema, type AgentConfig } from '../../agent/config.js';
import { enrollAgent } from '../../agent/enroll.js';
import { loadIdentity, writeIdentity } from '../../agent/identity.js';
import { Outbox } from '../../agent/outbox.js';
import { rotateAgentKey } from '../../agent/rotate-key.js';
import { startAgent } from '../../agent/runner.js';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { systemClock } from '../../shared/clock.js';
import { suiteFor } from '../../shared/crypto/suites.js';
import { verifyMessage } from '../../shared/envelope.js';
import { rotationPath, signRotation } from '../../shared/key-rotation.js';
import { createLogger } from '../../shared/log.js';
import { eventually } from '../support/eventually.js';
import { tempDir, testCollectorConfig } from '../support/collector-harness.js';
import { runSmew } from '../support/processes.js';

/**
 * `smew agent rotate-key` against a real collector: the agent proves its current key, writes the
 * new one (0600), keeps its id and seq numbering, and its next events verify with the new key;
 * a rotation whose answer was lost completes on the next attempt; undelivered events stop it.
 */
const silent = createLogger('test', 'silent');

describe('agent key rotation, end to end', () => {
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector;

  beforeAll(async () => {
    dir = tempDir('smew-agent-rotate-');
    collector = await startCollector(
      testCollectorConfig(dir.path, { ingest: { ackDelay: 10, verifyWorkers: 0 } }),
      { logger: silent },
    );
  });
  afterAll(async () => {
    await collector?.stop();
    dir.remove();
  });

  async function enrolledAgent(name: string): Promise<{ config: AgentConfig; configFile: string }> {
    const identityDir = join(dir.path, name);
    const { token } = await createEnrollmentToken(collector.store, { unit: '测试单位', ttlMs: 3_600_000 });
    await enrollAgent({ dir: identityDir, collectorUrl: collector.httpUrl, token, clock: systemClock });
    const raw = {
      identity: { dir: identityDir },
      collector: { url: collector.httpUrl },
      ack: { timeout: '1s' },
      watch: { netlink: false, uevent: false, sockets: 0 },
    };
    const configFile = join(dir.path, `${name}.yaml`);
    writeFileSync(configFile, JSON.stringify(raw));
    return { config: agentConfigSchema.parse(raw), configFile };
  }

  /** Runs the agent until the collector has acknowledged everything it sent, then stops it. */
  async function runUntilAcked(config: AgentConfig): Promise<void> {
    const agent = await startAgent(config, {
      logger: silent,
      probes: [],
      detectors: [],
      backoff: { initialMs: 50, maxMs: 200 },
    });
    try {
      await eventually(() => agent.isConnected() && agent.pendingCount() === 0, {
        what: 'every event acked',
      });
    } finally {
      // agent.stopping is recorded now; its ack usually arrives after the agent has left.
      await agent.stop();
    }
    // Wait for that ack as rotate-key will find it (retained at the broker, after the store
    // moved): the collector may still be storing agent.stopping when the agent is gone.
    const agentId = loadIdentity(config.identity.dir).agentId;
    await eventually(
      async () => {
        const stored = await collector.store.listEvents({ agentId, limit: 1000 });
        const stopping = stored.find((e) => e.type === 'agent.stopping');
        return stopping !== undefined && (await collector.store.getAgent(agentId))!.ackedSeq >= stopping.seq;
      },
      { what: 'the collector to ack agent.stopping' },
    );
  }

  it('smew agent rotate-key keeps the id, seq and history; the new key signs from then on', async () => {
    const { config, configFile } = await enrolledAgent('agent-a');
    const before = loadIdentity(config.identity.dir);
    await runUntilAcked(config);
    const ackedBefore = (await collector.store.getAgent(before.agentId))!.ackedSeq;
    expect(ackedBefore).toBeGreaterThanOrEqual(2); // agent.started, agent.stopping

    const result = await runSmew(['agent', 'rotate-key', '--config', configFile]);
    expect(result.stderr).toMatch(/rotated the key of ag-/);
    expect(result.code).toBe(0);
    const after = loadIdentity(config.identity.dir);
    expect(result.stdout.trim()).toBe(after.publicKey);
    expect(after).toMatchObject({
      agentId: before.agentId,
      idPublicKey: before.publicKey,
      unit: before.unit,
    });
    expect(after.publicKey).not.toBe(before.publicKey);
    expect(after.pendingKey).toBeUndefined();
    expect(statSync(join(config.identity.dir, 'identity.json')).mode & 0o777).toBe(0o600);

    const record = await collector.store.getAgent(before.agentId);
    expect(record).toMatchObject({ publicKey: after.publicKey, ackedSeq: ackedBefore });
    const keys = await collector.store.transport.listKeys(before.agentId);
    expect(keys.map((k) => k.publicKey)).toEqual([before.publicKey, after.publicKey]);

    // The agent starts again under the same id; numbering carries on; the new key verifies.
    await runUntilAcked(config);
    const events = (await collector.store.listEvents({ agentId: before.agentId, limit: 100 })).sort(
      (a, b) => a.seq - b.seq,
    );
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.length).toBeGreaterThan(ackedBefore);
    const verifyOld = suiteFor(before.alg).verifier(before.publicKey);
    const verifyNew = suiteFor(after.alg).verifier(after.publicKey);
    for (const event of events) {
      const envelope = JSON.parse(event.envelope) as Record<string, unknown>;
      expect(verifyMessage(envelope, event.seq <= ackedBefore ? verifyOld : verifyNew)).toBe(true);
    }
  });

  it('completes a rotation whose answer was lost, with the same new key', async () => {
    const { config } = await enrolledAgent('agent-b');
    await runUntilAcked(config);
    const identity = loadIdentity(config.identity.dir);
    const pendingKey = suiteFor('ed25519').generateKeyPair();
    writeIdentity(config.identity.dir, { ...identity, pendingKey });
    // The collector took the pending key, but the answer never reached the agent.
    const request = signRotation({
      agentId: identity.agentId,
      current: { alg: identity.alg, sign: suiteFor(identity.alg).signer(identity.privateKey) },
      next: {
        alg: 'ed25519',
        publicKey: pendingKey.publicKey,
        sign: suiteFor('ed25519').signer(pendingKey.privateKey),
      },
      ts: new Date(),
    });
    const response = await fetch(`${collector.httpUrl}${rotationPath(identity.agentId)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    expect(response.status).toBe(200);

    const outcome = await rotateAgentKey({
      dir: config.identity.dir,
      collectorUrl: collector.httpUrl,
      clock: systemClock,
    });
    expect(outcome.resumed).toBe(true);
    expect(loadIdentity(config.identity.dir)).toMatchObject({
      agentId: identity.agentId,
      publicKey: pendingKey.publicKey,
      privateKey: pendingKey.privateKey,
    });
    expect((await collector.store.getAgent(identity.agentId))?.publicKey).toBe(pendingKey.publicKey);
  });

  it('refuses while events signed with the current key wait in the outbox, and changes nothing', async () => {
    const { config } = await enrolledAgent('agent-c');
    const identity = loadIdentity(config.identity.dir);
    const outbox = Outbox.open({
      dir: config.identity.dir,
      agentId: identity.agentId,
      alg: identity.alg,
      sign: suiteFor(identity.alg).signer(identity.privateKey),
      collector: identity.collector,
      clock: systemClock,
    });
    outbox.append([
      { type: 'agent.started', state: 'raised', key: 'agent.started', severity: 'info', data: {} },
    ]);
    outbox.close();
    await expect(
      rotateAgentKey({ dir: config.identity.dir, collectorUrl: collector.httpUrl, clock: systemClock }),
    ).rejects.toThrow(/1 event\(s\) in .*outbox\.db are not yet acknowledged .*run the agent until they are/);
    expect(loadIdentity(config.identity.dir)).toEqual(identity);
    expect((await collector.store.getAgent(identity.agentId))?.publicKey).toBe(identity.publicKey);
  });

  it('keeps the current key when the collector refuses (revoked agent)', async () => {
    const { config } = await enrolledAgent('agent-d');
    const identity = loadIdentity(config.identity.dir);
    await collector.store.revokeAgent(identity.agentId, new Date().toISOString());
    await expect(
      rotateAgentKey({ dir: config.identity.dir, collectorUrl: collector.httpUrl, clock: systemClock }),
    ).rejects.toThrow(
      /refused the key rotation \(HTTP 403\): agent .* is revoked; the agent keeps its current key/,
    );
    const after = loadIdentity(config.identity.dir);
    expect(after.publicKey).toBe(identity.publicKey);
    expect(after.pendingKey).toBeDefined();
  });
});
