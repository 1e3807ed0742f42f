/**
 * The Chinese dashboard speaks the officers' words (issue 16 item 16): with warnings of several
 * event types in every state, a raised and a cleared event, systems due and overdue, an incident
 * with a late and an unreported hop and a silence present, every page an officer can open shows
 * no raw event type (any type of the catalogue or a collector condition) and no English state,
 * severity or schedule word in its visible text. Headless Chromium against a real collector fed
 * by signed events over the embedded broker.
 */
import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { COLLECTOR_CONDITION_TYPES } from '../../collector/warnings/conditions.js';
import { EVENT_TYPES } from '../../shared/events.js';
import { agentTopic } from '../../shared/topics.js';
import { connectAsAgent, enrollAgent, signedEvent, type TestAgent } from '../support/collector-harness.js';
import { DashboardSite, hasChromium } from '../support/dashboard-site.js';
import { eventually } from '../support/eventually.js';

const UNIT = '测试单位';
const RAW_TYPES = [...EVENT_TYPES, ...COLLECTOR_CONDITION_TYPES];
const ENGLISH_WORDS = [
  'discovered',
  'identified',
  'handling',
  'closed',
  'false-positive',
  'false positive',
  'overdue',
  'ok',
  'due-soon',
  'raised',
  'cleared',
  'critical',
  'high',
  'medium',
  'low',
];
const HOUR = 3_600_000;

/** Raw words found in a page's visible text, each with a little context. */
function rawWords(text: string): string[] {
  const found: string[] = [];
  for (const type of RAW_TYPES) if (text.includes(type)) found.push(type);
  for (const word of ENGLISH_WORDS) {
    const pattern = new RegExp(`(?<![A-Za-z0-9_-])${word}(?![A-Za-z0-9_-])`, 'gi');
    for (const match of text.matchAll(pattern))
      found.push(`${word} in “${text.slice(Math.max(0, match.index - 30), match.index + 30)}”`);
  }
  return found;
}

