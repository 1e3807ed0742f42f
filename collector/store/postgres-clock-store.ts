import type pg from 'pg';
import type { CollectorCondition } from '../warnings/conditions.js';
import type {
  AssessmentEntry,
  ClockRecord,
  ClockStore,
  ClockSubject,
  CompleteDeadline,
  DeadlineRow,
  DeadlineSpec,
  DueClaim,
  FireDecision,
  FiredBatch,
  FireRecord,
  IncidentRecord,
  NewAssessment,
  NewIncident,
  NewReport,
  NewSystem,
  ReportEntry,
  RunRecord,
  RunSummary,
  SystemPatch,
  SystemRecord,
} from './clock-store.js';
import {
  ASSESSMENT_COLUMNS,
  byDueTime,
  FIRE_COLUMNS,
  FIRE_SELECT,
  SYSTEM_CHANGE_COLUMNS,
  toAssessment,
  toDeadline,
  toFire,
  toIncident,
  toReport,
  toRun,
  toSystem,
  toSystemChange,
  type AssessmentRow,
  type DeadlineDbRow,
  type FireDbRow,
  type IncidentRow,
  type ReportRow,
  type RunRow,
  type SystemChangeRow,
  type SystemRow,
} from './clock-rows.js';
import { transaction } from './postgres-transaction.js';

/** pg_advisory_xact_lock(space, key): the space keeps subject locks apart from other smew locks. */
const SUBJECT_LOCK_SPACE = 0x636c6b; // "clk"

type Queryable = pg.Pool | pg.PoolClient;

/**
 * Joined into a statement whose write a database crash may lose without harm — a delivered mark
 * (the condition is then delivered again, as after a collector crash) or the record of a pass —
 * so its commit does not wait for the WAL flush, which otherwise costs more than the rest of an
 * idle pass together. Local to the statement's own transaction; nothing else is affected.
 */
const RELAXED_COMMIT = `(SELECT set_config('synchronous_commit', 'off', true)) AS relaxed_commit`;

/** `units` undefined = every unit: bound as NULL, so each listing is one fixed statement. */
const unitsParam = (units: readonly string[] | undefined): string[] | null =>
  units === undefined ? null : [...units];

/**
 * A system with its assessments and change history, in one round trip: the scheduler loads the
 * record of every row it fires. JSON arrives parsed; its numbers are the BIGINT ids.
 */
const SYSTEM_SELECT = `SELECT s.*,
    (SELECT COALESCE(json_agg(a ORDER BY a.completed_at, a.id), '[]')
       FROM (SELECT ${ASSESSMENT_COLUMNS} FROM assessments WHERE system_id = s.id) a) AS assessment_rows,
    (SELECT COALESCE(json_agg(c ORDER BY c.at, c.id), '[]')
       FROM (SELECT ${SYSTEM_CHANGE_COLUMNS} FROM info_system_changes WHERE system_id = s.id) c) AS change_rows
  FROM info_systems s`;

interface SystemWithHistory extends SystemRow {
  assessment_rows: AssessmentRow[];
  change_rows: SystemChangeRow[];
}

const readSystem = (row: SystemWithHistory): SystemRecord =>
  toSystem(row, row.assessment_rows.map(toAssessment), row.change_rows.map(toSystemChange));

/** An incident with its reports, in one round trip. */
const INCIDENT_SELECT = `SELECT i.*,
    (SELECT COALESCE(json_agg(r ORDER BY r.reported_at, r.id), '[]')
       FROM incident_reports r WHERE r.incident_id = i.id) AS report_rows
  FROM incidents i`;

interface IncidentWithReports extends IncidentRow {
  report_rows: ReportRow[];
}

const readIncident = (row: IncidentWithReports): IncidentRecord =>
  toIncident(row, row.report_rows.map(toReport));

