/**
 * Every document smew produces, generated from a literal input and read back the way a person's
 * tools read it: the PDF through poppler (pdftotext, pdffonts, pdftoppm), the .docx through unzip.
 * Each carries its title, its 国家秘密标志 (read with the agent's own marking parser) and its
 * 签发人; the PDF's fonts are embedded subsets from the machine's fonts-noto-cjk.
 * `SMEW_UPDATE_DOCUMENT_SCREENSHOTS=1` writes each first page to docs/documents/ (committed).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findMarkings } from '../../agent/probes/markings.js';
import { annualReport } from '../../collector/documents/annual-report.js';
import { checkFonts, DEFAULT_FONTS } from '../../collector/documents/documents-config.js';
import { incidentReport } from '../../collector/documents/incident-report.js';
import type { Letterhead, OfficialDocument } from '../../collector/documents/official-document.js';
import { renderDocx } from '../../collector/documents/render-docx.js';
import { renderPdf } from '../../collector/documents/render-pdf.js';
import { selfInspectionReport } from '../../collector/documents/self-inspection-report.js';
import { investigationReply, warningNotice } from '../../collector/documents/warning-notice.js';
import { UserError } from '../../shared/errors.js';
import {
  docxText,
  firstPagePng,
  hasPoppler,
  pdfFonts,
  pdfPages,
  pdfText,
} from '../support/document-files.js';
import { REPO_ROOT } from '../support/processes.js';

const SCREENSHOTS = join(REPO_ROOT, 'docs/documents');

const head = (overrides: Partial<Letterhead> = {}): Letterhead => ({
  issuer: '甲单位',
  level: '机密',
  term: '1年',
  number: '甲保〔2026〕7号',
  signer: '王保密',
  date: '2026-12-07',
  ...overrides,
});

/** One of each kind, as its generator is given it. */
const DOCUMENTS: Record<string, { document: OfficialDocument; mark: string | undefined; signer?: string }> = {
  'incident-report': {
    mark: '机密★1年',
    signer: '王保密',
    document: incidentReport({
      head: head({ urgency: '特急' }),
      incident: {
        id: 'inc-20261206-1',
        title: '涉密计算机接入未登记的移动存储介质',
        level: '机密',
        nature: '可能泄露',
        unit: '甲单位',
        discoveredAt: '2026-12-06T02:30:00.000Z',
        discoverySource: 'identified',
        evidenceFrom: '2026-12-06T02:10:00.000Z',
        evidenceTo: '2026-12-06T02:12:00.000Z',
        description: '一台机密级涉密计算机（资产编号 JM-0012）接入一枚未登记的U盘，复制文件两份。',
        measures: [
          { what: '断开该计算机网络连接并封存U盘', by: '李四', at: '2026-12-06T02:40:00.000Z' },
          { what: '对相关人员开展询问', by: '张三', at: '2026-12-06T03:00:00.000Z' },
        ],
        evidence: [101, 102, 103],
      },
      recipients: ['县级保密行政管理部门', '上级主管部门'],
      hops: [
        {
          from: 'unit',
          to: 'county',
          dueAt: '2026-12-07T02:30:00.000Z',
          reportedAt: null,
          receivedAt: null,
          state: 'pending',
        },
        {
          from: 'unit',
          to: 'superior-dept',
          dueAt: '2026-12-07T02:30:00.000Z',
          reportedAt: '2026-12-06T06:00:00.000Z',
          receivedAt: '2026-12-06T06:00:00.000Z',
          state: 'done',
        },
        { from: 'county', to: 'city', dueAt: null, reportedAt: null, receivedAt: null, state: 'unstarted' },
      ],
    }),
  },
  'warning-notice': {
    mark: '秘密★',
    document: warningNotice({
      head: head({
        issuer: '某县国家保密局',
        level: '秘密',
        term: null,
        number: '县保〔2026〕12号',
        signer: '赵局长',
      }),
      notice: {
        id: 'n-1',
        title: '近期多起涉密计算机违规外联',
        text: '近期监测发现，辖区内多台涉密计算机存在违规连接互联网的情况。',
        requiredAction: '请立即组织对本单位涉密计算机开展违规外联专项排查。',
        deadline: '2026-12-10T10:00:00.000Z',
        issuedAt: '2026-12-07T01:00:00.000Z',
        recipients: ['甲单位', '乙单位'],
        warningId: 'w-abc',
      },
    }),
  },
  'notice-reply': {
    mark: '秘密★6个月',
    signer: '王保密',
    document: investigationReply({
      head: head({ level: '秘密', term: '6个月' }),
      notice: {
        id: 'n-1',
        title: '近期多起涉密计算机违规外联',
        issuerUnit: '某县国家保密局',
        issuedAt: '2026-12-07T01:00:00.000Z',
        deadline: '2026-12-10T10:00:00.000Z',
      },
      acknowledgedAt: '2026-12-07T02:00:00.000Z',
      result: '共排查涉密计算机42台，未发现违规外联情况。',
      resultAt: '2026-12-08T09:00:00.000Z',
    }),
  },
  'annual-report': {
    mark: undefined,
    signer: '王保密',
    document: annualReport({
      head: head({ level: '非密', term: null }),
      year: 2025,
      recipient: '县级保密行政管理部门',
      text: '2025年，本单位认真贯彻落实保密法律法规，全年未发生泄密事件。\n一是健全保密工作责任制。二是加强涉密人员管理。',
      figures: {
        systems: { inUse: 2, decommissioned: 0, commissioned: 1, 绝密: 0, 机密: 1, 秘密: 1 },
        assessments: { completed: 2, failed: 0, overdue: 0 },
        incidents: { discovered: 0, reportedOnTime: 0, reportedLate: 0, unreported: 0 },
        warnings: { opened: 17, closed: 15, falsePositive: 2, open: 0, critical: 1, high: 4 },
      },
      final: true,
    }),
  },
  'self-inspection': {
    mark: '秘密★1年',
    signer: '王保密',
    document: selfInspectionReport({
      head: head({ level: '秘密' }),
      year: 2026,
      recipient: '县级保密行政管理部门',
      summary: '本单位于11月组织开展了年度保密自查自评。',
      items: [
        { item: '保密工作责任制落实情况', answer: '已落实，签订责任书38份', evidence: '责任书清单' },
        { item: '涉密人员保密管理情况', answer: '2人未按期参加培训', evidence: '培训签到表' },
      ],
      findings: ['2名涉密人员未按期参加年度保密培训。'],
      rectifications: [{ what: '补训2名涉密人员', who: '张三', deadline: '2026-12-31', closedAt: null }],
    }),
  },
};

