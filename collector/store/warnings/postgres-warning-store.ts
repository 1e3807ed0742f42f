import type { Database, PostgresDatabase } from '../sql/database.js';
import { sql } from '../sql/query.js';
import { PostgresWarningTransaction } from './postgres-warning-transaction.js';
import type { NotificationOutcome, NotificationRecord } from './records.js';
import {
  eventsAfterCursor,
  SqlWarningStore,
  toNotification,
  type NotificationRow,
} from './sql-warning-store.js';
import type { WarningTransaction } from './warning-store.js';

/** The advisory lock the events trigger takes shared; its first key is in the migration. */
const RULES_HORIZON_LOCK = 0x736d6572;

export interface PostgresWarningStoreOptions {
  /** How long a claimed notification stays with its collector before another may send it. */
  notificationLeaseMs?: number;
}

/**
 * WarningStore on PostgreSQL, for several collectors sharing one database (migration 2).
 *
 * - Rule evaluation is serialised by the lock on the `rule_cursor` row: every transaction that
 *   reads or writes rule state (transact: rules batches, sweeps, a final transition freeing a
 *   slot) takes it first, so two collectors seeing the same condition fold it into one warning.
 * - Event ids come from a sequence and commit out of order when collectors insert at once; a
 *   cursor moved past an id whose row is not yet visible would skip that event for good. Every
 *   insert into `events` holds a shared advisory lock from before it draws its id (a statement
 *   trigger), and the rules stage reads past the cursor under the exclusive one, so it sees every
 *   id below the highest it sees.
 * - The notification outbox is claimed (`FOR UPDATE SKIP LOCKED`, due time pushed out by a
 *   lease), so one collector delivers each row; a collector that dies mid-send leaves the row to
 *   another once the lease ends.
 */
export class PostgresWarningStore extends SqlWarningStore {
  private readonly notificationLeaseMs: number;
  /** Outbox rows this collector claimed and has not finished: id → when it fell due, lease end. */
  private readonly claims = new Map<number, { dueAt: string; leaseEnd: string }>();

  constructor(db: PostgresDatabase, options: PostgresWarningStoreOptions = {}) {
    super(db);
    this.notificationLeaseMs = options.notificationLeaseMs ?? 5 * 60_000;
  }

  protected override openTransaction(tx: Database, cursor: number): WarningTransaction {
    return new PostgresWarningTransaction(tx, cursor);
  }

  /**
   * Under the exclusive horizon lock no insert is between drawing an id and committing it, so
   * every event id at or below the highest one read here is either visible or never will be.
   */
  override async eventsAfterRulesCursor(
    limit: number,
  ): Promise<{ id: number; unit: string; envelope: string }[]> {
    return this.db.transaction(async (tx) => {
      await tx.run(sql`SELECT pg_advisory_xact_lock(${RULES_HORIZON_LOCK}, hashtext(current_schema()))`);
      // A statement after the lock: READ COMMITTED gives it a snapshot with every such insert done.
      return tx.all(eventsAfterCursor(limit));
    });
  }

  /**
   * Claims what is due: the rows come back with their due time moved out by the lease, so another
   * collector asking meanwhile skips them (locked rows are skipped, not waited for).
   */
  override async dueNotifications(now: string, limit: number): Promise<NotificationRecord[]> {
    const leaseEnd = new Date(Date.parse(now) + this.notificationLeaseMs).toISOString();
    const rows = await this.db.all<NotificationRow & { due_at: string }>(
      sql`WITH due AS (
            SELECT id, next_attempt_at AS due_at FROM notifications
            WHERE state = 'pending' AND next_attempt_at <= ${now}
            ORDER BY next_attempt_at, id LIMIT ${limit} FOR UPDATE SKIP LOCKED
          ), claimed AS (
            UPDATE notifications n SET next_attempt_at = ${leaseEnd} FROM due WHERE n.id = due.id
            RETURNING n.*, due.due_at
          )
          SELECT * FROM claimed ORDER BY due_at, id`,
    );
    for (const row of rows) this.claims.set(Number(row.id), { dueAt: row.due_at, leaseEnd });
    return rows.map(toNotification);
  }

  override async finishNotification(id: number, outcome: NotificationOutcome): Promise<void> {
    this.claims.delete(id);
    await super.finishNotification(id, outcome);
  }

  /**
   * Hands back what this collector claimed and has not finished (a send aborted by a stop), so
   * the next collector to look sends it at once instead of after the lease. A row whose lease
   * ran out and that another collector claimed since keeps that claim.
   */
  async releaseClaims(): Promise<void> {
    if (this.claims.size === 0) return;
    const claims = [...this.claims];
    this.claims.clear();
    await this.db.run(
      sql`UPDATE notifications n SET next_attempt_at = c.due_at
          FROM UNNEST(${claims.map(([id]) => id)}::bigint[], ${claims.map(([, c]) => c.dueAt)}::text[],
            ${claims.map(([, c]) => c.leaseEnd)}::text[]) AS c (id, due_at, lease_end)
          WHERE n.id = c.id AND n.state = 'pending' AND n.next_attempt_at = c.lease_end`,
    );
  }
}
