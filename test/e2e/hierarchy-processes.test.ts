/**
 * Three `smew collector` processes chained on loopback (测试单位 → 某县 → 某市), enrolled with
 * `smew collector enroll`, with a real agent at the unit. The county is SIGKILLed in the middle of
 * a stream of incidents and restarted; afterwards every report is at the top exactly once.
 * Prints the figures the issue asks for: end-to-end latency, lost/duplicated, drain rate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixtureHost } from '../support/fixture-host.js';
import { postSignedIncident } from '../support/collector-chain.js';
import { eventually } from '../support/eventually.js';
import { runSmew, type Running } from '../support/processes.js';
import { createSite, enrollAgent, enrollCollector, type Site } from '../support/smew-site.js';

const LINK = { interval: '100ms', scanInterval: '200ms', retryMax: '1s', timeout: '2s' };
// Signatures checked on the main thread: three collectors and an agent share two cores.
const INGEST = { verifyWorkers: 0 };

interface ReportRow {
  origin: string;
  seq: number;
  type: string;
  key: string;
  receivedAt: string;
  report: { ts: string; data: Record<string, unknown>; evidence?: unknown[] };
}

async function call<T>(
  site: Site,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${site.httpUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${site.apiKey}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function reportsAt(site: Site, type: string): Promise<ReportRow[]> {
  return (await site.api<{ items: ReportRow[] }>(`/api/v1/hierarchy/reports?type=${type}&limit=10000`)).items;
}

/** With a longer wait: on a loaded 2-core CI box a collector can take over 15 s to listen. */
async function startCollector(site: Site): Promise<void> {
  await site.startCollector({ timeoutMs: 90_000 });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe('collector processes in a chain', () => {
  let city: Site;
  let county: Site;
  let unit: Site;
  const running: Running[] = [];
  let unitId: string;

  beforeAll(async () => {
    city = await createSite({ extra: { unit: '某市保密局', level: 'city', parent: LINK, ingest: INGEST } });
    county = await createSite({
      extra: { unit: '某县保密局', level: 'county', parent: LINK, ingest: INGEST },
    });
    unit = await createSite({ extra: { level: 'unit', parent: LINK, ingest: INGEST } });
    await startCollector(city);
    await startCollector(county);
    // The county enrolls while it runs; the unit while it is stopped.
    await enrollCollector(county, city, '某县保密局');
    unitId = await enrollCollector(unit, county, '测试单位');
    expect(unitId).toMatch(/^co-[a-z2-7]{20}$/);
    await startCollector(unit);
  }, 180_000);

  afterAll(async () => {
    for (const r of running) await r.stop('SIGKILL').catch(() => undefined);
    for (const site of [unit, county, city]) await site?.stopCollector().catch(() => undefined);
  });

  it('refuses an unknown token, a child at or above its parent and a missing --parent, with clear messages', async () => {
    const token = await county.token('测试单位');
    const again = await runSmew([
      'collector',
      'enroll',
      '--parent',
      city.httpUrl,
      '--token',
      'smew-et-nope',
      '--config',
      unit.collectorConfig,
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/enrollment token is not valid/);
    const upward = await runSmew([
      'collector',
      'enroll',
      '--parent',
      unit.httpUrl,
      '--token',
      token,
      '--config',
      county.collectorConfig,
    ]);
    expect(upward.code).toBe(2);
    expect(upward.stderr).toMatch(/a county collector cannot report to this unit collector/);
    const missing = await runSmew([
      'collector',
      'enroll',
      '--token',
      token,
      '--config',
      unit.collectorConfig,
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--parent is required/);
  }, 120_000);

  it('a warning from a real agent at the unit reaches the city, agent evidence signed as sent', async () => {
    const host = copyFixtureHost('sys-wireless');
    const agent = await enrollAgent(unit, host);
    const started = Date.now();
    running.push(agent.run());
    const [warning] = await eventually(
      async () => {
        const found = (await reportsAt(city, 'warning')).filter((r) => r.origin === unitId);
        return found.length > 0 ? found : undefined;
      },
      { what: 'the unit’s warning at the city', timeoutMs: 90_000 },
    );
    const evidence = warning!.report.evidence as { agent: string; ts: string }[];
    expect(evidence[0]!.agent).toBe(agent.agentId);
    const eventToTop = Date.parse(warning!.receivedAt) - Date.parse(evidence[0]!.ts);
    console.log(
      `[hierarchy] agent event → warning at the city: ${eventToTop} ms (agent start → city: ${Date.now() - started} ms)`,
    );
  }, 120_000);

  it('the county SIGKILLed mid-stream and restarted: every incident at the city exactly once', async () => {
    const N = 40;
    const before = (await reportsAt(city, 'incident')).filter((r) => r.origin === unitId).length;
    const latencies: number[] = [];
    // A few before the fault, one at a time, for the end-to-end latency.
    for (let i = 0; i < 5; i++) {
      const posted = Date.now();
      const created = await postSignedIncident(unit.httpUrl, unit.apiKey, {
        title: `测延迟 ${i}`,
        level: '秘密',
        discoveredAt: new Date().toISOString(),
        measures: [{ what: '已断网' }],
      });
      expect(created.status).toBe(201);
      const row = await eventually(
        async () => (await reportsAt(city, 'incident')).find((r) => r.report.data.id === created.body.id),
        { what: `incident ${i} at the city` },
      );
      latencies.push(Date.parse(row.receivedAt) - posted);
    }
    console.log(
      `[hierarchy] incident at the unit → at the city: median ${median(latencies)} ms (n=${latencies.length})`,
    );

    for (let i = 0; i < N; i++) {
      if (i === 10) await county.stopCollector('SIGKILL');
      const created = await postSignedIncident(unit.httpUrl, unit.apiKey, {
        title: `断链 ${i}`,
        level: '秘密',
        discoveredAt: new Date().toISOString(),
        measures: [{ what: '已断网' }],
      });
      expect(created.status).toBe(201);
    }
    await eventually(
      async () => {
        const status = await unit.api<{ outbox: { pending: number }; parent: { lastError: string | null } }>(
          '/api/v1/hierarchy/status',
        );
        return status.parent.lastError !== null && status.outbox.pending > 0 ? status : undefined;
      },
      { what: 'the unit to hold a backlog while the county is down' },
    );
    const backlog = (await unit.api<{ outbox: { pending: number } }>('/api/v1/hierarchy/status')).outbox
      .pending;
    await startCollector(county);
    // Counted from the county answering again, not from its (slow, loaded-box) start.
    const restarted = Date.now();
    const all = await eventually(
      async () => {
        const found = (await reportsAt(city, 'incident')).filter((r) => r.origin === unitId);
        return found.length >= before + 5 + N ? found : undefined;
      },
      { what: 'every incident at the city', timeoutMs: 120_000 },
    );
    const drained = Date.now() - restarted;
    const keys = all.map((r) => r.key);
    const lost = before + 5 + N - new Set(keys).size;
    const duplicated = keys.length - new Set(keys).size;
    console.log(
      `[hierarchy] after SIGKILL of the county: lost ${lost}, duplicated ${duplicated}; backlog ${backlog} at the unit ` +
        `drained to the city ${drained} ms after the county answered (${Math.round((backlog * 1000) / Math.max(drained, 1))} reports/s)`,
    );
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
    expect(all).toHaveLength(before + 5 + N);
    // Every incident's hops are at the top too.
    await eventually(
      async () => {
        const hops = (await reportsAt(city, 'incident.hop')).map(
          (r) => `${String(r.report.data.incident)}:${String(r.report.data.from)}`,
        );
        return new Set(hops).size >= 2 * (before + 5 + N) ? hops : undefined;
      },
      { what: 'unit→county and county→city hops of every incident at the city', timeoutMs: 30_000 },
    );
  }, 300_000);

  it('a notice issued at the city reaches the unit; its acknowledgement and 排查 result come back', async () => {
    const issued = await call<{ id: string }>(city, 'POST', '/api/v1/hierarchy/notices', {
      type: 'notice',
      title: '关于无线网卡的预警通报',
      body: '请于三日内排查并报送结果',
    });
    expect(issued.status).toBe(201);
    const id = issued.body.id;
    await eventually(
      async () =>
        (await unit.api<{ items: { id: string }[] }>('/api/v1/hierarchy/notices')).items.find(
          (n) => n.id === id,
        ),
      {
        what: 'the notice at the unit',
      },
    );
    const answered = await call(unit, 'POST', `/api/v1/hierarchy/notices/${id}/result`, {
      result: '已排查，拆除无线网卡一块',
    });
    expect(answered.status).toBe(202);
    const view = await eventually(
      async () => {
        const body = await city.api<{
          responses: { unit: string; ackedAt: string | null; result: string | null }[];
          unanswered: string[];
        }>(`/api/v1/hierarchy/notices/${id}`);
        return body.responses.find((r) => r.unit === '测试单位')?.result ? body : undefined;
      },
      { what: 'the unit’s 排查 result at the city' },
    );
    expect(view.responses.every((r) => r.ackedAt !== null)).toBe(true);
    expect(view.unanswered).toEqual(['某县保密局']);
  }, 120_000);
});
