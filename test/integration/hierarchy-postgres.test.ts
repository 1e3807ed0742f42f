/**
 * The hierarchy and the transport on PostgreSQL, through real collectors in process: a city on
 * one schema, and 甲单位 run by two collectors sharing another schema and one collector key, as
 * a province scales a node out. Both unit collectors scan and push at once; the city still
 * receives each report once, and the unit's outbox holds each once with gap-free seqs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import { agentTopic } from '../../shared/topics.js';
import { measuresDone } from '../support/clock-records.js';
import { eventually } from '../support/eventually.js';
import { connectAsAgent, enrollOverHttp, makeTestAgent, signedEvent } from '../support/collector-harness.js';
import {
  enrollNode,
  makeNode,
  receivedReports,
  run,
  startNode,
  type ChainNode,
  unitIncident,
  createSignedIncident,
} from '../support/collector-chain.js';
import { adminQuery, createTestSchema, postgresAvailable, type TestSchema } from '../support/postgres.js';

const ready = await postgresAvailable();

describe.runIf(ready)('a unit run by two collectors on one PostgreSQL, below a city on PostgreSQL', () => {
  let city: ChainNode;
  let unitA: ChainNode;
  let unitB: ChainNode;
  const schemas: TestSchema[] = [];

  beforeAll(async () => {
    const citySchema = await createTestSchema();
    const unitSchema = await createTestSchema();
    schemas.push(citySchema, unitSchema);
    city = await makeNode('pg-city', '某市保密局', 'city', { store: { url: citySchema.url } });
    unitA = await makeNode('pg-unit-a', '甲单位', 'unit', { store: { url: unitSchema.url } });
    unitB = await makeNode('pg-unit-b', '甲单位', 'unit', { store: { url: unitSchema.url } });
    // One node, one key: the second collector uses the first one's identity.
    unitB.config = { ...unitB.config, identity: unitA.config.identity };
    await startNode(city);
    await startNode(unitA);
    await enrollNode(unitA, city);
    await startNode(unitB);
  }, 90_000);

  afterAll(async () => {
    for (const node of [unitA, unitB, city]) await node?.running?.stop();
    for (const node of [unitA, unitB, city]) node?.dir.remove();
    for (const schema of schemas) await schema.drop();
  });

  it('both unit collectors see the parent the first one enrolled at, and the city its child', async () => {
    expect((await run(unitB).store.hierarchy.getParent())?.unit).toBe('某市保密局');
    const [child] = await run(city).store.hierarchy.listSubordinates({});
    expect(child).toMatchObject({ unit: '甲单位', direct: true, id: run(unitA).collectorId });
    expect(run(unitB).collectorId).toBe(run(unitA).collectorId);
  });

  it('an agent enrolled at one unit collector has its broker account and events in the shared store', async () => {
    const agent = makeTestAgent();
    const { token } = await createEnrollmentToken(run(unitA).store, { unit: '甲单位' });
    const enrolled = await enrollOverHttp(run(unitA).httpUrl, agent, token);
    const accounts = await run(unitB).store.transport.listBrokerAccounts();
    expect(accounts.find((a) => a.agentId === agent.id)?.passwordHash).toMatch(/^\$7\$/);
    const client = await connectAsAgent(
      enrolled.broker.url,
      enrolled.broker.username,
      enrolled.broker.password,
    );
    await client.publishAsync(agentTopic(agent.id, 'events'), JSON.stringify(signedEvent(agent, 1)), {
      qos: 1,
    });
    await client.endAsync();
    await eventually(
      async () =>
        (await run(unitB).store.listEvents({ agentId: agent.id, limit: 10 })).length === 1 ? true : undefined,
      { what: 'the event in the shared store' },
    );
    const at = new Date().toISOString();
    expect(
      await run(unitB).store.transport.rotateKey({ agentId: agent.id, alg: 'ed25519', publicKey: 'NEW', at }),
    ).toBe(true);
    expect((await run(unitA).store.transport.listKeys(agent.id)).map((k) => k.publicKey)).toEqual([
      agent.keys.publicKey,
      'NEW',
    ]);
    expect(await run(unitA).store.revokeAgent(agent.id, at)).toBe(true);
    expect(await run(unitB).store.transport.listRevokedSince(at)).toEqual([
      { agentId: agent.id, revokedAt: at },
    ]);
  });

  it('incidents raised at the unit reach the city once, though both unit collectors scan and push them', async () => {
    const unitId = run(unitA).collectorId;
    const N = 6;
    for (let i = 0; i < N; i++) {
      await createSignedIncident(
        run(unitA).store,
        unitIncident(`inc-pg-${i}`, `共享数据库的事件 ${i}`, {
          level: '机密',
          measures: measuresDone('已断网'),
        }),
      );
    }
    await Promise.all([run(unitA).hierarchy.scan(), run(unitB).hierarchy.scan()]);
    const atCity = await eventually(
      async () => {
        const found = await receivedReports(city, 'incident', unitId);
        return found.length >= N ? found : undefined;
      },
      { what: `the ${N} incidents at the city` },
    );
    expect(atCity.map((r) => r.report.key).sort()).toEqual(
      Array.from({ length: N }, (_, i) => `incident:inc-pg-${i}`).sort(),
    );
    await eventually(
      async () => ((await run(unitB).store.hierarchy.outboxStats()).pending === 0 ? true : undefined),
      { what: 'the unit outbox drained' },
    );
    // Every own report (incidents and whatever else the unit raised) took one seq, none spent
    // twice or skipped; each reached the city once, or was refused once.
    const queued = await adminQuery<{ origin_seq: string }>(
      `SELECT origin_seq FROM ${schemas[1]!.name}.hierarchy_outbox WHERE origin = $1 ORDER BY origin_seq`,
      [unitId],
    );
    expect(queued.map((q) => Number(q.origin_seq))).toEqual(
      Array.from({ length: queued.length }, (_, i) => i + 1),
    );
    const atCityAll = await run(city).store.hierarchy.listReports({ origin: unitId, limit: 1000 });
    expect(new Set(atCityAll.map((r) => r.seq)).size).toBe(atCityAll.length);
    const stats = await run(unitA).store.hierarchy.outboxStats();
    expect(stats.delivered).toBe(atCityAll.length);
    expect(stats.delivered + stats.rejected).toBe(queued.length);
  });
});
