/**
 * The 公文 page in headless Chromium at 1366×768 against a real collector: an officer drafts a
 * 泄密事件报告 from an incident, downloads it (a draft PDF that says so), signs it off through the
 * confirmation, and the row shows who signed; a viewer sees the list and the files but neither the
 * form nor the 签发 button. Chinese first; English one click away. Screenshots go to test/artifacts/.
 */
import ExcelJS from 'exceljs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardSite, hasChromium } from '../support/dashboard-site.js';
import { hasPoppler, pdfText } from '../support/document-files.js';
import { unitIncident } from '../support/collector-chain.js';
import { measuresDone } from '../support/clock-records.js';

const UNIT = '测试单位';
const shot = DashboardSite.shot;
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

describe.skipIf(!hasChromium || !hasPoppler)('the 公文 page in a browser', () => {
  let site: DashboardSite;
  let page: Page;

  beforeAll(async () => {
    site = await DashboardSite.start([
      { name: '李四', password: 'officer-pass', role: 'secadmin', unit: UNIT },
      { name: 'guard', password: 'guard-pass', role: 'viewer', unit: UNIT },
    ]);
    await site.collector.store.clocks.createIncident(
      unitIncident('inc-doc-1', '涉密U盘丢失', {
        unit: UNIT,
        level: '机密',
        measures: measuresDone('已封存相关计算机'),
      }),
    );
    page = await site.login('李四', 'officer-pass');
  });

  afterAll(() => site?.stop());

  it('drafts a 泄密事件报告 from an incident; the draft downloads and says it is one', async () => {
    await page.goto(`${site.url}/#/documents`);
    await page.getByRole('heading', { name: '公文', exact: true }).waitFor();
    const form = page.getByTestId('document-form');
    await form.getByLabel('文种').selectOption('incident-report');
    await form.locator('select[name=subject]').selectOption('inc-doc-1');
    await form.getByLabel('性质').selectOption('已泄露');
    await form.getByLabel('保密期限（如 1年、6个月、长期）').fill('1年');
    await form.getByRole('button', { name: '起草公文' }).click();
    await form.getByTestId('form-ok').getByText('已起草《关于已泄露国家秘密事件的报告》，待签发').waitFor();

    const row = page.getByTestId('documents').locator('tbody tr').first();
    await row.getByText('草稿（待签发）').waitFor();
    await expect(row.getAttribute('data-state')).resolves.toBe('draft');
    const href = await row.getByTestId('download-pdf').getAttribute('href');
    const pdf = await page.request.get(`${site.url}${href}`);
    expect(pdf.status()).toBe(200);
    expect(pdf.headers()['content-type']).toBe('application/pdf');
    const text = pdfText(await pdf.body());
    expect(text).toContain('草稿（未签发）');
    expect(text).toContain('机密★1年');
    const docx = await page.request.get(
      `${site.url}${await row.getByTestId('download-docx').getAttribute('href')}`,
    );
    expect(docx.status()).toBe(200);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1366);
    await shot(page, 'documents-draft');
  });

  it('signs off only through the confirmation, and shows who signed', async () => {
    const row = page.getByTestId('documents').locator('tbody tr').first();
    await row.getByTestId('sign-off').click();
    const confirm = row.getByTestId('sign-off-confirm');
    await confirm.getByText('签发后即报送上级，不可撤回').waitFor();
    // Cancelling signs nothing.
    await confirm.getByRole('button', { name: '取消' }).click();
    await expect(row.getAttribute('data-state')).resolves.toBe('draft');

    await row.getByTestId('sign-off').click();
    await row.getByLabel('发文字号').fill('测保〔2026〕3号');
    await shot(page, 'documents-confirm');
    await row.getByTestId('sign-off-yes').click();
    await page.getByTestId('documents').locator('tbody tr').first().getByText('已签发').waitFor();
    const signed = page.getByTestId('documents').locator('tbody tr').first();
    await signed.getByText('李四').waitFor();
    expect(await signed.getByTestId('sign-off').count()).toBe(0);
    const [document] = await site.collector.store.documents.list({ limit: 1 });
    expect(document).toMatchObject({ state: 'signed', signedBy: '李四', number: '测保〔2026〕3号' });
    const text = pdfText(
      await (await page.request.get(`${site.url}/api/v1/documents/${document!.id}.pdf`)).body(),
    );
    expect(text).toMatch(/签发人：\s*李四/);
    await shot(page, 'documents-signed');
  });

  it('the incidents, warnings and systems pages export their lists to Excel', async () => {
    for (const [path, file] of [
      ['incidents', '/api/v1/incidents.xlsx'],
      ['warnings', '/api/v1/warnings.xlsx?state=discovered&state=identified&state=handling'],
      ['systems', '/api/v1/assessments.xlsx'],
    ] as const) {
      await page.goto(`${site.url}/#/${path}`);
      const link = page.getByTestId('export-xlsx');
      await link.getByText('导出 Excel').waitFor();
      expect(await link.getAttribute('href')).toBe(file);
      const reply = await page.request.get(`${site.url}${file}`);
      expect(reply.status(), file).toBe(200);
      expect(reply.headers()['content-type']).toBe(XLSX);
    }
    const workbook = new ExcelJS.Workbook();
    const incidents = await page.request.get(`${site.url}/api/v1/incidents.xlsx`);
    await workbook.xlsx.load((await incidents.body()) as unknown as ArrayBuffer);
    const row = workbook.worksheets[0]!.getRow(2).values as unknown[];
    expect(row).toContain('涉密U盘丢失');
    expect(String(row.at(-1))).toMatch(/^李四 .*签发$/);
  });

  it('a viewer reads the list and the files, with no form and no 签发; English is one click away', async () => {
    const viewer = await site.login('guard', 'guard-pass');
    await viewer.goto(`${site.url}/#/documents`);
    await viewer.getByTestId('documents').getByText('已签发').waitFor();
    expect(await viewer.getByTestId('document-form').count()).toBe(0);
    expect(await viewer.getByTestId('sign-off').count()).toBe(0);
    const href = await viewer.getByTestId('download-pdf').first().getAttribute('href');
    expect((await viewer.request.get(`${site.url}${href}`)).status()).toBe(200);
    await viewer.getByTestId('switch-lang').click();
    await viewer.getByRole('heading', { name: 'Documents', exact: true }).waitFor();
    await viewer.getByTestId('documents').getByText('signed off', { exact: true }).waitFor();
    await viewer.context().close();
  });
});
