/**
 * Three (and a sibling: four) real collectors chained on loopback, in process: 甲单位 (unit) →
 * 某县 (county) → 某市 (city), plus 乙单位 beside 甲单位. Real SQLite, real HTTP, real embedded
 * brokers and a real agent key signing the evidence; nothing mocked.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import { HIERARCHY_VERSION, sign, verifiedBy } from '../../collector/hierarchy/messages.js';
import { loadOrCreateCollectorIdentity } from '../../collector/identity.js';
import { measuresDone } from '../support/clock-records.js';
import { eventually } from '../support/eventually.js';
import { connectAsAgent, enrollOverHttp, makeTestAgent, signedEvent } from '../support/collector-harness.js';
import {
  callApi,
  enrollNode,
  makeNode,
  receivedReports,
  run,
  startNode,
  type ChainNode,
  unitIncident,
  createSignedIncident,
  signOffIncidentReport,
} from '../support/collector-chain.js';
import { agentTopic } from '../../shared/topics.js';

describe('a chain of collectors: unit → county → city', () => {
  let unit: ChainNode;
  let sibling: ChainNode;
  let county: ChainNode;
  let city: ChainNode;
  let eventId: number;

  beforeAll(async () => {
    city = await makeNode('city', '某市保密局', 'city');
    county = await makeNode('county', '某县保密局', 'county');
    unit = await makeNode('unit', '甲单位', 'unit');
    sibling = await makeNode('sibling', '乙单位', 'unit');
    for (const node of [city, county, unit, sibling]) await startNode(node);
    await enrollNode(county, city);
    await enrollNode(unit, county);
    await enrollNode(sibling, county);

    // A real agent at the unit sends a signed event; it becomes a warning and an incident's evidence.
    const agent = makeTestAgent();
    const { token } = await createEnrollmentToken(run(unit).store, { unit: '甲单位' });
    const enrolled = await enrollOverHttp(run(unit).httpUrl, agent, token);
    // Registered before it reports, so what goes up names the terminal (SPEC §8).
    const registrar = await createApiKey(run(unit).store, { name: 'unit-registrar', role: 'secadmin' });
    const registered = await callApi(unit, registrar, '/api/v1/terminals', {
      assetNo: 'JSJ-9',
      level: '秘密',
      agentId: agent.id,
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    const client = await connectAsAgent(
      enrolled.broker.url,
      enrolled.broker.username,
      enrolled.broker.password,
    );
    await client.publishAsync(agentTopic(agent.id, 'events'), JSON.stringify(signedEvent(agent, 1)), {
      qos: 1,
    });
    await client.endAsync();
    const [event] = await eventually(
      async () => {
        const events = await run(unit).store.listEvents({ limit: 10 });
        return events.length > 0 ? events : undefined;
      },
      { what: 'the event stored at the unit' },
    );
    eventId = event!.id;
  }, 60_000);

  afterAll(async () => {
    for (const node of [unit, sibling, county, city]) await node.running?.stop();
    for (const node of [unit, sibling, county, city]) node.dir.remove();
  });

  it('knows the tree at every level', async () => {
    const atCity = await eventually(
      async () => {
        const subs = await run(city).store.hierarchy.listSubordinates({});
        return subs.length === 3 ? subs : undefined;
      },
      { what: 'the city to know county, 甲单位 and 乙单位' },
    );
    expect(atCity.map((s) => [s.unit, s.level, s.direct]).sort()).toEqual([
      ['乙单位', 'unit', false],
      ['某县保密局', 'county', true],
      ['甲单位', 'unit', false],
    ]);
    const parent = await run(unit).store.hierarchy.getParent();
    expect(parent?.unit).toBe('某县保密局');
    expect(parent?.publicKey).toBe(loadOrCreateCollectorIdentity(county.config.identity.dir).publicKey);
  });

  it('an incident raised at the unit arrives at county and city once, signed by the unit, agent evidence intact', async () => {
    const now = new Date().toISOString();
    await createSignedIncident(
      run(unit).store,
      unitIncident('inc-chain-1', '涉密计算机疑似泄密', {
        level: '机密',
        discoverySource: 'evidence',
        measures: measuresDone('已断网'),
        evidence: [eventId],
        // The test's own time: the deadlines are checked against it.
        discoveredAt: now,
        createdAt: now,
      }),
    );
    await run(unit).hierarchy.scan();
    const unitId = run(unit).collectorId;
    const [atCity] = await eventually(
      async () => {
        const found = await receivedReports(city, 'incident', unitId);
        return found.length > 0 ? found : undefined;
      },
      { what: 'the incident at the city' },
    );
    expect(await receivedReports(county, 'incident', unitId)).toHaveLength(1);
    expect(await receivedReports(city, 'incident', unitId)).toHaveLength(1);

    // Signed by the unit: verify with the key the county's certificate (in the chain) vouches for.
    const report = atCity!.report;
    expect(report.origin).toBe(unitId);
    // The terminal its evidence came from, by the register's name.
    expect(report.data.terminals).toEqual([expect.objectContaining({ assetNo: 'JSJ-9' })]);
    expect(atCity!.chain).toHaveLength(1);
    const cert = atCity!.chain[0]!;
    const countyKey = loadOrCreateCollectorIdentity(county.config.identity.dir);
    expect(verifiedBy(cert, countyKey.alg, countyKey.publicKey)).toBe(true);
    expect(verifiedBy(report, cert.childAlg, cert.publicKey)).toBe(true);
    expect(verifiedBy({ ...report, key: 'tampered' }, cert.childAlg, cert.publicKey)).toBe(false);
    expect(atCity!.pathUnits).toEqual(['甲单位', '某县保密局']);
    // The agent's envelope travelled as signed.
    expect(report.evidence).toHaveLength(1);
    expect(report.agents?.[0]?.id).toBe((report.evidence![0] as { agent: string }).agent);

    // The county's receipt closed the unit's 第61条 hop with the county's receipt time…
    const hop = await eventually(
      async () => {
        const incident = await run(unit).store.clocks.getIncident('inc-chain-1');
        return incident?.reports.find((r) => r.channel === 'system');
      },
      { what: 'the unit→county hop recorded from the receipt' },
    );
    const atCounty = (await receivedReports(county, 'incident', unitId))[0]!;
    expect(hop.receivedAt).toBe(atCounty.receivedAt);
    expect(hop.fromLevel).toBe('unit');
    expect(hop.to).toBe('county');
    // The county's collector keeps the end-to-end clock from here on (it knows the later hops the
    // unit never hears of): the unit sets no end-to-end row of its own.
    const rows = await run(unit).store.clocks.listDeadlines({ type: 'incident', id: 'inc-chain-1' });
    expect(rows.filter((r) => r.target === 'end-to-end')).toEqual([]);
    // …and both hops (unit→county, county→city) show at the top.
    const hops = await eventually(
      async () => {
        const found = await receivedReports(city, 'incident.hop');
        return found.length >= 2 ? found : undefined;
      },
      { what: 'both hops at the city' },
    );
    expect(hops.map((h) => `${h.report.data.from}>${h.report.data.to}`).sort()).toEqual([
      'county>city',
      'unit>county',
    ]);
    const countyHop = hops.find((h) => h.report.data.from === 'county')!;
    expect(countyHop.report.data.receivedAt).toBe(atCity!.receivedAt);

    // The city's view: every hop with its deadline, and its own onward hop open for 24 h.
    const key = await createApiKey(run(city).store, { name: 'city-incidents', role: 'viewer' });
    const { body } = await callApi<{
      items: {
        id: string;
        hops: { from: string; to: string; dueAt: string; receivedAt: string | null; late: boolean }[];
      }[];
    }>(city, key, '/api/v1/hierarchy/incidents');
    const chain = body.items.find((i) => i.id === 'inc-chain-1')!.hops;
    const plus24h = (iso: string) => new Date(Date.parse(iso) + 24 * 3_600_000).toISOString();
    expect(chain.map((h) => `${h.from}>${h.to}`)).toEqual(['unit>county', 'county>city', 'city>province']);
    expect(chain[0]!.dueAt).toBe(plus24h(now));
    expect(chain[1]!.dueAt).toBe(plus24h(atCounty.receivedAt));
    expect(chain[1]!.receivedAt).toBe(atCity!.receivedAt);
    expect(chain[2]).toMatchObject({ dueAt: plus24h(atCity!.receivedAt), receivedAt: null, late: false });
    expect(chain.every((h) => !h.late)).toBe(true);
  });

  it('an incident goes up only with a measure (第61条), and its 处理结果 goes up in writing as the closure hop (第60条)', async () => {
    const officer = await createApiKey(run(unit).store, { name: 'unit-officer', role: 'secadmin' });
    await run(unit).store.clocks.createIncident(
      unitIncident('inc-no-measure', '尚无补救措施', { measures: [] }),
    );
    await run(unit).hierarchy.scan();
    expect(await run(unit).store.hierarchy.ownReport('incident:inc-no-measure')).toBeUndefined();
    const measured = await callApi(unit, officer, '/api/v1/incidents/inc-no-measure/measures', {
      what: '封存终端',
    });
    expect(measured.status).toBe(201);
    // A measure is not enough: the 泄密事件报告 must also be signed off (签发).
    await run(unit).hierarchy.scan();
    expect(await run(unit).store.hierarchy.ownReport('incident:inc-no-measure')).toBeUndefined();
    await signOffIncidentReport(run(unit).store, { id: 'inc-no-measure', unit: '甲单位', level: '秘密' });
    await run(unit).hierarchy.scan();
    expect(await run(unit).store.hierarchy.ownReport('incident:inc-no-measure')).toBeDefined();

    const closed = await callApi<{ closure: { state: string } }>(
      unit,
      officer,
      '/api/v1/incidents/inc-chain-1/closure',
      { outcome: '已查明为误发，文件已收回' },
    );
    expect(closed.status).toBe(200);
    expect(closed.body.closure).toMatchObject({ state: 'pending' });
    await run(unit).hierarchy.scan();
    const closure = await eventually(
      async () =>
        (await run(unit).store.clocks.getIncident('inc-chain-1'))?.reports.find((r) => r.about === 'closure'),
      { what: 'the closure hop recorded from the county’s receipt' },
    );
    const [atCounty] = await receivedReports(county, 'incident.closure', run(unit).collectorId);
    expect(atCounty!.report.data).toMatchObject({ id: 'inc-chain-1', outcome: '已查明为误发，文件已收回' });
    expect(closure).toMatchObject({ channel: 'system', to: 'county', receivedAt: atCounty!.receivedAt });
    // The closure report is one more hop of its own, never a hop of the 第61条 chain above.
    const key = await createApiKey(run(city).store, { name: 'city-closure', role: 'viewer' });
    await eventually(async () => (await receivedReports(city, 'incident.closure')).length > 0 || undefined, {
      what: 'the closure at the city',
    });
    const { body } = await callApi<{
      items: { id: string; hops: { from: string; to: string }[]; closure: unknown }[];
    }>(city, key, '/api/v1/hierarchy/incidents');
    const atCity = body.items.find((i) => i.id === 'inc-chain-1')!;
    expect(atCity.hops.map((h) => `${h.from}>${h.to}`)).toEqual([
      'unit>county',
      'county>city',
      'city>province',
    ]);
    expect(atCity.closure).toMatchObject({ outcome: '已查明为误发，文件已收回' });
  });

  it('the warning from the agent event goes up too (severity high ≥ parent.minSeverity)', async () => {
    await run(unit).hierarchy.scan();
    const warnings = await eventually(
      async () => {
        const found = await receivedReports(city, 'warning', run(unit).collectorId);
        return found.length > 0 ? found : undefined;
      },
      { what: 'the warning at the city' },
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.report.data.severity).toBe('high');
    expect(warnings[0]!.report.data.terminal).toMatchObject({ assetNo: 'JSJ-9' });
    expect(warnings[0]!.report.evidence).toHaveLength(1);
  });

  it('the county stopped for a while and restarted: nothing lost, nothing doubled', async () => {
    const unitId = run(unit).collectorId;
    const before = (await receivedReports(city, 'incident', unitId)).length;
    await run(county).stop();
    county.running = undefined;
    const N = 30;
    for (let i = 0; i < N; i++) {
      await createSignedIncident(run(unit).store, unitIncident(`inc-outage-${i}`, `断链期间的事件 ${i}`));
    }
    await run(unit).hierarchy.scan();
    // The unit has tried and failed: the backlog waits in its outbox.
    await eventually(async () => (await run(unit).store.hierarchy.getParent())?.lastError ?? undefined, {
      what: 'the unit to notice the county is gone',
    });
    expect((await run(unit).store.hierarchy.outboxStats()).pending).toBeGreaterThanOrEqual(N);
    await startNode(county);
    const all = await eventually(
      async () => {
        const found = await receivedReports(city, 'incident', unitId);
        return found.length >= before + N ? found : undefined;
      },
      { what: 'every incident at the city after the restart', timeoutMs: 30_000 },
    );
    expect(all).toHaveLength(before + N);
    expect(new Set(all.map((r) => r.report.key)).size).toBe(before + N);
    expect(new Set(all.map((r) => r.seq)).size).toBe(before + N);
    await eventually(async () => (await run(unit).store.hierarchy.outboxStats()).pending === 0, {
      what: 'the unit outbox drained',
    });
    const stats = await run(unit).store.hierarchy.outboxStats();
    expect(stats.rejected).toBe(0);
  }, 60_000);

  it('a receipt whose hop a crash cut off is followed up at the next start', async () => {
    const unitId = run(unit).collectorId;
    await run(city).stop();
    city.running = undefined;
    const now = new Date().toISOString();
    await createSignedIncident(run(unit).store, unitIncident('inc-crash-window', '收据之后崩溃'));
    await run(unit).hierarchy.scan();
    await eventually(
      async () =>
        (await receivedReports(county, 'incident', unitId)).some(
          (r) => r.report.data.id === 'inc-crash-window',
        ),
      { what: 'the incident at the county' },
    );
    await run(county).stop();
    county.running = undefined;
    // The state a SIGKILL between storing the city's receipt and queueing the county's hop leaves.
    const db = new Database(join(county.dir.path, 'smew.db'));
    const marked = db
      .prepare(
        `UPDATE hierarchy_outbox SET received_at = ?, done_at = ?
         WHERE type = 'incident' AND origin = ? AND report LIKE '%inc-crash-window%'`,
      )
      .run(now, now, unitId);
    db.close();
    expect(marked.changes).toBe(1);
    await startNode(city);
    await startNode(county);
    const hop = await eventually(
      async () =>
        (await receivedReports(city, 'incident.hop')).find(
          (r) => r.report.data.incident === 'inc-crash-window' && r.report.data.from === 'county',
        ),
      { what: 'the county’s hop of the incident at the city', timeoutMs: 30_000 },
    );
    expect(hop.report.data.origin).toBe(unitId);
  }, 60_000);

  it('a notice from the city reaches both levels below; acknowledgements and 排查 results come back', async () => {
    const notice = await run(city).hierarchy.issueNotice({
      type: 'notice',
      title: '关于开展无线网卡专项排查的预警通报',
      body: '请各单位于三日内完成排查并报送结果。',
      severity: 'high',
    });
    for (const node of [county, unit, sibling]) {
      await eventually(() => run(node).store.hierarchy.getNotice(notice.id), {
        what: `the notice at ${node.name}`,
      });
    }
    const unitId = run(unit).collectorId;
    const countyId = run(county).collectorId;
    const siblingId = run(sibling).collectorId;
    await eventually(
      async () => {
        const responses = await run(city).store.hierarchy.listResponses(notice.id);
        return responses.filter((r) => r.ackedAt !== null).length === 3 ? responses : undefined;
      },
      { what: 'three acknowledgements at the city' },
    );

    expect(await run(unit).hierarchy.recordResult(notice.id, '已排查，未发现无线网卡', 'secadmin')).toBe(
      true,
    );
    expect(await run(unit).hierarchy.recordResult(notice.id, 'again', 'secadmin')).toBe(false);
    const key = await createApiKey(run(city).store, { name: 'city-officer', role: 'secadmin' });
    const view = await eventually(
      async () => {
        const { body } = await callApi<{
          responses: { collector: string; result: string | null }[];
          unanswered: string[];
        }>(city, key, `/api/v1/hierarchy/notices/${notice.id}`);
        return body.responses.find((r) => r.collector === unitId)?.result ? body : undefined;
      },
      { what: "the unit's result at the city" },
    );
    expect(view.unanswered.sort()).toEqual(['乙单位', '某县保密局']);
    expect(view.responses.map((r) => r.collector).sort()).toEqual([countyId, siblingId, unitId].sort());
  });

  it('a sibling never sees another unit’s data', async () => {
    const unitId = run(unit).collectorId;
    // Nothing of 甲单位 ever reaches 乙单位's collector: notices go down, reports only up.
    expect(await run(sibling).store.hierarchy.listReports({ limit: 1000 })).toHaveLength(0);
    // At the county, a key scoped to 乙单位 sees none of 甲单位's reports; one scoped to 甲单位 does.
    const siblingKey = await createApiKey(run(county).store, { name: 'yi', role: 'viewer', unit: '乙单位' });
    const unitKey = await createApiKey(run(county).store, { name: 'jia', role: 'viewer', unit: '甲单位' });
    const seenBySibling = await callApi<{ items: { origin: string }[] }>(
      county,
      siblingKey,
      '/api/v1/hierarchy/reports',
    );
    expect(seenBySibling.status).toBe(200);
    expect(seenBySibling.body.items.filter((r) => r.origin === unitId)).toHaveLength(0);
    const asked = await callApi<{ items: unknown[] }>(
      county,
      siblingKey,
      '/api/v1/hierarchy/reports?unit=甲单位',
    );
    expect(asked.body.items).toHaveLength(0);
    const seenByUnit = await callApi<{ items: { origin: string }[] }>(
      county,
      unitKey,
      '/api/v1/hierarchy/reports',
    );
    expect(seenByUnit.body.items.length).toBeGreaterThan(0);
    expect(seenByUnit.body.items.every((r) => r.origin === unitId)).toBe(true);
    const subs = await callApi<{ items: { unit: string }[] }>(
      county,
      siblingKey,
      '/api/v1/hierarchy/collectors',
    );
    expect(subs.body.items.map((s) => s.unit)).toEqual(['乙单位']);

    // 乙单位's collector cannot pull or post as 甲单位: its key does not verify for that id.
    const siblingIdentity = loadOrCreateCollectorIdentity(sibling.config.identity.dir);
    const forged = sign(
      {
        v: HIERARCHY_VERSION,
        kind: 'smew.hierarchy.pull' as const,
        child: unitId,
        parent: run(county).collectorId,
        ts: new Date().toISOString(),
      },
      siblingIdentity,
    );
    const pull = await fetch(`${run(county).httpUrl}/api/v1/hierarchy/pull`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(forged),
    });
    expect(pull.status).toBe(401);
    expect(((await pull.json()) as { error: string }).error).toMatch(/does not verify/);
  });
  it('refuses bad and hostile input with clear JSON errors', async () => {
    const post = async (path: string, body: unknown, key?: string) => {
      const response = await fetch(`${run(county).httpUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as { error: string } };
    };
    expect(await post('/api/v1/hierarchy/reports', { hello: 1 })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^not a report batch: /) },
    });
    expect((await post('/api/v1/hierarchy/reports', '{"v":')).status).toBe(400);
    const stranger = loadOrCreateCollectorIdentity(join(unit.dir.path, 'stranger'));
    const batch = sign(
      {
        v: HIERARCHY_VERSION,
        kind: 'smew.hierarchy.batch' as const,
        child: stranger.id,
        parent: run(county).collectorId,
        ts: new Date().toISOString(),
        records: [],
      },
      stranger,
    );
    expect(await post('/api/v1/hierarchy/reports', batch)).toMatchObject({
      status: 403,
      body: { error: expect.stringMatching(/is not a child of this collector/) },
    });
    expect(
      await post('/api/v1/hierarchy/enroll', {
        token: 'smew-et-x',
        publicKey: stranger.publicKey,
        alg: 'ed25519',
        unit: '某市保密局',
        level: 'city',
      }),
    ).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/a city collector cannot report to this county collector/) },
    });
    const anonymous = await fetch(`${run(county).httpUrl}/api/v1/hierarchy/reports`);
    expect(anonymous.status).toBe(401);
    const viewer = await createApiKey(run(county).store, { name: 'v', role: 'viewer' });
    expect(
      (await post('/api/v1/hierarchy/notices', { type: 'notice', title: 't', body: 'b' }, viewer)).status,
    ).toBe(403);
    const openapi = (await (await fetch(`${run(county).httpUrl}/api/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(
      Object.keys(openapi.paths)
        .filter((p) => p.startsWith('/api/v1/hierarchy/'))
        .sort(),
    ).toEqual([
      '/api/v1/hierarchy/annual',
      '/api/v1/hierarchy/collectors',
      '/api/v1/hierarchy/enroll',
      '/api/v1/hierarchy/incidents',
      '/api/v1/hierarchy/incidents/{origin}/{id}/reports',
      '/api/v1/hierarchy/notices',
      '/api/v1/hierarchy/notices/{id}',
      '/api/v1/hierarchy/notices/{id}/result',
      '/api/v1/hierarchy/policy',
      '/api/v1/hierarchy/pull',
      '/api/v1/hierarchy/reports',
      '/api/v1/hierarchy/self-inspections',
      '/api/v1/hierarchy/status',
      '/api/v1/hierarchy/units',
    ]);
  });
});
