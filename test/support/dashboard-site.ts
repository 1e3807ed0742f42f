/**
 * A collector serving a freshly built dashboard, with dashboard users, and Debian's Chromium
 * driven by playwright-core at 1366×768: what the browser tests of the dashboard share.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Role } from '../../shared/api/access.js';
import { chromium, type Browser, type Page } from 'playwright-core';
import { addUser } from '../../collector/auth/users.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { createLogger } from '../../shared/log.js';
import { tempDir, testCollectorConfig } from './collector-harness.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
/** Browser tests run where Chromium is installed; CI installs it, so there they must run. */
export const hasChromium = existsSync(CHROMIUM) || process.env.CI === 'true';

export interface DashboardUser {
  name: string;
  password: string;
  role: Role;
  unit: string | null;
}

export class DashboardSite {
  /** Messages of every dialog any page opened (an injected alert would show here). */
  readonly dialogs: string[] = [];

  private constructor(
    readonly dir: ReturnType<typeof tempDir>,
    readonly collector: RunningCollector,
    readonly browser: Browser,
  ) {}

  static async start(users: readonly DashboardUser[], overrides: Record<string, unknown> = {}) {
    const dir = tempDir('smew-dashboard-');
    const dashboardDir = join(dir.path, 'dashboard');
    execFileSync(
      process.execPath,
      [join(import.meta.dirname, '..', '..', 'scripts', 'build-dashboard.mjs'), dashboardDir],
      {
        stdio: 'pipe',
      },
    );
    const collector = await startCollector(testCollectorConfig(dir.path, overrides), {
      logger: createLogger('test', 'silent'),
      dashboardDir,
    });
    for (const user of users) await addUser(collector.store, { ...user, unit: user.unit ?? undefined });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
    return new DashboardSite(dir, collector, browser);
  }

  get url(): string {
    return this.collector.httpUrl;
  }

  /** A new browser context at 1366×768, logged in as `name`, on the overview. */
  async login(name: string, password: string): Promise<Page> {
    const context = await this.browser.newContext({
      viewport: { width: 1366, height: 768 },
      locale: 'zh-CN',
    });
    const page = await context.newPage();
    page.on('dialog', (dialog) => {
      this.dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(this.url);
    await page.getByLabel('用户名').fill(name);
    await page.getByLabel('密码').fill(password);
    await page.getByRole('button', { name: '登录' }).click();
    // Each role lands on the first page its permissions show: the overview, for those who read warnings.
    await page.getByRole('button', { name: '退出' }).waitFor();
    if ((await page.getByRole('link', { name: '总览' }).count()) > 0) {
      await page.getByRole('heading', { name: '未办结的预警事件' }).waitFor();
    } else {
      await page.locator('main.page h1').first().waitFor();
    }
    return page;
  }

  /** A full-page screenshot in test/artifacts/dashboard-NAME.png. */
  static shot(page: Page, name: string) {
    return page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });
  }

  async stop(): Promise<void> {
    await this.browser.close();
    await this.collector.stop();
    this.dir.remove();
  }
}
