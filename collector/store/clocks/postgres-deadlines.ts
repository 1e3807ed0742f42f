import { sql } from '../sql/query.js';
import {
  byDueTime,
  conditionText,
  FIRE_COLUMNS,
  toDeadline,
  toFire,
  type DeadlineDbRow,
  type DeadlineDialect,
  type FireDbRow,
} from './sql-clock-store.js';

/** pg_advisory_xact_lock(space, key): the space keeps subject locks apart from other smew locks. */
const SUBJECT_LOCK_SPACE = 0x636c6b; // "clk"

/**
 * The deadline rows on PostgreSQL, shared by every collector on the database: claims skip rows
 * another collector holds instead of waiting for them, a batch of fires is one statement, and a
 * subject is locked while its rows are replaced.
 */
export const postgresDeadlines: DeadlineDialect = {
  /**
   * One statement, so one transaction: the due rows are locked `FOR UPDATE SKIP LOCKED` — rows
   * another collector is claiming at this instant are passed over, not waited for — and leased.
   * A row claimed and committed by another collector since this statement's snapshot is
   * re-checked against the lease condition and dropped, so no row is ever leased twice.
   */
  async claimDue(db, claim) {
    const rows = await db.all<DeadlineDbRow>(
      sql`WITH due AS (
            SELECT id FROM clock_deadlines
            WHERE done_at IS NULL AND due_at <= ${claim.now} AND (claimed_until IS NULL OR claimed_until <= ${claim.now})
            ORDER BY due_at, id LIMIT ${claim.limit}
            FOR UPDATE SKIP LOCKED)
          UPDATE clock_deadlines d SET claimed_by = ${claim.owner}, claimed_until = ${claim.leaseUntil}
          FROM due WHERE d.id = due.id
          RETURNING d.*`,
    );
    return rows.map(toDeadline).sort(byDueTime);
  },

  /**
   * One statement for any number of rows: each fire is inserted unless its (row, dueAt, outcome)
   * already has one, in the order given (so fire ids follow firing order), and each row moves on —
   * next repeat or done, lease released — counting its fire only if it was inserted.
   */
  async completeAll(db, firedAt, completes) {
    if (completes.length === 0) return [];
    const rows = await db.all<FireDbRow>(
      sql`WITH c AS (
            SELECT * FROM UNNEST(${completes.map((c) => c.deadlineId)}::bigint[], ${completes.map((c) => c.dueAt)}::text[],
                ${completes.map((c) => c.late)}::boolean[], ${completes.map((c) => c.lateByMs)}::bigint[],
                ${completes.map((c) => c.outcome)}::text[], ${completes.map((c) => conditionText(c.condition))}::text[],
                ${completes.map((c) => c.nextDueAt)}::text[]) WITH ORDINALITY
              AS c (deadline_id, due_at, late, late_by_ms, outcome, condition, next_due_at, n)),
          fire AS (
            INSERT INTO clock_fires (deadline_id, due_at, fired_at, late, late_by_ms, outcome, condition)
            SELECT deadline_id, due_at, ${firedAt}::text, late, late_by_ms, outcome, condition FROM c ORDER BY n
            ON CONFLICT DO NOTHING RETURNING *),
          moved AS (
            UPDATE clock_deadlines d SET
              due_at = CASE WHEN c.next_due_at IS NOT NULL AND c.outcome = 'fired' THEN c.next_due_at
                            ELSE d.due_at END,
              done_at = CASE WHEN c.next_due_at IS NOT NULL AND c.outcome = 'fired' THEN d.done_at
                             ELSE COALESCE(d.done_at, ${firedAt}::text) END,
              fired_count = d.fired_count + (SELECT COUNT(*) FROM fire WHERE fire.deadline_id = d.id)::int,
              last_fired_at = CASE WHEN c.outcome = 'fired' THEN ${firedAt}::text ELSE d.last_fired_at END,
              claimed_by = NULL, claimed_until = NULL
            FROM c WHERE d.id = c.deadline_id RETURNING d.*)
          SELECT ${FIRE_COLUMNS} FROM fire f JOIN moved d ON d.id = f.deadline_id ORDER BY f.id`,
    );
    return rows.map(toFire);
  },

  /** Two collectors reconciling one record at startup supersede (and clear) each row once. */
  async lockSubject(tx, subject) {
    await tx.run(
      sql`SELECT pg_advisory_xact_lock(${SUBJECT_LOCK_SPACE}, hashtext(${`${subject.type}:${subject.id}`}))`,
    );
  },
};
