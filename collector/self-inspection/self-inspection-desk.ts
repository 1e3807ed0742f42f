import { createHash, randomUUID } from 'node:crypto';
import type { Rectification, RectificationInput } from '../../shared/api/rectifications.js';
import {
  EVIDENCE_LINKS,
  FINDING_ANSWERS,
  MAX_EVIDENCE_FILE_BYTES,
  type EvidenceFigures,
  type EvidenceLink,
  type InspectionAnswer,
  type SelfInspection,
} from '../../shared/api/self-inspection.js';
import type { Principal } from '../auth/api-keys.js';
import { ClockRefusal, inScope, ownerUnit, requireWriter } from '../clocks/clock-requests.js';
import { RectificationRegister, type RectificationDeps } from '../rectifications/rectification-register.js';
import type {
  EvidenceFileMeta,
  InspectionRefusal,
  SelfInspectionRecord,
} from '../store/self-inspections/self-inspection-store.js';
import { checklistEntry, SELF_INSPECTION_CHECKLIST } from './checklist.js';
import { evidenceFigures } from './evidence-figures.js';

/**
 * 第58条 保密自查自评, the unit's yearly inspection: made once per year, answered item by item with
 * evidence, finalised with its result. A finding (基本符合, 不符合) opens its 整改 items — what, who,
 * deadline (第59条) — and an inspection cannot be finalised while a finding has none: the result
 * counts for the year whatever it found, and the findings are put right on their own clocks.
 */
export interface SelfInspectionDeps extends RectificationDeps {
  /** Told after an inspection was finalised, e.g. to send its report upward now. */
  onSelfInspectionFinalised?: (id: string) => void;
}

export interface AnswerInput {
  answer: InspectionAnswer;
  note?: string | null;
  links?: EvidenceLink[];
  rectifications?: RectificationInput[];
}

export function isFinding(answer: InspectionAnswer | null | undefined): boolean {
  return answer !== null && answer !== undefined && FINDING_ANSWERS.includes(answer);
}

const REFUSALS: Record<InspectionRefusal, (id: string) => ClockRefusal> = {
  missing: (id) => new ClockRefusal(404, `no self-inspection ${id}`, `没有自查自评 ${id}`),
  finalised: (id) =>
    new ClockRefusal(
      409,
      `self-inspection ${id} was finalised; its answers and evidence are kept as they were`,
      '该自查自评已完成，自查结论和证明材料不再修改',
    ),
};

export class SelfInspectionDesk {
  readonly rectifications: RectificationRegister;

  constructor(private readonly deps: SelfInspectionDeps) {
    this.rectifications = new RectificationRegister(deps);
  }

  async list(units: readonly string[] | undefined): Promise<SelfInspection[]> {
    const records = await this.deps.store.selfInspections.list({ units });
    return Promise.all(records.map((r) => this.view(r)));
  }

  async get(principal: Principal | null, id: string): Promise<SelfInspection> {
    return this.view(await this.visible(principal, id));
  }

  /** The year's inspection of the unit; a second call answers with the one that exists. */
  async create(
    caller: Principal | null,
    input: { year: number; unit?: string },
  ): Promise<{ created: boolean; inspection: SelfInspection }> {
    const principal = requireWriter(caller, 'inspection.manage');
    const { created, record } = await this.deps.store.selfInspections.create({
      id: `si-${randomUUID().replaceAll('-', '').slice(0, 16)}`,
      unit: ownerUnit(principal, input.unit, this.deps.unit),
      year: input.year,
      createdAt: this.deps.scheduler.now().toISOString(),
      createdBy: principal.name,
    });
    return { created, inspection: await this.view(record) };
  }

  async answer(
    caller: Principal | null,
    id: string,
    item: string,
    input: AnswerInput,
  ): Promise<SelfInspection> {
    const principal = requireWriter(caller, 'inspection.manage');
    const record = await this.visible(principal, id);
    this.checkItem(item);
    const opens = input.rectifications ?? [];
    if (opens.length > 0 && !isFinding(input.answer)) {
      throw new ClockRefusal(
        400,
        'rectifications: only a finding (基本符合 partly, 不符合 non-compliant) opens 整改 items',
        '只有“基本符合”“不符合”的事项需要登记整改事项',
      );
    }
    const now = this.deps.scheduler.now();
    this.rectifications.checkDeadlines(opens, now);
    const refusal = await this.deps.store.selfInspections.answer(record.id, {
      item,
      answer: input.answer,
      note: input.note?.trim() || null,
      links: [...new Set(input.links ?? [])],
      answeredAt: now.toISOString(),
      answeredBy: principal.name,
    });
    if (refusal) throw REFUSALS[refusal](id);
    await this.rectifications.open(principal, record.unit, opens, {
      kind: 'self-inspection',
      id: record.id,
      item,
    });
    return this.get(principal, id);
  }

  async addFile(
    caller: Principal | null,
    id: string,
    item: string,
    input: { name: string; mediaType: string; content: string },
  ): Promise<EvidenceFileMeta> {
    const principal = requireWriter(caller, 'inspection.manage');
    const record = await this.visible(principal, id);
    this.checkItem(item);
    const content = Buffer.from(input.content, 'base64');
    if (content.length === 0)
      throw new ClockRefusal(400, 'content: expected the file, base64-encoded; found nothing', '文件为空');
    if (content.length > MAX_EVIDENCE_FILE_BYTES) {
      throw new ClockRefusal(
        413,
        `content: the file is ${content.length} bytes; evidence files are kept in the store up to ${MAX_EVIDENCE_FILE_BYTES}`,
        `文件 ${content.length} 字节，超过证明材料 ${MAX_EVIDENCE_FILE_BYTES} 字节的上限`,
      );
    }
    const stored = await this.deps.store.selfInspections.addFile(record.id, {
      item,
      name: input.name.trim(),
      mediaType: input.mediaType,
      size: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
      content,
      uploadedAt: this.deps.scheduler.now().toISOString(),
      uploadedBy: principal.name,
    });
    if (typeof stored === 'string') throw REFUSALS[stored](id);
    return stored;
  }

