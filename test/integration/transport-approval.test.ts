import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfigSchema, type AgentConfig } from '../../agent/config.js';
import { enrollAgent } from '../../agent/enroll.js';
import { startAgent, type RunningAgent } from '../../agent/runner.js';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { systemClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';
import { eventually } from '../support/eventually.js';
import { connectAsAgent, tempDir, testCollectorConfig } from '../support/collector-harness.js';
import { runSmew } from '../support/processes.js';

/**
 * enroll.approval: manual with a real collector and real agents: an enrolled agent is pending,
 * the broker refuses it and its events wait in its outbox (nothing lost); approved through the
 * API (or `smew agents approve`), it is admitted and its held events are stored; rejected, it is
 * revoked. Under auto, enrollment admits at once.
 */
const silent = createLogger('test', 'silent');

describe('manual enrollment approval', () => {
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector;
  let configFile: string;
  const agents: RunningAgent[] = [];

  beforeAll(async () => {
    dir = tempDir('smew-approval-');
    const raw = {
      unit: '测试单位',
      http: { listen: '127.0.0.1:0' },
      broker: { listen: '127.0.0.1:0' },
      store: { url: `sqlite:${join(dir.path, 'smew.db')}` },
      identity: { dir: join(dir.path, 'identity') },
      ingest: { ackDelay: 10, verifyWorkers: 0 },
      enroll: { approval: 'manual' },
      liveness: { revocationPoll: '100ms' },
    };
    configFile = join(dir.path, 'collector.yaml');
    writeFileSync(configFile, JSON.stringify(raw));
    collector = await startCollector(testCollectorConfig(dir.path, raw), { logger: silent });
  });
  afterAll(async () => {
    for (const agent of agents) await agent.stop();
    await collector?.stop();
    dir.remove();
  });

  async function enrolled(name: string): Promise<{ config: AgentConfig; agentId: string; password: string }> {
    const identityDir = join(dir.path, name);
    const { token } = await createEnrollmentToken(collector.store, { unit: '测试单位', ttlMs: 3_600_000 });
    const outcome = await enrollAgent({
      dir: identityDir,
      collectorUrl: collector.httpUrl,
      token,
      clock: systemClock,
    });
    expect(outcome.pendingApproval).toBe(true);
    const config = agentConfigSchema.parse({
      identity: { dir: identityDir },
      collector: { url: collector.httpUrl },
      ack: { timeout: '1s' },
      watch: { netlink: false, uevent: false, sockets: 0 },
    });
    return { config, agentId: outcome.identity.agentId, password: outcome.identity.broker.password };
  }

  /** Starts an agent; `logged` collects what it logs (the broker's refusals among it). */
  async function run(config: AgentConfig, logged: string[] = []): Promise<RunningAgent> {
    const agent = await startAgent(config, {
      logger: pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) }),
      probes: [],
      detectors: [],
      inventory: false,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    agents.push(agent);
    return agent;
  }

  async function api(method: 'GET' | 'POST', path: string, key: string, body?: unknown) {
    const response = await fetch(`${collector.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const stored = async (agentId: string) => collector.store.listEvents({ agentId, limit: 100 });

  it('holds a pending agent’s events in its outbox until a security administrator approves it over the API', async () => {
    const { config, agentId, password } = await enrolled('agent-api');
    // The broker refuses the pending agent: CONNACK 5, not authorized.
    await expect(connectAsAgent(collector.brokerUrl, agentId, password)).rejects.toThrow(/Not authorized/i);
    const logged: string[] = [];
    const agent = await run(config, logged);
    // Twice refused by the broker, as the agent saw it: its first events are in hand and held.
    await eventually(() => logged.filter((l) => /not authori[sz]ed/i.test(l)).length >= 2, {
      what: 'the broker to refuse the pending agent twice',
    });
    expect(agent.isConnected()).toBe(false);
    expect(agent.pendingCount()).toBeGreaterThan(0); // agent.started, held
    expect(await stored(agentId)).toEqual([]);

    const admin = await createApiKey(collector.store, { name: 'admin', role: 'secadmin' });
    const viewer = await createApiKey(collector.store, { name: 'viewer', role: 'viewer' });
    const pending = await api('GET', '/api/v1/agents/pending', viewer);
    expect(pending.status).toBe(200);
    expect(pending.body.items).toEqual([expect.objectContaining({ id: agentId, unit: '测试单位' })]);
    expect(
      (await api('POST', `/api/v1/agents/${agentId}/approval`, viewer, { decision: 'approve' })).status,
    ).toBe(403);

    const approved = await api('POST', `/api/v1/agents/${agentId}/approval`, admin, { decision: 'approve' });
    expect(approved).toMatchObject({
      status: 200,
      body: { id: agentId, state: 'approved', decidedBy: 'admin' },
    });
    await eventually(async () => (await stored(agentId)).some((e) => e.type === 'agent.started'), {
      what: 'the held agent.started stored after approval',
    });
    await eventually(() => agent.pendingCount() === 0, { what: 'the held events acknowledged' });
    expect((await stored(agentId)).map((e) => e.seq)).toEqual([1]);
    // Deciding twice is refused.
    expect(
      (await api('POST', `/api/v1/agents/${agentId}/approval`, admin, { decision: 'reject' })).status,
    ).toBe(409);
    expect((await api('GET', '/api/v1/agents/pending', admin)).body.items).toEqual([]);
  });

  it('smew agents approve admits a waiting agent of a running collector; reject revokes', async () => {
    const first = await enrolled('agent-cli');
    const agent = await run(first.config);
    const listed = await runSmew(['agents', 'pending', '--config', configFile]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(first.agentId);

    const approve = await runSmew(['agents', 'approve', first.agentId, '--config', configFile]);
    expect(approve.stderr).toMatch(/approved ag-/);
    expect(approve.code).toBe(0);
    await eventually(async () => (await stored(first.agentId)).length > 0 && agent.pendingCount() === 0, {
      what: 'the CLI-approved agent delivering',
    });

    const second = await enrolled('agent-rejected');
    const reject = await runSmew(['agents', 'reject', second.agentId, '--config', configFile]);
    expect(reject.code).toBe(0);
    expect((await collector.store.getAgent(second.agentId))?.revokedAt).not.toBeNull();
    await expect(connectAsAgent(collector.brokerUrl, second.agentId, second.password)).rejects.toThrow(
      /Bad username or password/i,
    );
    const again = await runSmew(['agents', 'approve', second.agentId, '--config', configFile]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is not waiting for approval/);
  });
});

describe('approval auto (the default)', () => {
  it('admits at enrollment', async () => {
    const dir = tempDir('smew-approval-auto-');
    const collector = await startCollector(
      testCollectorConfig(dir.path, { ingest: { ackDelay: 10, verifyWorkers: 0 } }),
      { logger: silent },
    );
    try {
      const { token } = await createEnrollmentToken(collector.store, { unit: '测试单位', ttlMs: 3_600_000 });
      const outcome = await enrollAgent({
        dir: join(dir.path, 'agent'),
        collectorUrl: collector.httpUrl,
        token,
        clock: systemClock,
      });
      expect(outcome.pendingApproval).toBe(false);
      const client = await connectAsAgent(
        collector.brokerUrl,
        outcome.identity.agentId,
        outcome.identity.broker.password,
      );
      await client.endAsync();
    } finally {
      await collector.stop();
      dir.remove();
    }
  });
});

describe('manual approval with Mosquitto’s files', () => {
  it('writes no login for a waiting agent and adds it once approved', async () => {
    const dir = tempDir('smew-approval-mosquitto-');
    const passwordFile = join(dir.path, 'passwd');
    const collector = await startCollector(
      testCollectorConfig(dir.path, {
        ingest: { ackDelay: 10, verifyWorkers: 0 },
        enroll: { approval: 'manual' },
        broker: {
          listen: '127.0.0.1:0',
          username: 'smew-collector',
          password: 'collector-secret-for-test',
          mosquitto: { passwordFile, aclFile: join(dir.path, 'acl') },
        },
      }),
      { logger: silent },
    );
    try {
      const { token } = await createEnrollmentToken(collector.store, { unit: '测试单位', ttlMs: 3_600_000 });
      const { identity } = await enrollAgent({
        dir: join(dir.path, 'agent'),
        collectorUrl: collector.httpUrl,
        token,
        clock: systemClock,
      });
      const logins = () => readFileSync(passwordFile, 'utf8');
      expect(logins()).toContain('smew-collector:');
      expect(logins()).not.toContain(identity.agentId);
      const admin = await createApiKey(collector.store, { name: 'admin', role: 'secadmin' });
      const response = await fetch(`${collector.httpUrl}/api/v1/agents/${identity.agentId}/approval`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ decision: 'approve' }),
      });
      expect(response.status).toBe(200);
      await eventually(() => logins().includes(`${identity.agentId}:$7$`), { what: 'the approved login' });
    } finally {
      await collector.stop();
      dir.remove();
    }
  });
});
