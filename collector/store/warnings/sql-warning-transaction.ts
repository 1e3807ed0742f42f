import type { Level, Severity } from '../../../shared/levels.js';
import type { Database } from '../sql/database.js';
import { forUpdate, list, raw, sql, type Query } from '../sql/query.js';
import {
  evidenceConditionId,
  type CollectorCondition,
  type EvidenceRef,
  type TransitionRecord,
  type Warning,
  type WarningState,
} from './records.js';
import {
  RULE_TABLES,
  type LoadedRuleRow,
  type RulePair,
  type RuleRowWrites,
  type RuleTable,
  type WarningTransaction,
  type WarningWrites,
  type WarningWriteSet,
} from './warning-store.js';

export const WARNING_COLUMNS = raw(`id, rule, slot, unit, agent, state, severity, level, count, first_seen,
  last_seen, created_at, resolved_at, doc`);

export const RULE_TABLE_NAMES: Record<RuleTable, Query> = {
  open: raw('rule_open'),
  windows: raw('rule_windows'),
  correlations: raw('rule_correlations'),
};

export interface WarningRow {
  id: string;
  rule: string;
  slot: string;
  unit: string;
  agent: string | null;
  state: string;
  severity: string;
  level: string | null;
  count: number;
  first_seen: string;
  last_seen: string;
  created_at: string;
  resolved_at: string | null;
  doc: string;
}

/** The parts of a warning without a column of their own. */
interface WarningDoc {
  title: Warning['title'];
  key: string;
  labels: Record<string, string>;
  origin: Warning['origin'];
  agents: string[];
  type: string;
  sample: Warning['sample'];
}

interface TransitionRow {
  warning_id: string;
  action: string;
  from_state: string;
  to_state: string;
  by_name: string;
  by_role: string;
  by_unit: string | null;
  at: string;
  note: string;
  incident_id: string | null;
}

export function toWarning(row: WarningRow, history: TransitionRecord[]): Warning {
  const doc = JSON.parse(row.doc) as WarningDoc;
  return {
    id: row.id,
    rule: row.rule,
    title: doc.title,
    slot: row.slot,
    key: doc.key,
    labels: doc.labels,
    origin: doc.origin,
    state: row.state as WarningState,
    severity: row.severity as Severity,
    count: row.count,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    createdAt: row.created_at,
    unit: row.unit,
    agent: row.agent,
    agents: doc.agents,
    level: row.level as Level | null,
    type: doc.type,
    sample: doc.sample,
    resolvedAt: row.resolved_at,
    history,
  };
}

export function docOf(w: Warning): string {
  const doc: WarningDoc = {
    title: w.title,
    key: w.key,
    labels: w.labels,
    origin: w.origin,
    agents: w.agents,
    type: w.type,
    sample: w.sample,
  };
  return JSON.stringify(doc);
}

function toTransition(t: TransitionRow): TransitionRecord {
  return {
    action: t.action as TransitionRecord['action'],
    from: t.from_state as WarningState,
    to: t.to_state as WarningState,
    by: { name: t.by_name, role: t.by_role, unit: t.by_unit },
    at: t.at,
    note: t.note,
    ...(t.incident_id !== null && { incidentId: t.incident_id }),
  };
}

/** The audit trails of several warnings in one query. */
export async function readHistory(
  db: Database,
  ids: readonly string[],
): Promise<Map<string, TransitionRecord[]>> {
  const history = new Map<string, TransitionRecord[]>();
  if (ids.length === 0) return history;
  const rows = await db.all<TransitionRow>(
    sql`SELECT warning_id, action, from_state, to_state, by_name, by_role, by_unit, at, note, incident_id
        FROM warning_transitions WHERE warning_id IN ${list(ids)} ORDER BY id`,
  );
  for (const row of rows) {
    let trail = history.get(row.warning_id);
    if (!trail) history.set(row.warning_id, (trail = []));
    trail.push(toTransition(row));
  }
  return history;
}

/** Warnings with their audit trails, in the order of `rows`. */
export async function withHistory(db: Database, rows: readonly WarningRow[]): Promise<Warning[]> {
  const history = await readHistory(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => toWarning(row, history.get(row.id) ?? []));
}

/**
 * Takes the rules lock for this transaction and returns the rules cursor. An upsert rather than
 * SELECT … FOR UPDATE: it locks the row just the same on PostgreSQL (where it serialises the
 * collectors sharing the database) and recreates the row should it be missing; on SQLite the
 * transaction's BEGIN IMMEDIATE already holds the database.
 */
export async function lockRules(db: Database): Promise<number> {
  const row = await db.get<{ event_id: number }>(
    sql`INSERT INTO rule_cursor (id, event_id) VALUES (1, 0)
        ON CONFLICT (id) DO UPDATE SET event_id = rule_cursor.event_id RETURNING event_id`,
  );
  return Number(row!.event_id);
}

