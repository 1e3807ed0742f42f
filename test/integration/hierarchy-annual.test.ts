/**
 * 第56条 annual figures in a real chain (甲单位 → 某县 → 某市, in process, real SQLite, HTTP and
 * brokers). One clock for the three, moved over the turn of the year in Asia/Shanghai: each
 * collector's figures go up once, the city shows each unit's and their totals.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { ManualClock } from '../../shared/clock.js';
import { agentTopic } from '../../shared/topics.js';
import { TODAYS_READING_CONFIG } from '../support/clock-records.js';
import { eventually } from '../support/eventually.js';
import { runSmew } from '../support/processes.js';
import { connectAsAgent, enrollAgent, signedEvent } from '../support/collector-harness.js';
import {
  callApi,
  enrollNode,
  makeNode,
  postSignedIncident,
  receivedReports,
  run,
  startNode,
  stopAndRemove,
  type ChainNode,
} from '../support/collector-chain.js';

type Figures = Record<string, Record<string, number>>;
interface AnnualView {
  year: number;
  items: { unit: string; own: boolean; final: boolean; figures: Figures }[];
  totals: Figures;
  missing: string[];
}

describe('第56条 annual figures up a chain', () => {
  const clock = new ManualClock(new Date());
  const year = clock.now().getUTCFullYear();
  let unit: ChainNode;
  let county: ChainNode;
  let city: ChainNode;
  const keys = new Map<ChainNode, string>();
  /** Waits until the node's parent has received everything the node has queued for it. */
  const delivered = (node: ChainNode) =>
    eventually(async () => (await run(node).store.hierarchy.outboxStats()).pending === 0 || undefined, {
      what: `${node.name}’s outbox delivered`,
    });
  // Producer passes only when the test runs them, so the order of the year-end reports is known.
  const manualScans = { parent: { interval: '100ms', scanInterval: '1h', retryMax: '500ms', timeout: '2s' } };

  beforeAll(async () => {
    city = await makeNode('city', '某市保密局', 'city', manualScans);
    county = await makeNode('county', '某县保密局', 'county', manualScans);
    // The unit counts its overdue systems by today's (rolling) reading: a system never assessed is
    // overdue from its commissioning.
    unit = await makeNode('unit', '甲单位', 'unit', { ...manualScans, clocks: TODAYS_READING_CONFIG });
    for (const node of [city, county, unit]) {
      await startNode(node, { clock });
      keys.set(node, await createApiKey(run(node).store, { name: `${node.name}-officer`, role: 'secadmin' }));
    }
    await enrollNode(county, city);
    await enrollNode(unit, county);

    // This year at the unit: one 机密 system never assessed, one incident, one agent and its warning.
    const post = (path: string, body: unknown) => callApi<{ id: string }>(unit, keys.get(unit)!, path, body);
    expect(
      (
        await post('/api/v1/systems', {
          name: '办公网',
          level: '机密',
          commissionedAt: `${year}-01-05`,
          approval: { ref: '审查-办公网', by: '市保密局', at: `${year}-01-05` },
        })
      ).status,
    ).toBe(201);
    const discoveredAt = new Date(clock.now().getTime() - 3_600_000).toISOString();
    // Signed off (签发), so it goes up.
    const incident = { title: '疑似泄密', level: '秘密', discoveredAt, measures: [{ what: '已断网' }] };
    expect((await postSignedIncident(run(unit).httpUrl, keys.get(unit)!, incident)).status).toBe(201);
    const { agent, reply } = await enrollAgent(run(unit), { unit: '甲单位' });
    const client = await connectAsAgent(reply.broker.url, reply.broker.username, reply.broker.password);
    await client.publishAsync(agentTopic(agent.id, 'events'), JSON.stringify(signedEvent(agent, 1)), {
      qos: 1,
    });
    await client.endAsync();
    await eventually(
      async () => (await run(unit).store.warnings.listWarnings({ limit: 10 })).length > 0 || undefined,
      {
        what: 'the warning at the unit',
      },
    );
    // The incident goes up and the county's receipt closes the unit's first hop, on time.
    await run(unit).hierarchy.scan();
    await eventually(
      async () => {
        const [incident] = await run(unit).store.clocks.listIncidents({});
        return incident && incident.reports.length > 0 ? incident : undefined;
      },
      { what: 'the county’s receipt recorded as the unit’s hop' },
    );
  }, 60_000);

  afterAll(() => stopAndRemove([unit, county, city]));

  /** The node's 年度保密工作情况 for `year`, drafted and signed off: its figures go up as the 附表. */
  async function signAnnualReport(node: ChainNode, forYear: number): Promise<void> {
    const key = keys.get(node)!;
    const draft = await callApi<{ id: string }>(node, key, '/api/v1/documents', {
      kind: 'annual-report',
      year: forYear,
      text: `${forYear}年保密工作情况。`,
    });
    expect(draft.status).toBe(201);
    expect((await callApi(node, key, `/api/v1/documents/${draft.body.id}/signoff`, {})).status).toBe(200);
  }

  it('before the year ends: preliminary own figures, nothing sent, and a refusal to send', async () => {
    const { status, body } = await callApi<AnnualView>(
      unit,
      keys.get(unit)!,
      `/api/v1/hierarchy/annual?year=${year}`,
    );
    expect(status).toBe(200);
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({ unit: '甲单位', own: true, final: false });
    const refused = await callApi<{ error: string }>(unit, keys.get(unit)!, '/api/v1/hierarchy/annual', {
      year,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/not over yet/);
    expect(await receivedReports(county, 'annual')).toHaveLength(0);
  });

  it('at the turn of the year each collector reports once; the city shows each unit and the totals', async () => {
    // 00:30 on 1 January in Shanghai: 16:30 UTC on 31 December.
    clock.set(`${year}-12-31T16:30:00Z`);
    // Nothing goes up before the 年度保密工作情况 is signed off.
    await run(unit).hierarchy.scan();
    await delivered(unit);
    expect(await receivedReports(county, 'annual')).toHaveLength(0);
    await signAnnualReport(unit, year);
    await signAnnualReport(county, year);
    await run(unit).hierarchy.scan();
    await eventually(async () => (await receivedReports(county, 'annual')).length === 1 || undefined, {
      what: 'the unit’s figures at the county',
    });
    await run(county).hierarchy.scan();
    await eventually(async () => (await receivedReports(city, 'annual')).length === 2 || undefined, {
      what: 'the unit’s and the county’s figures at the city',
    });

    // A repeat pass and an explicit request send nothing twice.
    await run(unit).hierarchy.scan();
    const again = await callApi<{ created: boolean; report: { year: number } }>(
      unit,
      keys.get(unit)!,
      '/api/v1/hierarchy/annual',
      { year },
    );
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ created: false, report: { year } });
    // Whatever the unit queued is at the county, and whatever the county queued is at the city.
    await delivered(unit);
    await delivered(county);
    const atCity = await receivedReports(city, 'annual');
    expect(atCity.map((r) => r.unit).sort()).toEqual(['某县保密局', '甲单位']);

    const fromUnit = atCity.find((r) => r.unit === '甲单位')!.report.data as {
      final: boolean;
      figures: Figures;
    };
    expect(fromUnit.final).toBe(true);
    expect(fromUnit.figures.systems).toMatchObject({ 机密: 1, inUse: 1, commissioned: 1 });
    expect(fromUnit.figures.assessments).toMatchObject({ completed: 0, overdue: 1 });
    expect(fromUnit.figures.incidents).toMatchObject({
      discovered: 1,
      秘密: 1,
      reportedOnTime: 1,
      unreported: 0,
    });
    // The agent's event and the overdue assessment each opened a warning.
    expect(fromUnit.figures.warningTypes).toEqual({ 'net.wireless.present': 1, 'assessment.overdue': 1 });
    expect(fromUnit.figures.warnings).toMatchObject({ opened: 2, open: 2, closed: 0 });
    expect(fromUnit.figures.agents).toMatchObject({ enrolled: 1, enrolledInYear: 1, revokedInYear: 0 });
    // The county's report carries its region: itself and 甲单位, nobody missing.
    const fromCounty = atCity.find((r) => r.unit === '某县保密局')!.report.data as {
      region: { units: number; missing: string[]; figures: Figures };
    };
    expect(fromCounty.region).toMatchObject({ units: 2, missing: [] });
    expect(fromCounty.region.figures.incidents!.discovered).toBe(1);

    const { body } = await callApi<AnnualView>(
      city,
      keys.get(city)!,
      `/api/v1/hierarchy/annual?year=${year}`,
    );
    expect(body.items.map((i) => [i.unit, i.own]).sort()).toEqual([
      ['某县保密局', false],
      ['某市保密局', true],
      ['甲单位', false],
    ]);
    expect(body.missing).toEqual([]);
    expect(body.totals.systems!.机密).toBe(1);
    expect(body.totals.incidents!.discovered).toBe(1);
    // The county's incident view counts the one it received, not its own: totals add units, not regions.
    expect(body.totals.agents!.enrolled).toBe(1);
  });

  it('a key for 甲单位 at the county sees 甲单位’s figures only', async () => {
    const jia = await createApiKey(run(county).store, { name: 'jia', role: 'viewer', unit: '甲单位' });
    const { body } = await callApi<AnnualView>(county, jia, '/api/v1/hierarchy/annual');
    expect(body.year).toBe(year);
    expect(body.items.map((i) => i.unit)).toEqual(['甲单位']);
    const refused = await callApi<{ error: string }>(county, jia, '/api/v1/hierarchy/annual', { year });
    expect(refused.status).toBe(403);
  });

  it('smew collector annual queues an earlier year on demand, once, beside the running collector', async () => {
    const file = join(unit.dir.path, 'annual.yaml');
    const { unit: name, level, store, identity } = unit.config;
    writeFileSync(file, JSON.stringify({ unit: name, level, store, identity }));
    // The command reads the wall clock: the year before this one is over.
    const earlier = new Date().getUTCFullYear() - 1;
    const unsigned = await runSmew(['collector', 'annual', '--year', String(earlier), '--config', file]);
    expect(unsigned.code).toBe(2);
    expect(unsigned.stderr).toMatch(/not signed off \(签发\)/);
    await signAnnualReport(unit, earlier);
    const first = await runSmew(['collector', 'annual', '--year', String(earlier), '--config', file]);
    expect(first.stderr).toMatch(/queued for the parent/);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ year: earlier, unit: '甲单位', final: true });
    await eventually(
      async () =>
        (await receivedReports(county, 'annual')).some((r) => r.report.data.year === earlier) || undefined,
      { what: `the ${earlier} figures at the county` },
    );
    const again = await runSmew(['collector', 'annual', '--year', String(earlier), '--config', file]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already queued/);
    const unfinished = await runSmew([
      'collector',
      'annual',
      '--year',
      String(earlier + 1),
      '--config',
      file,
    ]);
    expect(unfinished.code).toBe(2);
    expect(unfinished.stderr).toMatch(/not over yet/);
    await delivered(unit);
    expect(
      (await receivedReports(county, 'annual')).filter((r) => r.report.data.year === earlier),
    ).toHaveLength(1);
  }, 60_000);
});
