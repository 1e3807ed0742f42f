import { randomUUID } from 'node:crypto';
import type { NewDocumentBody } from '../../shared/api/documents.js';
import { shanghaiDate } from '../../shared/calendar.js';
import type { Clock } from '../../shared/clock.js';
import { chainEndName } from '../../shared/terms.js';
import { seesUnit, visibleUnits } from '../api/bearer-auth.js';
import type { Principal } from '../auth/api-keys.js';
import { incidentChain, type ClockOptions } from '../clocks/clock-records.js';
import { ClockRefusal, requireWriter } from '../clocks/clock-requests.js';
import { sameLevelAdministration } from '../clocks/report-chain.js';
import { COLLECTOR_LEVELS } from '../config.js';
import { annualReportData } from '../hierarchy/annual-figures.js';
import type { CollectorLevel } from '../hierarchy/messages.js';
import type {
  DocumentKind,
  DocumentRecord,
  DocumentState,
  NewDocument,
} from '../store/documents/document-store.js';
import type { Store } from '../store/store.js';
import { annualReport } from './annual-report.js';
import type { DocumentFonts } from './documents-config.js';
import { incidentReport } from './incident-report.js';
import type { Letterhead, OfficialDocument } from './official-document.js';
import { renderDocx } from './render-docx.js';
import { renderPdfOffThread } from './pdf-thread.js';
import { selfInspectionReport, type SelfInspectionInput } from './self-inspection-report.js';
import {
  selfInspectionReportData,
  type SelfInspectionReportData,
} from '../self-inspection/self-inspection-report.js';
import type { SelfInspection } from '../../shared/api/self-inspection.js';
import { SUBJECTS } from './sign-off.js';
import { investigationReply, warningNotice } from './warning-notice.js';

/**
 * The documents desk: drafts a document about a record this collector keeps (an incident, a notice,
 * a year), lists them, records the 签发 and renders the files. A file is rendered from the row and
 * the records as they stand when it is downloaded, so a signed report shows its 签发人 and the hops
 * made since. Refusals are `ClockRefusal`s with the status the route answers.
 */
export interface DocumentDeps {
  store: Store;
  clock: Clock;
  /** This collector's unit and level: the annual report's issuer and whom it goes to. */
  unit: string;
  level: CollectorLevel;
  fonts: DocumentFonts;
  clockOptions: ClockOptions;
  /** The rank a unit reports by (clocks.unitRank), for the annual report's recipient. */
  rankOf?: (unit: string) => CollectorLevel;
  /** Reads a self-inspection as its caller may see it, for the 自查自评报告 (absent: none can be drafted). */
  selfInspection?: (principal: Principal | null, id: string) => Promise<SelfInspection>;
  /** A document was signed off: what it gates may go up now. */
  onSignedOff?: (document: DocumentRecord) => void;
}

export type DocumentFormat = 'docx' | 'pdf';

export const CONTENT_TYPES: Record<DocumentFormat, string> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

function required<T>(value: T | undefined, field: string, kind: string): T {
  if (value === undefined) throw new ClockRefusal(400, `${field}: required for a ${kind} document`);
  return value;
}

export class DocumentDesk {
  constructor(private readonly deps: DocumentDeps) {}

  async list(
    principal: Principal | null,
    filter: { kind?: DocumentKind; state?: DocumentState; limit: number },
  ): Promise<DocumentRecord[]> {
    return this.deps.store.documents.list({ ...filter, units: visibleUnits(principal) });
  }

  /** A document the caller may see, or 404 (unknown and out of scope answer alike). */
  async get(principal: Principal | null, id: string): Promise<DocumentRecord> {
    const document = await this.deps.store.documents.get(id);
    if (!document || !seesUnit(principal, document.unit)) throw new ClockRefusal(404, `no document ${id}`);
    return document;
  }

