import type { Database } from '../sql/database.js';
import { sql } from '../sql/query.js';
import type { DeliveredRow, ReceiptLists } from './sql-hierarchy-store.js';

/**
 * A receipt's entries marked done one statement each: on SQLite a cached statement costs no round
 * trip, and BEGIN IMMEDIATE already makes this the only writer. Returns the entries delivered now.
 */
export async function markReceipt(
  tx: Database,
  { accepted, rejected, at }: ReceiptLists,
): Promise<DeliveredRow[]> {
  const delivered: DeliveredRow[] = [];
  for (const a of accepted) {
    const row = await tx.get<DeliveredRow>(
      sql`UPDATE hierarchy_outbox SET received_at = ${a.receivedAt}, done_at = ${at}
          WHERE link_seq = ${a.linkSeq} AND done_at IS NULL
          RETURNING link_seq, report, first_sent_at, received_at`,
    );
    if (row) delivered.push(row);
  }
  for (const r of rejected) {
    await tx.run(
      sql`UPDATE hierarchy_outbox SET rejected = ${r.reason}, done_at = ${at}
          WHERE link_seq = ${r.linkSeq} AND done_at IS NULL`,
    );
  }
  return delivered;
}
