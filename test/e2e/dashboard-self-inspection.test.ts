/**
 * The 保密自查自评 and 整改 pages in headless Chromium at 1366×768 against a real collector: the
 * officer starts the year's inspection, answers an item as a finding with its 整改 item, sees the
 * live figure of a linked record, uploads a file, finalises, and closes the item on the 整改
 * page; a viewer reads without forms. Chinese throughout: no raw answer or state word shows.
 * Screenshots go to test/artifacts/.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { SELF_INSPECTION_CHECKLIST } from '../../collector/self-inspection/checklist.js';
import { addCalendarDays, shanghaiDate } from '../../shared/calendar.js';
import { enrollAgent } from '../support/collector-harness.js';
import { DashboardSite, hasChromium } from '../support/dashboard-site.js';

const UNIT = '甲单位';
const shot = DashboardSite.shot;
const RAW_WORDS =
  /\b(compliant|partly|non-compliant|not-applicable|findings|overdue|open|done|self-inspection)\b/;

describe.skipIf(!hasChromium)('self-inspection and rectification pages in a browser', () => {
  let site: DashboardSite;
  let page: Page;
  let key: string;
  const year = Number(shanghaiDate(new Date()).slice(0, 4));
  const deadline = addCalendarDays(shanghaiDate(new Date()), 20);

  async function apiCall(method: string, path: string, body?: unknown) {
    const response = await fetch(`${site.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(response.status).toBeLessThan(300);
    return response.json() as Promise<{ id: string }>;
  }

  beforeAll(async () => {
    site = await DashboardSite.start(
      [
        { name: '李四', password: 'officer-pass', role: 'secadmin', unit: UNIT },
        { name: 'guard', password: 'guard-pass', role: 'viewer', unit: UNIT },
      ],
      { unit: UNIT },
    );
    key = await createApiKey(site.collector.store, { name: 'officer-api', role: 'secadmin', unit: UNIT });
    await enrollAgent(site.collector, { unit: UNIT });
    page = await site.login('李四', 'officer-pass');
  });
  afterAll(async () => {
    await site?.stop();
  });

  it('starts the year’s inspection and answers a finding with its 整改 item and live figures', async () => {
    await page.goto(`${site.url}/#/self-inspection`);
    await page.getByRole('heading', { name: '保密自查自评', exact: true }).waitFor();
    const start = page.getByTestId('start-inspection');
    await start.getByLabel('年度').fill(String(year));
    await start.getByRole('button', { name: '保存' }).click();
    await page.getByRole('heading', { name: `${UNIT} ${year} 保密自查自评` }).waitFor();

    const systems = page.getByTestId('item-systems');
    await systems.getByRole('heading', { name: '(七)信息系统和信息设备保密管理情况' }).waitFor();
    // The suggested links are ticked, with their live figures: one enrolled terminal.
    await systems.getByTestId('figures').getByText('已接入 1').waitFor();
    await systems.getByLabel('自查结论').selectOption({ label: '基本符合' });
    await systems.getByLabel('备注').fill('一台终端未纳入监测');
    await systems.getByLabel('整改内容').fill('为未纳入监测的终端安装监测程序');
    await systems.getByLabel('责任人').fill('王五');
    await systems.getByLabel('整改期限').fill(deadline);
    await systems.getByRole('button', { name: '保存本项' }).click();
    await systems.getByTestId('rectification').getByText('为未纳入监测的终端安装监测程序').waitFor();
    await systems.getByTestId('rectification').getByText('整改中').waitFor();

    const rules = page.getByTestId('item-rules');
    await rules.locator('input[type=file]').setInputFiles({
      name: '保密制度汇编.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('保密制度汇编', 'utf8'),
    });
    await rules.getByRole('link', { name: '保密制度汇编.txt' }).waitFor();
    await shot(page, 'self-inspection-open');
  });

  it('refuses to finalise with items unanswered, then finalises with the result', async () => {
    const finalise = page.getByTestId('finalise');
    await finalise.getByRole('button', { name: '完成自查自评' }).click();
    await finalise
      .getByTestId('form-error')
      .getByText(/items not answered yet|\(一\)/)
      .waitFor();

    const [inspection] = (
      (await (
        await fetch(`${site.url}/api/v1/self-inspections`, {
          headers: { authorization: `Bearer ${key}` },
        })
      ).json()) as { items: { id: string }[] }
    ).items;
    for (const entry of SELF_INSPECTION_CHECKLIST) {
      if (entry.item === 'systems') continue;
      await apiCall('PUT', `/api/v1/self-inspections/${inspection!.id}/items/${entry.item}`, {
        answer: 'compliant',
      });
    }
    await page.reload();
    await page.getByTestId('finalise').getByLabel('总体情况').fill('总体落实较好');
    await page.getByTestId('finalise').getByRole('button', { name: '完成自查自评' }).click();
    await page
      .getByTestId('inspection-state')
      .getByText(/已完成 · 自查结果：发现问题（需整改）/)
      .waitFor();
    await page.getByTestId('item-systems').getByTestId('item-answer').getByText('基本符合').waitFor();
    expect(await page.getByTestId('finalise').count()).toBe(0);
    expect(await page.locator('main').innerText()).not.toMatch(RAW_WORDS);
    await shot(page, 'self-inspection-finalised');
  });

  it('lists the 整改 item and closes it with how it was put right', async () => {
    await page.goto(`${site.url}/#/rectifications`);
    const row = page.getByTestId('rectification').filter({ hasText: '为未纳入监测的终端安装监测程序' });
    await row.getByText('保密自查自评').waitFor();
    await row.getByRole('button', { name: '整改完成' }).click();
    await row.getByText('请填写“整改情况”').waitFor();
    await row.getByRole('textbox').fill('已安装并接入监测');
    await row.getByRole('button', { name: '整改完成' }).click();
    await row.getByText('已完成').waitFor();
    await row.getByText('已安装并接入监测').waitFor();
    expect(await page.locator('main').innerText()).not.toMatch(RAW_WORDS);
    await shot(page, 'rectifications');
  });

  it('a viewer reads both pages without forms', async () => {
    const viewer = await site.login('guard', 'guard-pass');
    await viewer.goto(`${site.url}/#/rectifications`);
    await viewer.getByTestId('rectification').first().waitFor();
    expect(await viewer.getByRole('button', { name: '整改完成' }).count()).toBe(0);
    expect(await viewer.getByTestId('new-rectification').count()).toBe(0);
    await viewer.goto(`${site.url}/#/self-inspection`);
    await viewer.getByTestId('inspections').waitFor();
    expect(await viewer.getByTestId('start-inspection').count()).toBe(0);
  });
});