/**
 * A WarningTransaction in either database, a statement per row: right for SQLite, where a
 * statement costs microseconds. What PostgreSQL does in one round trip (a batch's reads, its
 * writes by UNNEST) is postgres-warning-transaction.ts, overriding the methods marked so.
 */
export class SqlWarningTransaction implements WarningTransaction {
  constructor(
    protected readonly db: Database,
    readonly cursor: number,
  ) {}

  async recordCondition(c: CollectorCondition, receivedAt: string): Promise<number> {
    const row = await this.db.get<{ id: number }>(
      sql`INSERT INTO collector_conditions (type, state, key, unit, agent, severity, data, at, received_at)
          VALUES (${c.type}, ${c.state}, ${c.key}, ${c.unit}, ${c.agent ?? null}, ${c.severity},
            ${JSON.stringify(c.data)}, ${c.at}, ${receivedAt}) RETURNING id`,
    );
    return Number(row!.id);
  }

  /**
   * Per dialect: PostgreSQL reads it all in one query. Here the conditions' pairs, then every rule
   * row of the wanted slots in one statement, not three per slot (a storm asks for many new slots).
   */
  async loadRuleRows(slots: readonly string[], conditions: readonly string[]): Promise<LoadedRuleRow[]> {
    const rows: LoadedRuleRow[] = [];
    const wanted = new Set(slots);
    if (conditions.length > 0) {
      for (const { cond, slot } of await this.db.all<{ cond: string; slot: string }>(
        sql`SELECT cond, slot FROM rule_conditions WHERE cond IN ${list(conditions)}`,
      )) {
        rows.push({ kind: 'pair', cond, slot });
        wanted.add(slot);
      }
    }
    if (wanted.size === 0) return rows;
    for (const slot of wanted) rows.push({ kind: 'slot', slot });
    const inWanted = list([...wanted]);
    const found = await this.db.all<{ kind: RuleTable; slot: string; row: string }>(
      sql`SELECT 'open' AS kind, slot, row FROM rule_open WHERE slot IN ${inWanted}
          UNION ALL SELECT 'windows', slot, row FROM rule_windows WHERE slot IN ${inWanted}
          UNION ALL SELECT 'correlations', slot, row FROM rule_correlations WHERE slot IN ${inWanted}`,
    );
    for (const { kind, slot, row } of found) rows.push({ kind, slot, row });
    return rows;
  }

  async loadAllRuleRows(): Promise<LoadedRuleRow[]> {
    const rows = await this.db.all<{ kind: string; slot: string; row: string }>(
      sql`SELECT 'windows' AS kind, slot, row FROM rule_windows
          UNION ALL SELECT 'correlations', slot, row FROM rule_correlations
          UNION ALL SELECT 'open', slot, row FROM rule_open
          UNION ALL SELECT 'pair', slot, cond FROM rule_conditions
          ORDER BY 2`,
    );
    return rows.map((r) =>
      r.kind === 'pair'
        ? { kind: 'pair', cond: r.row, slot: r.slot }
        : { kind: r.kind as RuleTable, slot: r.slot, row: r.row },
    );
  }

  async readWarnings(ids: readonly string[]): Promise<Warning[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.all<WarningRow>(
      sql`SELECT ${WARNING_COLUMNS} FROM warnings WHERE id IN ${list(ids)}`,
    );
    return rows.map((row) => toWarning(row, []));
  }

  async readWarningForUpdate(id: string): Promise<Warning | undefined> {
    const row = await this.db.get<WarningRow>(
      sql`SELECT ${WARNING_COLUMNS} FROM warnings WHERE id = ${id}${forUpdate}`,
    );
    return row ? (await withHistory(this.db, [row]))[0] : undefined;
  }

  /** Warnings before the rows that refer to them. */
  async apply(writes: WarningWriteSet): Promise<void> {
    this.pending.length = 0;
    if (writes.rules) await this.writeRules(writes.rules);
    if (writes.warnings) await this.writeWarnings(writes.warnings);
    if (writes.cursor !== undefined)
      await this.write(sql`UPDATE rule_cursor SET event_id = ${writes.cursor} WHERE id = 1`);
    await this.db.runEach(this.pending.splice(0));
  }

  /**
   * The write set's statements, run in order at the end of apply: on SQLite in one synchronous
   * step (a new warning is a dozen statements, and a promise each cost the storm about a tenth more
   * CPU); PostgreSQL's own batch statements (the subclass) run at once, so it queues nothing.
   */
  private readonly pending: Query[] = [];

  protected async write(query: Query): Promise<void> {
    if (this.db.dialect === 'sqlite') this.pending.push(query);
    else await this.db.run(query);
  }

