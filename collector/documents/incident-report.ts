import { formatShanghai } from '../../shared/calendar.js';
import { chainEndName, HOP_STATE_NAMES } from '../../shared/terms.js';
import {
  chineseTime,
  letterheadParts,
  paragraphs,
  type Block,
  type Letterhead,
  type OfficialDocument,
} from './official-document.js';

/** A remedial measure (第61条 "应当立即采取补救措施"): what was done, by whom, when. */
export interface MeasureLine {
  what: string;
  by: string;
  at: string;
}

/** One measure in the words a report uses: 内容（责任人，时间）. One home for the documents and exports. */
export function measureLine(m: MeasureLine): string {
  return `${m.what}（${m.by}，${chineseTime(m.at)}）`;
}

/**
 * 泄密事件报告 (第61条): what was found, its level, whether the secret 已泄露 or 可能泄露, when and how
 * the unit found it, the evidence, the remedial measures taken first ("应当立即采取补救措施"), and
 * how the report has gone up the chain so far. A report to the level above: 签发人 in its head.
 */
export interface IncidentReportInput {
  head: Letterhead;
  incident: {
    id: string;
    title: string;
    level: string;
    nature: '已泄露' | '可能泄露';
    unit: string;
    discoveredAt: string;
    /** identified: the warning's 识别 time; manual: entered by the officer; evidence: the earliest event. */
    discoverySource: string;
    evidenceFrom?: string | null;
    evidenceTo?: string | null;
    description: string | null;
    measures: readonly MeasureLine[];
    /** Ids of the signed events kept as evidence. */
    evidence: readonly number[];
  };
  /** 主送: the same-level administration and the superior department. */
  recipients: readonly string[];
  hops: readonly {
    from: string;
    to: string;
    dueAt: string | null;
    reportedAt: string | null;
    receivedAt: string | null;
    state: string;
  }[];
}

const DISCOVERY_SOURCE: Record<string, string> = {
  identified: '预警事件研判（识别）时间',
  manual: '保密干部录入',
  evidence: '最早证据时间',
};

const at = (iso: string | null | undefined) => (iso ? chineseTime(iso) : '—');

export function incidentReport(input: IncidentReportInput): OfficialDocument {
  const { incident } = input;
  const body: Block[] = [
    {
      kind: 'paragraph',
      text:
        `${at(incident.discoveredAt)}，${incident.unit}发现一起${incident.nature}国家秘密的事件` +
        `（${incident.title}），涉及${incident.level}级国家秘密。根据《中华人民共和国保守国家秘密法实施条例》` +
        `第六十一条，现将有关情况报告如下。`,
    },
    { kind: 'heading', level: 1, text: '一、事件基本情况' },
    {
      kind: 'paragraph',
      text: `事件编号${incident.id}；密级${incident.level}；性质：${incident.nature}。`,
    },
    ...paragraphs(incident.description ?? ''),
    { kind: 'heading', level: 1, text: '二、发现经过' },
    {
      kind: 'paragraph',
      text:
        `发现时间${at(incident.discoveredAt)}，依据：${DISCOVERY_SOURCE[incident.discoverySource] ?? incident.discoverySource}。` +
        (incident.evidenceFrom
          ? `证据时间自${at(incident.evidenceFrom)}至${at(incident.evidenceTo ?? incident.evidenceFrom)}。`
          : ''),
    },
    { kind: 'heading', level: 1, text: '三、证据' },
    {
      kind: 'paragraph',
      text:
        incident.evidence.length > 0
          ? `监测系统保存经终端签名的事件${incident.evidence.length}条（编号${incident.evidence.join('、')}），可逐条验证签名。`
          : '暂无监测系统记录的证据。',
    },
    { kind: 'heading', level: 1, text: '四、已采取的补救措施' },
    ...(incident.measures.length > 0
      ? incident.measures.map((m, i) => ({ kind: 'paragraph' as const, text: `${i + 1}. ${measureLine(m)}` }))
      : [{ kind: 'paragraph' as const, text: '（尚未录入补救措施）' }]),
    { kind: 'heading', level: 1, text: '五、逐级报告情况' },
  ];
  const hopTable: Block = {
    kind: 'table',
    table: {
      columns: ['报告方', '接收方', '时限', '报告时间', '接收时间', '状态'],
      widths: [2, 3, 2, 2, 2, 1.5],
      rows: input.hops.map((h) => [
        chainEndName(h.from, 'zh'),
        chainEndName(h.to, 'zh'),
        h.dueAt ? formatShanghai(new Date(h.dueAt)) : '—',
        h.reportedAt ? formatShanghai(new Date(h.reportedAt)) : '—',
        h.receivedAt ? formatShanghai(new Date(h.receivedAt)) : '—',
        HOP_STATE_NAMES[h.state] ?? h.state,
      ]),
    },
  };
  body.push(hopTable, { kind: 'paragraph', text: '特此报告。' });
  return {
    ...letterheadParts(input.head, true),
    title: `${input.head.issuer}关于${incident.nature}国家秘密事件的报告`,
    recipients: input.recipients.join('、'),
    body,
  };
}
