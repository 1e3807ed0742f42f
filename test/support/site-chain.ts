import { postSignedIncident } from './collector-chain.js';
import { eventually } from './eventually.js';
import { createSite, enrollCollector, type Site } from './smew-site.js';

/** The five levels of the administration, unit first (SPEC §4). */
export const CHAIN_LEVELS = [
  { level: 'unit', unit: '测试单位' },
  { level: 'county', unit: '某县保密局' },
  { level: 'city', unit: '某市保密局' },
  { level: 'province', unit: '某省保密局' },
  { level: 'national', unit: '国家保密局' },
] as const;

export interface SiteChain {
  /** Unit first, national last. */
  sites: Site[];
  /** The unit collector's id, the origin of what it reports. */
  unitId: string;
  stop(): Promise<void>;
}

/**
 * Five `smew collector` processes chained on loopback (unit → county → city → province →
 * national), each enrolled at the next with `smew collector enroll` before it starts, with the default link
 * configuration unless `extra` says otherwise. Resolves once the national level knows the unit's
 * collector: its enrollment report came up through every level, so every link is up.
 */
export async function startSiteChain(extra: Record<string, unknown> = {}): Promise<SiteChain> {
  const sites: Site[] = [];
  const stop = async () => {
    for (const site of sites) await site.stopCollector().catch(() => undefined);
  };
  try {
    for (const { level, unit } of CHAIN_LEVELS)
      sites.push(await createSite({ extra: { unit, level, ...extra } }));
    // Top first; each child enrolled before it starts, so its link sends from its first round.
    await sites[4]!.startCollector({ timeoutMs: 90_000 });
    const ids: string[] = [];
    for (let i = sites.length - 2; i >= 0; i--) {
      ids.unshift(await enrollCollector(sites[i]!, sites[i + 1]!, CHAIN_LEVELS[i]!.unit));
      await sites[i]!.startCollector({ timeoutMs: 90_000 });
    }
    const unitId = ids[0]!;
    await eventually(
      async () =>
        (await sites[4]!.api<{ items: { id: string }[] }>('/api/v1/hierarchy/collectors')).items.some(
          (c) => c.id === unitId,
        ),
      { what: 'the unit’s collector known at the national level', timeoutMs: 120_000 },
    );
    return { sites, unitId, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface ReportRow {
  origin: string;
  receivedAt: string;
  report: { data: Record<string, unknown> };
}

/** The report of `type` from `origin` at `site` whose data `match` accepts, if it is there. */
export async function reportAt(
  site: Site,
  origin: string,
  type: string,
  match: (data: Record<string, unknown>) => boolean,
): Promise<ReportRow | undefined> {
  const { items } = await site.api<{ items: ReportRow[] }>(
    `/api/v1/hierarchy/reports?type=${type}&limit=10000`,
  );
  return items.find((r) => r.origin === origin && match(r.report.data));
}

/**
 * Enters an incident at the unit through its API, signs its report off, and waits for it at the county and at the
 * national level; returns how long after the request each received it (their own record).
 */
export async function incidentUp(
  chain: SiteChain,
  title: string,
): Promise<{ id: string; toCountyMs: number; toNationalMs: number }> {
  const [unit, county, , , national] = chain.sites as [Site, Site, Site, Site, Site];
  const posted = Date.now();
  // Recorded, drafted and signed off (签发) as an officer would: only then does it go up.
  const {
    body: { id },
  } = await postSignedIncident(unit.httpUrl, unit.apiKey, {
    title,
    level: '秘密',
    discoveredAt: new Date().toISOString(),
    // With its remedial measure: an incident goes up only with one (第61条).
    measures: [{ what: '已断网' }],
  });
  const at = (site: Site, where: string) =>
    eventually(() => reportAt(site, chain.unitId, 'incident', (d) => d.id === id), {
      what: `incident ${id} at the ${where}`,
      timeoutMs: 60_000,
    });
  const atCounty = await at(county, 'county');
  const atNational = await at(national, 'national level');
  return {
    id,
    toCountyMs: Date.parse(atCounty.receivedAt) - posted,
    toNationalMs: Date.parse(atNational.receivedAt) - posted,
  };
}
