import { loadRectifications } from '../rectifications/rectification-store.js';
import type { CollectorCondition } from '../warnings/records.js';
import { flag, type Database } from '../sql/database.js';
import { bytewise, dialectText, forUpdate, join, list, raw, sql, type Query } from '../sql/query.js';
import type {
  AssessmentEntry,
  ClockRecord,
  ClockStore,
  ClockSubject,
  ClockSubjectType,
  CompleteDeadline,
  DeadlineRow,
  DeadlineSpec,
  DueClaim,
  FireDecision,
  FiredBatch,
  FireOutcome,
  FireRecord,
  IncidentClosure,
  IncidentRecord,
  MeasureEntry,
  NewAssessment,
  NewIncident,
  NewMeasure,
  NewReport,
  NewSystem,
  ReportEntry,
  RunRecord,
  RunSummary,
  SystemChangeEntry,
  SystemPatch,
  SystemRecord,
} from './clock-store.js';

/**
 * What the two databases do each their own way with deadline rows (sqlite-deadlines.ts and
 * postgres-deadlines.ts): claiming due rows while other collectors claim, recording a batch of
 * fires, and keeping two collectors from replacing one subject's rows at once.
 */
export interface DeadlineDialect {
  /** Leases due rows (see ClockStore.claimDueDeadlines), in firing order; one statement. */
  claimDue(db: Database, claim: DueClaim): Promise<DeadlineRow[]>;
  /**
   * Records each fire unless its (row, dueAt, outcome) already has one, in the order given, and
   * moves each row on (next repeat or done, lease released), atomically even outside a transaction.
   * Returns the fires inserted, by id.
   */
  completeAll(db: Database, firedAt: string, completes: readonly CompleteDeadline[]): Promise<FireRecord[]>;
  /** Taken in the transaction that replaces the subject's rows, before it reads them. */
  lockSubject(tx: Database, subject: ClockSubject): Promise<void>;
}

/**
 * Records read as they are returned: each column under its field's name. What needs more than a
 * name (flags SQLite returns as 0/1, JSON kept as text, a nested subject) is mapped below.
 */
const SYSTEM_COLUMNS = raw(`
  id, name, level, unit, scope, environment, commissioned_at AS "commissionedAt", approval_ref AS "approvalRef",
  approved_by AS "approvedBy", approved_at AS "approvedAt", status, filed_at AS "filedAt", disposal,
  created_at AS "createdAt", created_by AS "createdBy"`);
const ASSESSMENT_COLUMNS = raw(`
  system_id AS "systemId", id, completed_at AS "completedAt", assessor, result, note,
  recorded_at AS "recordedAt", recorded_by AS "recordedBy"`);
const CHANGE_COLUMNS = raw(`
  system_id AS "systemId", id, kind, at, from_value AS "from", to_value AS "to", by, new_risk AS "newRisk", measures`);
const INCIDENT_COLUMNS = raw(`
  id, title, level, unit, unit_level AS "unitLevel", discovered_at AS "discoveredAt",
  discovery_source AS "discoverySource", description, evidence, created_at AS "createdAt",
  created_by AS "createdBy", identified_at AS "identifiedAt", evidence_from AS "evidenceFrom",
  evidence_to AS "evidenceTo", closed_at AS "closedAt", outcome, closed_by AS "closedBy"`);
const MEASURE_COLUMNS = raw(`
  incident_id AS "incidentId", id, what, by, at, recorded_at AS "recordedAt", recorded_by AS "recordedBy"`);
const REPORT_COLUMNS = raw(`
  incident_id AS "incidentId", id, from_level AS "fromLevel", to_recipient AS "to", reported_at AS "reportedAt",
  received_at AS "receivedAt", channel, by, receipt, recorded_at AS "recordedAt", recorded_by AS "recordedBy", about`);
const RUN_COLUMNS = raw(`
  id, trigger, owner, started_at AS "startedAt", finished_at AS "finishedAt", fired, late, stale, delivered, error`);

