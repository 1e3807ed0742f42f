/**
 * Issue 14 item 7: a key or user scoped to a unit below a collector sees and answers only what
 * concerns that unit. The county's own hierarchy business — its parent link, the policy in force,
 * the notices it received from above and the 排查 result it sends back up — belongs to the
 * county's own unit; a notice the county issued to the units below is theirs to see. Two real
 * collectors (city → county) on loopback, real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { eventually } from '../support/eventually.js';
import {
  callApi,
  enrollNode,
  makeNode,
  run,
  startNode,
  stopAndRemove,
  type ChainNode,
} from '../support/collector-chain.js';

describe('hierarchy views and answers are held to the caller’s units', () => {
  let city: ChainNode;
  let county: ChainNode;
  let received: string;
  let issued: string;
  let scoped: string;
  let countyWide: string;

  beforeAll(async () => {
    city = await makeNode('city', '某市保密局', 'city');
    county = await makeNode('county', '某县保密局', 'county');
    for (const node of [city, county]) await startNode(node);
    await enrollNode(county, city);
    received = (
      await run(city).hierarchy.issueNotice({
        type: 'notice',
        title: '上级通报',
        body: '请排查',
        severity: 'high',
      })
    ).id;
    await eventually(() => run(county).store.hierarchy.getNotice(received), {
      what: 'the notice at the county',
    });
    issued = (
      await run(county).hierarchy.issueNotice({ type: 'notice', title: '县级通报', body: '下发各单位' })
    ).id;
    // An officer of 甲单位, a unit below the county, and an officer of the county itself.
    scoped = await createApiKey(run(county).store, { name: '甲单位干部', role: 'secadmin', unit: '甲单位' });
    countyWide = await createApiKey(run(county).store, {
      name: '县干部',
      role: 'secadmin',
      unit: '某县保密局',
    });
  }, 60_000);
  afterAll(() => stopAndRemove([county, city]));

  it('lists to a unit-scoped officer the notices issued to the units below, not those received from above', async () => {
    const list = await callApi<{ items: { id: string }[] }>(county, scoped, '/api/v1/hierarchy/notices');
    expect(list.status).toBe(200);
    expect(list.body.items.map((n) => n.id)).toEqual([issued]);
    expect((await callApi(county, scoped, `/api/v1/hierarchy/notices/${received}`)).status).toBe(404);
    expect((await callApi(county, scoped, `/api/v1/hierarchy/notices/${issued}`)).status).toBe(200);
    const all = await callApi<{ items: { id: string }[] }>(county, countyWide, '/api/v1/hierarchy/notices');
    expect(all.body.items.map((n) => n.id).sort()).toEqual([issued, received].sort());
  });

  it('refuses the county’s status and policy to a unit-scoped officer', async () => {
    for (const path of ['/api/v1/hierarchy/status', '/api/v1/hierarchy/policy']) {
      const refused = await callApi<{ error: string }>(county, scoped, path);
      expect(refused.status, path).toBe(403);
      expect(refused.body.error).toContain('某县保密局');
      expect((await callApi(county, countyWide, path)).status, path).toBe(200);
    }
  });

  it('lets only the county itself send the county’s 排查 result upward', async () => {
    const refused = await callApi<{ error: string }>(
      county,
      scoped,
      `/api/v1/hierarchy/notices/${received}/result`,
      {
        result: '甲单位冒充全县报送',
      },
    );
    expect(refused.status).toBe(403);
    expect((await run(county).store.hierarchy.getNotice(received))?.result).toBeNull();
    const sent = await callApi<{ result: string }>(
      county,
      countyWide,
      `/api/v1/hierarchy/notices/${received}/result`,
      {
        result: '全县已排查',
      },
    );
    expect(sent.status).toBe(202);
    expect(sent.body.result).toBe('全县已排查');
  });
});