/** Leases the due rows (see PostgresClockStore.claimDueDeadlines), on the pool or in a transaction. */
async function claimDue(db: Queryable, claim: DueClaim): Promise<DeadlineRow[]> {
  const { rows } = await db.query<DeadlineDbRow>(
    `WITH due AS (
       SELECT id FROM clock_deadlines
       WHERE done_at IS NULL AND due_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
       ORDER BY due_at, id LIMIT $2
       FOR UPDATE SKIP LOCKED)
     UPDATE clock_deadlines d SET claimed_by = $3, claimed_until = $4
     FROM due WHERE d.id = due.id
     RETURNING d.*`,
    [claim.now, claim.limit, claim.owner, claim.leaseUntil],
  );
  return rows.map(toDeadline).sort(byDueTime);
}

/**
 * One statement for any number of rows: each fire is inserted unless its (row, dueAt, outcome)
 * already has one, in the order given (so fire ids follow firing order), and each row moves on —
 * next repeat or done, lease released — counting its fire only if it was inserted. Returns the
 * fires inserted, by id.
 */
async function completeAll(
  db: Queryable,
  firedAt: string,
  completes: readonly CompleteDeadline[],
): Promise<FireRecord[]> {
  if (completes.length === 0) return [];
  const { rows } = await db.query<FireDbRow>(
    `WITH c AS (
       SELECT * FROM UNNEST($2::bigint[], $3::text[], $4::boolean[], $5::bigint[], $6::text[], $7::text[],
           $8::text[]) WITH ORDINALITY
         AS c (deadline_id, due_at, late, late_by_ms, outcome, condition, next_due_at, n)),
     fire AS (
       INSERT INTO clock_fires (deadline_id, due_at, fired_at, late, late_by_ms, outcome, condition)
       SELECT deadline_id, due_at, $1, late, late_by_ms, outcome, condition FROM c ORDER BY n
       ON CONFLICT DO NOTHING RETURNING *),
     moved AS (
       UPDATE clock_deadlines d SET
         due_at = CASE WHEN c.next_due_at IS NOT NULL AND c.outcome = 'fired' THEN c.next_due_at
                       ELSE d.due_at END,
         done_at = CASE WHEN c.next_due_at IS NOT NULL AND c.outcome = 'fired' THEN d.done_at
                        ELSE COALESCE(d.done_at, $1::text) END,
         fired_count = d.fired_count + (SELECT COUNT(*) FROM fire WHERE fire.deadline_id = d.id)::int,
         last_fired_at = CASE WHEN c.outcome = 'fired' THEN $1::text ELSE d.last_fired_at END,
         claimed_by = NULL, claimed_until = NULL
       FROM c WHERE d.id = c.deadline_id RETURNING d.*)
     SELECT ${FIRE_COLUMNS} FROM fire f JOIN moved d ON d.id = f.deadline_id ORDER BY f.id`,
    [
      firedAt,
      completes.map((c) => c.deadlineId),
      completes.map((c) => c.dueAt),
      completes.map((c) => c.late),
      completes.map((c) => c.lateByMs),
      completes.map((c) => c.outcome),
      completes.map((c) => (c.condition === null ? null : JSON.stringify(c.condition))),
      completes.map((c) => c.nextDueAt),
    ],
  );
  return rows.map(toFire);
}

/**
 * The legal clocks on PostgreSQL, shared by every collector on the database. Claims lease rows
 * with `FOR UPDATE SKIP LOCKED`, so collectors passing at once each take different rows and never
 * wait on each other; a dead collector's lease runs out and its rows are claimed again. Replacing
 * a subject's rows takes a lock on that subject, so two collectors reconciling the same record at
 * startup supersede (and clear) each row once.
 */
/**
 * Migration 3 (see postgres-migrations.ts), the twin of the SQLite CLOCKS_MIGRATION_SQL: the
 * register, incidents and the clock rows. Times and dates are text in byte order (COLLATE "C")
 * so they compare as in SQLite; flags are BOOLEAN; JSON (evidence, conditions) stays text.
 */
export class PostgresClockStore implements ClockStore {
  constructor(private readonly pool: pg.Pool) {}