  async file(
    principal: Principal | null,
    id: string,
    fileId: number,
  ): Promise<{ meta: EvidenceFileMeta; content: Buffer }> {
    const record = await this.visible(principal, id);
    const file = await this.deps.store.selfInspections.file(record.id, fileId);
    if (!file) throw new ClockRefusal(404, `no file ${fileId} in self-inspection ${id}`, '没有该证明材料');
    return file;
  }

  /**
   * Records the result: every item answered (不适用 is an answer), every finding with its 整改
   * items. smew's figures are kept as they stand now, and the report goes up the hierarchy.
   */
  async finalise(
    caller: Principal | null,
    id: string,
    input: { summary?: string | null },
  ): Promise<SelfInspection> {
    const principal = requireWriter(caller, 'inspection.manage');
    const record = await this.visible(principal, id);
    const answers = new Map(record.answers.map((a) => [a.item, a]));
    const unanswered = SELF_INSPECTION_CHECKLIST.filter((entry) => !answers.has(entry.item));
    if (unanswered.length > 0) {
      throw new ClockRefusal(
        409,
        `items not answered yet: ${unanswered.map((e) => `${e.number}${e.title}`).join('；')}`,
        `尚有事项未填写自查结论：${unanswered.map((e) => `${e.number}${e.title}`).join('；')}`,
      );
    }
    const opened = new Set(
      (await this.rectifications.list(undefined, { source: 'self-inspection', sourceId: record.id })).map(
        (r) => r.source.item,
      ),
    );
    const bare = SELF_INSPECTION_CHECKLIST.filter(
      (e) => isFinding(answers.get(e.item)?.answer) && !opened.has(e.item),
    );
    if (bare.length > 0) {
      throw new ClockRefusal(
        409,
        `findings without 整改 items (what, who, deadline; 第59条): ${bare.map((e) => `${e.number}${e.title}`).join('；')}`,
        `以下问题尚未明确整改内容、责任人和期限（第五十九条）：${bare.map((e) => `${e.number}${e.title}`).join('；')}`,
      );
    }
    const now = this.deps.scheduler.now();
    const refusal = await this.deps.store.selfInspections.finalize(record.id, {
      at: now.toISOString(),
      by: principal.name,
      result: record.answers.some((a) => isFinding(a.answer)) ? 'findings' : 'compliant',
      summary: input.summary?.trim() || null,
      figures: await this.figures(),
    });
    if (refusal) throw REFUSALS[refusal](id);
    this.deps.onSelfInspectionFinalised?.(record.id);
    return this.get(principal, id);
  }

  private checkItem(item: string): void {
    if (!checklistEntry(item)) {
      throw new ClockRefusal(
        404,
        `no checklist item ${JSON.stringify(item)}; expected one of ${SELF_INSPECTION_CHECKLIST.map((e) => e.item).join(', ')}`,
        '没有该自查事项',
      );
    }
  }

  private figures(): Promise<EvidenceFigures> {
    return evidenceFigures(
      this.deps.store,
      EVIDENCE_LINKS,
      this.deps.scheduler.now(),
      this.deps.scheduler.options,
    );
  }

  private async visible(principal: Principal | null, id: string): Promise<SelfInspectionRecord> {
    const record = await this.deps.store.selfInspections.get(id);
    if (!record || !inScope(principal, record.unit)) throw REFUSALS.missing(id);
    return record;
  }

  private async view(record: SelfInspectionRecord): Promise<SelfInspection> {
    const rectifications = await this.rectifications.list(undefined, {
      source: 'self-inspection',
      sourceId: record.id,
    });
    return selfInspectionView(
      record,
      rectifications,
      record.figures ? (record.figures as EvidenceFigures) : await this.figures(),
    );
  }
}

/** An inspection as the API shows it: the checklist with each answer, its evidence and its 整改 items. */
export function selfInspectionView(
  record: SelfInspectionRecord,
  rectifications: readonly Rectification[],
  figures: EvidenceFigures,
): SelfInspection {
  const answers = new Map(record.answers.map((a) => [a.item, a]));
  const items = SELF_INSPECTION_CHECKLIST.map((entry) => {
    const answer = answers.get(entry.item);
    return {
      item: entry.item,
      number: entry.number,
      title: entry.title,
      suggestedLinks: [...entry.suggestedLinks],
      answer: answer?.answer ?? null,
      note: answer?.note ?? null,
      links: answer?.links ?? [],
      answeredAt: answer?.answeredAt ?? null,
      answeredBy: answer?.answeredBy ?? null,
      files: record.files.filter((f) => f.item === entry.item),
      rectifications: rectifications.filter((r) => r.source.item === entry.item),
    };
  });
  return {
    id: record.id,
    unit: record.unit,
    year: record.year,
    state: record.finalizedAt === null ? 'open' : 'finalised',
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    finalizedAt: record.finalizedAt,
    finalizedBy: record.finalizedBy,
    result: record.result,
    summary: record.summary,
    counts: {
      items: items.length,
      answered: items.filter((i) => i.answer !== null).length,
      findings: items.filter((i) => isFinding(i.answer)).length,
      openRectifications: rectifications.filter((r) => r.state !== 'done').length,
    },
    figures,
    items,
  };
}
