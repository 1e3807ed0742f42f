/**
 * The dashboard in headless Chromium against a real collector (in process, embedded broker,
 * temp SQLite) fed by signed events from a real MQTT client: login, live updates, hostile agent
 * text, CSRF, login throttling, the language switch. Screenshots go to test/artifacts/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../collector/auth/users.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import { eventually } from '../support/eventually.js';
import {
  connectAsAgent,
  enrollAgent,
  signedEvent,
  tempDir,
  type TestAgent,
  testCollectorConfig,
} from '../support/collector-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
const HOSTILE_SSID = '<script>alert(1)</script>';
const HOSTILE_HOST = '<img src=x onerror=alert(1)>';

describe.skipIf(!existsSync(CHROMIUM) && process.env.CI !== 'true')('dashboard in a browser', () => {
  let dir: ReturnType<typeof tempDir>;
  let collector: RunningCollector;
  let browser: Browser;
  let page: Page;
  let agent: TestAgent;
  let mqtt: MqttClient;
  let seq = 0;
  const dialogs: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = tempDir('smew-dashboard-');
    const dashboardDir = join(dir.path, 'dashboard');
    execFileSync(
      process.execPath,
      [join(import.meta.dirname, '..', '..', 'scripts', 'build-dashboard.mjs'), dashboardDir],
      {
        stdio: 'pipe',
      },
    );
    collector = await startCollector(testCollectorConfig(dir.path), {
      logger: createLogger('test', 'silent'),
      dashboardDir,
    });
    for (const [name, password, role, unit] of [
      ['李四', 'officer-pass', 'secadmin', '测试单位'],
      ['guard', 'guard-pass', 'viewer', '测试单位'],
      ['watcher', 'watcher-pass', 'viewer', '测试单位'],
      ['王五', 'sibling-pass', 'secadmin', '兄弟单位'],
    ] as const) {
      await addUser(collector.store, { name, password, role, unit });
    }
    const enrolled = await enrollAgent(collector);
    agent = enrolled.agent;
    mqtt = await connectAsAgent(
      collector.brokerUrl,
      enrolled.reply.broker.username,
      enrolled.reply.broker.password,
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const context = await browser.newContext({
      viewport: { width: 1366, height: 768 },
      locale: 'zh-CN',
      timezoneId: 'UTC',
    });
    page = await context.newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await mqtt?.endAsync();
    await collector?.stop();
    dir?.remove();
  });

  const publishEvent = async (overrides: Record<string, unknown>) => {
    seq += 1;
    await mqtt.publishAsync(
      agentTopic(agent.id, 'events'),
      JSON.stringify(signedEvent(agent, seq, overrides)),
      { qos: 1 },
    );
  };
  const hasRoute = async (path: string) => {
    const doc = (await (await fetch(`${collector.httpUrl}/api/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    return path in doc.paths;
  };
  const loggedInPage = async (name: string, password: string) => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const other = await context.newPage();
    other.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await other.goto(collector.httpUrl);
    await other.getByLabel('用户名').fill(name);
    await other.getByLabel('密码').fill(password);
    await other.getByRole('button', { name: '登录' }).click();
    await other
      .getByRole('heading', { name: '未办结的预警事件' })
      .waitFor()
      .catch(async (err: unknown) => {
        await other.screenshot({ path: join(ARTIFACTS, `dashboard-login-failed-${name}.png`) });
        throw err;
      });
    return other;
  };
  const shot = (name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });

  it('serves the page with a strict CSP, logs in, and shows the overview in Chinese', async () => {
    const response = await page.goto(collector.httpUrl);
    const headers = response!.headers();
    expect(headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(headers['x-content-type-options']).toBe('nosniff');

    await page.getByLabel('用户名').fill('李四');
    await page.getByLabel('密码').fill('officer-pass');
    await shot('login');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('heading', { name: '未办结的预警事件' }).waitFor();
    await page.getByTestId('live-state').getByText('实时').waitFor();
    await expect(page.getByTestId('agent-counts').textContent()).resolves.toContain('离线终端');
  });

  it('shows an agent coming online and its events arriving live, over the stream', async () => {
    await page.goto(`${collector.httpUrl}/#/agents`);
    const row = page.locator(`tr[data-agent="${agent.id}"]`);
    await row.getByText('离线').waitFor();
    // The page polls only every 15 s; these must arrive through the server-sent events.
    await mqtt.publishAsync(agentTopic(agent.id, 'status'), 'online', { qos: 1, retain: true });
    await row.getByText('在线').waitFor({ timeout: 5000 });

    await page.goto(`${collector.httpUrl}/#/`);
    await page.getByTestId('live-state').getByText('实时').waitFor();
    await publishEvent({});
    await page
      .getByTestId('recent-events')
      .getByText('涉密计算机存在未经批准的无线网卡')
      .waitFor({ timeout: 5000 });
  });

  it('renders a hostile SSID and host name from a signed event as text, running nothing', async () => {
    await publishEvent({
      type: 'net.wireless.connected',
      key: 'net.wireless.connected:wlp2s0',
      severity: 'critical',
      data: { iface: 'wlp2s0', ssid: HOSTILE_SSID, bssid: '00:11:22:33:44:55', note: HOSTILE_HOST },
    });
    const events = page.getByTestId('recent-events');
    await events.getByText(HOSTILE_SSID, { exact: true }).waitFor({ timeout: 5000 });
    await events.getByText(HOSTILE_HOST, { exact: true }).waitFor();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('#app script').count()).toBe(0);
    await shot('overview');
    // Give an injected handler every chance to run before checking that none did.
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 200)))');
    expect(dialogs).toEqual([]);
  });

  it('draws attention to the new critical warning live, and moves it through its lifecycle with verifiable evidence', async () => {
    if (!(await hasRoute('/api/v1/warnings'))) {
      await page.goto(`${collector.httpUrl}/#/warnings`);
      await page.getByTestId('unavailable').getByText('/api/v1/warnings').waitFor();
      return;
    }
    const alert = page.getByTestId('critical-alert');
    await alert.waitFor({ timeout: 5000 });
    await alert.getByRole('link').first().click();
    await page.getByTestId('evidence').waitFor();
    // The hostile SSID inside the signed envelope is text too, and the signature checks out in the browser.
    await page.getByTestId('evidence').getByText(HOSTILE_SSID, { exact: false }).first().waitFor();
    await page.getByRole('button', { name: '验证签名' }).first().click();
    await page.getByText('签名有效').first().waitFor();
    await shot('warning-detail');

    const state = page.locator('dl.facts .badge').first();
    for (const [button, reached] of [
      ['研判确认', '已研判'],
      ['开始处置', '处置中'],
      ['办结', '已办结'],
    ] as const) {
      await page.getByLabel('备注').fill(`${button}：已核实 <b>不是HTML</b>`);
      await page.getByRole('button', { name: button, exact: true }).click();
      await state.getByText(reached, { exact: true }).waitFor();
    }
    await page.locator('ol.timeline').getByText('办结：已核实 <b>不是HTML</b>').waitFor();
    expect(await page.locator('ol.timeline b').count()).toBe(0);
    await shot('warning-closed');
  });

  it('shows bidi and invisible characters as visible escapes, and keeps a 4 000-character value inside the viewport', async () => {
    const BIDI_SSID = 'office\u202egpj.exe';
    const LONG_VENDOR = 'W'.repeat(4000);
    await page.goto(`${collector.httpUrl}/#/`);
    await page.getByTestId('live-state').getByText('实时').waitFor();
    await publishEvent({
      type: 'net.wireless.connected',
      key: 'net.wireless.connected:wlp3s0',
      severity: 'high',
      data: { iface: 'wlp3s0', ssid: BIDI_SSID, bssid: '00:11:22:33:44:66', 'zero\u200bwidth': 'x' },
    });
    await publishEvent({
      type: 'usb.storage.attached',
      key: 'usb.storage.attached:long',
      severity: 'high',
      data: { vendor: LONG_VENDOR, product: '5581', registered: false },
    });
    const events = page.getByTestId('recent-events');
    // The override is shown as the text \u202e, in its own style, and is not in the page as a character.
    const escape = events.locator('.invisible', { hasText: '\\u202e' }).first();
    await escape.waitFor({ timeout: 5000 });
    await events.getByText('zero\\u200bwidth').waitFor();
    const text = (await events.textContent()) ?? '';
    expect(text).toContain('office\\u202egpj.exe');
    expect(text).not.toContain('\u202e');
    expect(text).not.toContain('\u200b');
    const fits = async () => {
      const wide = await page.evaluate(`[...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && el.children.length === 0)
        .slice(0, 5)
        .map((el) => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))`);
      expect(wide, 'elements past the right edge of the viewport').toEqual([]);
      return page.evaluate('document.documentElement.scrollWidth <= window.innerWidth');
    };
    expect(await fits()).toBe(true);
    // Cut, with the whole value one click away; expanded, it wraps inside the viewport.
    expect(text).not.toContain(LONG_VENDOR);
    const vendorRow = events.locator('tr', { hasText: '涉密计算机接入移动存储介质' }).first();
    await vendorRow.getByRole('button', { name: /显示全部/ }).click();
    await eventually(async () => ((await vendorRow.textContent()) ?? '').includes(LONG_VENDOR), {
      what: 'the whole vendor string shown',
    });
    expect(await fits()).toBe(true);
    await shot('hostile-text');
  });

  it('lets a viewer read but not act, and hides a sibling unit from its officer', async () => {
    if (!(await hasRoute('/api/v1/warnings'))) return;
    const viewer = await loggedInPage('watcher', 'watcher-pass');
    await viewer.goto(`${collector.httpUrl}/#/warnings`);
    await viewer.getByTestId('warnings').getByRole('link').first().click();
    await viewer.getByTestId('cannot-act').waitFor();
    expect(await viewer.getByRole('button', { name: '研判确认' }).count()).toBe(0);
    await shot('viewer');
    await viewer.context().close();

    const sibling = await loggedInPage('王五', 'sibling-pass');
    await sibling.goto(`${collector.httpUrl}/#/agents`);
    await sibling.getByRole('heading', { name: '终端' }).waitFor();
    await sibling.getByText('暂无').waitFor();
    await sibling.goto(`${collector.httpUrl}/#/warnings?state=all`);
    await sibling.getByText('暂无').waitFor();
    expect(await sibling.getByText(agent.id).count()).toBe(0);
    await sibling.context().close();
  });

  it('shows a running 24-hour report clock counting down on the overview', async () => {
    if (!(await hasRoute('/api/v1/incidents'))) {
      await page.goto(`${collector.httpUrl}/#/incidents`);
      await page.getByTestId('unavailable').getByText('/api/v1/incidents').waitFor();
      return;
    }
    const created = await page.evaluate(
      async (discoveredAt) => {
        const session = (await (await fetch('/api/v1/session')).json()) as { csrfToken: string };
        const response = await fetch('/api/v1/incidents', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
          body: JSON.stringify({ title: '涉密文件疑似外泄', level: '机密', discoveredAt }),
        });
        return response.status;
      },
      new Date(Date.now() - 3600_000).toISOString(),
    );
    expect(created).toBe(201);
    await page.goto(`${collector.httpUrl}/#/`);
    const clocks = page.getByTestId('running-clocks');
    await clocks.getByText('涉密文件疑似外泄').first().waitFor();
    const timer = clocks.getByRole('timer').first();
    const first = await timer.textContent();
    expect(first).toMatch(/^剩余 2[23]:\d\d:\d\d$/);
    await expect.poll(() => timer.textContent(), { timeout: 5000 }).not.toBe(first);
    await shot('overview-clock');
    await page.goto(`${collector.httpUrl}/#/incidents`);
    await page.getByTestId('incidents').locator('ol.timeline li').first().waitFor();
    await shot('incidents-timeline');
  });

  it('shows each page, with a clear state for features this collector lacks', async () => {
    const routes = (await (await fetch(`${collector.httpUrl}/api/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    for (const [hash, api] of [
      ['warnings', '/api/v1/warnings'],
      ['systems', '/api/v1/systems'],
      ['incidents', '/api/v1/incidents'],
      ['notices', '/api/v1/notices'],
      ['silences', '/api/v1/silences'],
    ] as const) {
      await page.goto(`${collector.httpUrl}/#/${hash}`);
      await page.locator('main.page h1').waitFor();
      if (api in routes.paths) {
        await page.locator('main.page').getByText('加载中…').first().waitFor({ state: 'detached' });
        expect(await page.getByTestId('unavailable').getByText(api, { exact: false }).count()).toBe(0);
      } else {
        await page.getByTestId('unavailable').getByText(api).waitFor();
      }
      await shot(hash);
    }
    await page.goto(`${collector.httpUrl}/#/agents/${agent.id}`);
    await page.getByText(HOSTILE_SSID, { exact: true }).waitFor();
    await shot('agent');
  });

  it('refuses a state-changing request that lacks the CSRF token, even with the session cookie', async () => {
    const status = await page.evaluate(async () => {
      const response = await fetch('/api/v1/session', { method: 'DELETE' });
      return { status: response.status, body: (await response.json()) as { error: string } };
    });
    expect(status.status).toBe(403);
    expect(status.body.error).toContain('CSRF');
    // Still logged in: the forged logout did nothing.
    await page.goto(`${collector.httpUrl}/#/agents`);
    await page.getByTestId('agents').waitFor();
  });

  it('switches to English, keeping Beijing time', async () => {
    await page.goto(`${collector.httpUrl}/#/agents`);
    await page.getByTestId('switch-lang').click();
    await page.getByRole('heading', { name: 'Agents' }).waitFor();
    await page.getByRole('link', { name: 'Warnings' }).waitFor();
    const lastSeen = await page.locator(`tr[data-agent="${agent.id}"] time`).getAttribute('datetime');
    const shown = await page.locator(`tr[data-agent="${agent.id}"] time`).textContent();
    const beijing = new Date(new Date(lastSeen!).getTime() + 8 * 3600_000).toISOString();
    expect(shown).toBe(`${beijing.slice(0, 10)} ${beijing.slice(11, 19)}`);
    await shot('agents-en');
    await page.getByTestId('switch-lang').click();
    await page.getByRole('heading', { name: '终端' }).waitFor();
  });

  it('reads long lists a page at a time: 加载更多 appends the next page of warnings and of an agent’s events', async () => {
    if (!(await hasRoute('/api/v1/warnings'))) return;
    // 120 new conditions: 120 warnings and 120 more events, more than a page (100) of each.
    const before = (await collector.store.listEvents({ agentId: agent.id, limit: 10_000 })).length;
    for (let i = 0; i < 120; i++) {
      await publishEvent({ key: `net.wireless.present:page${String(i).padStart(3, '0')}`, severity: 'low' });
    }
    await eventually(
      async () => {
        const warnings = await collector.store.warnings.listWarnings({ limit: 1000 });
        return warnings.filter((w) => w.key.includes(':page')).length === 120;
      },
      { timeoutMs: 30_000, what: '120 new warnings' },
    );
    const events = before + 120;

    await page.goto(`${collector.httpUrl}/#/warnings?state=all`);
    const rows = page.getByTestId('warnings').locator('tbody tr');
    await page.getByTestId('load-more').waitFor();
    expect(await rows.count()).toBe(100);
    await expect(page.locator('.load-more').textContent()).resolves.toContain('已显示 100 条');
    await page.getByTestId('load-more').click();
    await page.getByTestId('load-more').waitFor({ state: 'detached' });
    const warnings = (await collector.store.warnings.listWarnings({ limit: 1000 })).length;
    expect(await rows.count()).toBe(warnings);
    // Every warning once, in the collector's order.
    const ids = await rows.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
    expect(new Set(ids).size).toBe(warnings);

    await page.goto(`${collector.httpUrl}/#/agents/${encodeURIComponent(agent.id)}`);
    const eventRows = page.getByTestId('recent-events').locator('tbody tr');
    await page.getByTestId('load-more').waitFor();
    expect(await eventRows.count()).toBe(100);
    await page.getByTestId('switch-lang').click();
    await page.getByTestId('load-more').getByText('Load more').click();
    await page.getByTestId('load-more').waitFor({ state: 'detached' });
    expect(await eventRows.count()).toBe(events);
    await shot('agent-events-all');
    await page.getByTestId('switch-lang').click();
  });

  it('throttles repeated wrong passwords at the login form', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const login = await context.newPage();
    await login.goto(collector.httpUrl);
    const error = login.getByTestId('login-error');
    for (let attempt = 1; attempt <= 5; attempt++) {
      await login.getByLabel('用户名').fill('guard');
      await login.getByLabel('密码').fill(`wrong-${attempt}`);
      await login.getByRole('button', { name: '登录' }).click();
      await error.getByText('用户名或密码错误').waitFor();
      await login.getByRole('button', { name: '登录' }).and(login.locator(':enabled')).waitFor();
    }
    await login.getByLabel('密码').fill('guard-pass');
    await login.getByRole('button', { name: '登录' }).click();
    await error.getByText('登录失败次数过多').waitFor();
    await login.screenshot({ path: join(ARTIFACTS, 'dashboard-login-throttled.png') });
    await context.close();
    // 401/403/429 are the refusals above; 404s are the routes of features this collector lacks.
    expect(consoleErrors.filter((e) => !/status of (401|403|404|429)/.test(e))).toEqual([]);
  });
});
