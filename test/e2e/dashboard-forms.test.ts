/**
 * The dashboard's create and edit forms in headless Chromium at 1366×768 against a real
 * collector: a new incident, a system registered, changed and assessed, a silence created and
 * ended, a notice acknowledged and answered, and an incident opened from a warning. Each form
 * shows a validation error to the user; text an agent or another user wrote stays text; the
 * keyboard alone can fill and submit a form; English is one click away. Screenshots go to
 * test/artifacts/.
 */
import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OFF_SYSTEM_ADVICE } from '../../shared/api/clocks.js';
import { agentTopic } from '../../shared/topics.js';
import { connectAsAgent, enrollAgent, signedEvent } from '../support/collector-harness.js';
import { DashboardSite, hasChromium } from '../support/dashboard-site.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const UNIT = '测试单位';
const shot = DashboardSite.shot;

/** No sideways scrolling at 1366 px: every form fits the officers' screens. */
async function fitsWidth(page: Page): Promise<void> {
  expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1366);
}

/** A Beijing-time `datetime-local` value `hours` from now. */
function beijingInput(hours: number): string {
  return new Date(Date.now() + hours * 3600_000 + 8 * 3600_000).toISOString().slice(0, 16);
}

describe.skipIf(!hasChromium)('dashboard forms in a browser', () => {
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
    await mqtt.publishAsync(
      agentTopic(agentId, 'events'),
      JSON.stringify(
        signedEvent(enrolled.agent, 1, {
          key: `net.wireless.present:${HOSTILE}`,
          data: { iface: HOSTILE },
        }),
      ),
      { qos: 1 },
    );
    page = await site.login('李四', 'officer-pass');
  });

  afterAll(async () => {
    await mqtt?.endAsync();
    await site?.stop();
  });

  it('records a new incident, refusing an empty title and a discovery in the future', async () => {
    await page.goto(`${site.url}/#/incidents`);
    await page.getByRole('button', { name: '登记泄密事件报告' }).click();
    const form = page.getByTestId('incident-form');
    await form.getByRole('button', { name: '保存' }).click();
    await form.getByTestId('form-error').getByText('请填写“标题”').waitFor();

    await form.getByLabel('标题').fill('涉密U盘丢失');
    await form.getByLabel('密级').selectOption('机密');
    await form.getByLabel('发现时间（北京时间）').fill(beijingInput(3));
    await form.getByLabel('已采取的补救措施').fill('已封存相关计算机');
    await form.getByRole('button', { name: '保存' }).click();
    // The collector's own check, shown as it says it.
    await form
      .getByTestId('form-error')
      .getByText(/discoveredAt: .* is in the future/)
      .waitFor();
    await fitsWidth(page);
    await shot(page, 'form-incident-error');

    await form.getByLabel('发现时间（北京时间）').fill(beijingInput(-2));
    await form.getByRole('button', { name: '保存' }).click();
    await page.waitForURL(/#\/incidents\/inc-/);
    const incidents = page.getByTestId('incidents');
    await incidents.getByText('涉密U盘丢失').waitFor();
    await incidents.getByText('已封存相关计算机').waitFor();
    await expect(incidents.getByRole('timer').first().textContent()).resolves.toMatch(/^剩余 2[12]:/);
  });

  it('says at T−2 h to report by phone or on paper, and records the 上级主管部门 hop by hand with its receipt', async () => {
    await page.goto(`${site.url}/#/incidents`);
    await page.getByRole('button', { name: '登记泄密事件报告' }).click();
    const form = page.getByTestId('incident-form');
    await form.getByLabel('标题').fill('涉密文件误发');
    await form.getByLabel('发现时间（北京时间）').fill(beijingInput(-23));
    await form.getByRole('button', { name: '保存' }).click();
    await page.waitForURL(/#\/incidents\/inc-/);
    const dept = page.getByTestId('incidents').locator('li[data-hop="unit>superior-dept"]');
    await dept.getByTestId('off-system-advice').getByText(OFF_SYSTEM_ADVICE.zh).waitFor();
    // 第61条: measures first. Without one there is no report to record, and the page says why.
    await page.getByTestId('measures-first').waitFor();
    expect(await dept.getByRole('button', { name: '登记报告' }).count()).toBe(0);
    await page.getByRole('button', { name: '登记补救措施' }).click();
    const measure = page.getByTestId('measure-form');
    await measure.getByLabel('采取的措施').fill('收回误发文件，断开终端网络');
    await measure.getByLabel(/实施人/).fill('王五');
    await measure.getByRole('button', { name: '保存' }).click();
    await measure.waitFor({ state: 'detached' });
    await page.getByTestId('measures').getByText('收回误发文件，断开终端网络').waitFor();
    await page.getByTestId('measures').getByText('王五', { exact: false }).waitFor();
    await dept.getByRole('button', { name: '登记报告' }).click();
    const report = page.getByTestId('report-form');
    await report.getByLabel('报告方式').selectOption('paper');
    await report.getByLabel('报告时间（北京时间）').fill(beijingInput(-1));
    await report.getByLabel(/接收时间/).fill(beijingInput(-0.5));
    await report.getByLabel(/回执/).fill('主管部门办公室 收文 07');
    await fitsWidth(page);
    await shot(page, 'form-incident-report');
    await report.getByRole('button', { name: '保存' }).click();
    await report.waitFor({ state: 'detached' });
    await dept.getByTestId('off-system-advice').waitFor({ state: 'detached' });
    await expect(dept.getAttribute('class')).resolves.toBe('done');
    // The same-level hop still has no receipt: still told to phone or hand it over.
    await page
      .getByTestId('incidents')
      .locator('li[data-hop="unit>county"]')
      .getByTestId('off-system-advice')
      .waitFor();

    // 第60条: it closes with its 处理结果, and the written report of it is one more hop.
    await page.getByRole('button', { name: '办结并登记处理结果' }).click();
    const close = page.getByTestId('close-form');
    await close.getByLabel('处理结果').fill('文件已全部收回，未造成扩散');
    await close.getByRole('button', { name: '保存' }).click();
    await close.waitFor({ state: 'detached' });
    const closure = page.getByTestId('closure');
    await closure.getByText('文件已全部收回，未造成扩散').waitFor();
    await closure.getByText(/未规定时限/).waitFor();
    await closure.getByRole('button', { name: '登记报告' }).click();
    const written = page.getByTestId('report-form');
    // In writing only: no telephone among the channels.
    const channels = await written.getByLabel('报告方式').locator('option').allTextContents();
    expect(channels).toEqual(['信息系统', '书面']);
    await written.getByLabel('报告方式').selectOption('paper');
    await written.getByLabel('报告时间（北京时间）').fill(beijingInput(0));
    await written.getByLabel(/接收时间/).fill(beijingInput(0));
    await written.getByRole('button', { name: '保存' }).click();
    await written.waitFor({ state: 'detached' });
    await closure.locator('[data-testid="closure-hop"].done').waitFor();
    await shot(page, 'incident-closure');
  });

  it('registers a system from the keyboard, changes its level and records an assessment', async () => {
    await page.goto(`${site.url}/#/systems`);
    await page.getByRole('button', { name: '登记涉密信息系统' }).click();
    const form = page.getByTestId('system-form');
    // Keyboard only: type the name, Tab reaches the next field and back, Enter submits.
    await form.getByLabel('名称').focus();
    await page.keyboard.type('涉密办公网');
    await page.keyboard.press('Tab');
    expect(await page.evaluate("document.activeElement?.getAttribute('name')")).toBe('level');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByTestId('systems').getByText('涉密办公网').waitFor();
    const row = page.locator('tr', { hasText: '涉密办公网' });
    await row.getByRole('cell', { name: '机密', exact: true }).waitFor();

    await row.getByRole('button', { name: '修改' }).click();
    const edit = page.getByTestId('system-form');
    await edit.getByRole('button', { name: '保存' }).click();
    await edit.getByTestId('form-error').getByText('没有修改任何内容').waitFor();
    // Registered without its 第33条 approval, in use from today: flagged at once.
    await row.getByTestId('unapproved').getByText('未经测评审查投入使用').waitFor();
    await edit.getByLabel('密级').selectOption('绝密');
    await edit.getByLabel('使用环境').fill('新机房');
    await edit.getByRole('button', { name: '保存' }).click();
    await edit
      .getByTestId('form-error')
      .getByText(/是否可能产生新的安全保密风险隐患/)
      .waitFor();
    await edit.getByLabel('是否可能产生新的安全保密风险隐患').selectOption('yes');
    await edit.getByRole('button', { name: '保存' }).click();
    await edit.getByTestId('form-error').getByText('请填写“已采取的防护措施”').waitFor();
    await edit.getByLabel('已采取的防护措施').fill('新机房门禁与视频监控已启用');
    await edit.getByLabel('测评审查机关').fill('市保密局');
    await edit.getByLabel('审查文号').fill('审查〔2026〕8号');
    await edit.getByLabel('审查合格日期').fill(beijingInput(0).slice(0, 10));
    await edit.getByRole('button', { name: '保存' }).click();
    await row.getByRole('cell', { name: '绝密', exact: true }).waitFor();
    await row.getByTestId('unapproved').waitFor({ state: 'detached' });

    await row.getByRole('button', { name: '记录安全保密风险评估' }).click();
    const assess = page.getByTestId('assessment-form');
    await assess.getByRole('button', { name: '保存' }).click();
    await assess.getByTestId('form-error').getByText('请填写“评估机构或人员”').waitFor();
    await assess.getByLabel('评估机构或人员').fill('市保密局测评中心');
    await assess.getByLabel('评估结论').selectOption('pass');
    await fitsWidth(page);
    await shot(page, 'form-assessment');
    await assess.getByRole('button', { name: '保存' }).click();
    await assess.waitFor({ state: 'detached' });
    await row.getByText('未到期').waitFor();

    // Decommissioning records the 备案 date and what was done with the equipment.
    await row.getByRole('button', { name: '停用备案' }).click();
    const retire = page.getByTestId('decommission-form');
    await retire.getByRole('button', { name: '保存' }).click();
    await retire.getByTestId('form-error').getByText('请填写“设备处置情况”').waitFor();
    await retire.getByLabel('设备处置情况').fill('硬盘交市保密局销毁');
    await retire.getByRole('button', { name: '保存' }).click();
    await retire.waitFor({ state: 'detached' });
    await row.getByText(/已停用，备案 \d{4}-\d{2}-\d{2}/).waitFor();
    await row.getByTestId('disposal').getByText('硬盘交市保密局销毁', { exact: false }).waitFor();
    expect(await row.getByRole('button', { name: '记录安全保密风险评估' }).count()).toBe(0);
  });

  it('creates a silence, refusing one that matches nothing, and ends it', async () => {
    await page.goto(`${site.url}/#/silences`);
    await page.getByRole('button', { name: '新建暂停通知' }).click();
    const form = page.getByTestId('silence-form');
    await form.getByRole('button', { name: '保存' }).click();
    await form
      .getByTestId('form-error')
      .getByText(/至少填写一个匹配条件/)
      .waitFor();
    await form.getByLabel('规则').fill('wireless-adapter');
    await form.getByLabel('结束时间（北京时间）').fill(beijingInput(-1));
    await form.getByLabel('原因').fill('机房检修');
    await form.getByRole('button', { name: '保存' }).click();
    // A window that ended before it began is the collector's refusal, in its Chinese wording.
    await form.getByTestId('form-error').getByText('暂停通知的结束时间必须晚于开始时间，且在将来').waitFor();
    await form.getByLabel('结束时间（北京时间）').fill(beijingInput(4));
    await form.getByRole('button', { name: '保存' }).click();
    const row = page.locator('tr', { hasText: '机房检修' });
    await row.waitFor();
    await shot(page, 'form-silence');
    await row.getByRole('button', { name: '恢复通知' }).click();
    await row.getByText('已结束').waitFor();
  });

  it('acknowledges a notice and reports the 排查 result, both shown as text', async () => {
    const issued = await page.evaluate(
      async ({ unit, hostile, deadline }) => {
        const session = (await (await fetch('/api/v1/session')).json()) as { csrfToken: string };
        const response = await fetch('/api/v1/notices', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
          body: JSON.stringify({
            title: `无线网卡专项排查 ${hostile}`,
            text: hostile,
            requiredAction: '逐台排查',
            deadline,
            units: [unit],
          }),
        });
        return response.status;
      },
      { unit: UNIT, hostile: HOSTILE, deadline: new Date(Date.now() + 86_400_000).toISOString() },
    );
    expect(issued).toBe(201);
    await page.goto(`${site.url}/#/notices`);
    const notice = page.locator('article.notice', { hasText: '无线网卡专项排查' });
    await notice.getByRole('heading', { name: `无线网卡专项排查 ${HOSTILE}` }).waitFor();
    const answer = notice.getByTestId('notice-answer');
    await answer.getByRole('button', { name: '签收' }).click();
    await answer.getByText('已签收').first().waitFor();
    await answer.getByRole('button', { name: '提交排查结果' }).click();
    await answer.getByTestId('form-error').getByText('请填写“排查结果”').waitFor();
    await answer.getByLabel('排查结果').fill(`已排查 <b>不是HTML</b> ${HOSTILE}`);
    await answer.getByRole('button', { name: '提交排查结果' }).click();
    await notice.locator('td').getByText(`已排查 <b>不是HTML</b> ${HOSTILE}`).waitFor();
    expect(await page.locator('main b, main img').count()).toBe(0);
    await fitsWidth(page);
    await shot(page, 'form-notice');
  });

  it('opens an incident from a warning; the agent’s key in its title stays text', async () => {
    await page.goto(`${site.url}/#/warnings`);
    await page.getByTestId('warnings').locator('tr', { hasText: HOSTILE }).getByRole('link').click();
    await page.getByTestId('open-incident').click();
    const form = page.getByTestId('warning-incident-form');
    await expect(form.getByLabel('标题').inputValue()).resolves.toContain(HOSTILE);
    await form.getByLabel('已采取的补救措施').fill('已拔除无线网卡');
    await shot(page, 'form-warning-incident');
    await form.getByRole('button', { name: '启动泄密事件报告' }).click();
    await page.waitForURL(/#\/incidents\/inc-/);
    const incidents = page.getByTestId('incidents');
    await incidents.getByText(HOSTILE, { exact: false }).first().waitFor();
    // Discovery from the warning's identification; the identification and evidence times beside it.
    await incidents.getByText('取自预警识别时间', { exact: false }).waitFor();
    await incidents.getByTestId('discovery-beside').getByText('证据事件时间', { exact: false }).waitFor();
    expect(await page.locator('img').count()).toBe(0);

    await page.goBack();
    await page.getByTestId('warning-incidents').getByRole('link').waitFor();
    await page.locator('ol.timeline').getByText('启动泄密事件报告').waitFor();
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 200)))');
    expect(site.dialogs).toEqual([]);
  });

  it('offers no forms to a viewer, and speaks English on request', async () => {
    const viewer = await site.login('guard', 'guard-pass');
    for (const [hash, button] of [
      ['incidents', '登记泄密事件报告'],
      ['systems', '登记涉密信息系统'],
      ['silences', '新建暂停通知'],
    ] as const) {
      await viewer.goto(`${site.url}/#/${hash}`);
      await viewer.locator('main.page h1').waitFor();
      await viewer.locator('main.page').getByText('加载中…').first().waitFor({ state: 'detached' });
      expect(await viewer.getByRole('button', { name: button }).count()).toBe(0);
    }
    await viewer.context().close();

    await page.goto(`${site.url}/#/silences`);
    await page.getByTestId('switch-lang').click();
    await page.getByRole('button', { name: 'New silence' }).click();
    const form = page.getByTestId('silence-form');
    await form.getByLabel('Ends (Beijing time)').waitFor();
    await form.getByRole('button', { name: 'Save' }).click();
    await form
      .getByTestId('form-error')
      .getByText(/Give at least one matcher/)
      .waitFor();
    await shot(page, 'form-silence-en');
    await page.getByTestId('switch-lang').click();
    await page.getByRole('heading', { name: '暂停通知', exact: true }).waitFor();
    expect(agentId).toBeTruthy();
  });
});
