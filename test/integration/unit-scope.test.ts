import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { hashSecret } from '../../collector/auth/secrets.js';
import { ownReport } from '../../collector/hierarchy/reports.js';
import { childCert, collectorKey } from '../support/hierarchy-keys.js';
import { UNIT, WarningsSite } from '../support/warnings-site.js';

/**
 * Issue 8: a user scoped to a unit sees that unit and the units below it, as the collector
 * hierarchy knows them (a direct child collector, and a grandchild the child reported), and
 * handles their warnings; a unit elsewhere, or above, stays out of sight.
 */
const CHILD = '下级单位';
const GRANDCHILD = '基层科室';
const ELSEWHERE = '无关单位';

let site: WarningsSite;
const keys: Record<string, string> = {};
const warningOf: Record<string, string> = {};

beforeAll(async () => {
  site = await WarningsSite.start();
  const store = site.collector.store;
  // The hierarchy below this collector (unit 测试单位): 下级单位 enrolled here, 基层科室 enrolled at it.
  const self = collectorKey();
  const child = collectorKey();
  const grandchild = collectorKey();
  const now = new Date().toISOString();
  await store.createEnrollmentToken({
    tokenHash: hashSecret('child-token'),
    unit: CHILD,
    kind: 'collector',
    createdAt: now,
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
  });
  const enrolled = await store.hierarchy.enrollChild({
    tokenHash: hashSecret('child-token'),
    now,
    id: child.id,
    alg: 'ed25519',
    publicKey: child.publicKey,
    level: 'unit',
    unit: CHILD,
    certify: (unit) => childCert(self, child, unit),
  });
  expect(enrolled.ok).toBe(true);
  const report = ownReport(
    { identity: child, unit: CHILD, level: 'unit' },
    1,
    now,
    'collector.enrolled',
    grandchild.id,
    {
      cert: childCert(child, grandchild, GRANDCHILD),
    },
  );
  await store.hierarchy.receive(child.id, [{ linkSeq: 1, report, chain: [], pathUnits: [CHILD] }], now);

  for (const unit of [UNIT, CHILD, GRANDCHILD, ELSEWHERE]) {
    keys[unit] = await createApiKey(store, { name: `officer-${unit}`, role: 'secadmin', unit });
    const host = await site.addAgent(unit);
    await host.publish();
  }
  await site.settled();
  const all = await site.api<{ items: { id: string; unit: string }[] }>('/api/v1/warnings', {
    key: 'allUnits',
  });
  for (const w of all.body.items) warningOf[w.unit] = w.id;
});
afterAll(async () => site?.stop());

async function get<T>(unit: string, path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${site.collector.httpUrl}${path}`, {
    headers: { authorization: `Bearer ${keys[unit]}` },
  });
  return { status: response.status, body: (await response.json()) as T };
}

const unitsSeen = async (unit: string) =>
  (await get<{ items: { unit: string }[] }>(unit, '/api/v1/warnings')).body.items.map((w) => w.unit).sort();

describe('a unit and the units below it', () => {
  it('shows each user its unit and the units below, as the hierarchy knows them', async () => {
    expect(Object.keys(warningOf).sort()).toEqual([CHILD, ELSEWHERE, GRANDCHILD, UNIT].sort());
    expect(await unitsSeen(UNIT)).toEqual([CHILD, GRANDCHILD, UNIT].sort());
    expect(await unitsSeen(CHILD)).toEqual([CHILD, GRANDCHILD].sort());
    expect(await unitsSeen(GRANDCHILD)).toEqual([GRANDCHILD]);
    expect(await unitsSeen(ELSEWHERE)).toEqual([ELSEWHERE]);
    // Agents follow the same scope; a unit above is out of sight.
    const agents = await get<{ items: { unit: string }[] }>(CHILD, '/api/v1/agents');
    expect(agents.body.items.map((a) => a.unit).sort()).toEqual([CHILD, GRANDCHILD].sort());
    expect((await get(CHILD, `/api/v1/warnings/${warningOf[UNIT]}`)).status).toBe(404);
  });

  it('lets an officer handle the warnings of a unit below, not of a unit above', async () => {
    const step = async (unit: string, warning: string) =>
      fetch(`${site.collector.httpUrl}/api/v1/warnings/${warning}/transitions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys[unit]}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to: 'identified', note: '上级核实' }),
      });
    const detail = await get<{ allowedTransitions: string[] }>(
      UNIT,
      `/api/v1/warnings/${warningOf[GRANDCHILD]}`,
    );
    expect(detail.body.allowedTransitions).toContain('identified');
    expect((await step(UNIT, warningOf[GRANDCHILD]!)).status).toBe(200);
    expect((await step(GRANDCHILD, warningOf[CHILD]!)).status).toBe(404);
  });
});
