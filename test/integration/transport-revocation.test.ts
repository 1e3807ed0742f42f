import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { agentsRevokeCommand } from '../../collector/commands/agent-admin.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { parseCommandArgs } from '../../shared/cli.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import { eventually } from '../support/eventually.js';
import {
  connectAsAgent,
  enrollAgent,
  signedEvent,
  tempDir,
  type TestAgent,
  testCollectorConfig,
} from '../support/collector-harness.js';

/**
 * Revocation with the collector running: through the API (cut off at once) and through
 * `smew agents revoke` writing the store (enforced within liveness.revocationPoll). A revoked
 * agent cannot reconnect, and anything still arriving from it is quarantined as `revoked`.
 */
const logger = createLogger('test', 'silent');

describe('agent revocation', () => {
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector;
  const clients: MqttClient[] = [];

  beforeEach(async () => {
    dir = tempDir('smew-revoke-');
    const settings = {
      store: { url: `sqlite:${join(dir.path, 'smew.db')}` },
      liveness: { revocationPoll: '200ms' },
      ingest: { ackDelay: 10, verifyWorkers: 0 },
    };
    writeFileSync(join(dir.path, 'collector.yaml'), JSON.stringify(settings));
    collector = await startCollector(testCollectorConfig(dir.path, settings), { logger });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.endAsync(true);
    await collector.stop();
    dir.remove();
  });

  async function enrolledAndConnected(): Promise<{ agent: TestAgent; password: string; client: MqttClient }> {
    const { agent, reply } = await enrollAgent(collector);
    const client = await connect(agent, reply.broker.password);
    return { agent, password: reply.broker.password, client };
  }

  async function connect(agent: TestAgent, password: string): Promise<MqttClient> {
    const client = await connectAsAgent(collector.brokerUrl, agent.id, password);
    clients.push(client);
    return client;
  }

  function closed(client: MqttClient): Promise<number> {
    const started = Date.now();
    return new Promise((resolve) => client.once('close', () => resolve(Date.now() - started)));
  }

  async function api(path: string, key: string) {
    const response = await fetch(`${collector.httpUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('API: disconnects at once, refuses the reconnect, quarantines later messages as revoked, counts them', async () => {
    const { agent, password, client } = await enrolledAndConnected();
    const admin = await createApiKey(collector.store, { name: 'admin', role: 'sysadmin' });
    const viewer = await createApiKey(collector.store, { name: 'viewer', role: 'viewer' });
    const otherUnit = await createApiKey(collector.store, {
      name: 'other',
      role: 'sysadmin',
      unit: '别的单位',
    });

    expect((await api(`/api/v1/agents/${agent.id}/revoke`, viewer)).status).toBe(403);
    expect((await api(`/api/v1/agents/${agent.id}/revoke`, otherUnit)).status).toBe(404);
    expect((await api('/api/v1/agents/ag-aaaaaaaaaaaaaaaaaaaa/revoke', admin)).status).toBe(404);

    const cut = closed(client);
    const revoked = await api(`/api/v1/agents/${agent.id}/revoke`, admin);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: agent.id, online: false });
    expect(typeof revoked.body.revokedAt).toBe('string');
    const cutAfterMs = await cut;
    expect(cutAfterMs).toBeLessThan(1000);
    expect((await api(`/api/v1/agents/${agent.id}/revoke`, admin)).status).toBe(409);

    await expect(connect(agent, password)).rejects.toThrow(/Bad username or password|Not authorized/i);

    // A message from it that still reaches ingest (in flight, or through an external broker).
    const outcome = await collector.ingest.handle(
      agentTopic(agent.id, 'events'),
      Buffer.from(JSON.stringify(signedEvent(agent, 1))),
    );
    expect(outcome).toMatchObject({ kind: 'rejected', reason: 'revoked' });
    const quarantine = await collector.store.listQuarantine({ limit: 10 });
    expect(quarantine.map((q) => q.reason)).toContain('revoked');
    const metrics = await (await fetch(`${collector.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/smew_ingest_rejected_total\{reason="revoked"\} [1-9]/);
    // Enrollment does not revive a revoked key.
    await expect(enrollAgent(collector, { agent })).rejects.toThrow(/403/);
  });

  it('smew agents revoke, from another process’s point of view: the running collector cuts the agent off within the poll', async () => {
    const { agent, client } = await enrolledAndConnected();
    const bystander = await enrolledAndConnected();
    const cut = closed(client);
    const command = agentsRevokeCommand;
    const code = await command.run(
      parseCommandArgs(command, [agent.id, '--config', join(dir.path, 'collector.yaml')]),
    );
    expect(code).toBe(0);
    expect((await collector.store.getAgent(agent.id))?.revokedAt).not.toBeNull();
    expect(await cut).toBeLessThan(2_000);
    // Others are untouched.
    await bystander.client.publishAsync(
      agentTopic(bystander.agent.id, 'events'),
      JSON.stringify(signedEvent(bystander.agent, 1)),
      { qos: 1 },
    );
    await eventually(async () => (await collector.store.getAgent(bystander.agent.id))?.ackedSeq === 1, {
      what: 'the bystander’s event to be stored',
    });
    expect(bystander.client.connected).toBe(true);
  });

  it('smew agents revoke names the mistake: a malformed or unknown id', async () => {
    const config = ['--config', join(dir.path, 'collector.yaml')];
    await expect(
      agentsRevokeCommand.run(parseCommandArgs(agentsRevokeCommand, ['nope', ...config])),
    ).rejects.toThrow(/AGENT_ID: found "nope"; expected an agent id/);
    await expect(
      agentsRevokeCommand.run(parseCommandArgs(agentsRevokeCommand, ['ag-aaaaaaaaaaaaaaaaaaaa', ...config])),
    ).rejects.toThrow(/no agent ag-aaaaaaaaaaaaaaaaaaaa is enrolled/);
  });
});
