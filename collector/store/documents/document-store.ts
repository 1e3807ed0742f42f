import { DOCUMENT_KINDS, DOCUMENT_STATES } from '../../../shared/api/documents.js';
import type { Database } from '../sql/database.js';
import { bytewise, list, raw, sql, when } from '../sql/query.js';

/**
 * Official documents (公文) and their sign-off (签发, issue 16 item 10): each document smew produces —
 * a 泄密事件报告, a 预警通报 or its 排查 reply, the 年度保密工作情况, a 自查自评报告 — is a row that
 * moves draft → signed (who, when) → sent. What goes up the hierarchy waits for its row to be
 * signed; the file itself is rendered from the row and its subject's records when downloaded.
 */
export { DOCUMENT_KINDS, DOCUMENT_STATES };
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];
export type DocumentState = (typeof DOCUMENT_STATES)[number];

export interface NewDocument {
  id: string;
  kind: DocumentKind;
  /** What it is about: `incident:ID`, `notice:ID`, `notice:ID:UNIT`, `annual:YEAR`…; one document per kind and subject. */
  subject: string;
  unit: string;
  title: string;
  /** 密级: 绝密/机密/秘密/非密. */
  level: string;
  /** 保密期限, e.g. 1年; null for none. */
  term: string | null;
  urgency: string | null;
  /** 发文字号; may be given at sign-off. */
  number: string | null;
  /** The kind's own input (the unit's text, 已泄露/可能泄露…). */
  fields: Record<string, unknown>;
  createdAt: string;
  createdBy: string;
}

export interface DocumentRecord extends NewDocument {
  state: DocumentState;
  signedBy: string | null;
  signedAt: string | null;
  sentAt: string | null;
}

export interface DocumentFilter {
  /** Only these units' documents; undefined = every unit. */
  units?: readonly string[];
  kind?: DocumentKind;
  state?: DocumentState;
  limit: number;
}

export interface DocumentStore {
  /** Stores a draft; undefined when the subject has a document of that kind already. */
  create(document: NewDocument): Promise<DocumentRecord | undefined>;
  get(id: string): Promise<DocumentRecord | undefined>;
  findBySubject(kind: DocumentKind, subject: string): Promise<DocumentRecord | undefined>;
  /** Newest first. */
  list(filter: DocumentFilter): Promise<DocumentRecord[]>;
  /** draft → signed, once; `number` (发文字号) when given replaces the draft's. False when not a draft. */
  signOff(id: string, by: string, at: string, number?: string): Promise<boolean>;
  /** signed → sent, once; false otherwise. */
  markSent(id: string, at: string): Promise<boolean>;
}

const COLUMNS = raw(`id, kind, subject, unit, title, level, term, urgency, number, fields, state,
  created_at AS "createdAt", created_by AS "createdBy", signed_by AS "signedBy", signed_at AS "signedAt",
  sent_at AS "sentAt"`);

type DocumentRow = Omit<DocumentRecord, 'fields'> & { fields: string };

function toRecord(row: DocumentRow): DocumentRecord {
  return { ...row, fields: JSON.parse(row.fields) as Record<string, unknown> };
}

/** Documents in either database; each change is one statement guarded by the state it leaves. */
export class SqlDocumentStore implements DocumentStore {
  constructor(private readonly db: Database) {}

  async create(d: NewDocument): Promise<DocumentRecord | undefined> {
    const { changes } = await this.db.run(
      sql`INSERT INTO documents (id, kind, subject, unit, title, level, term, urgency, number, fields, state,
            created_at, created_by)
          VALUES (${d.id}, ${d.kind}, ${d.subject}, ${d.unit}, ${d.title}, ${d.level}, ${d.term}, ${d.urgency},
            ${d.number}, ${JSON.stringify(d.fields)}, 'draft', ${d.createdAt}, ${d.createdBy})
          ON CONFLICT (kind, subject) DO NOTHING`,
    );
    return changes === 1 ? this.get(d.id) : undefined;
  }

  async get(id: string): Promise<DocumentRecord | undefined> {
    const row = await this.db.get<DocumentRow>(sql`SELECT ${COLUMNS} FROM documents WHERE id = ${id}`);
    return row && toRecord(row);
  }

  async findBySubject(kind: DocumentKind, subject: string): Promise<DocumentRecord | undefined> {
    const row = await this.db.get<DocumentRow>(
      sql`SELECT ${COLUMNS} FROM documents WHERE kind = ${kind} AND subject = ${subject}`,
    );
    return row && toRecord(row);
  }

  async list(filter: DocumentFilter): Promise<DocumentRecord[]> {
    const rows = await this.db.all<DocumentRow>(
      sql`SELECT ${COLUMNS} FROM documents WHERE 1 = 1
          ${when(filter.units !== undefined, sql` AND unit IN ${list(filter.units ?? [])}`)}
          ${when(filter.kind !== undefined, sql` AND kind = ${filter.kind}`)}
          ${when(filter.state !== undefined, sql` AND state = ${filter.state}`)}
          ORDER BY created_at DESC, id${bytewise} DESC LIMIT ${filter.limit}`,
    );
    return rows.map(toRecord);
  }

  async signOff(id: string, by: string, at: string, number?: string): Promise<boolean> {
    const { changes } = await this.db.run(
      sql`UPDATE documents SET state = 'signed', signed_by = ${by}, signed_at = ${at},
            number = COALESCE(${number ?? null}, number)
          WHERE id = ${id} AND state = 'draft'`,
    );
    return changes === 1;
  }

  async markSent(id: string, at: string): Promise<boolean> {
    const { changes } = await this.db.run(
      sql`UPDATE documents SET state = 'sent', sent_at = ${at} WHERE id = ${id} AND state = 'signed'`,
    );
    return changes === 1;
  }
}