  private async system(db: Queryable, id: string): Promise<SystemRecord | undefined> {
    const { rows } = await db.query<SystemWithHistory>(`${SYSTEM_SELECT} WHERE s.id = $1`, [id]);
    return rows[0] && readSystem(rows[0]);
  }

  async createSystem(system: NewSystem): Promise<SystemRecord> {
    const { rows } = await this.pool.query<SystemRow>(
      `INSERT INTO info_systems (id, name, level, unit, scope, environment, commissioned_at, approval_ref,
         approved_by, approved_at, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       RETURNING *`,
      [
        system.id,
        system.name,
        system.level,
        system.unit,
        system.scope,
        system.environment,
        system.commissionedAt,
        system.approvalRef,
        system.approvedBy,
        system.approvedAt,
        system.createdAt,
        system.createdBy,
      ],
    );
    return toSystem(rows[0]!, [], []);
  }

  async getSystem(id: string): Promise<SystemRecord | undefined> {
    return this.system(this.pool, id);
  }

  async listSystems(filter: { units?: readonly string[] }): Promise<SystemRecord[]> {
    // COLLATE "C": code-point order, as SQLite sorts, whatever the database's locale.
    const { rows } = await this.pool.query<SystemWithHistory>(
      `${SYSTEM_SELECT} WHERE ($1::text[] IS NULL OR s.unit = ANY($1::text[]))
       ORDER BY s.unit COLLATE "C", s.name COLLATE "C", s.id COLLATE "C"`,
      [unitsParam(filter.units)],
    );
    return rows.map(readSystem);
  }

  async updateSystem(
    id: string,
    patch: SystemPatch,
    at: string,
    by: string,
  ): Promise<SystemRecord | undefined> {
    return transaction(this.pool, async (db) => {
      // The row lock orders two officers editing one system: each change is recorded against
      // the value the other left, never against a stale read.
      const row = (await db.query<SystemRow>('SELECT * FROM info_systems WHERE id = $1 FOR UPDATE', [id]))
        .rows[0];
      if (!row) return undefined;
      if (patch.filedAt !== undefined) {
        await db.query('UPDATE info_systems SET filed_at = $1 WHERE id = $2', [patch.filedAt, id]);
      }
      const fields = [
        ['level', 'level'],
        ['scope', 'scope'],
        ['environment', 'environment'],
        ['status', 'status'],
      ] as const;
      for (const [key, column] of fields) {
        const next = patch[key];
        if (next === undefined || next === row[column]) continue;
        await db.query(
          'INSERT INTO info_system_changes (system_id, kind, at, from_value, to_value, by) VALUES ($1, $2, $3, $4, $5, $6)',
          [id, key, at, row[column], next, by],
        );
        await db.query(`UPDATE info_systems SET ${column} = $1 WHERE id = $2`, [next, id]);
      }
      return this.system(db, id);
    });
  }

  async addAssessment(systemId: string, assessment: NewAssessment): Promise<AssessmentEntry | undefined> {
    const { rows } = await this.pool.query<{ id: number }>(
      `INSERT INTO assessments (system_id, completed_at, assessor, result, note, recorded_at, recorded_by)
       SELECT id, $2, $3, $4, $5, $6, $7 FROM info_systems WHERE id = $1
       RETURNING id`,
      [
        systemId,
        assessment.completedAt,
        assessment.assessor,
        assessment.result,
        assessment.note,
        assessment.recordedAt,
        assessment.recordedBy,
      ],
    );
    return rows[0] && { id: rows[0].id, ...assessment };
  }

  async createIncident(incident: NewIncident): Promise<IncidentRecord> {
    const { rows } = await this.pool.query<IncidentRow>(
      `INSERT INTO incidents (id, title, level, unit, unit_level, discovered_at, discovery_source, description,
         measures, evidence, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       RETURNING *`,
      [
        incident.id,
        incident.title,
        incident.level,
        incident.unit,
        incident.unitLevel,
        incident.discoveredAt,
        incident.discoverySource,
        incident.description,
        incident.measures,
        JSON.stringify(incident.evidence),
        incident.createdAt,
        incident.createdBy,
      ],
    );
    return toIncident(rows[0]!, []);
  }

