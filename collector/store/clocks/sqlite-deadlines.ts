import type { Database } from '../sql/database.js';
import { sql } from '../sql/query.js';
import type { CompleteDeadline, FireRecord } from './clock-store.js';
import {
  byDueTime,
  conditionText,
  toDeadline,
  toFire,
  type DeadlineDbRow,
  type DeadlineDialect,
  type FireDbRow,
} from './sql-clock-store.js';

type FireOfRow = Omit<FireDbRow, 'subject_type' | 'subject_id' | 'target' | 'kind'>;
type RowOfFire = Pick<FireDbRow, 'subject_type' | 'subject_id' | 'target' | 'kind'>;

/** Records one fire and moves its row on, two statements; inside the caller's transaction. */
async function complete(tx: Database, firedAt: string, c: CompleteDeadline): Promise<FireRecord | null> {
  const fire = await tx.get<FireOfRow>(
    sql`INSERT INTO clock_fires (deadline_id, due_at, fired_at, late, late_by_ms, outcome, condition)
        VALUES (${c.deadlineId}, ${c.dueAt}, ${firedAt}, ${c.late}, ${c.lateByMs}, ${c.outcome},
          ${conditionText(c.condition)})
        ON CONFLICT DO NOTHING RETURNING *`,
  );
  const counted = fire ? 1 : 0;
  const row =
    c.nextDueAt !== null && c.outcome === 'fired'
      ? await tx.get<RowOfFire>(
          sql`UPDATE clock_deadlines SET due_at = ${c.nextDueAt}, fired_count = fired_count + ${counted},
                last_fired_at = ${firedAt}, claimed_by = NULL, claimed_until = NULL
              WHERE id = ${c.deadlineId} RETURNING subject_type, subject_id, target, kind`,
        )
      : await tx.get<RowOfFire>(
          sql`UPDATE clock_deadlines SET done_at = COALESCE(done_at, ${firedAt}),
                fired_count = fired_count + ${counted},
                last_fired_at = CASE WHEN ${c.outcome} = 'fired' THEN ${firedAt} ELSE last_fired_at END,
                claimed_by = NULL, claimed_until = NULL
              WHERE id = ${c.deadlineId} RETURNING subject_type, subject_id, target, kind`,
        );
  return fire && row ? toFire({ ...fire, ...row }) : null;
}

/**
 * The deadline rows on SQLite, where one process writes at a time (BEGIN IMMEDIATE holds the
 * file): a claim is one UPDATE of the first due rows, nothing else can claim them meanwhile, and
 * replacing a subject's rows needs no lock of its own.
 */
export const sqliteDeadlines: DeadlineDialect = {
  async claimDue(db, claim) {
    const rows = await db.all<DeadlineDbRow>(
      sql`UPDATE clock_deadlines SET claimed_by = ${claim.owner}, claimed_until = ${claim.leaseUntil}
          WHERE id IN (
            SELECT id FROM clock_deadlines
            WHERE done_at IS NULL AND due_at <= ${claim.now} AND (claimed_until IS NULL OR claimed_until <= ${claim.now})
            ORDER BY due_at, id LIMIT ${claim.limit})
          RETURNING *`,
    );
    return rows.map(toDeadline).sort(byDueTime);
  },

  async completeAll(db, firedAt, completes) {
    return db.transaction(async (tx) => {
      const fires: FireRecord[] = [];
      for (const c of completes) {
        const fire = await complete(tx, firedAt, c);
        if (fire) fires.push(fire);
      }
      return fires;
    });
  },

  async lockSubject() {},
};