  async create(principal: Principal | null, body: NewDocumentBody): Promise<DocumentRecord> {
    const author = requireWriter(principal, 'documents.sign');
    const draft = await this.draftOf(author, body);
    if (!seesUnit(author, draft.unit))
      throw new ClockRefusal(404, `no such ${body.kind} subject in your units`);
    const document: NewDocument = {
      ...draft,
      id: `doc-${randomUUID()}`,
      level: body.level ?? draft.level,
      term: body.term ?? null,
      urgency: body.urgency ?? draft.urgency,
      number: body.number ?? null,
      createdAt: this.deps.clock.now().toISOString(),
      createdBy: author.name,
    };
    const created = await this.deps.store.documents.create(document);
    if (!created) {
      const existing = await this.deps.store.documents.findBySubject(document.kind, document.subject);
      throw new ClockRefusal(
        409,
        `a ${document.kind} document about ${document.subject} exists already: ${existing?.id}`,
      );
    }
    return created;
  }

  /** What the kind's subject gives a new draft: its subject key, unit, title, default level. */
  private async draftOf(
    author: Principal,
    body: NewDocumentBody,
  ): Promise<Pick<NewDocument, 'kind' | 'subject' | 'unit' | 'title' | 'level' | 'urgency' | 'fields'>> {
    const { store } = this.deps;
    const base = { kind: body.kind, level: '非密', urgency: null, fields: {} };
    if (body.kind === 'incident-report') {
      const id = required(body.incidentId, 'incidentId', body.kind);
      const nature = required(body.nature, 'nature', body.kind);
      const incident = await store.clocks.getIncident(id);
      if (!incident) throw new ClockRefusal(404, `no incident ${id}`);
      return {
        ...base,
        subject: SUBJECTS.incident(id),
        unit: incident.unit,
        title: `关于${nature}国家秘密事件的报告`,
        level: incident.level,
        urgency: '特急',
        fields: { nature },
      };
    }
    if (body.kind === 'annual-report') {
      const year = required(body.year, 'year', body.kind);
      return {
        ...base,
        subject: SUBJECTS.annual(year),
        unit: this.deps.unit,
        title: `${year}年度保密工作情况`,
        fields: { text: body.text ?? '' },
      };
    }
    if (body.kind === 'self-inspection') {
      const inspection = await this.inspectionOf(
        author,
        required(body.inspectionId, 'inspectionId', body.kind),
      );
      if (inspection.state !== 'finalised')
        throw new ClockRefusal(
          409,
          `self-inspection ${inspection.id} is not finalised: finalise it, then draft its report`,
        );
      return {
        ...base,
        subject: SUBJECTS.selfInspection(inspection.id),
        unit: inspection.unit,
        title: `${inspection.unit}${inspection.year}年度保密自查自评报告`,
        fields: { inspectionId: inspection.id },
      };
    }
    const noticeId = required(body.noticeId, 'noticeId', body.kind);
    const notice = await this.noticeOf(noticeId);
    if (body.kind === 'warning-notice') {
      return {
        ...base,
        subject: SUBJECTS.notice(noticeId),
        unit: notice.issuerUnit,
        title: `关于${notice.title}的预警通报`,
      };
    }
    const unit = body.unit ?? author.unit ?? this.deps.unit;
    return {
      ...base,
      subject: SUBJECTS.noticeReply(noticeId, unit),
      unit,
      title: `关于${notice.title}预警通报排查情况的报告`,
    };
  }

