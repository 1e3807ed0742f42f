import type { SelfInspection } from '../../shared/api/self-inspection.js';
import {
  EVIDENCE_FIGURE_NAMES,
  EVIDENCE_LINK_NAMES,
  INSPECTION_ANSWER_NAMES,
  INSPECTION_RESULT_NAMES,
  RECTIFICATION_STATE_NAMES,
  termName,
} from '../../shared/terms.js';
import { isFinding } from './self-inspection-desk.js';

/**
 * A self-inspection as plain data, words included: what the 自查自评报告 document is made from
 * (its builder takes this, not the store), and what goes up the hierarchy as the signed
 * `self-inspection` report. Files are named with their size and hash, not carried.
 */
export interface SelfInspectionReportData {
  id: string;
  unit: string;
  year: number;
  state: SelfInspection['state'];
  result: SelfInspection['result'];
  /** 未发现问题 / 发现问题（需整改）; null while open. */
  resultZh: string | null;
  summary: string | null;
  createdAt: string;
  finalizedAt: string | null;
  finalizedBy: string | null;
  items: {
    item: string;
    number: string;
    title: string;
    answer: string | null;
    answerZh: string | null;
    note: string | null;
    evidence: { link: string; nameZh: string; figures: { name: string; nameZh: string; value: number }[] }[];
    files: { name: string; size: number; sha256: string }[];
  }[];
  /** The items answered 基本符合 or 不符合. */
  findings: { item: string; number: string; title: string; answerZh: string; note: string | null }[];
  rectifications: {
    id: string;
    item: string | null;
    what: string;
    who: string;
    deadline: string;
    state: string;
    stateZh: string;
    closedAt: string | null;
    closedBy: string | null;
    closeNote: string | null;
  }[];
  counts: SelfInspection['counts'];
}

export function selfInspectionReportData(inspection: SelfInspection): SelfInspectionReportData {
  const figuresOf = (link: string) =>
    Object.entries(inspection.figures[link] ?? {}).map(([name, value]) => ({
      name,
      nameZh: termName(EVIDENCE_FIGURE_NAMES, name, 'zh'),
      value,
    }));
  const answerZh = (answer: string | null) =>
    answer === null ? null : termName(INSPECTION_ANSWER_NAMES, answer, 'zh');
  return {
    id: inspection.id,
    unit: inspection.unit,
    year: inspection.year,
    state: inspection.state,
    result: inspection.result,
    resultZh: inspection.result === null ? null : termName(INSPECTION_RESULT_NAMES, inspection.result, 'zh'),
    summary: inspection.summary,
    createdAt: inspection.createdAt,
    finalizedAt: inspection.finalizedAt,
    finalizedBy: inspection.finalizedBy,
    items: inspection.items.map((i) => ({
      item: i.item,
      number: i.number,
      title: i.title,
      answer: i.answer,
      answerZh: answerZh(i.answer),
      note: i.note,
      evidence: i.links.map((link) => ({
        link,
        nameZh: termName(EVIDENCE_LINK_NAMES, link, 'zh'),
        figures: figuresOf(link),
      })),
      files: i.files.map(({ name, size, sha256 }) => ({ name, size, sha256 })),
    })),
    findings: inspection.items
      .filter((i) => isFinding(i.answer))
      .map((i) => ({
        item: i.item,
        number: i.number,
        title: i.title,
        answerZh: answerZh(i.answer)!,
        note: i.note,
      })),
    rectifications: inspection.items.flatMap((i) =>
      i.rectifications.map((r) => ({
        id: r.id,
        item: r.source.item,
        what: r.what,
        who: r.who,
        deadline: r.deadline,
        state: r.state,
        stateZh: termName(RECTIFICATION_STATE_NAMES, r.state, 'zh'),
        closedAt: r.closedAt,
        closedBy: r.closedBy,
        closeNote: r.closeNote,
      })),
    ),
    counts: inspection.counts,
  };
}