type SystemRow = Omit<SystemRecord, 'assessments' | 'changes'>;
type IncidentRow = Omit<IncidentRecord, 'evidence' | 'reports' | 'measures'> & { evidence: string };

export interface DeadlineDbRow {
  id: number;
  subject_type: ClockSubjectType;
  subject_id: string;
  target: string;
  kind: string;
  for_due: string;
  due_at: string;
  repeats: number | boolean;
  escalates_to: string | null;
  created_at: string;
  fired_count: number;
  last_fired_at: string | null;
  done_at: string | null;
  superseded: number | boolean;
}

export interface FireDbRow {
  id: number;
  deadline_id: number;
  subject_type: ClockSubjectType;
  subject_id: string;
  target: string;
  kind: string;
  due_at: string;
  fired_at: string;
  late: number | boolean;
  late_by_ms: number;
  outcome: FireOutcome;
  condition: string | null;
  delivered_at: string | null;
}

/** A fire (`f`) with the row it belongs to (`d`), as FireDbRow. */
export const FIRE_COLUMNS =
  raw(`f.id, f.deadline_id, d.subject_type, d.subject_id, d.target, d.kind, f.due_at,
  f.fired_at, f.late, f.late_by_ms, f.outcome, f.condition, f.delivered_at`);

/** Fires with their rows; callers append WHERE / ORDER BY. */
export const FIRE_SELECT = sql`SELECT ${FIRE_COLUMNS} FROM clock_fires f JOIN clock_deadlines d ON d.id = f.deadline_id`;

/**
 * Joined into a statement whose write a database crash may lose without harm — a delivered mark
 * (the condition is then delivered again, as after a collector crash) or the record of a pass —
 * so on PostgreSQL its commit does not wait for the WAL flush, which otherwise costs more than the
 * rest of an idle pass together. Local to the statement's own transaction; nothing else is affected.
 */
const relaxedCommit = dialectText({
  sqlite: '',
  postgres: ` FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed_commit`,
});

/** The register fields a patch may change, each recorded in the history when it does. */
const PATCHED_FIELDS = ['level', 'scope', 'environment', 'status'] as const;

export const conditionText = (condition: CollectorCondition | null): string | null =>
  condition === null ? null : JSON.stringify(condition);

/** `units` undefined = every unit. */
const inUnits = (units: readonly string[] | undefined): Query =>
  units === undefined ? sql`TRUE` : sql`unit IN ${list(units)}`;

const toIncident = (row: IncidentRow, reports: ReportEntry[], measures: MeasureEntry[]): IncidentRecord => ({
  ...row,
  evidence: JSON.parse(row.evidence) as number[],
  measures,
  reports,
});

async function insertMeasure(
  db: Database,
  incidentId: string,
  measure: NewMeasure,
): Promise<MeasureEntry | undefined> {
  const row = await db.get<{ id: number }>(
    sql`INSERT INTO incident_measures (incident_id, what, by, at, recorded_at, recorded_by)
        SELECT id, ${measure.what}, ${measure.by}, ${measure.at}, ${measure.recordedAt}, ${measure.recordedBy}
        FROM incidents WHERE id = ${incidentId}
        RETURNING id`,
  );
  return row && { id: row.id, ...measure };
}

export function toDeadline(row: DeadlineDbRow): DeadlineRow {
  return {
    id: row.id,
    subject: { type: row.subject_type, id: row.subject_id },
    target: row.target,
    kind: row.kind,
    forDue: row.for_due,
    dueAt: row.due_at,
    repeats: flag(row.repeats),
    escalatesTo: row.escalates_to,
    createdAt: row.created_at,
    firedCount: row.fired_count,
    lastFiredAt: row.last_fired_at,
    doneAt: row.done_at,
    superseded: flag(row.superseded),
  };
}

