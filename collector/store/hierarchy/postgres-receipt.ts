import type { Database } from '../sql/database.js';
import { sql } from '../sql/query.js';
import type { DeliveredRow, ReceiptLists } from './sql-hierarchy-store.js';

/**
 * A receipt's entries marked done in one UNNEST statement per list, not a round trip per entry.
 * `done_at IS NULL` is checked again under the row lock: of two collectors applying one receipt,
 * only the first sees an entry delivered. Returns the entries delivered now.
 */
export async function markReceipt(
  tx: Database,
  { accepted, rejected, at }: ReceiptLists,
): Promise<DeliveredRow[]> {
  const delivered = await tx.all<DeliveredRow>(
    sql`UPDATE hierarchy_outbox o SET received_at = a.received_at, done_at = ${at}
        FROM UNNEST(${accepted.map((a) => a.linkSeq)}::bigint[], ${accepted.map((a) => a.receivedAt)}::text[])
          AS a (link_seq, received_at)
        WHERE o.link_seq = a.link_seq AND o.done_at IS NULL
        RETURNING o.link_seq, o.report, o.first_sent_at, o.received_at`,
  );
  if (rejected.length > 0) {
    await tx.run(
      sql`UPDATE hierarchy_outbox o SET rejected = r.reason, done_at = ${at}
          FROM UNNEST(${rejected.map((r) => r.linkSeq)}::bigint[], ${rejected.map((r) => r.reason)}::text[])
            AS r (link_seq, reason)
          WHERE o.link_seq = r.link_seq AND o.done_at IS NULL`,
    );
  }
  return delivered;
}
