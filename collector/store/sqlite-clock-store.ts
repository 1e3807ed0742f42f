import type Database from 'better-sqlite3';
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

function unitClause(units: readonly string[] | undefined, params: unknown[]): string {
  if (units === undefined) return '';
  if (units.length === 0) return ' AND 0';
  params.push(...units);
  return ` AND unit IN (${units.map(() => '?').join(', ')})`;
}

export class SqliteClockStore implements ClockStore {
  private readonly statements = new Map<string, Database.Statement>();
  constructor(private readonly db: Database.Database) {}

  /** Prepared once per SQL text: preparing dominated a scheduler pass otherwise. */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      // IN lists vary in length; a bound keeps odd ones from growing the cache without end.
      if (this.statements.size < 256) this.statements.set(text, statement);
    }
    return statement;
  }

  private readSystem(row: SystemRow): SystemRecord {
    const assessments = this.sql(
      `SELECT ${ASSESSMENT_COLUMNS} FROM assessments WHERE system_id = ? ORDER BY completed_at, id`,
    ).all(row.id) as AssessmentRow[];
    const changes = this.sql(
      `SELECT ${SYSTEM_CHANGE_COLUMNS} FROM info_system_changes WHERE system_id = ? ORDER BY at, id`,
    ).all(row.id) as SystemChangeRow[];
    return toSystem(row, assessments.map(toAssessment), changes.map(toSystemChange));
  }

  private systemRow(id: string): SystemRow | undefined {
    return this.sql('SELECT * FROM info_systems WHERE id = ?').get(id) as SystemRow | undefined;
  }

  async createSystem(system: NewSystem): Promise<SystemRecord> {
    this.sql(
      `INSERT INTO info_systems (id, name, level, unit, scope, environment, commissioned_at, approval_ref,
           approved_by, approved_at, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
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
    );
    return this.readSystem(this.systemRow(system.id)!);
  }

  async getSystem(id: string): Promise<SystemRecord | undefined> {
    return this.system(id);
  }

  private system(id: string): SystemRecord | undefined {
    const row = this.systemRow(id);
    return row && this.readSystem(row);
  }

  async listSystems(filter: { units?: readonly string[] }): Promise<SystemRecord[]> {
    const params: unknown[] = [];
    const rows = this.sql(
      `SELECT * FROM info_systems WHERE 1${unitClause(filter.units, params)} ORDER BY unit, name, id`,
    ).all(...params) as SystemRow[];
    return rows.map((row) => this.readSystem(row));
  }

  async updateSystem(
    id: string,
    patch: SystemPatch,
    at: string,
    by: string,
  ): Promise<SystemRecord | undefined> {
    const update = this.db.transaction((): SystemRecord | undefined => {
      const row = this.systemRow(id);
      if (!row) return undefined;
      const record = this.sql(
        'INSERT INTO info_system_changes (system_id, kind, at, from_value, to_value, by) VALUES (?, ?, ?, ?, ?, ?)',
      );
      const fields = [
        ['level', 'level'],
        ['scope', 'scope'],
        ['environment', 'environment'],
        ['status', 'status'],
      ] as const;
      if (patch.filedAt !== undefined) {
        this.sql('UPDATE info_systems SET filed_at = ? WHERE id = ?').run(patch.filedAt, id);
      }
      for (const [key, column] of fields) {
        const next = patch[key];
        if (next === undefined || next === row[column]) continue;
        record.run(id, key, at, row[column], next, by);
        this.sql(`UPDATE info_systems SET ${column} = ? WHERE id = ?`).run(next, id);
      }
      return this.readSystem(this.systemRow(id)!);
    });
    return update.immediate();
  }

  async addAssessment(systemId: string, assessment: NewAssessment): Promise<AssessmentEntry | undefined> {
    if (!this.systemRow(systemId)) return undefined;
    const result = this.sql(
      `INSERT INTO assessments (system_id, completed_at, assessor, result, note, recorded_at, recorded_by)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      systemId,
      assessment.completedAt,
      assessment.assessor,
      assessment.result,
      assessment.note,
      assessment.recordedAt,
      assessment.recordedBy,
    );
    return { id: Number(result.lastInsertRowid), ...assessment };
  }

  private readIncident(row: IncidentRow): IncidentRecord {
    const reports = this.sql(
      'SELECT * FROM incident_reports WHERE incident_id = ? ORDER BY reported_at, id',
    ).all(row.id) as ReportRow[];
    return toIncident(row, reports.map(toReport));
  }

  async createIncident(incident: NewIncident): Promise<IncidentRecord> {
    this.sql(
      `INSERT INTO incidents (id, title, level, unit, unit_level, discovered_at, discovery_source, description,
           measures, evidence, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
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
    );
    return (await this.getIncident(incident.id))!;
  }

  async getIncident(id: string): Promise<IncidentRecord | undefined> {
    return this.incident(id);
  }

  private incident(id: string): IncidentRecord | undefined {
    const row = this.sql('SELECT * FROM incidents WHERE id = ?').get(id) as IncidentRow | undefined;
    return row && this.readIncident(row);
  }

  async listIncidents(filter: { units?: readonly string[] }): Promise<IncidentRecord[]> {
    const params: unknown[] = [];
    const rows = this.sql(
      `SELECT * FROM incidents WHERE 1${unitClause(filter.units, params)} ORDER BY discovered_at DESC, id`,
    ).all(...params) as IncidentRow[];
    return rows.map((row) => this.readIncident(row));
  }

  async evidenceEvents(
    ids: readonly number[],
  ): Promise<{ id: number; ts: string; unit: string; type: string }[]> {
    if (ids.length === 0) return [];
    return this.sql(
      `SELECT e.id, e.ts, a.unit, e.type FROM events e JOIN agents a ON a.id = e.agent_id
         WHERE e.id IN (${ids.map(() => '?').join(', ')}) ORDER BY e.ts, e.id`,
    ).all(...ids) as { id: number; ts: string; unit: string; type: string }[];
  }

  async addReport(incidentId: string, report: NewReport): Promise<ReportEntry | undefined> {
    if (!this.sql('SELECT 1 FROM incidents WHERE id = ?').get(incidentId)) return undefined;
    const result = this.sql(
      `INSERT INTO incident_reports (incident_id, from_level, to_recipient, reported_at, received_at, channel, by,
           receipt, recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
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
    );
    return { id: Number(result.lastInsertRowid), ...report };
  }

  async setReportReceipt(
    incidentId: string,
    reportId: number,
    receivedAt: string,
    receipt: string | null,
  ): Promise<boolean> {
    const result = this.sql(
      'UPDATE incident_reports SET received_at = ?, receipt = COALESCE(?, receipt) WHERE id = ? AND incident_id = ?',
    ).run(receivedAt, receipt, reportId, incidentId);
    return result.changes === 1;
  }

  async replaceDeadlines(
    subject: ClockSubject,
    specs: readonly DeadlineSpec[],
    now: string,
    clearing: (row: DeadlineRow) => CollectorCondition | null,
  ): Promise<{ added: number; superseded: number; clears: FireRecord[] }> {
    const keyOf = (s: { target: string; kind: string; forDue: string }) =>
      `${s.target}\u0000${s.kind}\u0000${s.forDue}`;
    const wanted = new Set(specs.map(keyOf));
    const replace = this.db.transaction(() => {
      // Pending rows, and fired rows whose condition still stands (not yet superseded).
      const live = (
        this.sql(
          `SELECT * FROM clock_deadlines WHERE subject_type = ? AND subject_id = ?
               AND (done_at IS NULL OR (superseded = 0 AND fired_count > 0))`,
        ).all(subject.type, subject.id) as DeadlineDbRow[]
      ).map(toDeadline);
      const supersede = this.sql(
        `UPDATE clock_deadlines SET done_at = COALESCE(done_at, ?), superseded = 1, claimed_by = NULL,
           claimed_until = NULL WHERE id = ?`,
      );
      const clearFire = this.sql(
        `INSERT INTO clock_fires (deadline_id, due_at, fired_at, late, late_by_ms, outcome, condition)
         VALUES (?, ?, ?, 0, 0, 'cleared', ?) ON CONFLICT DO NOTHING`,
      );
      const clearIds: number[] = [];
      let superseded = 0;
      for (const row of live) {
        if (wanted.has(keyOf(row))) continue;
        supersede.run(now, row.id);
        superseded += 1;
        if (row.firedCount === 0) continue;
        const condition = clearing(row);
        if (!condition) continue;
        const result = clearFire.run(row.id, now, now, JSON.stringify(condition));
        if (result.changes === 1) clearIds.push(Number(result.lastInsertRowid));
      }
      // An existing row keeps its state; a superseded one comes back only if it never fired, or
      // repeats (an overdue warning that was cleared and is due again).
      const upsert = this.sql(
        `INSERT INTO clock_deadlines (subject_type, subject_id, target, kind, for_due, due_at, repeats, escalates_to,
           created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (subject_type, subject_id, target, kind, for_due) DO UPDATE
           SET done_at = NULL, superseded = 0, due_at = excluded.due_at, created_at = excluded.created_at
           WHERE superseded = 1 AND (fired_count = 0 OR repeats = 1)`,
      );
      let added = 0;
      for (const spec of specs) {
        added += upsert.run(
          subject.type,
          subject.id,
          spec.target,
          spec.kind,
          spec.forDue,
          spec.dueAt,
          spec.repeats ? 1 : 0,
          spec.escalatesTo,
          now,
        ).changes;
      }
      const clears = clearIds.map((id) =>
        toFire(this.sql(`${FIRE_SELECT} WHERE f.id = ?`).get(id) as FireDbRow),
      );
      return { added, superseded, clears };
    });
    return replace.immediate();
  }

  async claimDueDeadlines(claim: DueClaim): Promise<DeadlineRow[]> {
    return this.claim(claim);
  }

  async completeDeadline(complete: CompleteDeadline): Promise<FireRecord | null> {
    return this.db.transaction(() => this.complete(complete)).immediate();
  }

  async fireDueDeadlines(
    claim: DueClaim,
    decide: (row: DeadlineRow, record: ClockRecord) => FireDecision | null,
  ): Promise<FiredBatch> {
    const batch = this.db.transaction((): FiredBatch => {
      const rows = this.claim(claim);
      // A subject's record is read once per batch, however many of its rows fall due.
      const records = new Map<string, ClockRecord>();
      const fires: FireRecord[] = [];
      for (const row of rows) {
        const key = `${row.subject.type}:${row.subject.id}`;
        if (!records.has(key)) {
          records.set(
            key,
            row.subject.type === 'system' ? this.system(row.subject.id) : this.incident(row.subject.id),
          );
        }
        const decision = decide(row, records.get(key));
        if (!decision) continue;
        const fire = this.complete({
          ...decision,
          deadlineId: row.id,
          owner: claim.owner,
          dueAt: row.dueAt,
          firedAt: claim.now,
        });
        if (fire) fires.push(fire);
      }
      return { claimed: rows.length, fires };
    });
    return batch.immediate();
  }

  /** Leases the due rows (see ClockStore.claimDueDeadlines); the caller's transaction, if any. */
  private claim(claim: DueClaim): DeadlineRow[] {
    const rows = this.sql(
      `UPDATE clock_deadlines SET claimed_by = ?, claimed_until = ?
         WHERE id IN (
           SELECT id FROM clock_deadlines
           WHERE done_at IS NULL AND due_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)
           ORDER BY due_at, id LIMIT ?)
         RETURNING *`,
    ).all(claim.owner, claim.leaseUntil, claim.now, claim.now, claim.limit) as DeadlineDbRow[];
    return rows.map(toDeadline).sort(byDueTime);
  }

  /** Records one fire and moves its row on; run inside a transaction. */
  private complete(complete: CompleteDeadline): FireRecord | null {
    const inserted = this.sql(
      `INSERT INTO clock_fires (deadline_id, due_at, fired_at, late, late_by_ms, outcome, condition)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ).run(
      complete.deadlineId,
      complete.dueAt,
      complete.firedAt,
      complete.late ? 1 : 0,
      complete.lateByMs,
      complete.outcome,
      complete.condition === null ? null : JSON.stringify(complete.condition),
    );
    if (complete.nextDueAt !== null && complete.outcome === 'fired') {
      this.sql(
        `UPDATE clock_deadlines SET due_at = ?, fired_count = fired_count + ?, last_fired_at = ?,
             claimed_by = NULL, claimed_until = NULL WHERE id = ?`,
      ).run(complete.nextDueAt, inserted.changes, complete.firedAt, complete.deadlineId);
    } else {
      this.sql(
        `UPDATE clock_deadlines SET done_at = COALESCE(done_at, ?), fired_count = fired_count + ?,
             last_fired_at = CASE WHEN ? = 'fired' THEN ? ELSE last_fired_at END,
             claimed_by = NULL, claimed_until = NULL WHERE id = ?`,
      ).run(complete.firedAt, inserted.changes, complete.outcome, complete.firedAt, complete.deadlineId);
    }
    if (inserted.changes === 0) return null;
    return toFire(
      this.sql(`${FIRE_SELECT} WHERE f.id = ?`).get(Number(inserted.lastInsertRowid)) as FireDbRow,
    );
  }

  async listDeadlines(subject: ClockSubject): Promise<DeadlineRow[]> {
    const rows = this.sql(
      'SELECT * FROM clock_deadlines WHERE subject_type = ? AND subject_id = ? ORDER BY due_at, id',
    ).all(subject.type, subject.id) as DeadlineDbRow[];
    return rows.map(toDeadline);
  }

  async listFires(subject: ClockSubject): Promise<FireRecord[]> {
    const rows = this.sql(`${FIRE_SELECT} WHERE d.subject_type = ? AND d.subject_id = ? ORDER BY f.id`).all(
      subject.type,
      subject.id,
    ) as FireDbRow[];
    return rows.map(toFire);
  }

  async listUndelivered(limit: number): Promise<FireRecord[]> {
    const rows = this.sql(
      `${FIRE_SELECT} WHERE f.delivered_at IS NULL AND f.condition IS NOT NULL ORDER BY f.id LIMIT ?`,
    ).all(limit) as FireDbRow[];
    return rows.map(toFire);
  }

  async markDelivered(fireIds: readonly number[], at: string): Promise<void> {
    if (fireIds.length === 0) return;
    // json_each: one statement text, whatever the number of ids (no IN list to prepare anew).
    this.sql(
      `UPDATE clock_fires SET delivered_at = ?
         WHERE id IN (SELECT value FROM json_each(?)) AND delivered_at IS NULL`,
    ).run(at, JSON.stringify(fireIds));
  }

  async startRun(run: { trigger: string; owner: string; startedAt: string }): Promise<number> {
    const result = this.sql('INSERT INTO clock_runs (trigger, owner, started_at) VALUES (?, ?, ?)').run(
      run.trigger,
      run.owner,
      run.startedAt,
    );
    return Number(result.lastInsertRowid);
  }

  async finishRun(id: number, summary: RunSummary): Promise<void> {
    this.sql(
      `UPDATE clock_runs SET finished_at = ?, fired = ?, late = ?, stale = ?, delivered = ?, error = ? WHERE id = ?`,
    ).run(
      summary.finishedAt,
      summary.fired,
      summary.late,
      summary.stale,
      summary.delivered,
      summary.error,
      id,
    );
  }

  async lastRun(): Promise<RunRecord | undefined> {
    const row = this.sql('SELECT * FROM clock_runs ORDER BY id DESC LIMIT 1').get() as RunRow | undefined;
    return row && toRun(row);
  }
}