describe.skipIf(!hasChromium)('the Chinese dashboard shows no raw event type or English state word', () => {
  let site: DashboardSite;
  let page: Page;
  let mqtt: MqttClient;
  let agent: TestAgent;
  let key: string;
  const warningIds: string[] = [];

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${site.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };

  beforeAll(async () => {
    site = await DashboardSite.start([
      { name: '李四', password: 'officer-pass', role: 'secadmin', unit: UNIT },
    ]);
    key = await createApiKey(site.collector.store, { name: 'terms-officer', role: 'secadmin', unit: UNIT });
    const enrolled = await enrollAgent(site.collector, { unit: UNIT });
    agent = enrolled.agent;
    mqtt = await connectAsAgent(
      site.collector.brokerUrl,
      enrolled.reply.broker.username,
      enrolled.reply.broker.password,
    );
    const events: Record<string, unknown>[] = [
      {},
      {
        type: 'usb.storage.attached',
        key: 'usb.storage.attached:0781:5581:4C53',
        severity: 'high',
        data: { vendor: '0781', product: '5581', serial: '4C53', registered: false },
      },
      {
        type: 'net.route.unapproved',
        key: 'net.route.unapproved:eth1',
        severity: 'medium',
        data: { iface: 'eth1', gateway: '10.9.0.1', dest: '0.0.0.0/0' },
      },
      {
        type: 'file.marked',
        key: 'file.marked:/home/u/附件.docx',
        severity: 'critical',
        data: { path: '/home/u/附件.docx', marking: '机密★10年' },
      },
      {
        type: 'net.connection.prohibited',
        key: 'net.connection.prohibited:203.0.113.5:443',
        severity: 'high',
        data: { remote: '203.0.113.5', port: 443, proto: 'tcp' },
      },
      {
        type: 'agent.limits.exceeded',
        key: 'agent.limits.exceeded:rss',
        severity: 'low',
        data: { resource: 'rss', value: 300, limit: 200 },
      },
      // The route goes away again: a cleared event beside the raised ones.
      {
        type: 'net.route.unapproved',
        key: 'net.route.unapproved:eth1',
        state: 'cleared',
        severity: 'medium',
        data: { iface: 'eth1' },
      },
    ];
    let seq = 0;
    for (const overrides of events) {
      seq += 1;
      await mqtt.publishAsync(
        agentTopic(agent.id, 'events'),
        JSON.stringify(signedEvent(agent, seq, overrides)),
        {
          qos: 1,
        },
      );
    }
    const warnings = await eventually(async () => {
      const reply = await call('GET', '/api/v1/warnings?limit=100');
      const items = reply.items as { id: string; rule: string }[];
      if (items.length < 6) throw new Error(`${items.length} warnings so far`);
      return items;
    });
    warningIds.push(...warnings.map((w) => w.id));
    // Every state: one warning stays 待研判, the others move on.
    const move = async (id: string, steps: string[]) => {
      for (const to of steps) await call('POST', `/api/v1/warnings/${id}/transitions`, { to, note: '核查' });
    };
    await move(warningIds[1]!, ['identified']);
    await move(warningIds[2]!, ['identified', 'handling']);
    await move(warningIds[3]!, ['identified', 'handling', 'closed']);
    await move(warningIds[4]!, ['false-positive']);

    const old = (await call('POST', '/api/v1/systems', {
      name: '办公涉密网',
      level: '绝密',
      commissionedAt: '2020-03-01',
    })) as { id: string };
    await call('POST', '/api/v1/systems', {
      name: '档案管理系统',
      level: '秘密',
      commissionedAt: '2026-01-15',
    });
    const assessed = (await call('POST', '/api/v1/systems', {
      name: '财务涉密系统',
      level: '机密',
      commissionedAt: '2025-06-01',
    })) as { id: string };
    await call('POST', `/api/v1/systems/${assessed.id}/assessments`, {
      completedAt: new Date(Date.now() - 30 * 24 * HOUR).toISOString().slice(0, 10),
      assessor: '某测评中心',
      result: 'pass-with-findings',
    });
    expect(old.id).toBeTruthy();

    const incident = (await call('POST', '/api/v1/incidents', {
      title: '涉密文件疑似外发',
      level: '机密',
      discoveredAt: new Date(Date.now() - 30 * HOUR).toISOString(),
      measures: '断开网络，封存终端',
    })) as { id: string };
    // The county hop reported late (迟报); the superior department's never reported (未报).
    await call('POST', `/api/v1/incidents/${incident.id}/reports`, {
      to: 'same-level-admin',
      reportedAt: new Date(Date.now() - 4 * HOUR).toISOString(),
      receivedAt: new Date(Date.now() - 4 * HOUR).toISOString(),
      channel: 'phone',
      receipt: '县保密局值班室',
    });
    // Its 泄密事件报告, drafted and not yet signed off (签发): the 公文 page shows the draft.
    await call('POST', '/api/v1/documents', {
      kind: 'incident-report',
      incidentId: incident.id,
      nature: '可能泄露',
    });
    await call('POST', '/api/v1/silences', {
      matcher: { severity: 'high' },
      endsAt: new Date(Date.now() + 24 * HOUR).toISOString(),
      reason: '系统升级期间',
    });
    // The clocks raise their conditions (an overdue assessment, a missed hop) as warnings too.
    const all = await eventually(async () => {
      const items = (await call('GET', '/api/v1/warnings?limit=100')).items as { id: string; rule: string }[];
      const rules = new Set(items.map((w) => w.rule));
      if (!rules.has('assessment-overdue') || !rules.has('incident-report-late'))
        throw new Error(`rules so far: ${[...rules].join(', ')}`);
      return items;
    });
    for (const w of all) if (!warningIds.includes(w.id)) warningIds.push(w.id);
    page = await site.login('李四', 'officer-pass');
  });

  afterAll(async () => {
    await mqtt?.endAsync();
    await site?.stop();
  });

  const visit = async (hash: string, ready: () => Promise<void>) => {
    await page.goto(`${site.url}/#/${hash}`);
    await ready();
    await page.locator('main.page').getByText('加载中…').first().waitFor({ state: 'detached' });
    const text = await page.locator('body').innerText();
    return { text, raw: rawWords(text) };
  };

  it('overview, warnings (all states), each warning, agents, systems, incidents, notices, silences, documents', async () => {
    const pages: [string, () => Promise<void>][] = [
      ['', () => page.getByTestId('recent-events').getByText('涉密计算机接入移动存储介质').first().waitFor()],
      ['warnings?state=all', () => page.getByTestId('warnings').getByText('误报（已排除）').waitFor()],
      ...warningIds.map(
        (id) =>
          [`warnings/${id}`, () => page.getByTestId('evidence').waitFor()] as [string, () => Promise<void>],
      ),
      ['agents', () => page.locator(`tr[data-agent="${agent.id}"]`).waitFor()],
      [`agents/${agent.id}`, () => page.getByTestId('recent-events').waitFor()],
      ['systems', () => page.getByTestId('systems').getByText('已逾期').first().waitFor()],
      ['incidents', () => page.getByTestId('incidents').getByText('未报').first().waitFor()],
      ['notices', () => page.locator('main.page h1').waitFor()],
      ['silences', () => page.getByTestId('silences').waitFor()],
      ['documents', () => page.getByTestId('documents').getByText('草稿（待签发）').waitFor()],
    ];
    const found: Record<string, string[]> = {};
    for (const [i, [hash, ready]] of pages.entries()) {
      const { raw } = await visit(hash, ready);
      if (raw.length > 0) found[hash || 'overview'] = raw;
      await DashboardSite.shot(page, `terms-${i}-${hash.split(/[/?]/)[0] || 'overview'}`);
    }
    expect(found).toEqual({});
  });

  it('says it in the officers’ words', async () => {
    const { text: warnings } = await visit('warnings?state=all', () =>
      page.getByTestId('warnings').getByText('已办结').waitFor(),
    );
    for (const word of [
      '待研判',
      '已研判',
      '处置中',
      '已办结',
      '误报（已排除）',
      '紧急',
      '预警级别',
      '预警事件',
    ])
      expect(warnings).toContain(word);
    expect(warnings).toContain('涉密计算机接入未登记的移动存储介质');
    expect(warnings).toContain('涉密计算机连接未授权地址');
    // The clocks' keys name a hop by its ends, not `unit>county`.
    expect(warnings).toContain('本单位 → 上级主管部门');
    expect(warnings).not.toMatch(/unit>|>county|superior-dept/);

    const { text: overview } = await visit('', () => page.getByTestId('recent-events').waitFor());
    expect(overview).toContain('发生');
    expect(overview).toContain('已消除');

    const { text: incidents } = await visit('incidents', () =>
      page.getByTestId('incidents').getByText('迟报').waitFor(),
    );
    for (const word of [
      '泄密事件报告',
      '逐级报告情况',
      '本单位 → 县级保密行政管理部门',
      '本单位 → 上级主管部门',
      '未报',
    ])
      expect(incidents).toContain(word);

    // A missed hop's warning says what waits for signature (签发), under its Chinese name.
    const late = (await call('GET', '/api/v1/warnings?limit=100')).items as { id: string; rule: string }[];
    const missed = late.find((w) => w.rule === 'incident-report-late')!;
    const { text: missedText } = await visit(`warnings/${missed.id}`, () =>
      page.getByTestId('evidence').waitFor(),
    );
    expect(missedText).toContain('待签发');
    expect(missedText).toContain('泄密事件报告尚未起草，请起草并签发后报送');
    expect(missedText).not.toContain('awaitingSignature');

    const { text: systems } = await visit('systems', () => page.getByTestId('systems').waitFor());
    for (const word of ['涉密信息系统', '下次评估截止日期', '已逾期', '未到期'])
      expect(systems).toContain(word);

    const { text: silences } = await visit('silences', () => page.getByTestId('silences').waitFor());
    expect(silences).toContain('暂停通知');
    expect(silences).toContain('预警级别：高危');
  });

  it('keeps the signed original one click away, in its wire format', async () => {
    await page.goto(`${site.url}/#/warnings/${warningIds[0]}`);
    const evidence = page.getByTestId('evidence');
    await evidence.locator('summary').first().click();
    await evidence.locator('pre').first().getByText('"type"', { exact: false }).waitFor();
  });
});