  /**
   * A 预警通报 as the documents read it: one issued or received through the hierarchy, else one
   * issued to this collector's own units (collector/warnings/notices.ts).
   */
  private async noticeOf(id: string): Promise<NoticeFacts> {
    const relayed = await this.deps.store.hierarchy.getNotice(id);
    if (relayed && relayed.notice.type === 'notice') {
      const n = relayed.notice;
      const below = relayed.source === 'issued' ? await this.deps.store.hierarchy.listSubordinates({}) : [];
      return {
        id,
        title: n.title,
        text: n.body,
        requiredAction: '',
        deadline: n.dueAt ?? n.ts,
        issuedAt: n.ts,
        issuerUnit: n.issuerUnit,
        recipients: [...new Set(below.filter((s) => s.direct).map((s) => s.unit))],
        warningId: null,
        answer: () => ({
          acknowledgedAt: relayed.ackedAt,
          result: relayed.result,
          resultAt: relayed.resultAt,
        }),
      };
    }
    const local = await this.deps.store.warnings.getNotice(id);
    if (!local) throw new ClockRefusal(404, `no notice ${id}`);
    return {
      id,
      title: local.title,
      text: local.text,
      requiredAction: local.requiredAction,
      deadline: local.deadline,
      issuedAt: local.issuedAt,
      issuerUnit: local.issuerUnit ?? this.deps.unit,
      recipients: local.recipients.map((r) => r.unit),
      warningId: local.warningId,
      answer: (unit) => {
        const r = local.recipients.find((x) => x.unit === unit);
        return {
          acknowledgedAt: r?.acknowledgedAt ?? null,
          result: r?.result ?? null,
          resultAt: r?.resultAt ?? null,
        };
      },
    };
  }

  /** 签发: draft → signed by the caller, now. */
  async signOff(principal: Principal | null, id: string, number?: string): Promise<DocumentRecord> {
    const signer = requireWriter(principal, 'documents.sign');
    const document = await this.get(signer, id);
    const now = this.deps.clock.now().toISOString();
    if (!(await this.deps.store.documents.signOff(id, signer.name, now, number))) {
      throw new ClockRefusal(
        409,
        `document ${id} is ${document.state}, not a draft: it was signed off already`,
      );
    }
    const signed = (await this.deps.store.documents.get(id))!;
    this.deps.onSignedOff?.(signed);
    return signed;
  }

  /** A signed document handed over outside smew (paper, another system): signed → sent. */
  async markSent(principal: Principal | null, id: string): Promise<DocumentRecord> {
    const sender = requireWriter(principal, 'documents.sign');
    const document = await this.get(sender, id);
    if (!(await this.deps.store.documents.markSent(id, this.deps.clock.now().toISOString()))) {
      throw new ClockRefusal(409, `document ${id} is ${document.state}; only a signed document can be sent`);
    }
    return (await this.deps.store.documents.get(id))!;
  }

  async render(
    principal: Principal | null,
    id: string,
    format: DocumentFormat,
  ): Promise<{ file: Buffer; document: DocumentRecord }> {
    const document = await this.get(principal, id);
    const official = await this.officialDocument(document, principal);
    const file =
      format === 'pdf' ? await renderPdfOffThread(official, this.deps.fonts) : await renderDocx(official);
    return { file, document };
  }

  /** The document as its records stand now, read as `reader` (who may see the document) sees them. */
  private async officialDocument(
    document: DocumentRecord,
    reader: Principal | null,
  ): Promise<OfficialDocument> {
    const now = this.deps.clock.now();
    const head: Letterhead = {
      issuer: document.unit,
      level: document.level,
      term: document.term,
      urgency: document.urgency as Letterhead['urgency'],
      number: document.number,
      signer: document.signedBy,
      date: shanghaiDate(new Date(document.signedAt ?? now.toISOString())),
    };
    const [, id, unit] = document.subject.split(':');
    switch (document.kind) {
      case 'incident-report':
        return this.incidentDocument(head, id!, document, now);
      case 'annual-report':
        return this.annualDocument(head, Number(id), String(document.fields.text ?? ''), now);
      case 'warning-notice': {
        const notice = await this.noticeOf(id!);
        return warningNotice({ head, notice });
      }
      case 'notice-reply': {
        const notice = await this.noticeOf(id!);
        return investigationReply({ head, notice, ...notice.answer(unit!) });
      }
      case 'self-inspection':
        return typeof document.fields.inspectionId === 'string'
          ? this.selfInspectionDocument(head, document.fields.inspectionId, reader)
          : selfInspectionReport({
              head,
              ...(document.fields as unknown as Omit<SelfInspectionInput, 'head'>),
            });
    }
  }

