/**
 * Reports go up when they happen: five `smew collector` processes chained on loopback
 * (unit → county → city → province → national) with the default link configuration
 * (parent.scanInterval 30 s, parent.interval 5 s). An incident entered at the unit is at the
 * county within 2 s and at the national level within 5 s: stored, then sent at once, relayed at
 * once by every collector on the way, instead of waiting for the next round. So are the hop its
 * receipt records and a warning an agent's event opens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentTopic } from '../../shared/topics.js';
import { connectAsAgent, enrollOverHttp, makeTestAgent, signedEvent } from '../support/collector-harness.js';
import { eventually } from '../support/eventually.js';
import { createSite, enrollCollector, type Site } from '../support/smew-site.js';

// Signatures checked on the main thread: five collectors share two cores.
const INGEST = { verifyWorkers: 0 };
const LEVELS = [
  { level: 'unit', unit: '测试单位' },
  { level: 'county', unit: '某县保密局' },
  { level: 'city', unit: '某市保密局' },
  { level: 'province', unit: '某省保密局' },
  { level: 'national', unit: '国家保密局' },
] as const;

interface ReportRow {
  origin: string;
  receivedAt: string;
  report: { data: Record<string, unknown> };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe('reports go up when they happen (default link configuration)', () => {
  const sites: Site[] = [];
  let unitId: string;

  beforeAll(async () => {
    for (const { level, unit } of LEVELS)
      sites.push(await createSite({ extra: { unit, level, ingest: INGEST } }));
    // Top first, so each parent answers its child's enrollment.
    for (const site of [...sites].reverse()) await site.startCollector({ timeoutMs: 90_000 });
    const ids: string[] = [];
    for (let i = 0; i < sites.length - 1; i++)
      ids.push(await enrollCollector(sites[i]!, sites[i + 1]!, LEVELS[i]!.unit));
    unitId = ids[0]!;
    // Each link notices its new parent on its next round; the chain is whole once the national
    // level knows the unit's collector (its enrollment report came up through every level).
    await eventually(
      async () =>
        (await sites[4]!.api<{ items: { id: string }[] }>('/api/v1/hierarchy/collectors')).items.some(
          (c) => c.id === unitId,
        ),
      { what: 'the unit’s collector known at the national level', timeoutMs: 120_000 },
    );
  }, 600_000);

  afterAll(async () => {
    for (const site of sites) await site.stopCollector().catch(() => undefined);
  });

  const reportAt = async (site: Site, type: string, match: (data: Record<string, unknown>) => boolean) =>
    (await site.api<{ items: ReportRow[] }>(`/api/v1/hierarchy/reports?type=${type}&limit=10000`)).items.find(
      (r) => r.origin === unitId && match(r.report.data),
    );

  it('an incident at the unit is at the county within 2 s and at the national level within 5 s; so is its first hop', async () => {
    const [unit, county, , , national] = sites as [Site, Site, Site, Site, Site];
    const toCounty: number[] = [];
    const toNational: number[] = [];
    const hopToNational: number[] = [];
    for (let i = 0; i < 3; i++) {
      const posted = Date.now();
      const response = await fetch(`${unit.httpUrl}/api/v1/incidents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${unit.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          title: `上报时延 ${i}`,
          level: '秘密',
          discoveredAt: new Date().toISOString(),
        }),
      });
      expect(response.status).toBe(201);
      const { id } = (await response.json()) as { id: string };
      // Polled until there, however long it takes; the time is the receiving collector's own record.
      const atCounty = await eventually(() => reportAt(county, 'incident', (d) => d.id === id), {
        what: `incident ${id} at the county`,
        timeoutMs: 60_000,
      });
      const atNational = await eventually(() => reportAt(national, 'incident', (d) => d.id === id), {
        what: `incident ${id} at the national level`,
        timeoutMs: 60_000,
      });
      // The county's receipt records the unit → county hop at the unit, which goes up in turn.
      const hop = await eventually(() => reportAt(national, 'incident.hop', (d) => d.incident === id), {
        what: `the unit → county hop of ${id} at the national level`,
        timeoutMs: 60_000,
      });
      toCounty.push(Date.parse(atCounty.receivedAt) - posted);
      toNational.push(Date.parse(atNational.receivedAt) - posted);
      hopToNational.push(Date.parse(hop.receivedAt) - posted);
    }
    console.log(
      `[hierarchy] incident at the unit → county: ${toCounty.join(', ')} ms; → national (5 collectors): ` +
        `${toNational.join(', ')} ms; its unit → county hop at the national level ${hopToNational.join(', ')} ms`,
    );
    // The median of three: one collector of five stalled by the shared machine is not the design.
    expect(median(toCounty)).toBeLessThanOrEqual(2000);
    expect(median(toNational)).toBeLessThanOrEqual(5000);
    expect(median(hopToNational)).toBeLessThanOrEqual(5000);
  }, 300_000);

  it('a warning an agent’s event opens at the unit is at the county within 2 s and at the national level within 5 s', async () => {
    const [unit, county, , , national] = sites as [Site, Site, Site, Site, Site];
    const agent = makeTestAgent();
    const { broker } = await enrollOverHttp(unit.httpUrl, agent, await unit.token());
    const client = await connectAsAgent(broker.url, broker.username, broker.password);
    try {
      const toCounty: number[] = [];
      const toNational: number[] = [];
      for (let i = 0; i < 3; i++) {
        const iface = `wlx${i}`;
        const sent = Date.now();
        // A wireless adapter on a classified host: high, at parent.minSeverity's default.
        const event = signedEvent(agent, i + 1, {
          key: `net.wireless.present:${iface}`,
          data: { iface, mac: '00:11:22:33:44:55', driver: 'iwlwifi' },
        });
        await client.publishAsync(agentTopic(agent.id, 'events'), JSON.stringify(event), { qos: 1 });
        const ofEvent = (d: Record<string, unknown>) =>
          (d.sample as { key?: string } | undefined)?.key === `net.wireless.present:${iface}`;
        const atCounty = await eventually(() => reportAt(county, 'warning', ofEvent), {
          what: `the warning of ${iface} at the county`,
          timeoutMs: 60_000,
        });
        const atNational = await eventually(() => reportAt(national, 'warning', ofEvent), {
          what: `the warning of ${iface} at the national level`,
          timeoutMs: 60_000,
        });
        toCounty.push(Date.parse(atCounty.receivedAt) - sent);
        toNational.push(Date.parse(atNational.receivedAt) - sent);
      }
      console.log(
        `[hierarchy] agent event at the unit → its warning at the county: ${toCounty.join(', ')} ms; ` +
          `→ national: ${toNational.join(', ')} ms`,
      );
      expect(median(toCounty)).toBeLessThanOrEqual(2000);
      expect(median(toNational)).toBeLessThanOrEqual(5000);
    } finally {
      await client.endAsync();
    }
  }, 300_000);
});
