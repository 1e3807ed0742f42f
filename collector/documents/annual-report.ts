import type { Figures } from '../hierarchy/annual-figures.js';
import {
  letterheadParts,
  paragraphs,
  type Letterhead,
  type OfficialDocument,
  type Table,
} from './official-document.js';

/**
 * 年度保密工作情况 (第56条): the unit's own account of its year, written and signed by its people,
 * with smew's annual figures (collector/hierarchy/annual-figures.ts) as the 附表 — what the
 * monitoring records prove, not the whole of the unit's 保密工作.
 */
export interface AnnualReportInput {
  head: Letterhead;
  year: number;
  /** 同级保密行政管理部门 (主送). */
  recipient: string;
  /** The unit's own text; one paragraph per line. */
  text: string;
  figures: Figures;
  /** Whether the year was over when the figures were taken. */
  final: boolean;
}

const SECTIONS: Record<string, { title: string; names: Record<string, string> }> = {
  systems: {
    title: '涉密信息系统',
    names: {
      inUse: '在用',
      decommissioned: '已退出使用',
      commissioned: '本年投入使用',
      绝密: '绝密级',
      机密: '机密级',
      秘密: '秘密级',
    },
  },
  assessments: {
    title: '安全保密风险评估',
    names: { completed: '本年完成', failed: '发现重大风险隐患', overdue: '年末已逾期' },
  },
  incidents: {
    title: '泄密事件',
    names: {
      discovered: '本年发现',
      reportedOnTime: '按时报告',
      reportedLate: '迟报',
      unreported: '未报',
      绝密: '绝密级',
      机密: '机密级',
      秘密: '秘密级',
    },
  },
  warnings: {
    title: '预警事件',
    names: {
      opened: '本年发生',
      closed: '已办结',
      falsePositive: '误报（已排除）',
      open: '未办结',
      critical: '紧急',
      high: '高危',
      medium: '中危',
      low: '低危',
      info: '提示',
    },
  },
  notices: {
    title: '预警通报',
    names: { received: '收到', acknowledged: '已签收', answered: '已报送排查结果', issued: '下发' },
  },
  agents: {
    title: '受监测终端',
    names: {
      enrolled: '年末在册',
      online: '取数时在线',
      enrolledInYear: '本年接入',
      revokedInYear: '本年注销',
    },
  },
};

/** The figures as one table: 类别, 项目, 数量 (sections and names smew does not know are shown as they are). */
export function figuresTable(figures: Figures): Table {
  const rows: string[][] = [];
  for (const [section, values] of Object.entries(figures)) {
    if (section === 'warningTypes') continue;
    const words = SECTIONS[section];
    for (const [name, value] of Object.entries(values)) {
      rows.push([words?.title ?? section, words?.names[name] ?? name, String(value)]);
    }
  }
  return { columns: ['类别', '项目', '数量'], widths: [2, 3, 1.2], rows };
}

export function annualReport(input: AnnualReportInput): OfficialDocument {
  return {
    ...letterheadParts(input.head, true),
    title: `${input.head.issuer}${input.year}年度保密工作情况`,
    recipients: input.recipient,
    body: [
      ...paragraphs(input.text),
      {
        kind: 'paragraph',
        text:
          `附表所列数据取自本单位保密监测预警系统的记录${input.final ? '' : '（年度尚未结束，为截至取数时的初步统计）'}，` +
          '反映监测范围内的情况。',
      },
    ],
    attachments: [
      {
        label: '附表',
        title: `${input.year}年度保密监测预警数据`,
        blocks: [{ kind: 'table', table: figuresTable(input.figures) }],
      },
    ],
  };
}