export function toFire(row: FireDbRow): FireRecord {
  return {
    id: row.id,
    deadlineId: row.deadline_id,
    subject: { type: row.subject_type, id: row.subject_id },
    target: row.target,
    kind: row.kind,
    dueAt: row.due_at,
    firedAt: row.fired_at,
    late: flag(row.late),
    lateByMs: row.late_by_ms,
    outcome: row.outcome,
    condition: row.condition === null ? null : (JSON.parse(row.condition) as CollectorCondition),
    deliveredAt: row.delivered_at,
  };
}

/** Orders claimed rows as the scheduler fires them: by due time, then by id. */
export function byDueTime(a: DeadlineRow, b: DeadlineRow): number {
  return a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : a.id - b.id;
}

/** Entries by the record they belong to (`owner` left out), in the order read. */
function byOwner<Key extends string, Entry>(
  rows: readonly (Entry & Record<Key, string>)[],
  key: Key,
): Map<string, Entry[]> {
  const groups = new Map<string, Entry[]>();
  for (const { [key]: owner, ...entry } of rows) {
    const group = groups.get(owner);
    if (group) group.push(entry as Entry);
    else groups.set(owner, [entry as Entry]);
  }
  return groups;
}

/**
 * The legal clocks in either database, shared by every collector on it. A claim leases rows
 * (with `FOR UPDATE SKIP LOCKED` on PostgreSQL), so collectors passing at once each take different
 * rows and never wait on each other; a dead collector's lease runs out and its rows are claimed
 * again. Replacing a subject's rows locks that subject, so two collectors reconciling the same
 * record at startup supersede (and clear) each row once.
 */
export class SqlClockStore implements ClockStore {
  constructor(
    private readonly db: Database,
    private readonly deadlines: DeadlineDialect,
  ) {}

  /** Systems with their assessments and change history: three statements for any number. */
  private async systems(db: Database, where: Query, orderBy: Query): Promise<SystemRecord[]> {
    const rows = await db.all<SystemRow>(
      sql`SELECT ${SYSTEM_COLUMNS} FROM info_systems WHERE ${where} ORDER BY ${orderBy}`,
    );
    if (rows.length === 0) return [];
    const ids = list(rows.map((row) => row.id));
    const assessments = byOwner<'systemId', AssessmentEntry>(
      await db.all(
        sql`SELECT ${ASSESSMENT_COLUMNS} FROM assessments WHERE system_id IN ${ids} ORDER BY completed_at, id`,
      ),
      'systemId',
    );
    const changes = byOwner<'systemId', SystemChangeEntry>(
      (
        await db.all<SystemChangeEntry & { systemId: string; newRisk: boolean | number | null }>(
          sql`SELECT ${CHANGE_COLUMNS} FROM info_system_changes WHERE system_id IN ${ids} ORDER BY at, id`,
        )
      ).map((change) => ({ ...change, newRisk: change.newRisk === null ? null : flag(change.newRisk) })),
      'systemId',
    );
    return rows.map((row) => ({
      ...row,
      assessments: assessments.get(row.id) ?? [],
      changes: changes.get(row.id) ?? [],
    }));
  }

  /** Incidents with their reports and measures: three statements for any number. */
  private async incidents(db: Database, where: Query, orderBy: Query): Promise<IncidentRecord[]> {
    const rows = await db.all<IncidentRow>(
      sql`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE ${where} ORDER BY ${orderBy}`,
    );
    if (rows.length === 0) return [];
    const ids = list(rows.map((row) => row.id));
    const reports = byOwner<'incidentId', ReportEntry>(
      await db.all(
        sql`SELECT ${REPORT_COLUMNS} FROM incident_reports WHERE incident_id IN ${ids} ORDER BY reported_at, id`,
      ),
      'incidentId',
    );
    const measures = byOwner<'incidentId', MeasureEntry>(
      await db.all(
        sql`SELECT ${MEASURE_COLUMNS} FROM incident_measures WHERE incident_id IN ${ids} ORDER BY at, id`,
      ),
      'incidentId',
    );
    return rows.map((row) => toIncident(row, reports.get(row.id) ?? [], measures.get(row.id) ?? []));
  }

