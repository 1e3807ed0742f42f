/**
 * The 终端 page and a terminal's page in headless Chromium at 1366×768 against a real collector
 * (issue 17): the register listed with filters and search, an enrolled agent registered from the
 * unregistered list, its register fields edited on its page with the change shown in its history,
 * its inventory and events; persons added; the 台账 exported. Agent text stays text.
 */
import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentTopic } from '../../shared/topics.js';
import { connectAsAgent, enrollAgent, signedEvent } from '../support/collector-harness.js';
import { DashboardSite, hasChromium } from '../support/dashboard-site.js';
import { eventually } from '../support/eventually.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const UNIT = '测试单位';
const shot = DashboardSite.shot;

describe.skipIf(!hasChromium)('the terminal register in a browser', () => {
  let site: DashboardSite;
  let page: Page;
  let mqtt: MqttClient;
  let agentId: string;

  beforeAll(async () => {
    site = await DashboardSite.start([
      { name: '李四', password: 'officer-pass', role: 'secadmin', unit: UNIT },
      { name: 'guard', password: 'guard-pass', role: 'viewer', unit: UNIT },
    ]);
    const enrolled = await enrollAgent(site.collector, { unit: UNIT });
    agentId = enrolled.agent.id;
    mqtt = await connectAsAgent(
      site.collector.brokerUrl,
      enrolled.reply.broker.username,
      enrolled.reply.broker.password,
    );
    const inventory = {
      hostname: 'test-host',
      os: { distro: 'Kylin', release: 'V10', kernel: '5.10.0' },
      cpu: { model: HOSTILE, cores: 4 },
      memoryBytes: 8 * 2 ** 30,
      interfaces: [{ iface: 'eth0', mac: '00:11:22:33:44:55', ip4: ['10.0.0.5'], ip6: [] }],
      disks: [{ device: 'sda', model: 'SSD', serial: 'S-1', sizeBytes: 512e9 }],
      board: { serial: 'BRD-1' },
      bios: {},
      systemUuid: 'uuid-1',
    };
    const events = [
      signedEvent(enrolled.agent, 1, {
        type: 'host.inventory',
        key: 'host.inventory',
        severity: 'info',
        data: inventory,
      }),
      signedEvent(enrolled.agent, 2, { users: [{ account: 'lisi', line: 'tty1' }] }),
    ];
    for (const event of events) {
      await mqtt.publishAsync(agentTopic(agentId, 'events'), JSON.stringify(event), { qos: 1 });
    }
    const { store } = site.collector;
    await eventually(async () => (await store.listEvents({ agentId, limit: 10 })).length === 2 || undefined, {
      what: 'both events stored',
    });
    page = await site.login('李四', 'officer-pass');
  }, 60_000);

  afterAll(async () => {
    await mqtt?.endAsync();
    await site?.stop();
  });

  it('registers a person, then the enrolled agent from the unregistered list', async () => {
    await page.goto(`${site.url}/#/persons`);
    await page.getByRole('heading', { name: '涉密人员' }).waitFor();
    await page.getByRole('button', { name: '登记人员' }).click();
    const personForm = page.getByTestId('person-form');
    await personForm.getByLabel('姓名').fill('王五');
    await personForm.getByLabel('涉密等级').selectOption('重要');
    await personForm.getByLabel('操作系统账户').fill('lisi, wangwu');
    await personForm.getByRole('button', { name: '保存' }).click();
    await page.locator('tr[data-person]').getByText('王五').waitFor();

    await page.goto(`${site.url}/#/agents`);
    await page.getByRole('heading', { name: '终端' }).waitFor();
    const waiting = page.locator(`tr[data-agent="${agentId}"]`);
    await waiting.getByRole('button', { name: '登记' }).click();
    const form = page.getByTestId('terminal-form');
    await form.getByLabel('编号').fill('JSJ-2026-001');
    await form.getByLabel('密级').selectOption('机密');
    await form.getByLabel('责任人').selectOption({ label: '王五（在岗）' });
    await form.getByLabel('位置').fill('3号楼201');
    await form.getByRole('button', { name: '保存' }).click();
    const row = page.locator('tr[data-terminal]').filter({ hasText: 'JSJ-2026-001' });
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('王五');
    await expect(waiting.count()).resolves.toBe(0);
    await shot(page, 'terminals');
  });

  it('filters and searches the register', async () => {
    await page.goto(`${site.url}/#/agents`);
    const rows = page.locator('tr[data-terminal]');
    await rows.first().waitFor();
    const filters = page.getByTestId('terminal-filters');
    await filters.getByLabel('密级').selectOption('秘密');
    await page.getByTestId('terminals').waitFor({ state: 'detached' });
    await filters.getByLabel('密级').selectOption('机密');
    await rows.first().waitFor();
    await filters.getByLabel('搜索').fill('3号楼');
    await expect.poll(() => rows.count()).toBe(1);
    await filters.getByLabel('搜索').fill('没有这个');
    await page.getByTestId('terminals').waitFor({ state: 'detached' });
    await filters.getByLabel('搜索').fill('');
    await rows.first().waitFor();
    await filters.getByLabel('单位').fill('其他单位');
    await page.getByTestId('terminals').waitFor({ state: 'detached' });
    await filters.getByLabel('单位').fill('');
    await rows.first().waitFor();
  });

  it('a terminal’s page: register fields edited, the change in its history, inventory, events named', async () => {
    await page.goto(`${site.url}/#/agents`);
    await page.locator('tr[data-terminal]').getByRole('link', { name: 'JSJ-2026-001' }).click();
    await page.getByTestId('terminal-page').waitFor();
    await page.getByRole('heading', { name: /JSJ-2026-001 · test-host · 王五/ }).waitFor();
    const facts = page.getByTestId('register-facts');
    await expect(facts.textContent()).resolves.toContain('3号楼201');
    const inventory = page.getByTestId('inventory');
    await inventory.getByText('Kylin V10 5.10.0').waitFor();
    // The host's own text stays text.
    await inventory.getByText(HOSTILE).first().waitFor();

    await page.getByRole('button', { name: '修改台账' }).click();
    const form = page.getByTestId('terminal-form');
    await form.locator('select[name="state"]').selectOption('维修');
    await form.getByLabel('位置').fill('5号楼102');
    await form.getByRole('button', { name: '保存' }).click();
    await facts.getByText('5号楼102').waitFor();
    const history = page.getByTestId('change-history');
    await history.locator('tr').filter({ hasText: '5号楼102' }).waitFor();
    await expect(history.textContent()).resolves.toContain('location: 3号楼201');

    const events = page.getByTestId('recent-events');
    await events.getByText('JSJ-2026-001 · test-host · 王五').first().waitFor();
    await expect(page.getByTestId('event-users').first().textContent()).resolves.toBe('王五@tty1');
    await page.getByTestId('terminal-warnings').waitFor();
    await page.goto(`${site.url}/#/warnings`);
    await page.getByTestId('warnings').getByText('JSJ-2026-001 · test-host · 王五').first().waitFor();
    expect(site.dialogs).toEqual([]);
    await shot(page, 'terminal');
  });

  it('exports the register as CSV with Chinese headers; a viewer reads but gets no forms', async () => {
    const csv = await page.evaluate(async () => (await fetch('/api/v1/terminals/export?format=csv')).text());
    expect(csv.replace(/^\uFEFF/, '').split('\r\n')[0]).toContain('编号,密级,用途,责任人');
    expect(csv).toContain('JSJ-2026-001');
    const viewer = await site.login('guard', 'guard-pass');
    await viewer.goto(`${site.url}/#/agents`);
    await viewer.locator('tr[data-terminal]').first().waitFor();
    await expect(viewer.getByRole('button', { name: '登记终端' }).count()).resolves.toBe(0);
    await viewer.close();
  });
});