  async getIncident(id: string): Promise<IncidentRecord | undefined> {
    const { rows } = await this.pool.query<IncidentWithReports>(`${INCIDENT_SELECT} WHERE i.id = $1`, [id]);
    return rows[0] && readIncident(rows[0]);
  }

  async listIncidents(filter: { units?: readonly string[] }): Promise<IncidentRecord[]> {
    const { rows } = await this.pool.query<IncidentWithReports>(
      `${INCIDENT_SELECT} WHERE ($1::text[] IS NULL OR i.unit = ANY($1::text[]))
       ORDER BY i.discovered_at DESC, i.id COLLATE "C"`,
      [unitsParam(filter.units)],
    );
    return rows.map(readIncident);
  }

  async evidenceEvents(
    ids: readonly number[],
  ): Promise<{ id: number; ts: string; unit: string; type: string }[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<{ id: number; ts: string; unit: string; type: string }>(
      `SELECT e.id, e.ts, a.unit, e.type FROM events e JOIN agents a ON a.id = e.agent_id
       WHERE e.id = ANY($1::bigint[]) ORDER BY e.ts, e.id`,
      [[...ids]],
    );
    return rows;
  }

  async addReport(incidentId: string, report: NewReport): Promise<ReportEntry | undefined> {
    const { rows } = await this.pool.query<{ id: number }>(
      `INSERT INTO incident_reports (incident_id, from_level, to_recipient, reported_at, received_at, channel, by,
         receipt, recorded_at, recorded_by)
       SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM incidents WHERE id = $1
       RETURNING id`,
      [
        incidentId,
        report.fromLevel,
        report.to,
        report.reportedAt,
        report.receivedAt,
        report.channel,
        report.by,
        report.receipt,
        report.recordedAt,
        report.recordedBy,
      ],
    );
    return rows[0] && { id: rows[0].id, ...report };
  }

