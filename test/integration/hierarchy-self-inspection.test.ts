/**
 * 第58–59条 in a real chain (甲单位 → 某县保密局, in process, real SQLite, HTTP and brokers): the
 * unit's yearly self-inspection from checklist to finalising — answers with evidence (a note, an
 * uploaded file, links to smew's records with their live figures), findings with their 整改
 * items — then its signed report received by the county, which lists the unit's status and open
 * items; a rectification closed at the unit reaches the county too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { SELF_INSPECTION_CHECKLIST } from '../../collector/self-inspection/checklist.js';
import { selfInspectionReportData } from '../../collector/self-inspection/self-inspection-report.js';
import type { SelfInspection } from '../../shared/api/self-inspection.js';
import { addCalendarDays, shanghaiDate } from '../../shared/calendar.js';
import { verifyMessage } from '../../shared/envelope.js';
import { suiteFor } from '../../shared/crypto/suites.js';
import { loadOrCreateCollectorIdentity } from '../../collector/identity.js';
import { enrollAgent } from '../support/collector-harness.js';
import { docxText, hasPoppler, pdfText } from '../support/document-files.js';
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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface UnitStatus {
  unit: string;
  selfInspection: { receivedAt: string; report: Json } | null;
  rectifications: { receivedAt: string; report: Json } | null;
}

describe('第58条 self-inspection up a chain', () => {
  let unit: ChainNode;
  let county: ChainNode;
  let officer: string;
  let viewer: string;
  let countyKey: string;
  const today = shanghaiDate(new Date());
  const year = Number(today.slice(0, 4));
  let inspection: SelfInspection;

  const call = <T = Json>(path: string, body?: unknown, method?: string, key = officer) =>
    callApi<T>(unit, key, path, body, method);
  const answer = (item: string, body: unknown, key = officer) =>
    call(`/api/v1/self-inspections/${inspection.id}/items/${item}`, body, 'PUT', key);
  const countyView = async () =>
    (await callApi<{ items: UnitStatus[] }>(county, countyKey, '/api/v1/hierarchy/self-inspections')).body
      .items;

  beforeAll(async () => {
    county = await makeNode('county', '某县保密局', 'county');
    unit = await makeNode('unit', '甲单位', 'unit');
    for (const node of [county, unit]) await startNode(node);
    officer = await createApiKey(run(unit).store, { name: '保密干部', role: 'secadmin', unit: '甲单位' });
    viewer = await createApiKey(run(unit).store, { name: '查阅', role: 'viewer', unit: '甲单位' });
    countyKey = await createApiKey(run(county).store, { name: 'county-officer', role: 'secadmin' });
    await enrollNode(unit, county);
    await enrollAgent(run(unit), { unit: '甲单位' });
  });
  afterAll(() => stopAndRemove([unit, county]));

  it('starts the year’s inspection once, with the checklist of 第58条', async () => {
    expect((await call('/api/v1/self-inspections', { year }, 'POST', viewer)).status).toBe(403);
    const created = await call<SelfInspection>('/api/v1/self-inspections', { year });
    expect(created.status).toBe(201);
    inspection = created.body;
    expect(inspection.items.map((i) => `${i.number}${i.title}`)).toEqual(
      SELF_INSPECTION_CHECKLIST.map((e) => `${e.number}${e.title}`),
    );
    expect(inspection.items[6]).toMatchObject({ number: '(七)', title: '信息系统和信息设备保密管理情况' });
    const again = await call<SelfInspection>('/api/v1/self-inspections', { year });
    expect(again).toMatchObject({ status: 200, body: { id: inspection.id } });
  });

  it('answers each item with evidence; findings need their 整改 items before finalising', async () => {
    const deadline = addCalendarDays(today, 30);
    for (const entry of SELF_INSPECTION_CHECKLIST) {
      if (entry.item === 'systems' || entry.item === 'training') continue;
      const reply = await answer(entry.item, {
        answer: entry.item === 'procurement' ? 'not-applicable' : 'compliant',
        note: `${entry.title}：经检查符合要求`,
      });
      expect(reply.status).toBe(200);
    }
    expect((await answer('nothing', { answer: 'compliant' })).status).toBe(404);
    expect((await answer('rules', { answer: 'compliant' }, viewer)).status).toBe(403);
    const notFinding = await answer('rules', {
      answer: 'compliant',
      rectifications: [{ what: 'x', who: 'y', deadline }],
    });
    expect(notFinding.status).toBe(400);

    const systems = await answer('systems', {
      answer: 'partly',
      note: '一台终端未纳入监测',
      links: ['terminals', 'assessments'],
      rectifications: [{ what: '为未纳入监测的终端安装监测程序', who: '王五（信息中心）', deadline }],
    });
    expect(systems.status).toBe(200);
    const item = systems.body.items.find((i: Json) => i.item === 'systems');
    expect(item.rectifications).toEqual([
      expect.objectContaining({ what: '为未纳入监测的终端安装监测程序', state: 'open', daysLeft: 30 }),
    ]);
    // The live figure: the unit's one enrolled terminal.
    // One agent enrolled and none of the register's entries yet: the agent is counted as not registered.
    expect(systems.body.figures.terminals).toEqual({
      enrolled: 1,
      online: 0,
      offline: 1,
      registered: 0,
      registerFindings: 0,
      unregistered: 1,
    });
    // The open item is at the county before the next is opened: once that one is closed, the open
    // set is again one the county heard of, and the close must still reach it.
    await eventually(
      async () => ((await countyView())[0]?.rectifications?.report.open === 1 ? true : undefined),
      {
        what: 'the first open item at the county',
      },
    );

    const early = await call(`/api/v1/self-inspections/${inspection.id}/finalise`, {});
    expect(early.status).toBe(409);
    expect(early.body.error).toContain('(三)保密宣传教育培训情况');

    expect((await answer('training', { answer: 'non-compliant', note: '年度培训未开展' })).status).toBe(200);
    const bare = await call(`/api/v1/self-inspections/${inspection.id}/finalise`, {});
    expect(bare.status).toBe(409);
    expect(bare.body.error).toMatch(/findings without 整改 items.*\(三\)/);
    const training = await answer('training', {
      answer: 'non-compliant',
      note: '年度培训未开展',
      rectifications: [{ what: '组织全员保密培训', who: '赵六', deadline }],
    });
    expect(training.status).toBe(200);
  });

  it('keeps an uploaded evidence file in the store, bounded in size', async () => {
    const bytes = Buffer.from('保密制度汇编（2026年版）\n第一章 总则\n', 'utf8');
    const path = `/api/v1/self-inspections/${inspection.id}/items/rules/files`;
    const uploaded = await call(path, {
      name: '保密制度汇编.txt',
      mediaType: 'text/plain',
      content: bytes.toString('base64'),
    });
    expect(uploaded.status).toBe(201);
    expect(uploaded.body).toMatchObject({ name: '保密制度汇编.txt', size: bytes.length });
    const response = await fetch(
      `${run(unit).httpUrl}/api/v1/self-inspections/${inspection.id}/files/${uploaded.body.id}`,
      {
        headers: { authorization: `Bearer ${viewer}` },
      },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toContain("filename*=UTF-8''");
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
    const huge = Buffer.alloc(2 * 1024 * 1024 + 1, 1).toString('base64');
    const tooBig = await call(path, {
      name: 'big.bin',
      mediaType: 'application/octet-stream',
      content: huge,
    });
    expect([400, 413]).toContain(tooBig.status);
  });

  it('finalises with the result; the county receives the signed report and lists the unit', async () => {
    const finalised = await call<SelfInspection>(`/api/v1/self-inspections/${inspection.id}/finalise`, {
      summary: '总体落实较好，发现问题两项，已明确整改内容和期限。',
    });
    expect(finalised.status).toBe(200);
    expect(finalised.body).toMatchObject({
      state: 'finalised',
      result: 'findings',
      counts: { items: 13, answered: 13, findings: 2, openRectifications: 2 },
    });
    expect((await answer('rules', { answer: 'compliant' })).status).toBe(409);

    // Plain data for the 自查自评报告 document.
    const data = selfInspectionReportData(finalised.body);
    expect(data.resultZh).toBe('发现问题（需整改）');
    expect(data.findings.map((f) => `${f.number}${f.answerZh}`)).toEqual(['(三)不符合', '(七)基本符合']);
    expect(data.items[6]!.evidence[0]).toMatchObject({
      nameZh: '终端',
      figures: expect.arrayContaining([{ name: 'enrolled', nameZh: '已接入', value: 1 }]),
    });
    expect(data.items[1]!.files).toEqual([expect.objectContaining({ name: '保密制度汇编.txt' })]);

    const [received] = await eventually(
      async () => {
        const reports = await receivedReports(county, 'self-inspection');
        return reports.length > 0 ? reports : undefined;
      },
      { what: 'the self-inspection report at the county' },
    );
    const unitIdentity = loadOrCreateCollectorIdentity(unit.config.identity.dir);
    expect(received!.origin).toBe(unitIdentity.id);
    expect(verifyMessage(received!.report, suiteFor(unitIdentity.alg).verifier(unitIdentity.publicKey))).toBe(
      true,
    );
    expect(received!.report.data).toMatchObject({
      unit: '甲单位',
      year,
      result: 'findings',
      counts: { findings: 2 },
    });

    const [status] = await eventually(
      async () => {
        const items = await countyView();
        return items[0]?.selfInspection && items[0].rectifications ? items : undefined;
      },
      { what: 'the county’s view of 甲单位' },
    );
    expect(status).toMatchObject({
      unit: '甲单位',
      selfInspection: { report: { year, resultZh: '发现问题（需整改）' } },
      rectifications: { report: { open: 2, overdue: 0 } },
    });
  });

  it('drafts the 自查自评报告 from the finalised inspection, in the checklist’s words, and signs it off', async () => {
    const download = async (id: string, format: 'docx' | 'pdf') => {
      const response = await fetch(`${run(unit).httpUrl}/api/v1/documents/${id}.${format}`, {
        headers: { authorization: `Bearer ${officer}` },
      });
      if (response.status !== 200) throw new Error(`${format}: ${response.status} ${await response.text()}`);
      return Buffer.from(await response.arrayBuffer());
    };
    const refused = await call('/api/v1/documents', { kind: 'self-inspection', inspectionId: 'si-none' });
    expect(refused.status).toBe(404);
    const drafted = await call<{ id: string; title: string; state: string }>('/api/v1/documents', {
      kind: 'self-inspection',
      inspectionId: inspection.id,
    });
    expect(drafted.status).toBe(201);
    expect(drafted.body).toMatchObject({ title: `甲单位${year}年度保密自查自评报告`, state: 'draft' });
    const text = docxText(await download(drafted.body.id, 'docx'));
    for (const words of [
      drafted.body.title,
      '信息系统和信息设备保密管理情况',
      '不符合',
      '基本符合',
      '保密制度汇编.txt',
    ])
      expect(text).toContain(words);
    const signed = await call<{ state: string; signedBy: string }>(
      `/api/v1/documents/${drafted.body.id}/signoff`,
      {},
    );
    expect(signed.body).toMatchObject({ state: 'signed', signedBy: '保密干部' });
    if (hasPoppler)
      expect(pdfText(await download(drafted.body.id, 'pdf')).replace(/\s/g, '')).toContain('保密干部');
  });
  it('a rectification closed at the unit reaches the county', async () => {
    const open = await call<{ items: Json[] }>('/api/v1/rectifications?source=self-inspection');
    const training = open.body.items.find((r) => r.what === '组织全员保密培训');
    const closed = await call(`/api/v1/rectifications/${training.id}/close`, {
      note: '已于本月组织全员培训',
    });
    expect(closed.status).toBe(200);
    const [status] = await eventually(
      async () => {
        const items = await countyView();
        return items[0]?.rectifications?.report.open === 1 ? items : undefined;
      },
      { what: 'the closed item at the county' },
    );
    expect(status!.rectifications!.report.items).toEqual([
      expect.objectContaining({ what: '为未纳入监测的终端安装监测程序', state: 'open' }),
    ]);
    const done = status!.selfInspection!.report.rectifications.find((r: Json) => r.id === training.id);
    expect(done).toMatchObject({ state: 'done', stateZh: '已完成', closeNote: '已于本月组织全员培训' });
  });
});