  private async system(db: Database, id: string): Promise<SystemRecord | undefined> {
    return (await this.systems(db, sql`id = ${id}`, raw('id')))[0];
  }

  async createSystem(system: NewSystem): Promise<SystemRecord> {
    const row = await this.db.get<SystemRow>(
      sql`INSERT INTO info_systems (id, name, level, unit, scope, environment, commissioned_at, approval_ref,
            approved_by, approved_at, created_at, created_by)
          VALUES (${system.id}, ${system.name}, ${system.level}, ${system.unit}, ${system.scope},
            ${system.environment}, ${system.commissionedAt}, ${system.approvalRef}, ${system.approvedBy},
            ${system.approvedAt}, ${system.createdAt}, ${system.createdBy})
          RETURNING ${SYSTEM_COLUMNS}`,
    );
    return { ...row!, assessments: [], changes: [] };
  }

  async getSystem(id: string): Promise<SystemRecord | undefined> {
    return this.system(this.db, id);
  }

  async listSystems(filter: { units?: readonly string[] }): Promise<SystemRecord[]> {
    return this.systems(this.db, inUnits(filter.units), sql`unit${bytewise}, name${bytewise}, id${bytewise}`);
  }

  async updateSystem(
    id: string,
    patch: SystemPatch,
    at: string,
    by: string,
  ): Promise<SystemRecord | undefined> {
    return this.db.transaction(async (tx) => {
      // The row lock orders two officers editing one system: each change is recorded against
      // the value the other left, never against a stale read.
      const row = await tx.get<SystemRow>(
        sql`SELECT ${SYSTEM_COLUMNS} FROM info_systems WHERE id = ${id}${forUpdate}`,
      );
      if (!row) return undefined;
      if (patch.filedAt !== undefined) {
        await tx.run(sql`UPDATE info_systems SET filed_at = ${patch.filedAt} WHERE id = ${id}`);
      }
      if (patch.disposal !== undefined) {
        await tx.run(sql`UPDATE info_systems SET disposal = ${patch.disposal} WHERE id = ${id}`);
      }
      if (patch.approval !== undefined) {
        const { ref, by: approvedBy, at: approvedAt } = patch.approval;
        await tx.run(
          sql`UPDATE info_systems SET approval_ref = ${ref}, approved_by = ${approvedBy}, approved_at = ${approvedAt}
              WHERE id = ${id}`,
        );
      }
      for (const field of PATCHED_FIELDS) {
        const next = patch[field];
        if (next === undefined || next === row[field]) continue;
        await tx.run(
          sql`INSERT INTO info_system_changes (system_id, kind, at, from_value, to_value, by, new_risk, measures)
              VALUES (${id}, ${field}, ${at}, ${row[field]}, ${next}, ${by},
                ${field === 'status' ? null : (patch.newRisk ?? null)}, ${field === 'status' ? null : (patch.measures ?? null)})`,
        );
        await tx.run(sql`UPDATE info_systems SET ${raw(field)} = ${next} WHERE id = ${id}`);
      }
      return this.system(tx, id);
    });
  }

  async addAssessment(systemId: string, assessment: NewAssessment): Promise<AssessmentEntry | undefined> {
    const row = await this.db.get<{ id: number }>(
      sql`INSERT INTO assessments (system_id, completed_at, assessor, result, note, recorded_at, recorded_by)
          SELECT id, ${assessment.completedAt}, ${assessment.assessor}, ${assessment.result}, ${assessment.note},
            ${assessment.recordedAt}, ${assessment.recordedBy}
          FROM info_systems WHERE id = ${systemId}
          RETURNING id`,
    );
    return row && { id: row.id, ...assessment };
  }

