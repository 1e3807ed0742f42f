import {
  chineseDate,
  letterheadParts,
  paragraphs,
  type Block,
  type Letterhead,
  type OfficialDocument,
} from './official-document.js';

/**
 * 自查自评报告 (第58条): the unit's yearly self-inspection — each checklist item with its answer
 * and evidence, what was found, and the 整改 (what, who, by when — 第59条). The input is plain data,
 * so whatever keeps the self-inspection can hand it over without this module knowing its store.
 */
export interface SelfInspectionInput {
  head: Letterhead;
  year: number;
  /** 同级保密行政管理部门 (主送). */
  recipient: string;
  /** The unit's own summary; one paragraph per line. */
  summary?: string;
  items: readonly {
    /** e.g. 保密工作责任制落实情况 (第58条 (一)). */
    item: string;
    answer: string;
    evidence?: string;
  }[];
  findings: readonly string[];
  rectifications: readonly {
    what: string;
    who: string;
    /** YYYY-MM-DD. */
    deadline: string;
    /** YYYY-MM-DD once done. */
    closedAt?: string | null;
  }[];
}

export function selfInspectionReport(input: SelfInspectionInput): OfficialDocument {
  const body: Block[] = [
    {
      kind: 'paragraph',
      text:
        `根据《中华人民共和国保守国家秘密法实施条例》第五十八条，${input.head.issuer}对${input.year}年度` +
        '遵守保密法律法规和相关制度情况开展了自查自评，现将有关情况报告如下。',
    },
    ...paragraphs(input.summary ?? ''),
    { kind: 'heading', level: 1, text: '一、自查情况' },
    {
      kind: 'table',
      table: {
        columns: ['自查项目', '自查情况', '佐证材料'],
        widths: [3, 4, 3],
        rows: input.items.map((i) => [i.item, i.answer, i.evidence ?? '—']),
      },
    },
    { kind: 'heading', level: 1, text: '二、发现的问题' },
    ...(input.findings.length > 0
      ? input.findings.map((f, i) => ({ kind: 'paragraph' as const, text: `${i + 1}. ${f}` }))
      : [{ kind: 'paragraph' as const, text: '本次自查未发现问题。' }]),
    { kind: 'heading', level: 1, text: '三、整改情况' },
  ];
  if (input.rectifications.length > 0) {
    body.push({
      kind: 'table',
      table: {
        columns: ['整改事项', '责任人', '整改期限', '完成情况'],
        widths: [4, 2, 2, 2],
        rows: input.rectifications.map((r) => [
          r.what,
          r.who,
          chineseDate(r.deadline),
          r.closedAt ? `${chineseDate(r.closedAt)}完成` : '整改中',
        ]),
      },
    });
  } else {
    body.push({ kind: 'paragraph', text: '无需整改事项。' });
  }
  body.push({ kind: 'paragraph', text: '特此报告。' });
  return {
    ...letterheadParts(input.head, true),
    title: `${input.head.issuer}${input.year}年度保密自查自评报告`,
    recipients: input.recipient,
    body,
  };
}