  private async writeRules(rules: RuleRowWrites): Promise<void> {
    for (const table of RULE_TABLES) {
      const { gone = [], kept = [] } = rules.rows?.[table] ?? {};
      if (gone.length > 0 || kept.length > 0) await this.writeRuleRows(table, gone, kept);
    }
    for (const slot of rules.slotsUnpaired ?? [])
      await this.write(sql`DELETE FROM rule_conditions WHERE slot = ${slot}`);
    if (rules.pairsGone?.length) await this.removePairs(rules.pairsGone);
    if (rules.pairsAdded?.length) await this.addPairs(rules.pairsAdded);
  }

  private async writeWarnings(w: WarningWrites): Promise<void> {
    for (const warning of w.inserted ?? []) {
      await this.write(
        sql`INSERT INTO warnings (${WARNING_COLUMNS}, updated_at)
            VALUES (${warning.id}, ${warning.rule}, ${warning.slot}, ${warning.unit}, ${warning.agent},
              ${warning.state}, ${warning.severity}, ${warning.level}, ${warning.count}, ${warning.firstSeen},
              ${warning.lastSeen}, ${warning.createdAt}, ${warning.resolvedAt}, ${docOf(warning)}, ${w.at})`,
      );
    }
    if (w.updated?.length) await this.updateWarnings(w.updated, w.at);
    for (const { warningId, record, state } of w.steps ?? []) {
      await this.write(
        sql`INSERT INTO warning_transitions (warning_id, action, from_state, to_state, by_name, by_role,
              by_unit, at, note, incident_id)
            VALUES (${warningId}, ${record.action}, ${record.from}, ${record.to}, ${record.by.name},
              ${record.by.role}, ${record.by.unit}, ${record.at}, ${record.note}, ${record.incidentId ?? null})`,
      );
      await this.write(
        sql`UPDATE warnings SET state = ${state}, updated_at = ${w.at} WHERE id = ${warningId}`,
      );
    }
    if (w.outbox?.length) await this.insertOutbox(w.outbox, w.at);
    if (w.evidence?.length) await this.insertEvidence(w.evidence);
  }

  /** Per dialect: PostgreSQL writes a table's rows in one UNNEST statement (and the methods below). */
  protected async writeRuleRows(table: RuleTable, gone: string[], kept: [string, string][]): Promise<void> {
    const name = RULE_TABLE_NAMES[table];
    for (const slot of gone) await this.write(sql`DELETE FROM ${name} WHERE slot = ${slot}`);
    for (const [slot, row] of kept) {
      await this.write(
        sql`INSERT INTO ${name} (slot, row) VALUES (${slot}, ${row})
            ON CONFLICT (slot) DO UPDATE SET row = excluded.row`,
      );
    }
  }

  protected async removePairs(pairs: readonly RulePair[]): Promise<void> {
    for (const { cond, slot } of pairs)
      await this.write(sql`DELETE FROM rule_conditions WHERE cond = ${cond} AND slot = ${slot}`);
  }

  protected async addPairs(pairs: readonly RulePair[]): Promise<void> {
    for (const { cond, slot } of pairs)
      await this.write(
        sql`INSERT INTO rule_conditions (cond, slot) VALUES (${cond}, ${slot}) ON CONFLICT DO NOTHING`,
      );
  }

  protected async updateWarnings(warnings: readonly Warning[], at: string): Promise<void> {
    for (const w of warnings) {
      await this.write(
        sql`UPDATE warnings SET severity = ${w.severity}, level = ${w.level}, count = ${w.count},
              last_seen = ${w.lastSeen}, resolved_at = ${w.resolvedAt}, doc = ${docOf(w)}, updated_at = ${at}
            WHERE id = ${w.id}`,
      );
    }
  }

  protected async insertOutbox(outbox: NonNullable<WarningWrites['outbox']>, at: string): Promise<void> {
    for (const { warningId, channel, occasion } of outbox) {
      await this.write(
        sql`INSERT INTO notifications (warning_id, channel, occasion, state, next_attempt_at, created_at)
            VALUES (${warningId}, ${channel}, ${occasion}, 'pending', ${at}, ${at})
            ON CONFLICT (warning_id, channel, occasion) DO NOTHING`,
      );
    }
  }

  protected async insertEvidence(
    evidence: readonly { warningId: string; ref: EvidenceRef }[],
  ): Promise<void> {
    for (const { warningId, ref } of evidence) {
      await this.write(
        sql`INSERT INTO warning_evidence (warning_id, event_id, condition_id, agent, seq, ts, state)
            VALUES (${warningId}, ${ref.eventId ?? null}, ${evidenceConditionId(ref)}, ${ref.agent}, ${ref.seq},
              ${ref.ts}, ${ref.state})
            ON CONFLICT (warning_id, agent, seq) DO NOTHING`,
      );
    }
  }
}
