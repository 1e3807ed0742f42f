/**
 * 签发 in a real chain (甲单位 → 某县, in process, real SQLite, HTTP and brokers): a 泄密事件报告
 * and the 年度保密工作情况 are drafted, downloaded, signed off by a person, and only then does what
 * they cover go up; the parent's receipt marks them sent. The lists export to Excel.
 */
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { eventually } from '../support/eventually.js';
import {
  callApi,
  enrollNode,
  makeNode,
  receivedReports,
  run,
  startNode,
  stopAndRemove,
  type ChainNode,
} from '../support/collector-chain.js';
import { docxText, hasPoppler, pdfText } from '../support/document-files.js';

interface DocumentView {
  id: string;
  kind: string;
  state: 'draft' | 'signed' | 'sent';
  level: string;
  title: string;
  signedBy: string | null;
  signedAt: string | null;
  sentAt: string | null;
  number: string | null;
}

describe.skipIf(!hasPoppler)('签发 of what goes up', () => {
  let unit: ChainNode;
  let county: ChainNode;
  let officer: string;
  let viewer: string;
  const year = new Date().getUTCFullYear() - 1;

  const api = <T>(key: string, path: string, body?: unknown) => callApi<T>(unit, key, path, body);
  async function download(path: string, key = officer) {
    const response = await fetch(`${run(unit).httpUrl}${path}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      disposition: response.headers.get('content-disposition'),
      bytes: Buffer.from(await response.arrayBuffer()),
    };
  }
  const delivered = () =>
    eventually(async () => (await run(unit).store.hierarchy.outboxStats()).pending === 0 || undefined, {
      what: 'the unit’s outbox delivered',
    });
  const documentState = (id: string) =>
    eventually(
      async () => {
        const document = await run(unit).store.documents.get(id);
        return document?.state === 'sent' ? document : undefined;
      },
      { what: `document ${id} sent` },
    );

  beforeAll(async () => {
    county = await makeNode('county', '某县保密局', 'county');
    unit = await makeNode('unit', '甲单位', 'unit', {
      parent: { interval: '100ms', scanInterval: '1h', retryMax: '500ms', timeout: '2s' },
    });
    for (const node of [county, unit]) await startNode(node);
    await enrollNode(unit, county);
    officer = await createApiKey(run(unit).store, { name: '王保密', role: 'secadmin' });
    viewer = await createApiKey(run(unit).store, { name: '查阅', role: 'viewer' });
  }, 60_000);

  afterAll(() => stopAndRemove([unit, county]));

  it('an incident stays local until its 泄密事件报告 is signed off; then it goes up and the report is sent', async () => {
    const discoveredAt = new Date(Date.now() - 3_600_000).toISOString();
    const created = await api<{ id: string }>(officer, '/api/v1/incidents', {
      title: '涉密计算机接入未登记的U盘',
      level: '机密',
      discoveredAt,
      measures: '断开网络，封存U盘',
    });
    expect(created.status).toBe(201);
    const incidentId = created.body.id;
    await run(unit).hierarchy.scan();
    await delivered();
    expect(await receivedReports(county, 'incident')).toHaveLength(0);

    const draft = await api<DocumentView>(officer, '/api/v1/documents', {
      kind: 'incident-report',
      incidentId,
      nature: '可能泄露',
      term: '1年',
    });
    expect(draft.status).toBe(201);
    expect(draft.body).toMatchObject({
      kind: 'incident-report',
      state: 'draft',
      level: '机密',
      signedBy: null,
    });
    const again = await api<{ error: string }>(officer, '/api/v1/documents', {
      kind: 'incident-report',
      incidentId,
      nature: '已泄露',
    });
    expect(again.status).toBe(409);
    expect((await api(viewer, '/api/v1/documents', { kind: 'annual-report', year })).status).toBe(403);

    // The draft is visible and downloadable here, and says it is a draft.
    const draftPdf = await download(`/api/v1/documents/${draft.body.id}.pdf`);
    expect(draftPdf.status).toBe(200);
    expect(draftPdf.type).toBe('application/pdf');
    expect(draftPdf.disposition).toContain(
      `filename*=UTF-8''${encodeURIComponent('关于可能泄露国家秘密事件的报告.pdf')}`,
    );
    const draftText = pdfText(draftPdf.bytes);
    expect(draftText).toContain('草稿（未签发）');
    expect(draftText).toContain('机密★1年');
    await run(unit).hierarchy.scan();
    await delivered();
    expect(await receivedReports(county, 'incident')).toHaveLength(0);

    const refused = await api<{ error: string }>(viewer, `/api/v1/documents/${draft.body.id}/signoff`, {});
    expect(refused.status).toBe(403);
    const signed = await api<DocumentView>(officer, `/api/v1/documents/${draft.body.id}/signoff`, {
      number: '甲保〔2026〕1号',
    });
    expect(signed.status).toBe(200);
    expect(signed.body).toMatchObject({ state: 'signed', signedBy: '王保密', number: '甲保〔2026〕1号' });
    expect((await api(officer, `/api/v1/documents/${draft.body.id}/signoff`, {})).status).toBe(409);

    // Sign-off asks for a report soon: no scan needed.
    await eventually(async () => (await receivedReports(county, 'incident')).length === 1 || undefined, {
      what: 'the incident at the county',
    });
    const sent = await documentState(draft.body.id);
    expect(sent.sentAt).not.toBeNull();

    const pdf = pdfText((await download(`/api/v1/documents/${draft.body.id}.pdf`)).bytes);
    expect(pdf).toMatch(/签发人：\s*王保密/);
    expect(pdf).not.toContain('草稿');
    expect(pdf).toContain('断开网络，封存U盘');
    const docx = await download(`/api/v1/documents/${draft.body.id}.docx`);
    expect(docx.type).toContain('wordprocessingml');
    const words = docxText(docx.bytes);
    expect(words).toContain('机密★1年');
    expect(words).toContain('王保密');
    expect(words).toContain('甲保〔2026〕1号');

    const list = await api<{ items: DocumentView[] }>(viewer, '/api/v1/documents');
    expect(list.body.items.map((d) => [d.kind, d.state])).toEqual([['incident-report', 'sent']]);
    expect((await download(`/api/v1/documents/doc-unknown.pdf`)).status).toBe(404);
  });

  it('the annual figures go up only once the 年度保密工作情况 is signed off, as its 附表', async () => {
    const refused = await api<{ error: string }>(officer, '/api/v1/hierarchy/annual', { year });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/not signed off \(签发\)/);

    const draft = await api<DocumentView>(officer, '/api/v1/documents', {
      kind: 'annual-report',
      year,
      text: `${year}年，本单位落实保密工作责任制，开展保密教育培训。`,
    });
    expect(draft.status).toBe(201);
    expect(draft.body.level).toBe('非密');
    expect((await api(officer, `/api/v1/documents/${draft.body.id}/signoff`, {})).status).toBe(200);
    // Queued for the parent (202), no longer refused.
    expect((await api(officer, '/api/v1/hierarchy/annual', { year })).status).toBe(202);
    await eventually(async () => (await receivedReports(county, 'annual')).length === 1 || undefined, {
      what: 'the annual figures at the county',
    });
    await documentState(draft.body.id);

    const text = pdfText((await download(`/api/v1/documents/${draft.body.id}.pdf`)).bytes);
    expect(text.replace(/\s+/g, '')).toContain(`甲单位${year}年度保密工作情况`);
    expect(text).toContain('县级保密行政管理部门');
    expect(text).toContain('本单位落实保密工作责任制');
    // Last year's 附表: the incident above was found this year.
    expect(text).toMatch(/泄密事件\s+本年发现\s+0/);
  });

  it('a 预警通报 and its 排查 reply are drafted from the notice and its answer', async () => {
    const notice = await api<{ id: string }>(officer, '/api/v1/notices', {
      title: '违规外联专项排查',
      text: '近期发现涉密计算机违规外联。',
      requiredAction: '开展专项排查。',
      deadline: new Date(Date.now() + 86_400_000).toISOString(),
      units: ['甲单位'],
    });
    expect(notice.status).toBe(201);
    expect(
      (
        await api(officer, `/api/v1/notices/${notice.body.id}/results`, {
          unit: '甲单位',
          result: '排查42台，未发现问题。',
        })
      ).status,
    ).toBe(200);
    const issued = await api<DocumentView>(officer, '/api/v1/documents', {
      kind: 'warning-notice',
      noticeId: notice.body.id,
      level: '秘密',
    });
    const reply = await api<DocumentView>(officer, '/api/v1/documents', {
      kind: 'notice-reply',
      noticeId: notice.body.id,
      unit: '甲单位',
    });
    expect([issued.status, reply.status]).toEqual([201, 201]);
    const noticeText = pdfText((await download(`/api/v1/documents/${issued.body.id}.pdf`)).bytes);
    expect(noticeText).toContain('秘密★');
    expect(noticeText).toContain('开展专项排查。');
    const replyText = pdfText((await download(`/api/v1/documents/${reply.body.id}.pdf`)).bytes);
    expect(replyText).toContain('排查42台，未发现问题。');
    // A signed reply handed over on paper is recorded as sent by hand.
    expect((await api(officer, `/api/v1/documents/${reply.body.id}/sent`, {})).status).toBe(409);
    await api(officer, `/api/v1/documents/${reply.body.id}/signoff`, {});
    const sent = await api<DocumentView>(officer, `/api/v1/documents/${reply.body.id}/sent`, {});
    expect(sent.body.state).toBe('sent');
  });

  it('warnings, incidents and assessments export to Excel in the officers’ words', async () => {
    expect(
      (
        await api(officer, '/api/v1/systems', {
          name: '办公网',
          level: '机密',
          commissionedAt: `${year}-01-05`,
          approval: { ref: '审查-办公网', by: '市保密局', at: `${year}-01-05` },
        })
      ).status,
    ).toBe(201);
    const sheet = async (path: string) => {
      const file = await download(path, viewer);
      expect(file.status, path).toBe(200);
      expect(file.type).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(file.bytes as unknown as ArrayBuffer);
      const rows: unknown[][] = [];
      workbook.worksheets[0]!.eachRow((row) => rows.push((row.values as unknown[]).slice(1)));
      return rows;
    };
    const incidents = await sheet('/api/v1/incidents.xlsx');
    expect(incidents[0]).toContain('泄密事件报告签发');
    expect(incidents[1]).toContain('涉密计算机接入未登记的U盘');
    expect(String(incidents[1]!.at(-1))).toMatch(/^王保密 .*签发$/);
    const assessments = await sheet('/api/v1/assessments.xlsx');
    expect(assessments[0]).toContain('下次评估截止日期');
    expect(assessments[1]).toContain('办公网');
    const warnings = await sheet('/api/v1/warnings.xlsx');
    expect(warnings[0]).toEqual(expect.arrayContaining(['预警级别', '状态', '最近发生']));
  });
});

describe('a collector whose document font is missing', () => {
  let node: ChainNode;
  let key: string;
  beforeAll(async () => {
    node = await makeNode('nofont', '乙单位', 'unit', {
      documents: {
        fonts: { title: { file: '/nonexistent/NotoSerifCJK-Bold.ttc', name: 'NotoSerifCJKsc-Bold' } },
      },
    });
    await startNode(node);
    key = await createApiKey(run(node).store, { name: '保密干部', role: 'secadmin' });
  });
  afterAll(() => stopAndRemove([node]));

  it('still starts, drafts and gives the .docx; the PDF is a 503 naming the key and the package', async () => {
    const draft = await callApi<{ id: string }>(node, key, '/api/v1/documents', {
      kind: 'annual-report',
      year: 2025,
      text: '正文',
    });
    expect(draft.status).toBe(201);
    const fetchFile = (format: string) =>
      fetch(`${run(node).httpUrl}/api/v1/documents/${draft.body.id}.${format}`, {
        headers: { authorization: `Bearer ${key}` },
      });
    expect((await fetchFile('docx')).status).toBe(200);
    const pdf = await fetchFile('pdf');
    expect(pdf.status).toBe(503);
    expect(((await pdf.json()) as { error: string }).error).toMatch(
      /^documents\.fonts\.title\.file: \/nonexistent\/NotoSerifCJK-Bold\.ttc cannot be read; .*fonts-noto-cjk/,
    );
  });
});