  async createIncident(incident: NewIncident): Promise<IncidentRecord> {
    return this.db.transaction(async (tx) => {
      const row = await tx.get<IncidentRow>(
        sql`INSERT INTO incidents (id, title, level, unit, unit_level, discovered_at, discovery_source, description,
              evidence, created_at, created_by, identified_at, evidence_from, evidence_to)
            VALUES (${incident.id}, ${incident.title}, ${incident.level}, ${incident.unit}, ${incident.unitLevel},
              ${incident.discoveredAt}, ${incident.discoverySource}, ${incident.description},
              ${JSON.stringify(incident.evidence)}, ${incident.createdAt}, ${incident.createdBy},
              ${incident.identifiedAt ?? null}, ${incident.evidenceFrom ?? null}, ${incident.evidenceTo ?? null})
            RETURNING ${INCIDENT_COLUMNS}`,
      );
      const measures: MeasureEntry[] = [];
      for (const measure of incident.measures)
        measures.push((await insertMeasure(tx, incident.id, measure))!);
      return toIncident(row!, [], measures);
    });
  }

  async addMeasure(incidentId: string, measure: NewMeasure): Promise<MeasureEntry | undefined> {
    return insertMeasure(this.db, incidentId, measure);
  }

  async closeIncident(incidentId: string, closure: IncidentClosure): Promise<boolean> {
    const { changes } = await this.db.run(
      sql`UPDATE incidents SET closed_at = ${closure.closedAt}, outcome = ${closure.outcome},
            closed_by = ${closure.closedBy}
          WHERE id = ${incidentId} AND closed_at IS NULL`,
    );
    return changes === 1;
  }

  async getIncident(id: string): Promise<IncidentRecord | undefined> {
    return (await this.incidents(this.db, sql`id = ${id}`, raw('id')))[0];
  }

  async listIncidents(filter: { units?: readonly string[] }): Promise<IncidentRecord[]> {
    return this.incidents(this.db, inUnits(filter.units), sql`discovered_at DESC, id${bytewise}`);
  }

  async evidenceEvents(
    ids: readonly number[],
  ): Promise<{ id: number; ts: string; unit: string; type: string; agentId: string }[]> {
    if (ids.length === 0) return [];
    return this.db.all<{ id: number; ts: string; unit: string; type: string; agentId: string }>(
      sql`SELECT e.id, e.ts, a.unit, e.type, e.agent_id AS "agentId" FROM events e JOIN agents a ON a.id = e.agent_id
          WHERE e.id IN ${list(ids)} ORDER BY e.ts, e.id`,
    );
  }

  async addReport(incidentId: string, report: NewReport): Promise<ReportEntry | undefined> {
    const row = await this.db.get<{ id: number }>(
      sql`INSERT INTO incident_reports (incident_id, from_level, to_recipient, reported_at, received_at, channel,
            by, receipt, recorded_at, recorded_by, about)
          SELECT id, ${report.fromLevel}, ${report.to}, ${report.reportedAt}, ${report.receivedAt}, ${report.channel},
            ${report.by}, ${report.receipt}, ${report.recordedAt}, ${report.recordedBy}, ${report.about ?? 'leak'}
          FROM incidents WHERE id = ${incidentId}
          RETURNING id`,
    );
    return row && { id: row.id, ...report, about: report.about ?? 'leak' };
  }

