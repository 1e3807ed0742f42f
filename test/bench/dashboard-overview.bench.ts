/**
 * The dashboard's weight and the time to first render of the overview with WARNINGS open
 * warnings (default 10 000) in the store, made the real way: signed events from an enrolled
 * client through the embedded broker, ingest and the rules. Headless Chromium at 1366×768.
 * Run: npx tsx test/bench/dashboard-overview.bench.ts   (needs /usr/bin/chromium)
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { createEnrollmentToken } from '../../collector/auth/enrollment-tokens.js';
import { addUser } from '../../collector/auth/users.js';
import { startCollector } from '../../collector/server.js';
import { createLogger } from '../../shared/log.js';
import { agentTopic } from '../../shared/topics.js';
import {
  connectAsAgent,
  enrollOverHttp,
  makeTestAgent,
  signedEvent,
  tempDir,
  testCollectorConfig,
} from '../support/collector-harness.js';
import { eventually } from '../support/eventually.js';

interface PageDocument {
  querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
  querySelector(selector: string): unknown;
}
interface PagePerformance {
  getEntriesByType(type: string): { encodedBodySize?: number }[];
}

const WARNINGS = Number(process.env.WARNINGS ?? 10_000);
const dir = tempDir('smew-dashboard-bench-');
const dashboardDir = join(dir.path, 'dashboard');
execFileSync(process.execPath, [
  join(import.meta.dirname, '..', '..', 'scripts', 'build-dashboard.mjs'),
  dashboardDir,
]);
const files = (sub: string): string[] =>
  readdirSync(join(dashboardDir, sub)).flatMap((name) =>
    statSync(join(dashboardDir, sub, name)).isDirectory() ? files(join(sub, name)) : [join(sub, name)],
  );
const weight = files('').map((f) => ({ file: f, bytes: statSync(join(dashboardDir, f)).size }));

const collector = await startCollector(testCollectorConfig(dir.path), {
  logger: createLogger('bench', 'silent'),
  dashboardDir,
});
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  await addUser(collector.store, {
    name: 'bench',
    password: 'bench-pass',
    role: 'secadmin',
    unit: '测试单位',
  });
  const key = await createApiKey(collector.store, { name: 'bench-key', role: 'secadmin' });
  const agent = makeTestAgent();
  const { token } = await createEnrollmentToken(collector.store, { unit: '测试单位' });
  const enrolled = await enrollOverHttp(collector.httpUrl, agent, token);
  const mqtt = await connectAsAgent(collector.brokerUrl, enrolled.broker.username, enrolled.broker.password);

  const t0 = performance.now();
  for (let seq = 1; seq <= WARNINGS; seq++) {
    const iface = `wlx${seq}`;
    const envelope = signedEvent(agent, seq, { key: `net.wireless.present:${iface}`, data: { iface } });
    const published = mqtt.publishAsync(agentTopic(agent.id, 'events'), JSON.stringify(envelope), { qos: 1 });
    // Wait for every 200th PUBACK, so the client's queue stays bounded.
    if (seq % 200 === 0) await published;
  }
  await eventually(
    async () => {
      const response = await fetch(`${collector.httpUrl}/api/v1/warnings?limit=1&offset=${WARNINGS - 1}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      return ((await response.json()) as { items: unknown[] }).items.length === 1;
    },
    { timeoutMs: 600_000, intervalMs: 500, what: `${WARNINGS} warnings` },
  );
  const fillSeconds = (performance.now() - t0) / 1000;
  await mqtt.endAsync();

  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  await page.goto(collector.httpUrl);
  await page.getByLabel('用户名').fill('bench');
  await page.getByLabel('密码').fill('bench-pass');
  await page.getByRole('button', { name: '登录' }).click();
  await page.getByTestId('agent-counts').waitFor();

  const renders: number[] = [];
  let transferred = 0;
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    await page.goto(`${collector.httpUrl}/#/`, { waitUntil: 'commit' });
    await page.reload({ waitUntil: 'commit' });
    await page.waitForFunction(
      () => {
        // Runs in the page; typed by hand because this project compiles without the DOM library.
        const doc = (globalThis as unknown as { document: PageDocument }).document;
        const cards = Array.from(doc.querySelectorAll('[data-testid=open-by-severity] .card-number'));
        return (
          cards.length === 5 &&
          cards.every((c) => c.textContent !== '…') &&
          doc.querySelector('.trend svg') !== null
        );
      },
      undefined,
      { polling: 20, timeout: 60_000 },
    );
    renders.push(performance.now() - start);
    transferred = await page.evaluate(() => {
      const perf = (globalThis as unknown as { performance: PagePerformance }).performance;
      return [...perf.getEntriesByType('navigation'), ...perf.getEntriesByType('resource')].reduce(
        (sum, e) => sum + (e.encodedBodySize ?? 0),
        0,
      );
    });
  }
  const cards = await page.locator('[data-testid=open-by-severity] .card-number').allTextContents();
  await page.screenshot({ path: join(import.meta.dirname, '..', 'artifacts', 'dashboard-overview-10k.png') });
  renders.sort((a, b) => a - b);
  console.log(
    JSON.stringify(
      {
        warnings: WARNINGS,
        fillSeconds: Number(fillSeconds.toFixed(1)),
        staticKB: Number((weight.reduce((s, f) => s + f.bytes, 0) / 1024).toFixed(1)),
        staticFiles: weight,
        overviewTransferredKB: Number((transferred / 1024).toFixed(1)),
        severityCards: cards,
        firstRenderMs: {
          median: Math.round(renders[2]!),
          min: Math.round(renders[0]!),
          max: Math.round(renders[4]!),
        },
      },
      null,
      2,
    ),
  );
} finally {
  await browser.close();
  await collector.stop();
  dir.remove();
}