describe.skipIf(!hasPoppler)('documents read back from their files', () => {
  for (const [kind, { document, mark, signer }] of Object.entries(DOCUMENTS)) {
    it(`${kind}: the PDF and the .docx carry the title, the 密级 mark and the 签发人; fonts embedded as subsets`, async () => {
      const pdf = await renderPdf(document, DEFAULT_FONTS);
      const docx = await renderDocx(document);
      for (const text of [pdfText(pdf), docxText(docx)]) {
        // pdftotext breaks a long title over its lines; the words are all there, in order.
        expect(text.replace(/\s+/g, '')).toContain(document.title);
        if (mark) expect(findMarkings(text).map((m) => m.text)).toContain(mark);
        else expect(findMarkings(text)).toEqual([]);
        if (signer) expect(text).toMatch(new RegExp(`签发人：\\s*${signer}`));
        expect(text).toContain(document.issuerMark);
        expect(text).toContain('2026年12月7日');
      }
      const fonts = pdfFonts(pdf);
      expect(fonts.length).toBeGreaterThanOrEqual(2);
      for (const font of fonts) {
        expect(font, font.name).toMatchObject({ embedded: true, subset: true });
        expect(font.name).toMatch(/^[A-Z]{6}\+NotoS(erif|ans)CJKsc-/);
      }
      // The subsets stay small: the glyphs used, not a 20 MB collection.
      expect(pdf.length).toBeLessThan(600_000);
      expect(pdfPages(pdf)).toBeGreaterThanOrEqual(1);

      const png = firstPagePng(pdf);
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      if (process.env.SMEW_UPDATE_DOCUMENT_SCREENSHOTS === '1') {
        mkdirSync(SCREENSHOTS, { recursive: true });
        writeFileSync(join(SCREENSHOTS, `${kind}.png`), png);
      }
    });
  }

  it('a draft says so across its head and names no 签发人', async () => {
    const { document } = DOCUMENTS['incident-report']!;
    const { signer: _, ...draft } = { ...document, draftNote: '草稿（未签发）' };
    const text = pdfText(await renderPdf(draft, DEFAULT_FONTS));
    expect(text).toContain('草稿（未签发）');
    expect(text).not.toContain('签发人');
  });

  it('the annual report carries its figures as 附表, in words', async () => {
    const { document } = DOCUMENTS['annual-report']!;
    const text = pdfText(await renderPdf(document, DEFAULT_FONTS));
    expect(text).toContain('附件：2025年度保密监测预警数据');
    expect(text).toMatch(/附表\s/);
    expect(text).toContain('误报（已排除）');
    expect(text).toMatch(/本年发生\s+17/);
  });
});

describe('document fonts', () => {
  it('a missing font is a user error naming the key, the file and the package', () => {
    const fonts = { ...DEFAULT_FONTS, heading: { file: '/nonexistent/NotoSansCJK-Regular.ttc' } };
    expect(() => checkFonts(fonts)).toThrow(UserError);
    expect(() => checkFonts(fonts)).toThrow(
      /documents\.fonts\.heading\.file: \/nonexistent\/NotoSansCJK-Regular\.ttc cannot be read; .*fonts-noto-cjk/,
    );
  });
});