  async setReportReceipt(
    incidentId: string,
    reportId: number,
    receivedAt: string,
    receipt: string | null,
  ): Promise<boolean> {
    const { changes } = await this.db.run(
      sql`UPDATE incident_reports SET received_at = ${receivedAt}, receipt = COALESCE(${receipt}, receipt)
          WHERE id = ${reportId} AND incident_id = ${incidentId}`,
    );
    return changes === 1;
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
    return this.db.transaction(async (tx) => {
      await this.deadlines.lockSubject(tx, subject);
      // Pending rows, and fired rows whose condition still stands (not yet superseded); locked
      // so a collector completing one of them waits until this replacement is decided.
      const live = await tx.all<DeadlineDbRow>(
        sql`SELECT * FROM clock_deadlines WHERE subject_type = ${subject.type} AND subject_id = ${subject.id}
              AND (done_at IS NULL OR (NOT superseded AND fired_count > 0))
            ORDER BY id${forUpdate}`,
      );
      const stale = live.map(toDeadline).filter((row) => !wanted.has(keyOf(row)));
      if (stale.length > 0) {
        await tx.run(
          sql`UPDATE clock_deadlines SET done_at = COALESCE(done_at, ${now}), superseded = TRUE, claimed_by = NULL,
                claimed_until = NULL
              WHERE id IN ${list(stale.map((row) => row.id))}`,
        );
      }
      const clears = await this.recordClears(tx, stale, now, clearing);
      const added = await this.upsertDeadlines(tx, subject, [...wanted.values()], now);
      return { added, superseded: stale.length, clears };
    });
  }

  /** A `cleared` fire for each superseded row that had fired and whose condition `clearing` gives. */
  private async recordClears(
    tx: Database,
    superseded: readonly DeadlineRow[],
    now: string,
    clearing: (row: DeadlineRow) => CollectorCondition | null,
  ): Promise<FireRecord[]> {
    const values: Query[] = [];
    for (const row of superseded) {
      if (row.firedCount === 0) continue;
      const condition = clearing(row);
      if (condition)
        values.push(sql`(${row.id}, ${now}, ${now}, FALSE, 0, 'cleared', ${conditionText(condition)})`);
    }
    if (values.length === 0) return [];
    const inserted = await tx.all<{ id: number }>(
      sql`INSERT INTO clock_fires (deadline_id, due_at, fired_at, late, late_by_ms, outcome, condition)
          VALUES ${join(values)} ON CONFLICT DO NOTHING RETURNING id`,
    );
    if (inserted.length === 0) return [];
    const rows = await tx.all<FireDbRow>(
      sql`${FIRE_SELECT} WHERE f.id IN ${list(inserted.map((row) => row.id))} ORDER BY f.id`,
    );
    return rows.map(toFire);
  }

  /**
   * Adds the rows not there yet. An existing row keeps its state; a superseded one comes back only
   * if it never fired, or repeats (an overdue warning that was cleared and is due again).
   */
  private async upsertDeadlines(
    tx: Database,
    subject: ClockSubject,
    specs: readonly DeadlineSpec[],
    now: string,
  ): Promise<number> {
    if (specs.length === 0) return 0;
    const values = specs.map(
      (s) =>
        sql`(${subject.type}, ${subject.id}, ${s.target}, ${s.kind}, ${s.forDue}, ${s.dueAt}, ${s.repeats},
             ${s.escalatesTo}, ${now})`,
    );
    const { changes } = await tx.run(
      sql`INSERT INTO clock_deadlines (subject_type, subject_id, target, kind, for_due, due_at, repeats, escalates_to,
            created_at)
          VALUES ${join(values)}
          ON CONFLICT (subject_type, subject_id, target, kind, for_due) DO UPDATE
            SET done_at = NULL, superseded = FALSE, due_at = excluded.due_at, created_at = excluded.created_at
            WHERE clock_deadlines.superseded
              AND (clock_deadlines.fired_count = 0 OR clock_deadlines.repeats)`,
    );
    return changes;
  }

  async claimDueDeadlines(claim: DueClaim): Promise<DeadlineRow[]> {
    return this.deadlines.claimDue(this.db, claim);
  }

  async completeDeadline(complete: CompleteDeadline): Promise<FireRecord | null> {
    const [fire] = await this.deadlines.completeAll(this.db, complete.firedAt, [complete]);
    return fire ?? null;
  }

