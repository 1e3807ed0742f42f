/**
 * The 下级单位 page (issue 18) in headless Chromium over a real three-level hierarchy: units
 * 甲单位 and 乙单位 below a county (某县保密局) below a city (某市保密局), each a real collector in this
 * process. 乙单位 has a terminal with an open warning, an overdue assessment and an incident; what
 * the city officer sees is what the units reported up (signed `unit.status` reports, relayed by
 * the county). The tree nests, a header sorts the units under each parent, a unit opens its
 * reports and incidents, with its open 整改 items counted.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { ManualClock } from '../../shared/clock.js';
import { agentTopic } from '../../shared/topics.js';
import {
  callApi,
  enrollNode,
  makeNode,
  run,
  signOffIncidentReport,
  startNode,
  type ChainNode,
} from '../support/collector-chain.js';
import {
  connectAsAgent,
  enrollAgent,
  signedEvent,
  testCollectorConfig,
} from '../support/collector-harness.js';
import { DashboardSite, hasChromium } from '../support/dashboard-site.js';
import { eventually } from '../support/eventually.js';

describe.skipIf(!hasChromium)('下级单位 over unit → county → city', () => {
  const clock = new ManualClock(new Date());
  let site: DashboardSite;
  let city: ChainNode;
  let county: ChainNode;
  let jia: ChainNode;
  let yi: ChainNode;
  let page: Page;
  let disconnect: () => Promise<void>;

  beforeAll(async () => {
    site = await DashboardSite.start(
      [{ name: '市干部', password: 'city-officer-pass', role: 'secadmin', unit: '某市保密局' }],
      { unit: '某市保密局', level: 'city' },
    );
    // The city is the dashboard's own collector; enrollNode needs only its store and URL.
    city = {
      name: 'city',
      config: testCollectorConfig(site.dir.path, { unit: '某市保密局', level: 'city' }),
      running: site.collector,
      dir: site.dir,
    };
    county = await makeNode('county', '某县保密局', 'county');
    jia = await makeNode('jia', '甲单位', 'unit');
    yi = await makeNode('yi', '乙单位', 'unit');
    // The units count their figures at most once a minute: their clock is moved on below.
    for (const node of [county, jia, yi]) await startNode(node, { clock });
    await enrollNode(county, city);
    await enrollNode(jia, county);
    await enrollNode(yi, county);

    // 乙单位: a terminal (connected) whose signed event becomes an open warning …
    const enrolled = await enrollAgent(run(yi), { unit: '乙单位' });
    const mqtt = await connectAsAgent(
      run(yi).brokerUrl,
      enrolled.reply.broker.username,
      enrolled.reply.broker.password,
    );
    disconnect = () => mqtt.endAsync();
    await mqtt.publishAsync(
      agentTopic(enrolled.agent.id, 'events'),
      JSON.stringify(signedEvent(enrolled.agent, 1)),
      { qos: 1 },
    );
    // … a system whose first assessment is long overdue, and an incident with its measure.
    const key = await createApiKey(run(yi).store, { name: 'yi-officer', role: 'secadmin' });
    const system = await callApi(yi, key, '/api/v1/systems', {
      name: '办公内网',
      level: '机密',
      commissionedAt: '2020-01-10',
      approval: { by: '市保密局', ref: '审〔2020〕1号', at: '2020-01-05' },
    });
    expect(system.status, JSON.stringify(system.body)).toBe(201);
    const incident = await callApi(yi, key, '/api/v1/incidents', {
      title: '涉密文件误发',
      level: '秘密',
      discoveredAt: new Date(clock.now().getTime() - 3_600_000).toISOString(),
      measures: [{ what: '收回文件' }],
    });
    expect(incident.status, JSON.stringify(incident.body)).toBe(201);
    // … and one 整改 item entered by hand, still open.
    const rectification = await callApi(yi, key, '/api/v1/rectifications', {
      what: '修订涉密计算机管理制度',
      who: '办公室',
      deadline: '2099-12-31',
    });
    expect(rectification.status, JSON.stringify(rectification.body)).toBe(201);
    // Its 泄密事件报告 signed off (签发): only then does it go up.
    await signOffIncidentReport(run(yi).store, {
      id: (incident.body as { id: string }).id,
      unit: '乙单位',
      level: '秘密',
    });
    // From the city: a 预警通报 (asks for a 排查 result) and a policy update (applied, not answered).
    const cityKey = await createApiKey(run(city).store, { name: 'city-officer', role: 'secadmin' });
    for (const notice of [
      { type: 'notice', title: '关于排查无线网卡的通报', body: '请各单位排查并报告结果。' },
      { type: 'policy', title: '禁止无线网卡', body: '', policy: { wireless: { approved: [] } } },
    ]) {
      expect((await callApi(city, cityKey, '/api/v1/hierarchy/notices', notice)).status).toBe(201);
    }
    for (const node of [jia, yi]) {
      await eventually(async () => (await run(node).store.hierarchy.listNotices(10)).length === 2, {
        what: `both notices at ${node.name}`,
      });
    }
    clock.set(new Date(clock.now().getTime() + 61_000));
    for (const node of [jia, yi]) await run(node).hierarchy.scan();

    await eventually(
      async () => {
        const units = await run(city).store.hierarchy.listSubordinates({});
        const reports = await run(city).store.hierarchy.listReports({ type: 'unit.status', limit: 100 });
        const yiStatus = reports.find((r) => r.unit === '乙单位')?.report.data as
          | {
              overdueAssessments?: number;
              incidents?: { total: number };
              openWarnings?: Record<string, number>;
            }
          | undefined;
        const warnings = Object.values(yiStatus?.openWarnings ?? {}).reduce((a, b) => a + b, 0);
        return (
          units.length === 3 &&
          yiStatus?.overdueAssessments === 1 &&
          yiStatus.incidents?.total === 1 &&
          (yiStatus as { noticesUnanswered?: number }).noticesUnanswered === 1 &&
          warnings >= 1
        );
      },
      { what: '乙单位’s figures at the city', timeoutMs: 30_000 },
    );
    page = await site.login('市干部', 'city-officer-pass');
  }, 90_000);

  afterAll(async () => {
    await disconnect?.();
    for (const node of [jia, yi, county]) await node?.running?.stop();
    for (const node of [jia, yi, county]) node?.dir.remove();
    await site?.stop();
  });

  const rowOrder = async () =>
    page
      .getByTestId('subordinates')
      .locator('tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => `${r.getAttribute('data-depth')}:${r.getAttribute('data-unit')}`),
      );

  it('shows the tree with each unit’s figures, sorts under each parent, and opens a unit’s reports', async () => {
    await page.goto(`${site.url}/#/subordinates`);
    const table = page.getByTestId('subordinates');
    const yiRow = table.locator('tr[data-unit="乙单位"]');
    await yiRow.waitFor();
    // The county at the top, its two units nested below; by open warnings 乙单位 comes first.
    expect(await rowOrder()).toEqual(['1:某县保密局', '2:乙单位', '2:甲单位']);
    await expect(yiRow.locator('[data-col="terminals"]').textContent()).resolves.toMatch(/^\d\/1$/);
    await yiRow
      .locator('[data-col="warnings"]')
      .getByText(/(紧急|高危|中危) [1-9]/)
      .waitFor();
    await expect(yiRow.locator('[data-col="overdue"]').textContent()).resolves.toBe('1');
    await expect(yiRow.locator('[data-col="incidents"]').textContent()).resolves.toBe(
      '未办结 1 / 共 1，迟报未报 0 次',
    );
    // The 预警通报 waits for its 排查 result; the policy update asks for none.
    await expect(yiRow.locator('[data-col="notices"]').textContent()).resolves.toBe('1');
    // Rectifications are not reported up yet: no number is made up.
    await expect(yiRow.locator('[data-col="rectifications"]').textContent()).resolves.toBe('1');
    const jiaRow = table.locator('tr[data-unit="甲单位"]');
    await expect(jiaRow.locator('[data-col="overdue"]').textContent()).resolves.toBe('0');
    await DashboardSite.shot(page, 'subordinates');

    // Sorted by name (zh collation: 甲 jiǎ before 乙 yǐ) the units under the county swap.
    await table.getByRole('button', { name: '单位', exact: true }).click();
    await eventually(async () => (await rowOrder())[1] === '2:甲单位', { what: 'sorted by name' });
    expect(await rowOrder()).toEqual(['1:某县保密局', '2:甲单位', '2:乙单位']);
    await table.getByRole('button', { name: '安全保密风险评估已逾期' }).click();
    await eventually(async () => (await rowOrder())[1] === '2:乙单位', { what: 'sorted by overdue' });

    // Drill-down: 乙单位’s reports as they came up, and its incident with its hops.
    await yiRow.getByRole('link', { name: '乙单位' }).click();
    const detail = page.getByTestId('subordinate-detail');
    await detail.getByTestId('unit-incidents').getByText('涉密文件误发').waitFor();
    await detail.getByTestId('unit-incidents').getByText('本单位 → 县级保密行政管理部门').waitFor();
    const reports = detail.getByTestId('unit-reports');
    await reports.locator('tr[data-type="unit.status"]').first().getByText('单位情况汇总').waitFor();
    await reports.locator('tr[data-type="incident"]').getByText('泄密事件报告').waitFor();
    await DashboardSite.shot(page, 'subordinate-detail');
    // No raw report type is shown in the Chinese page.
    expect(await reports.textContent()).not.toMatch(/unit\.status|incident\.hop|assessment\.overdue/);
  });
});
