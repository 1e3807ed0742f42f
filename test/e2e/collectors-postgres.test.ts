/**
 * Two `smew collector` processes as a province runs them: one Mosquitto (each collector
 * subscribes as $share/smew/…), one PostgreSQL schema, one collector key. Agents publish a
 * stream of signed events and officers open incidents whose 24 h deadlines are already past;
 * one collector is SIGKILLed in the middle of both. Afterwards every event is stored once,
 * every due clock row fired once, one warning stands per condition, and the surviving
 * collector's API shows what the dead one stored.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { makeTestAgent, enrollOverHttp } from '../support/collector-harness.js';
import { requireMosquittoBinary, startOwnMosquitto, type OwnMosquitto } from '../support/mosquitto.js';
import { freePort } from '../support/ports.js';
import { adminQuery, createTestSchema, postgresAvailable, type TestSchema } from '../support/postgres.js';
import { runSmew, startSmew, type Running } from '../support/processes.js';
import { SimulatedAgent } from '../support/simulated-agent.js';

const AGENTS = 8;
const EVENTS_PER_AGENT = 80;
const TOTAL = AGENTS * EVENTS_PER_AGENT;
const INCIDENTS = 12;
const HOUR_MS = 3_600_000;

interface Member {
  name: string;
  config: string;
  httpUrl: string;
  process?: Running;
}

const ready = (await postgresAvailable()) && requireMosquittoBinary('two collectors on PostgreSQL');

describe.runIf(ready)('two collector processes on one Mosquitto ($share) and one PostgreSQL', () => {
  let dir: string;
  let schema: TestSchema;
  let mosquitto: OwnMosquitto;
  const members: Member[] = [];
  const agents: SimulatedAgent[] = [];
  let apiKey: string;

  async function startMember(member: Member): Promise<void> {
    const running = startSmew(['collector', '--config', member.config]);
    member.process = running;
    await eventually(
      async () => {
        if (running.child.exitCode !== null) throw new Error(`${member.name} exited: ${running.stderr()}`);
        return (await fetch(`${member.httpUrl}/healthz`)).ok;
      },
      { what: `collector ${member.name} /healthz`, timeoutMs: 90_000, intervalMs: 100 },
    );
  }

  async function call<T>(member: Member, method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${member.httpUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} at ${member.name}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'smew-two-collectors-'));
    schema = await createTestSchema();
    mosquitto = await startOwnMosquitto();
    for (const name of ['a', 'b']) {
      const port = await freePort();
      const config = join(dir, `collector-${name}.yaml`);
      writeFileSync(
        config,
        stringify({
          unit: '某省保密局',
          level: 'province',
          http: { listen: `127.0.0.1:${port}` },
          broker: { url: mosquitto.url },
          store: { url: schema.url },
          // One key for the group: agents accept acks from whichever member answers.
          identity: { dir: join(dir, 'collector-identity') },
          ingest: { sharedGroup: 'smew', verifyWorkers: 0 },
          clocks: { lease: '5s' },
        }),
      );
      members.push({ name, config, httpUrl: `http://127.0.0.1:${port}` });
    }
    const created = await runSmew([
      'apikey',
      'create',
      '--name',
      'e2e',
      '--role',
      'secadmin',
      '--config',
      members[0]!.config,
    ]);
    if (created.code !== 0) throw new Error(`apikey create failed: ${created.stderr}`);
    apiKey = created.stdout.trim();
    for (const member of members) await startMember(member);
  }, 240_000);

  afterAll(async () => {
    for (const agent of agents) await agent.close().catch(() => undefined);
    for (const member of members) await member.process?.stop('SIGKILL').catch(() => undefined);
    await mosquitto?.stop();
    await schema?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('one killed mid-stream: every event stored once, every due clock fired once, all of it visible on the other', async () => {
    const [a, b] = members as [Member, Member];
    // Agents enroll at A over HTTP (the token and the agent rows live in the shared database).
    for (let i = 0; i < AGENTS; i++) {
      const token = await runSmew(['token', 'create', '--unit', '某省保密局', '--config', a.config]);
      expect(token.code).toBe(0);
      const agent = makeTestAgent();
      const reply = await enrollOverHttp(a.httpUrl, agent, token.stdout.trim());
      agents.push(await SimulatedAgent.connect(reply.broker.url, agent, reply.collector.publicKey));
    }
    for (const agent of agents) agent.startResending(2000);

    const discoveredAt = new Date(Date.now() - 25 * HOUR_MS).toISOString();
    const openIncident = (member: Member, i: number) =>
      call<{ id: string }>(member, 'POST', '/api/v1/incidents', {
        title: `逾期未报 ${i}`,
        level: '秘密',
        discoveredAt,
      });

    const half = EVENTS_PER_AGENT / 2;
    for (let seq = 1; seq <= half; seq++) await Promise.all(agents.map((agent) => agent.publish(seq)));
    for (let i = 0; i < INCIDENTS / 2; i++) await openIncident(i % 2 === 0 ? a : b, i);
    await a.process!.stop('SIGKILL');
    for (let seq = half + 1; seq <= EVENTS_PER_AGENT; seq++) {
      await Promise.all(agents.map((agent) => agent.publish(seq)));
    }
    for (let i = INCIDENTS / 2; i < INCIDENTS; i++) await openIncident(b, i);

    await eventually(
      async () => {
        const [row] = await adminQuery<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${schema.name}.events`);
        return row!.n === TOTAL;
      },
      { what: `${TOTAL} events in PostgreSQL`, timeoutMs: 60_000 },
    );
    await eventually(() => agents.every((agent) => agent.acked === EVENTS_PER_AGENT), {
      what: 'every agent acked up to its last seq',
      timeoutMs: 30_000,
    });
    const duplicates = await adminQuery<{ n: number }>(
      `SELECT COUNT(*)::int AS n FROM (SELECT agent_id, seq FROM ${schema.name}.events
         GROUP BY agent_id, seq HAVING COUNT(*) > 1) d`,
    );
    expect(duplicates[0]!.n).toBe(0);

    // Every clock row that has fallen due has fired (or been marked stale: entered after its
    // time) exactly once, whichever member claimed it, including those the dead one held.
    const unfired = async () =>
      adminQuery<{ id: number; kind: string }>(
        `SELECT d.id, d.kind FROM ${schema.name}.clock_deadlines d
          WHERE d.due_at <= $1 AND NOT d.superseded::boolean
            AND NOT EXISTS (SELECT 1 FROM ${schema.name}.clock_fires f
                            WHERE f.deadline_id = d.id AND f.outcome IN ('fired', 'stale'))`,
        [new Date().toISOString()],
      );
    await eventually(async () => ((await unfired()).length === 0 ? true : undefined), {
      what: 'every due clock row fired',
      timeoutMs: 30_000,
    });
    const twice = await adminQuery<{ n: number }>(
      `SELECT COUNT(*)::int AS n FROM (SELECT deadline_id, due_at FROM ${schema.name}.clock_fires
         WHERE outcome IN ('fired', 'stale') GROUP BY deadline_id, due_at HAVING COUNT(*) > 1) d`,
    );
    expect(twice[0]!.n).toBe(0);
    const fired = await adminQuery<{ n: number }>(
      `SELECT COUNT(*)::int AS n FROM ${schema.name}.clock_fires WHERE outcome = 'fired'`,
    );
    // Each incident has at least its two overdue 24 h hops (same level, and up).
    expect(fired[0]!.n).toBeGreaterThanOrEqual(2 * INCIDENTS);

    // The survivor serves everything, including what the dead member stored; one warning per condition.
    const events = await call<{ items: unknown[] }>(b, 'GET', `/api/v1/events?limit=${TOTAL + 10}`);
    expect(events.items).toHaveLength(TOTAL);
    const incidents = await call<{ items: { id: string }[] }>(b, 'GET', '/api/v1/incidents');
    expect(incidents.items).toHaveLength(INCIDENTS);
    const warnings = await eventually(
      async () => {
        const list = await call<{ items: { key: string; rule: string }[] }>(
          b,
          'GET',
          '/api/v1/warnings?limit=1000',
        );
        const clockWarnings = list.items.filter((w) => w.rule.startsWith('incident'));
        return clockWarnings.length >= INCIDENTS ? list.items : undefined;
      },
      { what: 'the incidents’ overdue warnings', timeoutMs: 30_000 },
    );
    const keys = warnings.map((w) => `${w.rule}|${w.key}`);
    expect(new Set(keys).size).toBe(keys.length);
    console.log(
      `[two collectors] ${TOTAL} events stored once after SIGKILL of one; ${fired[0]!.n} clock rows fired once; ` +
        `${warnings.length} warnings, none doubled`,
    );
  }, 240_000);
});
