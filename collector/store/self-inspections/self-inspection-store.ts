import type {
  EvidenceLink,
  InspectionAnswer,
  InspectionResult,
} from '../../../shared/api/self-inspection.js';
import type { Database } from '../sql/database.js';
import { forUpdate, list, raw, sql, when } from '../sql/query.js';

/**
 * 第58条 保密自查自评: one per unit and year. Each checklist item is answered with its evidence — a
 * note, links to smew's own records (whose figures are taken live while the inspection is open
 * and kept as they stood when it is finalised), and uploaded files kept in the store. Finalising
 * records the result and freezes the answers; the 整改 items its findings opened live in
 * rectifications/.
 */
export interface AnswerRecord {
  item: string;
  answer: InspectionAnswer;
  note: string | null;
  links: EvidenceLink[];
  answeredAt: string;
  answeredBy: string;
}

export interface EvidenceFileMeta {
  id: number;
  item: string;
  name: string;
  mediaType: string;
  size: number;
  sha256: string;
  uploadedAt: string;
  uploadedBy: string;
}

export interface NewEvidenceFile extends Omit<EvidenceFileMeta, 'id'> {
  content: Buffer;
}

export interface NewSelfInspection {
  id: string;
  unit: string;
  year: number;
  createdAt: string;
  createdBy: string;
}

export interface Finalisation {
  at: string;
  by: string;
  result: InspectionResult;
  summary: string | null;
  /** smew's own figures as they stood at finalising, by evidence link. */
  figures: Record<string, unknown>;
}

export interface SelfInspectionRecord extends NewSelfInspection {
  finalizedAt: string | null;
  finalizedBy: string | null;
  result: InspectionResult | null;
  summary: string | null;
  figures: Record<string, unknown> | null;
  answers: AnswerRecord[];
  files: EvidenceFileMeta[];
}

/** Why a change to an inspection was not made. */
export type InspectionRefusal = 'missing' | 'finalised';

export interface SelfInspectionStore {
  /** The unit's inspection of that year: made now (`created`), or the one that exists. */
  create(inspection: NewSelfInspection): Promise<{ created: boolean; record: SelfInspectionRecord }>;
  get(id: string): Promise<SelfInspectionRecord | undefined>;
  /** Newest year first; units undefined = every unit. */
  list(filter: { units?: readonly string[] }): Promise<SelfInspectionRecord[]>;
  /** Answers (or answers again) one item of an inspection still open. */
  answer(id: string, answer: AnswerRecord): Promise<InspectionRefusal | undefined>;
  addFile(id: string, file: NewEvidenceFile): Promise<EvidenceFileMeta | InspectionRefusal>;
  file(id: string, fileId: number): Promise<{ meta: EvidenceFileMeta; content: Buffer } | undefined>;
  /** Records the result once; the answers are frozen from then on. */
  finalize(id: string, finalisation: Finalisation): Promise<InspectionRefusal | undefined>;
}

const INSPECTION_COLUMNS = raw(`id, unit, year, created_at AS "createdAt", created_by AS "createdBy",
  finalized_at AS "finalizedAt", finalized_by AS "finalizedBy", result, summary, figures`);
const ANSWER_COLUMNS =
  raw(`inspection_id AS "inspectionId", item, answer, note, links, answered_at AS "answeredAt",
  answered_by AS "answeredBy"`);
const FILE_COLUMNS =
  raw(`id, inspection_id AS "inspectionId", item, name, media_type AS "mediaType", size, sha256,
  uploaded_at AS "uploadedAt", uploaded_by AS "uploadedBy"`);

type InspectionRow = Omit<SelfInspectionRecord, 'answers' | 'files' | 'figures' | 'year'> & {
  year: number | string;
  figures: string | null;
};
type AnswerRow = Omit<AnswerRecord, 'links'> & { inspectionId: string; links: string };
type FileRow = Omit<EvidenceFileMeta, 'id' | 'size'> & {
  id: number | string;
  size: number | string;
  inspectionId: string;
};

function toMeta({ inspectionId: _, ...row }: FileRow): EvidenceFileMeta {
  return { ...row, id: Number(row.id), size: Number(row.size) };
}

/** Self-inspections in either database, written once. */
export class SqlSelfInspectionStore implements SelfInspectionStore {
  constructor(private readonly db: Database) {}

  async create(inspection: NewSelfInspection): Promise<{ created: boolean; record: SelfInspectionRecord }> {
    const { changes } = await this.db.run(
      sql`INSERT INTO self_inspections (id, unit, year, created_at, created_by)
          VALUES (${inspection.id}, ${inspection.unit}, ${inspection.year}, ${inspection.createdAt},
            ${inspection.createdBy})
          ON CONFLICT (unit, year) DO NOTHING`,
    );
    const [record] = await this.read(sql`unit = ${inspection.unit} AND year = ${inspection.year}`);
    return { created: changes === 1, record: record! };
  }

