import type { Database } from '../sql/database.js';
import { list, raw, sql, when, type Query } from '../sql/query.js';

/**
 * 整改 items (第59条: 整改内容和期限; 第35条: an assessment that found risks): what is to be put
 * right, who answers for it, by which date (`YYYY-MM-DD`, Asia/Shanghai), and what opened it — a
 * finding of the unit's self-inspection (第58条), an assessment with risks found, or the officer by
 * hand. An item is open until closed (when, by whom, how); overdue is read from the date, never
 * stored. The reminders and the overdue warning are clock rows (subject `rectification`).
 */
export const RECTIFICATION_SOURCES = ['self-inspection', 'assessment', 'manual'] as const;
export type RectificationSourceKind = (typeof RECTIFICATION_SOURCES)[number];

export interface RectificationSource {
  kind: RectificationSourceKind;
  /** The self-inspection's or the system's id; null for an item opened by hand. */
  id: string | null;
  /** The checklist item, or the assessment's id; null when the item concerns the whole source. */
  item: string | null;
}

export interface NewRectification {
  id: string;
  unit: string;
  what: string;
  who: string;
  deadline: string;
  source: RectificationSource;
  createdAt: string;
  createdBy: string;
}

export interface RectificationRecord extends NewRectification {
  closedAt: string | null;
  closedBy: string | null;
  closeNote: string | null;
}

export interface RectificationFilter {
  /** undefined = every unit. */
  units?: readonly string[];
  /** true: only open items; false: only closed ones; undefined: both. */
  open?: boolean;
  source?: { kind: RectificationSourceKind; id?: string };
}

export interface RectificationStore {
  /** Stores the items in one transaction and returns them as stored. */
  add(items: readonly NewRectification[]): Promise<RectificationRecord[]>;
  get(id: string): Promise<RectificationRecord | undefined>;
  /** Soonest deadline first. */
  list(filter: RectificationFilter): Promise<RectificationRecord[]>;
  /**
   * Closes an open item; undefined when there is no such item, `closed: false` (the record as it
   * stands) when it was closed already — two officers closing at once close it once.
   */
  close(
    id: string,
    closing: { at: string; by: string; note: string },
  ): Promise<{ closed: boolean; record: RectificationRecord } | undefined>;
}

const COLUMNS =
  raw(`id, unit, what, who, deadline, source_kind, source_id, source_item, created_at, created_by,
  closed_at, closed_by, close_note`);

interface RectificationRow {
  id: string;
  unit: string;
  what: string;
  who: string;
  deadline: string;
  source_kind: RectificationSourceKind;
  source_id: string | null;
  source_item: string | null;
  created_at: string;
  created_by: string;
  closed_at: string | null;
  closed_by: string | null;
  close_note: string | null;
}

function toRecord(row: RectificationRow): RectificationRecord {
  return {
    id: row.id,
    unit: row.unit,
    what: row.what,
    who: row.who,
    deadline: row.deadline,
    source: { kind: row.source_kind, id: row.source_id, item: row.source_item },
    createdAt: row.created_at,
    createdBy: row.created_by,
    closedAt: row.closed_at,
    closedBy: row.closed_by,
    closeNote: row.close_note,
  };
}

function select(db: Database, where: Query): Promise<RectificationRow[]> {
  return db.all<RectificationRow>(
    sql`SELECT ${COLUMNS} FROM rectifications WHERE ${where} ORDER BY deadline, created_at, id`,
  );
}

/** The items of `ids`, for the clock store's scheduler pass (in its transaction). */
export async function loadRectifications(
  db: Database,
  ids: readonly string[],
): Promise<RectificationRecord[]> {
  if (ids.length === 0) return [];
  return (await select(db, sql`id IN ${list(ids)}`)).map(toRecord);
}

/** Rectifications in either database; each write is one statement or one transaction. */
export class SqlRectificationStore implements RectificationStore {
  constructor(private readonly db: Database) {}

  async add(items: readonly NewRectification[]): Promise<RectificationRecord[]> {
    if (items.length === 0) return [];
    await this.db.transaction(async (tx) => {
      for (const r of items) {
        await tx.run(
          sql`INSERT INTO rectifications (id, unit, what, who, deadline, source_kind, source_id, source_item,
                created_at, created_by)
              VALUES (${r.id}, ${r.unit}, ${r.what}, ${r.who}, ${r.deadline}, ${r.source.kind}, ${r.source.id},
                ${r.source.item}, ${r.createdAt}, ${r.createdBy})`,
        );
      }
    });
    return loadRectifications(
      this.db,
      items.map((r) => r.id),
    );
  }

  async get(id: string): Promise<RectificationRecord | undefined> {
    const [record] = await loadRectifications(this.db, [id]);
    return record;
  }

  async list(filter: RectificationFilter): Promise<RectificationRecord[]> {
    const { units, open, source } = filter;
    const where = sql`TRUE${when(units !== undefined, sql` AND unit IN ${list(units ?? [])}`)}${when(
      open !== undefined,
      open ? sql` AND closed_at IS NULL` : sql` AND closed_at IS NOT NULL`,
    )}${when(source !== undefined, sql` AND source_kind = ${source?.kind}`)}${when(
      source?.id !== undefined,
      sql` AND source_id = ${source?.id}`,
    )}`;
    return (await select(this.db, where)).map(toRecord);
  }

  async close(
    id: string,
    closing: { at: string; by: string; note: string },
  ): Promise<{ closed: boolean; record: RectificationRecord } | undefined> {
    const { changes } = await this.db.run(
      sql`UPDATE rectifications SET closed_at = ${closing.at}, closed_by = ${closing.by}, close_note = ${closing.note}
          WHERE id = ${id} AND closed_at IS NULL`,
    );
    const record = await this.get(id);
    return record && { closed: changes === 1, record };
  }
}
