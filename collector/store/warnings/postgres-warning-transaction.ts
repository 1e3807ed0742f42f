import { sql } from '../sql/query.js';
import { evidenceConditionId, type EvidenceRef, type Warning } from './records.js';
import { docOf, RULE_TABLE_NAMES, SqlWarningTransaction } from './sql-warning-transaction.js';
import type { LoadedRuleRow, RulePair, RuleTable, WarningWrites } from './warning-store.js';

/**
 * The WarningTransaction on PostgreSQL: a round trip costs as much as a whole evaluation, so a
 * batch's reads are one query and each kind of write one UNNEST statement, however many rows.
 */
export class PostgresWarningTransaction extends SqlWarningTransaction {
  override async loadRuleRows(
    slots: readonly string[],
    conditions: readonly string[],
  ): Promise<LoadedRuleRow[]> {
    const rows = await this.db.all<{ kind: string; slot: string; row: string | null }>(
      sql`WITH pairs AS (SELECT cond, slot FROM rule_conditions WHERE cond = ANY(${[...conditions]}::text[])),
            wanted AS (SELECT UNNEST(${[...slots]}::text[]) COLLATE "C" AS slot UNION SELECT slot FROM pairs)
          SELECT 'pair' AS kind, slot, cond AS row FROM pairs
          UNION ALL SELECT 'slot', slot, NULL FROM wanted
          UNION ALL SELECT 'open', slot, row FROM rule_open WHERE slot IN (SELECT slot FROM wanted)
          UNION ALL SELECT 'windows', slot, row FROM rule_windows WHERE slot IN (SELECT slot FROM wanted)
          UNION ALL SELECT 'correlations', slot, row FROM rule_correlations WHERE slot IN (SELECT slot FROM wanted)
          ORDER BY 2`,
    );
    return rows.map((r): LoadedRuleRow => {
      if (r.kind === 'pair') return { kind: 'pair', cond: r.row!, slot: r.slot };
      if (r.kind === 'slot') return { kind: 'slot', slot: r.slot };
      return { kind: r.kind as RuleTable, slot: r.slot, row: r.row! };
    });
  }

  protected override async writeRuleRows(
    table: RuleTable,
    gone: string[],
    kept: [string, string][],
  ): Promise<void> {
    const name = RULE_TABLE_NAMES[table];
    if (gone.length > 0) await this.db.run(sql`DELETE FROM ${name} WHERE slot = ANY(${gone}::text[])`);
    if (kept.length > 0) {
      await this.db.run(
        sql`INSERT INTO ${name} (slot, row)
            SELECT * FROM UNNEST(${kept.map(([slot]) => slot)}::text[], ${kept.map(([, row]) => row)}::text[])
            ON CONFLICT (slot) DO UPDATE SET row = EXCLUDED.row`,
      );
    }
  }

  protected override async removePairs(pairs: readonly RulePair[]): Promise<void> {
    await this.db.run(
      sql`DELETE FROM rule_conditions r
          USING UNNEST(${pairs.map((p) => p.cond)}::text[], ${pairs.map((p) => p.slot)}::text[]) AS g (cond, slot)
          WHERE r.cond = g.cond AND r.slot = g.slot`,
    );
  }

  protected override async addPairs(pairs: readonly RulePair[]): Promise<void> {
    await this.db.run(
      sql`INSERT INTO rule_conditions (cond, slot)
          SELECT * FROM UNNEST(${pairs.map((p) => p.cond)}::text[], ${pairs.map((p) => p.slot)}::text[])
          ON CONFLICT DO NOTHING`,
    );
  }

  protected override async updateWarnings(warnings: readonly Warning[], at: string): Promise<void> {
    const column = <T>(value: (w: Warning) => T) => warnings.map(value);
    await this.db.run(
      sql`UPDATE warnings w SET severity = u.severity, level = u.level, count = u.count, last_seen = u.last_seen,
            resolved_at = u.resolved_at, doc = u.doc, updated_at = ${at}
          FROM UNNEST(${column((w) => w.id)}::text[], ${column((w) => w.severity)}::text[],
              ${column((w) => w.level)}::text[], ${column((w) => w.count)}::int[],
              ${column((w) => w.lastSeen)}::text[], ${column((w) => w.resolvedAt)}::text[],
              ${column(docOf)}::text[])
            AS u (id, severity, level, count, last_seen, resolved_at, doc)
          WHERE w.id = u.id`,
    );
  }

  /** In the order given, so the outbox's ids follow the order the occasions happened. */
  protected override async insertOutbox(
    outbox: NonNullable<WarningWrites['outbox']>,
    at: string,
  ): Promise<void> {
    await this.db.run(
      sql`INSERT INTO notifications (warning_id, channel, occasion, state, next_attempt_at, created_at)
          SELECT o.warning_id, o.channel, o.occasion, 'pending', ${at}, ${at}
          FROM UNNEST(${outbox.map((o) => o.warningId)}::text[], ${outbox.map((o) => o.channel)}::text[],
              ${outbox.map((o) => o.occasion)}::text[])
            WITH ORDINALITY AS o (warning_id, channel, occasion, n)
          ORDER BY o.n
          ON CONFLICT (warning_id, channel, occasion) DO NOTHING`,
    );
  }

  protected override async insertEvidence(
    evidence: readonly { warningId: string; ref: EvidenceRef }[],
  ): Promise<void> {
    const column = <T>(value: (e: { warningId: string; ref: EvidenceRef }) => T) => evidence.map(value);
    await this.db.run(
      sql`INSERT INTO warning_evidence (warning_id, event_id, condition_id, agent, seq, ts, state)
          SELECT e.warning_id, e.event_id, e.condition_id, e.agent, e.seq, e.ts, e.state
          FROM UNNEST(${column((e) => e.warningId)}::text[], ${column((e) => e.ref.eventId ?? null)}::bigint[],
              ${column((e) => evidenceConditionId(e.ref))}::bigint[], ${column((e) => e.ref.agent)}::text[],
              ${column((e) => e.ref.seq)}::bigint[], ${column((e) => e.ref.ts)}::text[],
              ${column((e) => e.ref.state)}::text[])
            WITH ORDINALITY AS e (warning_id, event_id, condition_id, agent, seq, ts, state, n)
          ORDER BY e.n
          ON CONFLICT (warning_id, agent, seq) DO NOTHING`,
    );
  }
}
