/**
 * 三员 in the dashboard (headless Chromium, 1366×768, a real collector): the system administrator
 * adds a user through the access page, choosing the role by its Chinese name, and sees no warnings
 * and no audit log; the security auditor sees only 审计 — the log with both administrators'
 * actions, filtered, exported with its chain, and the chain's status, which turns to 已破坏 when a
 * row is edited in the database. Screenshots go to test/artifacts/.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import type { Database } from '../../collector/store/sql/database.js';
import { sql } from '../../collector/store/sql/query.js';
import { DashboardSite, hasChromium } from '../support/dashboard-site.js';

const navLinks = (page: Page) => page.locator('nav[aria-label="main"] a').allTextContents();

describe.skipIf(!hasChromium)('the auditor’s view in a browser (三员)', () => {
  let site: DashboardSite;
  let root: Page;
  let auditor: Page;

  beforeAll(async () => {
    site = await DashboardSite.start([
      { name: 'root', password: 'root-pass-1', role: 'sysadmin', unit: null },
      { name: '审计员', password: 'auditor-pass', role: 'auditor', unit: null },
    ]);
    root = await site.login('root', 'root-pass-1');
  });
  afterAll(async () => {
    await site?.stop();
  });

  it('the system administrator adds a user by role name and sees neither warnings nor the audit log', async () => {
    expect(await navLinks(root)).toEqual(['终端', '访问管理']);
    await root.goto(`${site.url}/#/audit`);
    // A page the role may not open shows its first page instead.
    await root.getByRole('heading', { name: '终端' }).waitFor();
    expect(await root.getByTestId('audit').count()).toBe(0);

    await root.getByRole('link', { name: '访问管理' }).click();
    await root.getByTestId('role-legend').getByText('角色说明').click();
    await root.getByTestId('role-legend').getByText('查阅全部审计记录').waitFor();
    await root.getByTestId('add-user').click();
    const form = root.getByTestId('new-user-form');
    await form.getByLabel('用户名').fill('张三');
    await form.getByLabel('角色').selectOption({ label: '安全保密管理员 (secadmin)' });
    await form.getByLabel('单位（留空：全部单位）').fill('一处');
    await form.getByLabel('新密码').fill('officer-pass-1');
    await form.getByRole('button', { name: '保存' }).click();
    await form.getByTestId('form-ok').getByText('已新增用户 张三').waitFor();
    await root.locator('[data-testid="users"] tr[data-user="张三"]').getByText('安全保密管理员').waitFor();
    await DashboardSite.shot(root, 'roles-access');

    // One role per account: the same name as an auditor key is refused.
    await root.getByTestId('add-key').click();
    const keyForm = root.getByTestId('new-key-form');
    await keyForm.getByLabel('密钥名称').fill('张三');
    await keyForm.getByLabel('角色').selectOption({ label: '安全审计员 (auditor)' });
    await keyForm.getByRole('button', { name: '保存' }).click();
    await keyForm
      .getByTestId('form-error')
      .getByText(/already holds secadmin/)
      .waitFor();
  });

  it('the auditor sees only 审计: both administrators’ actions, filtered, exported with the chain', async () => {
    const secadmin = await createApiKey(site.collector.store, { name: 'sec-key', role: 'secadmin' });
    const registered = await fetch(`${site.url}/api/v1/systems`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secadmin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: '办公内网', level: '机密', commissionedAt: '2026-01-05' }),
    });
    expect(registered.status).toBe(201);

    auditor = await site.login('审计员', 'auditor-pass');
    expect(await navLinks(auditor)).toEqual(['审计']);
    // No live stream for a role that may not read it, so no 实时 indicator either.
    expect(await auditor.getByTestId('live-state').count()).toBe(0);
    await auditor.getByRole('heading', { name: '审计' }).waitFor();
    await auditor
      .getByTestId('chain-status')
      .getByText(/审计链 · 完整：共 \d+ 条/)
      .waitFor();
    const table = auditor.getByTestId('audit');
    await table.locator('tr[data-actor="root"]', { hasText: 'POST /api/v1/users' }).first().waitFor();
    await table.locator('tr[data-actor="sec-key"]', { hasText: 'POST /api/v1/systems' }).waitFor();
    await table.locator('tr[data-actor="root"]').getByText('系统管理员').first().waitFor();
    await DashboardSite.shot(auditor, 'roles-audit');

    const filters = auditor.getByTestId('audit-filters');
    await filters.getByLabel('操作人').fill('sec-key');
    await filters.getByRole('button', { name: '筛选' }).click();
    await table.locator('tr[data-actor="root"]').first().waitFor({ state: 'detached' });
    expect(await table.locator('tbody tr').count()).toBe(1);

    const [download] = await Promise.all([
      auditor.waitForEvent('download'),
      auditor.getByTestId('audit-export').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^smew-audit-\d{4}-\d{2}-\d{2}\.json$/);
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8')) as {
      verification: { ok: boolean };
      entries: { actor: string; seq: number; hash: string }[];
    };
    expect(exported.verification.ok).toBe(true);
    expect(exported.entries.map((e) => e.actor)).toEqual(expect.arrayContaining(['root', 'sec-key']));
    expect(exported.entries.map((e) => e.seq)).toEqual(exported.entries.map((_, i) => i + 1));

    // The auditor cannot reach the access page by its address either.
    await auditor.goto(`${site.url}/#/access`);
    await auditor.getByRole('heading', { name: '审计' }).waitFor();
    expect(await auditor.getByTestId('users').count()).toBe(0);
  });

  it('shows the chain broken, and where, once a row is edited in the database', async () => {
    const database = (site.collector.store as unknown as { database: Database }).database;
    await database.run(sql`UPDATE audit_log SET detail = ${'{}'} WHERE seq = 2`);
    await auditor.getByTestId('chain-check').click();
    const status = auditor.getByTestId('chain-status');
    await status.getByText(/审计链 · 已破坏：第 \d+ 条记录被修改/).waitFor();
    expect(await status.getAttribute('data-ok')).toBe('false');
    await DashboardSite.shot(auditor, 'roles-audit-broken');
  });
});
