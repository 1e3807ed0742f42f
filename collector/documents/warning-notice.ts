import {
  chineseTime,
  letterheadParts,
  paragraphs,
  type Letterhead,
  type OfficialDocument,
} from './official-document.js';

/**
 * 预警通报 (第64条) — an administration tells the units below what risk it found and what they must
 * do by when — and the 排查 reply a unit sends back with its investigation result. The notice goes
 * down (no 签发人 in its head); the reply goes up (with one).
 */
export interface WarningNoticeInput {
  head: Letterhead;
  notice: {
    id: string;
    title: string;
    text: string;
    requiredAction: string;
    deadline: string;
    issuedAt: string;
    /** The units it is addressed to (主送). */
    recipients: readonly string[];
    warningId?: string | null;
  };
}

const at = chineseTime;

export function warningNotice(input: WarningNoticeInput): OfficialDocument {
  const { notice } = input;
  return {
    ...letterheadParts(input.head, false),
    title: `关于${notice.title}的预警通报`,
    recipients: notice.recipients.join('、'),
    body: [
      { kind: 'heading', level: 1, text: '一、预警情况' },
      ...paragraphs(notice.text),
      ...(notice.warningId
        ? [{ kind: 'paragraph' as const, text: `对应预警事件编号：${notice.warningId}。` }]
        : []),
      { kind: 'heading', level: 1, text: '二、工作要求' },
      ...paragraphs(notice.requiredAction),
      {
        kind: 'paragraph',
        text: `请各单位收到本通报后及时签收，于${at(notice.deadline)}前完成排查，并将排查结果书面报送${input.head.issuer}。`,
      },
    ],
  };
}

export interface InvestigationReplyInput {
  head: Letterhead;
  notice: { id: string; title: string; issuerUnit: string; issuedAt: string; deadline: string };
  acknowledgedAt: string | null;
  /** 排查结果 as the unit recorded it; null while not yet answered. */
  result: string | null;
  resultAt: string | null;
}

export function investigationReply(input: InvestigationReplyInput): OfficialDocument {
  const { notice } = input;
  return {
    ...letterheadParts(input.head, true),
    title: `${input.head.issuer}关于${notice.title}预警通报排查情况的报告`,
    recipients: notice.issuerUnit,
    body: [
      {
        kind: 'paragraph',
        text:
          `${at(notice.issuedAt)}，${notice.issuerUnit}下发《关于${notice.title}的预警通报》，要求于${at(notice.deadline)}前完成排查。` +
          (input.acknowledgedAt ? `本单位于${at(input.acknowledgedAt)}签收。` : '') +
          '现将排查情况报告如下。',
      },
      { kind: 'heading', level: 1, text: '一、排查结果' },
      ...(input.result
        ? paragraphs(input.result)
        : [{ kind: 'paragraph' as const, text: '（排查结果尚未录入）' }]),
      ...(input.resultAt
        ? [{ kind: 'paragraph' as const, text: `排查结果录入时间：${at(input.resultAt)}。` }]
        : []),
      { kind: 'paragraph', text: '特此报告。' },
    ],
  };
}