  async get(id: string): Promise<SelfInspectionRecord | undefined> {
    const [record] = await this.read(sql`id = ${id}`);
    return record;
  }

  list(filter: { units?: readonly string[] }): Promise<SelfInspectionRecord[]> {
    return this.read(
      sql`TRUE${when(filter.units !== undefined, sql` AND unit IN ${list(filter.units ?? [])}`)}`,
    );
  }

  async answer(id: string, answer: AnswerRecord): Promise<InspectionRefusal | undefined> {
    return this.db.transaction(async (tx) => {
      const refusal = await this.stillOpen(tx, id);
      if (refusal) return refusal;
      await tx.run(
        sql`INSERT INTO self_inspection_answers (inspection_id, item, answer, note, links, answered_at, answered_by)
            VALUES (${id}, ${answer.item}, ${answer.answer}, ${answer.note}, ${JSON.stringify(answer.links)},
              ${answer.answeredAt}, ${answer.answeredBy})
            ON CONFLICT (inspection_id, item) DO UPDATE SET answer = excluded.answer, note = excluded.note,
              links = excluded.links, answered_at = excluded.answered_at, answered_by = excluded.answered_by`,
      );
      return undefined;
    });
  }

  async addFile(id: string, file: NewEvidenceFile): Promise<EvidenceFileMeta | InspectionRefusal> {
    return this.db.transaction(async (tx) => {
      const refusal = await this.stillOpen(tx, id);
      if (refusal) return refusal;
      const row = await tx.get<FileRow>(
        sql`INSERT INTO self_inspection_files (inspection_id, item, name, media_type, size, sha256, content,
              uploaded_at, uploaded_by)
            VALUES (${id}, ${file.item}, ${file.name}, ${file.mediaType}, ${file.size}, ${file.sha256}, ${file.content},
              ${file.uploadedAt}, ${file.uploadedBy})
            RETURNING ${FILE_COLUMNS}`,
      );
      return toMeta(row!);
    });
  }

  async file(id: string, fileId: number): Promise<{ meta: EvidenceFileMeta; content: Buffer } | undefined> {
    const row = await this.db.get<FileRow & { content: Buffer | Uint8Array }>(
      sql`SELECT ${FILE_COLUMNS}, content FROM self_inspection_files WHERE inspection_id = ${id} AND id = ${fileId}`,
    );
    if (!row) return undefined;
    const { content, ...meta } = row;
    return { meta: toMeta(meta), content: Buffer.from(content) };
  }

  async finalize(id: string, f: Finalisation): Promise<InspectionRefusal | undefined> {
    return this.db.transaction(async (tx) => {
      const refusal = await this.stillOpen(tx, id);
      if (refusal) return refusal;
      await tx.run(
        sql`UPDATE self_inspections SET finalized_at = ${f.at}, finalized_by = ${f.by}, result = ${f.result},
              summary = ${f.summary}, figures = ${JSON.stringify(f.figures)}
            WHERE id = ${id}`,
      );
      return undefined;
    });
  }

  /** Locks the inspection row for the change; the refusal when it is gone or finalised. */
  private async stillOpen(tx: Database, id: string): Promise<InspectionRefusal | undefined> {
    const row = await tx.get<{ finalized_at: string | null }>(
      sql`SELECT finalized_at FROM self_inspections WHERE id = ${id}${forUpdate}`,
    );
    if (!row) return 'missing';
    return row.finalized_at === null ? undefined : 'finalised';
  }

  private async read(where: ReturnType<typeof sql>): Promise<SelfInspectionRecord[]> {
    const rows = await this.db.all<InspectionRow>(
      sql`SELECT ${INSPECTION_COLUMNS} FROM self_inspections WHERE ${where} ORDER BY year DESC, unit`,
    );
    if (rows.length === 0) return [];
    const ids = list(rows.map((r) => r.id));
    const answers = await this.db.all<AnswerRow>(
      sql`SELECT ${ANSWER_COLUMNS} FROM self_inspection_answers WHERE inspection_id IN ${ids} ORDER BY item`,
    );
    const files = await this.db.all<FileRow>(
      sql`SELECT ${FILE_COLUMNS} FROM self_inspection_files WHERE inspection_id IN ${ids} ORDER BY id`,
    );
    return rows.map((row) => ({
      ...row,
      year: Number(row.year),
      figures: row.figures === null ? null : (JSON.parse(row.figures) as Record<string, unknown>),
      answers: answers
        .filter((a) => a.inspectionId === row.id)
        .map(({ inspectionId: _, ...a }) => ({ ...a, links: JSON.parse(a.links) as EvidenceLink[] })),
      files: files.filter((f) => f.inspectionId === row.id).map(toMeta),
    }));
  }
}