  async setReportReceipt(
    incidentId: string,
    reportId: number,
    receivedAt: string,
    receipt: string | null,
  ): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE incident_reports SET received_at = $1, receipt = COALESCE($2, receipt)
       WHERE id = $3 AND incident_id = $4`,
      [receivedAt, receipt, reportId, incidentId],
    );
    return result.rowCount === 1;
  }

  async replaceDeadlines(
    subject: ClockSubject,
    specs: readonly DeadlineSpec[],
    now: string,
    clearing: (row: DeadlineRow) => CollectorCondition | null,
  ): Promise<{ added: number; superseded: number; clears: FireRecord[] }> {
    const keyOf = (s: { target: string; kind: string; forDue: string }) =>
      `${s.target}\u0000${s.kind}\u0000${s.forDue}`;
    // One row per key: an upsert may not touch a row twice in one statement.
    const wanted = new Map(specs.map((spec) => [keyOf(spec), spec] as const));
    return transaction(this.pool, async (db) => {
      await db.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        SUBJECT_LOCK_SPACE,
        `${subject.type}:${subject.id}`,
      ]);
      // Pending rows, and fired rows whose condition still stands (not yet superseded); locked
      // so a collector completing one of them waits until this replacement is decided.
      const live = (
        await db.query<DeadlineDbRow>(
          `SELECT * FROM clock_deadlines WHERE subject_type = $1 AND subject_id = $2
             AND (done_at IS NULL OR (NOT superseded AND fired_count > 0))
           ORDER BY id FOR UPDATE`,
          [subject.type, subject.id],
        )
      ).rows.map(toDeadline);
      const stale = live.filter((row) => !wanted.has(keyOf(row)));
      const clears: { id: number; condition: string }[] = [];
      for (const row of stale) {
        if (row.firedCount === 0) continue;
        const condition = clearing(row);
        if (condition) clears.push({ id: row.id, condition: JSON.stringify(condition) });
      }
      if (stale.length > 0) {
        await db.query(
          `UPDATE clock_deadlines SET done_at = COALESCE(done_at, $1), superseded = TRUE, claimed_by = NULL,
             claimed_until = NULL WHERE id = ANY($2::bigint[])`,
          [now, stale.map((row) => row.id)],
        );
      }
      let clearFires: FireRecord[] = [];
      if (clears.length > 0) {
        const { rows } = await db.query<FireDbRow>(
          `WITH inserted AS (
             INSERT INTO clock_fires (deadline_id, due_at, fired_at, late, late_by_ms, outcome, condition)
             SELECT c.deadline_id, $1, $1, FALSE, 0, 'cleared', c.condition
             FROM UNNEST($2::bigint[], $3::text[]) WITH ORDINALITY AS c (deadline_id, condition, n)
             ORDER BY c.n
             ON CONFLICT DO NOTHING RETURNING *)
           SELECT ${FIRE_COLUMNS} FROM inserted f JOIN clock_deadlines d ON d.id = f.deadline_id ORDER BY f.id`,
          [now, clears.map((c) => c.id), clears.map((c) => c.condition)],
        );
        clearFires = rows.map(toFire);
      }
      // An existing row keeps its state; a superseded one comes back only if it never fired, or
      // repeats (an overdue warning that was cleared and is due again).
      const specList = [...wanted.values()];
      const upserted =
        specList.length === 0
          ? 0
          : ((
              await db.query(
                `INSERT INTO clock_deadlines (subject_type, subject_id, target, kind, for_due, due_at, repeats,
                   escalates_to, created_at)
                 SELECT $1, $2, s.target, s.kind, s.for_due, s.due_at, s.repeats, s.escalates_to, $3
                 FROM UNNEST($4::text[], $5::text[], $6::text[], $7::text[], $8::boolean[], $9::text[])
                   AS s (target, kind, for_due, due_at, repeats, escalates_to)
                 ON CONFLICT (subject_type, subject_id, target, kind, for_due) DO UPDATE
                   SET done_at = NULL, superseded = FALSE, due_at = EXCLUDED.due_at, created_at = EXCLUDED.created_at
                   WHERE clock_deadlines.superseded
                     AND (clock_deadlines.fired_count = 0 OR clock_deadlines.repeats)`,
                [
                  subject.type,
                  subject.id,
                  now,
                  specList.map((s) => s.target),
                  specList.map((s) => s.kind),
                  specList.map((s) => s.forDue),
                  specList.map((s) => s.dueAt),
                  specList.map((s) => s.repeats),
                  specList.map((s) => s.escalatesTo),
                ],
              )
            ).rowCount ?? 0);
      return { added: upserted, superseded: stale.length, clears: clearFires };
    });
  }

  /**
   * One statement, so one transaction: the due rows are locked `FOR UPDATE SKIP LOCKED` — rows
   * another collector is claiming at this instant are passed over, not waited for — and leased.
   * A row claimed and committed by another collector since this statement's snapshot is
   * re-checked against the lease condition and dropped, so no row is ever leased twice.
   */
  async claimDueDeadlines(claim: DueClaim): Promise<DeadlineRow[]> {
    return claimDue(this.pool, claim);
  }

  async completeDeadline(complete: CompleteDeadline): Promise<FireRecord | null> {
    const [fire] = await completeAll(this.pool, complete.firedAt, [complete]);
    return fire ?? null;
  }

  /**
   * Claim, records and fires in one transaction, four round trips whatever the batch size. The
   * claimed rows stay locked until the commit, so a collector claiming at the same moment skips
   * them; if this one dies first, its transaction is rolled back and they are free at once.
   */
  async fireDueDeadlines(
    claim: DueClaim,
    decide: (row: DeadlineRow, record: ClockRecord) => FireDecision | null,
  ): Promise<FiredBatch> {
    return transaction(this.pool, async (db) => {
      const rows = await claimDue(db, claim);
      if (rows.length === 0) return { claimed: 0, fires: [] };
      const ids = (type: string) => [
        ...new Set(rows.filter((r) => r.subject.type === type).map((r) => r.subject.id)),
      ];
      const [systemIds, incidentIds] = [ids('system'), ids('incident')];
      const records = new Map<string, ClockRecord>();
      if (systemIds.length > 0) {
        const found = await db.query<SystemWithHistory>(`${SYSTEM_SELECT} WHERE s.id = ANY($1::text[])`, [
          systemIds,
        ]);
        for (const row of found.rows) records.set(`system:${row.id}`, readSystem(row));
      }
      if (incidentIds.length > 0) {
        const found = await db.query<IncidentWithReports>(`${INCIDENT_SELECT} WHERE i.id = ANY($1::text[])`, [
          incidentIds,
        ]);
        for (const row of found.rows) records.set(`incident:${row.id}`, readIncident(row));
      }
      const completes: CompleteDeadline[] = [];
      for (const row of rows) {
        const decision = decide(row, records.get(`${row.subject.type}:${row.subject.id}`));
        if (decision) {
          completes.push({
            ...decision,
            deadlineId: row.id,
            owner: claim.owner,
            dueAt: row.dueAt,
            firedAt: claim.now,
          });
        }
      }
      return { claimed: rows.length, fires: await completeAll(db, claim.now, completes) };
    });
  }

  async listDeadlines(subject: ClockSubject): Promise<DeadlineRow[]> {
    const { rows } = await this.pool.query<DeadlineDbRow>(
      'SELECT * FROM clock_deadlines WHERE subject_type = $1 AND subject_id = $2 ORDER BY due_at, id',
      [subject.type, subject.id],
    );
    return rows.map(toDeadline);
  }

  async listFires(subject: ClockSubject): Promise<FireRecord[]> {
    const { rows } = await this.pool.query<FireDbRow>(
      `${FIRE_SELECT} WHERE d.subject_type = $1 AND d.subject_id = $2 ORDER BY f.id`,
      [subject.type, subject.id],
    );
    return rows.map(toFire);
  }

  async listUndelivered(limit: number): Promise<FireRecord[]> {
    const { rows } = await this.pool.query<FireDbRow>(
      `${FIRE_SELECT} WHERE f.delivered_at IS NULL AND f.condition IS NOT NULL ORDER BY f.id LIMIT $1`,
      [limit],
    );
    return rows.map(toFire);
  }

  async markDelivered(fireIds: readonly number[], at: string): Promise<void> {
    if (fireIds.length === 0) return;
    await this.pool.query(
      `UPDATE clock_fires SET delivered_at = $1 FROM ${RELAXED_COMMIT}
       WHERE id = ANY($2::bigint[]) AND delivered_at IS NULL`,
      [at, [...fireIds]],
    );
  }

  async startRun(run: { trigger: string; owner: string; startedAt: string }): Promise<number> {
    const { rows } = await this.pool.query<{ id: number }>(
      `INSERT INTO clock_runs (trigger, owner, started_at) SELECT $1, $2, $3 FROM ${RELAXED_COMMIT} RETURNING id`,
      [run.trigger, run.owner, run.startedAt],
    );
    return rows[0]!.id;
  }

  async finishRun(id: number, summary: RunSummary): Promise<void> {
    await this.pool.query(
      `UPDATE clock_runs SET finished_at = $1, fired = $2, late = $3, stale = $4, delivered = $5, error = $6
       FROM ${RELAXED_COMMIT} WHERE id = $7`,
      [summary.finishedAt, summary.fired, summary.late, summary.stale, summary.delivered, summary.error, id],
    );
  }

  async lastRun(): Promise<RunRecord | undefined> {
    const { rows } = await this.pool.query<RunRow>('SELECT * FROM clock_runs ORDER BY id DESC LIMIT 1');
    return rows[0] && toRun(rows[0]);
  }
}