  private async incidentDocument(
    head: Letterhead,
    incidentId: string,
    document: DocumentRecord,
    now: Date,
  ): Promise<OfficialDocument> {
    const incident = await this.deps.store.clocks.getIncident(incidentId);
    if (!incident) throw new ClockRefusal(404, `no incident ${incidentId}`);
    const hops = incidentChain(incident, now).hops;
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    return incidentReport({
      head,
      incident: { ...incident, nature: document.fields.nature === '已泄露' ? '已泄露' : '可能泄露' },
      recipients: hops.filter((h) => h.from === 'unit').map((h) => chainEndName(h.to, 'zh')),
      hops: hops.map((h) => ({
        from: h.from,
        to: h.to,
        dueAt: iso(h.dueAt),
        reportedAt: iso(h.reportedAt),
        receivedAt: iso(h.receivedAt),
        state: h.state,
      })),
    });
  }

  private async inspectionOf(principal: Principal | null, id: string): Promise<SelfInspection> {
    if (!this.deps.selfInspection)
      throw new ClockRefusal(404, `no self-inspection ${id}: this collector keeps none`);
    return this.deps.selfInspection(principal, id);
  }

  /** The 自查自评报告 from the inspection as it stands (frozen at finalising), in the checklist's words. */
  private async selfInspectionDocument(
    head: Letterhead,
    inspectionId: string,
    reader: Principal | null,
  ): Promise<OfficialDocument> {
    const data = selfInspectionReportData(await this.inspectionOf(reader, inspectionId));
    const to = sameLevelAdministration(this.deps.rankOf?.(data.unit) ?? this.deps.level);
    const evidenceOf = (item: SelfInspectionReportData['items'][number]) =>
      [
        item.note,
        ...item.evidence.map(
          (e) => `${e.nameZh}：${e.figures.map((f) => `${f.nameZh}${f.value}`).join('，')}`,
        ),
        ...item.files.map((f) => `附：${f.name}`),
      ]
        .filter(Boolean)
        .join('；');
    return selfInspectionReport({
      head,
      year: data.year,
      recipient: chainEndName(to, 'zh'),
      ...(data.summary ? { summary: data.summary } : {}),
      items: data.items.map((i) => ({
        item: `${i.number}${i.title}`,
        answer: i.answerZh ?? '未作答',
        evidence: evidenceOf(i),
      })),
      findings: data.findings.map(
        (f) => `${f.number}${f.title}：${f.answerZh}${f.note ? `（${f.note}）` : ''}`,
      ),
      rectifications: data.rectifications.map((r) => ({
        what: r.what,
        who: r.who,
        deadline: r.deadline,
        closedAt: r.closedAt ? shanghaiDate(new Date(r.closedAt)) : null,
      })),
    });
  }

  private async annualDocument(
    head: Letterhead,
    year: number,
    text: string,
    now: Date,
  ): Promise<OfficialDocument> {
    const { store, unit, level, clockOptions } = this.deps;
    const data = await annualReportData({ store, unit, level, year, now, clockOptions });
    // A unit reports to the administration of its own rank; an administration to the one above.
    const to =
      level === 'unit'
        ? sameLevelAdministration(this.deps.rankOf?.(unit) ?? level)
        : (COLLECTOR_LEVELS[COLLECTOR_LEVELS.indexOf(level) + 1] ?? level);
    return annualReport({
      head,
      year,
      recipient: chainEndName(to, 'zh'),
      text,
      figures: data.region?.figures ?? data.figures,
      final: data.final,
    });
  }
}

interface NoticeFacts {
  id: string;
  title: string;
  text: string;
  requiredAction: string;
  deadline: string;
  issuedAt: string;
  issuerUnit: string;
  recipients: string[];
  warningId: string | null;
  answer(unit: string): { acknowledgedAt: string | null; result: string | null; resultAt: string | null };
}
