import { formatShanghai } from '../../shared/calendar.js';
import { secretMark, type SecretLevel } from '../../shared/secret-mark.js';

/**
 * One official document (公文) as GB/T 9704-2012 lays it out, independent of the file format: the
 * .docx and the PDF renderers (render-docx.ts, render-pdf.ts) both draw this model, so the two
 * files of one document say the same thing in the same places.
 *
 * 版头: 份号, 密级和保密期限 (the 国家秘密标志 of 第21条 with the document's own level), 紧急程度,
 * 发文机关标志 (red), 发文字号 — with 签发人 beside it for a report to the level above (上行文) —
 * and the red separator line. 主体: 标题, 主送机关, 正文, 附件说明, 发文机关署名, 成文日期, then each
 * 附件 on pages of its own. 版记: 印发机关和印发日期 at the foot of the last page.
 */
export interface OfficialDocument {
  /** 份号: which copy (six digits); only a classified document needs one. */
  copyNumber?: string;
  /** 密级和保密期限; absent for 非密. */
  classification?: { level: SecretLevel; term?: string | undefined };
  urgency?: '特急' | '加急';
  /** 发文机关标志 as printed in red, e.g. `某单位` or `某单位文件`. */
  issuerMark: string;
  /** 发文字号, e.g. `某保〔2026〕3号`; a draft has none yet. */
  number?: string;
  /** 签发人: shown for a 上行文 (a report to the level above); absent on a draft. */
  signer?: string;
  /** Whether this goes to the level above (上行文): 发文字号 left, 签发人 right. */
  upward: boolean;
  title: string;
  /** 主送机关. */
  recipients?: string;
  body: readonly Block[];
  attachments?: readonly Attachment[];
  /** 发文机关署名. */
  signature: string;
  /** 成文日期, YYYY-MM-DD (Asia/Shanghai); written 2026年12月7日. */
  date: string;
  /** 印发机关和印发日期. */
  printed?: { by: string; date: string };
  /** Shown across the head of a draft (草稿, 未签发) so it cannot pass for a signed copy. */
  draftNote?: string;
}

/** 正文: headings of the first level (一、) in 黑体, of the second ((一)) in 楷体, and paragraphs. */
export type Block =
  | { kind: 'heading'; level: 1 | 2; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'table'; table: Table };

export interface Table {
  columns: readonly string[];
  rows: readonly (readonly string[])[];
  /** Relative column widths; equal when absent. */
  widths?: readonly number[];
}

/** 附件 (or 附表): named in 附件说明, printed on pages of its own after the 主体. */
export interface Attachment {
  title: string;
  /** 附件 or 附表: the word printed above it. */
  label?: string;
  blocks: readonly Block[];
}

/** 机密★1年, 秘密★; undefined for an unclassified document. */
export function classificationText(document: OfficialDocument): string | undefined {
  const c = document.classification;
  return c && secretMark(c.level, c.term);
}

/** 2026-12-07 → 2026年12月7日 (GB/T 9704-2012 7.3.5.4: Arabic numerals, no leading zeros). */
export function chineseDate(date: string): string {
  const [year, month, day] = date.split('-').map(Number);
  return `${year}年${month}月${day}日`;
}

/** An instant in words, Beijing time: 2026年12月6日10时30分. */
export function chineseTime(iso: string): string {
  const [date, time] = formatShanghai(new Date(iso)).split(' ');
  const [hour, minute] = time!.split(':').map(Number);
  return `${chineseDate(date!)}${hour}时${String(minute).padStart(2, '0')}分`;
}

/** 附件说明 lines: `附件：1. 名称`, further ones aligned under the first name. */
export function attachmentNote(attachments: readonly Attachment[]): string[] {
  if (attachments.length === 1) return [`附件：${attachments[0]!.title}`];
  return attachments.map((a, i) => `${i === 0 ? '附件：' : '　　　'}${i + 1}. ${a.title}`);
}

/** The word above an attachment: 附件 (numbered when there are several) or 附表. */
export function attachmentLabel(attachments: readonly Attachment[], index: number): string {
  const label = attachments[index]!.label ?? '附件';
  return attachments.length > 1 ? `${label}${index + 1}` : label;
}

/** 印发日期 line: `2026年12月7日印发`. */
export function printedText(printed: { by: string; date: string }): { by: string; date: string } {
  return { by: printed.by, date: `${chineseDate(printed.date)}印发` };
}

/**
 * GB/T 9704-2012's page, in millimetres: A4, 天头 37 mm, 订口 28 mm, a 156 × 225 mm 版心 of 22
 * lines × 28 characters in 3号 (16 pt); 标题 2号 (22 pt); 页码 4号 (14 pt), 7 mm below the 版心.
 */
export const PAGE = {
  widthMm: 210,
  heightMm: 297,
  topMm: 37,
  leftMm: 28,
  textWidthMm: 156,
  textHeightMm: 225,
  linesPerPage: 22,
  charsPerLine: 28,
  bodyPt: 16,
  titlePt: 22,
  /** 发文机关标志: red, at most 22 mm high; 36 pt keeps a long unit name on one line. */
  issuerPt: 36,
  pageNumberPt: 14,
  tablePt: 12,
  /** The red of 发文机关标志 and the separator line. */
  red: '#E60012',
} as const;

/**
 * The head every smew document shares: who issues it, its number and signer once signed off, its
 * level and term. A draft carries no 签发人 and says so across its head.
 */
export interface Letterhead {
  /** The issuing unit, printed as 发文机关标志 and 发文机关署名. */
  issuer: string;
  /** 密级: 绝密/机密/秘密, or 非密 for no mark. */
  level: string;
  term?: string | null;
  urgency?: '特急' | '加急' | null;
  number?: string | null;
  /** Who signed it off (签发); null while a draft. */
  signer?: string | null;
  /** 成文日期, YYYY-MM-DD. */
  date: string;
  copyNumber?: string | null;
}

export function letterheadParts(
  head: Letterhead,
  upward: boolean,
): Pick<
  OfficialDocument,
  | 'issuerMark'
  | 'classification'
  | 'urgency'
  | 'number'
  | 'signer'
  | 'upward'
  | 'signature'
  | 'date'
  | 'copyNumber'
  | 'draftNote'
  | 'printed'
> {
  const level = head.level;
  const classified = level === '绝密' || level === '机密' || level === '秘密';
  return {
    issuerMark: head.issuer,
    ...(classified ? { classification: { level, term: head.term ?? undefined } } : {}),
    ...(classified ? { copyNumber: head.copyNumber ?? '000001' } : {}),
    ...(head.urgency ? { urgency: head.urgency } : {}),
    ...(head.number ? { number: head.number } : {}),
    ...(head.signer ? { signer: head.signer } : { draftNote: '草稿（未签发）' }),
    upward,
    signature: head.issuer,
    date: head.date,
    printed: { by: head.issuer, date: head.date },
  };
}

/** Paragraphs from free text: one per non-empty line. */
export function paragraphs(text: string): Block[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => ({ kind: 'paragraph', text: line }));
}