  /**
   * Claim, records and fires in one transaction, a fixed number of statements whatever the batch
   * size on PostgreSQL. The claimed rows stay locked until the commit, so a collector claiming at
   * the same moment skips them; if this one dies first, its transaction is rolled back and they
   * are free at once.
   */
  async fireDueDeadlines(
    claim: DueClaim,
    decide: (row: DeadlineRow, record: ClockRecord) => FireDecision | null,
  ): Promise<FiredBatch> {
    return this.db.transaction(async (tx) => {
      const rows = await this.deadlines.claimDue(tx, claim);
      if (rows.length === 0) return { claimed: 0, fires: [] };
      const records = await this.recordsOf(tx, rows);
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
      return { claimed: rows.length, fires: await this.deadlines.completeAll(tx, claim.now, completes) };
    });
  }

  /** The record of each row's subject, read once per subject, by `type:id`. */
  private async recordsOf(tx: Database, rows: readonly DeadlineRow[]): Promise<Map<string, ClockRecord>> {
    const idsOf = (type: ClockSubjectType) => [
      ...new Set(rows.filter((row) => row.subject.type === type).map((row) => row.subject.id)),
    ];
    const [systemIds, incidentIds] = [idsOf('system'), idsOf('incident')];
    const records = new Map<string, ClockRecord>();
    if (systemIds.length > 0) {
      for (const system of await this.systems(tx, sql`id IN ${list(systemIds)}`, raw('id'))) {
        records.set(`system:${system.id}`, system);
      }
    }
    if (incidentIds.length > 0) {
      for (const incident of await this.incidents(tx, sql`id IN ${list(incidentIds)}`, raw('id'))) {
        records.set(`incident:${incident.id}`, incident);
      }
    }
    for (const rectification of await loadRectifications(tx, idsOf('rectification'))) {
      records.set(`rectification:${rectification.id}`, rectification);
    }
    return records;
  }

  async listDeadlines(subject: ClockSubject): Promise<DeadlineRow[]> {
    const rows = await this.db.all<DeadlineDbRow>(
      sql`SELECT * FROM clock_deadlines WHERE subject_type = ${subject.type} AND subject_id = ${subject.id}
          ORDER BY due_at, id`,
    );
    return rows.map(toDeadline);
  }

  async listFires(subject: ClockSubject): Promise<FireRecord[]> {
    const rows = await this.db.all<FireDbRow>(
      sql`${FIRE_SELECT} WHERE d.subject_type = ${subject.type} AND d.subject_id = ${subject.id} ORDER BY f.id`,
    );
    return rows.map(toFire);
  }

  async listUndelivered(limit: number): Promise<FireRecord[]> {
    const rows = await this.db.all<FireDbRow>(
      sql`${FIRE_SELECT} WHERE f.delivered_at IS NULL AND f.condition IS NOT NULL ORDER BY f.id LIMIT ${limit}`,
    );
    return rows.map(toFire);
  }

  async markDelivered(fireIds: readonly number[], at: string): Promise<void> {
    if (fireIds.length === 0) return;
    await this.db.run(
      sql`UPDATE clock_fires SET delivered_at = ${at}${relaxedCommit}
          WHERE id IN ${list(fireIds)} AND delivered_at IS NULL`,
    );
  }

  async startRun(run: { trigger: string; owner: string; startedAt: string }): Promise<number> {
    const row = await this.db.get<{ id: number }>(
      sql`INSERT INTO clock_runs (trigger, owner, started_at)
          SELECT ${run.trigger}, ${run.owner}, ${run.startedAt}${relaxedCommit} RETURNING id`,
    );
    return row!.id;
  }

  async finishRun(id: number, summary: RunSummary): Promise<void> {
    await this.db.run(
      sql`UPDATE clock_runs SET finished_at = ${summary.finishedAt}, fired = ${summary.fired}, late = ${summary.late},
            stale = ${summary.stale}, delivered = ${summary.delivered}, error = ${summary.error}${relaxedCommit}
          WHERE id = ${id}`,
    );
  }

  async lastRun(): Promise<RunRecord | undefined> {
    return this.db.get<RunRecord>(sql`SELECT ${RUN_COLUMNS} FROM clock_runs ORDER BY id DESC LIMIT 1`);
  }
}
