/**
 * The dashboard's access page (issue 14 item 4) in headless Chromium at 1366×768 against a real
 * collector: an admin disables a user — whose own open page drops to the login at once, its live
 * stream ended by the collector — enables them again, sets their password through the form
 * (refusing a short one and a mistyped repeat) and revokes an API key. Officers get no such page.
 * Screenshots go to test/artifacts/.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { DashboardSite, hasChromium } from '../support/dashboard-site.js';

const UNIT = '测试单位';

describe.skipIf(!hasChromium)('the access page in a browser', () => {
  let site: DashboardSite;
  let admin: Page;
  let wallKey: string;

  beforeAll(async () => {
    site = await DashboardSite.start([
      { name: 'root', password: 'root-pass-1', role: 'sysadmin', unit: null },
      { name: '张三', password: 'officer-pass', role: 'secadmin', unit: UNIT },
    ]);
    wallKey = await createApiKey(site.collector.store, { name: 'wall', role: 'viewer', unit: UNIT });
    admin = await site.login('root', 'root-pass-1');
  });
  afterAll(async () => {
    await site?.stop();
  });

  it('disabling a user sends their open page back to the login at once; enabling lets them in', async () => {
    const officer = await site.login('张三', 'officer-pass');
    await officer.getByTestId('live-state').getByText('实时').waitFor();
    // An officer has no access page.
    expect(await officer.getByRole('link', { name: '访问管理' }).count()).toBe(0);

    await admin.getByRole('link', { name: '访问管理' }).click();
    const row = admin.locator('[data-testid="users"] tr[data-user="张三"]');
    await row.getByRole('button', { name: '停用' }).click();
    await admin.getByTestId('form-ok').getByText('已停用 张三').waitFor();
    await row.getByText('已停用').waitFor();
    // The admin's own row offers no 停用.
    expect(await admin.locator('tr[data-user="root"]').getByRole('button', { name: '停用' }).count()).toBe(0);

    // 张三's page did nothing: the collector ended its stream, and it is back at the login.
    await officer.getByRole('button', { name: '登录' }).waitFor({ timeout: 10_000 });
    await DashboardSite.shot(admin, 'access-disabled');

    await row.getByRole('button', { name: '启用' }).click();
    await row.getByText('已停用').waitFor({ state: 'detached' });
    await (await site.login('张三', 'officer-pass')).close();
  });

  it('sets a password through the form, refusing a short one and a mistyped repeat', async () => {
    await admin.goto(`${site.url}/#/access`);
    await admin.locator('tr[data-user="张三"]').getByRole('button', { name: '重设密码' }).click();
    const form = admin.getByTestId('password-form');
    await form.getByLabel('新密码', { exact: true }).fill('short');
    await form.getByLabel('再次输入新密码').fill('short');
    await form.getByRole('button', { name: '保存' }).click();
    await form.getByTestId('form-error').getByText('密码至少 8 个字符').waitFor();
    await form.getByLabel('新密码', { exact: true }).fill('a much longer one');
    await form.getByLabel('再次输入新密码').fill('a much longer 0ne');
    await form.getByRole('button', { name: '保存' }).click();
    await form.getByTestId('form-error').getByText('两次输入的密码不一致').waitFor();
    await form.getByLabel('再次输入新密码').fill('a much longer one');
    await form.getByRole('button', { name: '保存' }).click();
    await form.getByTestId('form-ok').getByText('已为 张三 设置新密码').waitFor();
    await DashboardSite.shot(admin, 'access-password');
    await (await site.login('张三', 'a much longer one')).close();
    const audit = await site.collector.store.audit.list({ actor: 'root', limit: 20 });
    expect(audit.map((e) => e.action)).toContain(`POST /api/v1/users/${encodeURIComponent('张三')}/password`);
    expect(JSON.stringify(audit)).not.toContain('a much longer one');
  });

  it('revokes an API key, which is refused from then on; English is one click away', async () => {
    const call = () =>
      fetch(`${site.url}/api/v1/agents`, { headers: { authorization: `Bearer ${wallKey}` } }).then(
        (r) => r.status,
      );
    expect(await call()).toBe(200);
    await admin.goto(`${site.url}/#/access`);
    const row = admin.locator('[data-testid="apikeys"] tr[data-apikey="wall"]');
    await row.getByRole('button', { name: '吊销' }).click();
    await row.getByText('已吊销').waitFor();
    expect(await call()).toBe(401);

    await admin.getByTestId('switch-lang').click();
    await admin.getByRole('heading', { name: 'Access' }).waitFor();
    await row.getByText('revoked').waitFor();
    expect(await admin.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1366);
    await DashboardSite.shot(admin, 'access-en');
    await admin.getByTestId('switch-lang').click();
    expect(site.dialogs).toEqual([]);
  });
});
