import type { Level, Severity } from '../../shared/levels.js';
import type { Notice, NoticeRecipient } from '../warnings/notices.js';
import type { Silence } from '../warnings/silences.js';
import type { Actor, EvidenceRef, TransitionRecord, Warning, WarningState } from '../warnings/warning.js';
import type { EvidenceRecord, NotificationRecord, StoredSilence } from './warning-store.js';

/**
 * The 第64条 warning rows as both SQL stores read them, and their mapping to records (the twin of
 * sql-rows.ts for the warnings domain): one mapping, so SQLite and PostgreSQL cannot drift apart.
 */
export const WARNING_COLUMNS = `id, rule, slot, unit, agent, state, severity, level, count, first_seen, last_seen,
  created_at, resolved_at, doc`;

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
export interface WarningDoc {
  title: Warning['title'];
  key: string;
  labels: Record<string, string>;
  origin: Warning['origin'];
  agents: string[];
  type: string;
  sample: Warning['sample'];
}

export interface TransitionRow {
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

export interface EvidenceRow {
  event_id: number | null;
  condition_id: number | null;
  agent: string;
  seq: number;
  ts: string;
  state: string;
  envelope: string | null;
  c_type: string | null;
  c_key: string | null;
  c_data: string | null;
  c_at: string | null;
}

export interface SilenceRow {
  id: string;
  matcher: string;
  starts_at: string;
  ends_at: string;
  author: string;
  reason: string;
  created_at: string;
  approved_by: string | null;
  expired_by: string | null;
}

export interface NoticeRow {
  id: string;
  title: string;
  text: string;
  required_action: string;
  deadline: string;
  issuer_unit: string | null;
  issued_by: string;
  issued_at: string;
  warning_id: string | null;
}

export interface RecipientRow {
  notice_id: string;
  unit: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  result: string | null;
  result_at: string | null;
  result_by: string | null;
}

export interface NotificationRow {
  id: number;
  warning_id: string;
  channel: string;
  occasion: string;
  state: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  done_at: string | null;
  muted_by: string | null;
}

export function parseJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

/** JSON text for a nullable column. */
export function jsonOrNull(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
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

export function docOf(w: Warning): WarningDoc {
  return {
    title: w.title,
    key: w.key,
    labels: w.labels,
    origin: w.origin,
    agents: w.agents,
    type: w.type,
    sample: w.sample,
  };
}

export function toTransition(t: TransitionRow): TransitionRecord {
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

export function toEvidence(row: EvidenceRow): EvidenceRecord {
  const record: EvidenceRecord = {
    agent: row.agent,
    seq: row.seq,
    ts: row.ts,
    state: row.state as EvidenceRef['state'],
  };
  if (row.event_id !== null) record.eventId = row.event_id;
  if (row.envelope !== null) record.envelope = row.envelope;
  if (row.condition_id !== null && row.c_type !== null) {
    record.condition = {
      id: row.condition_id,
      type: row.c_type,
      key: row.c_key ?? '',
      data: JSON.parse(row.c_data ?? '{}') as Record<string, unknown>,
      at: row.c_at ?? row.ts,
    };
  }
  return record;
}

/** A negative seq is a collector condition's row id (conditionSeq), not an agent's event. */
export function evidenceConditionId(ref: EvidenceRef): number | null {
  return ref.seq < 0 ? -ref.seq : null;
}

export function toSilence(row: SilenceRow): StoredSilence {
  return {
    id: row.id,
    matcher: JSON.parse(row.matcher) as Silence['matcher'],
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    author: JSON.parse(row.author) as Actor,
    reason: row.reason,
    createdAt: row.created_at,
    approvedBy: parseJson<Silence['approvedBy']>(row.approved_by),
    expiredBy: parseJson<StoredSilence['expiredBy']>(row.expired_by),
  };
}

export function toNotice(row: NoticeRow, recipients: readonly RecipientRow[]): Notice {
  return {
    id: row.id,
    title: row.title,
    text: row.text,
    requiredAction: row.required_action,
    deadline: row.deadline,
    issuerUnit: row.issuer_unit,
    issuedBy: JSON.parse(row.issued_by) as Actor,
    issuedAt: row.issued_at,
    warningId: row.warning_id,
    recipients: recipients.map((r): NoticeRecipient => ({
      unit: r.unit,
      acknowledgedAt: r.acknowledged_at,
      acknowledgedBy: parseJson<Actor>(r.acknowledged_by),
      result: r.result,
      resultAt: r.result_at,
      resultBy: parseJson<Actor>(r.result_by),
    })),
  };
}

/** A recipient's changing columns, in the order both stores write them. */
export function recipientValues(r: NoticeRecipient): (string | null)[] {
  return [r.acknowledgedAt, jsonOrNull(r.acknowledgedBy), r.result, r.resultAt, jsonOrNull(r.resultBy)];
}

export function toNotification(row: NotificationRow): NotificationRecord {
  return {
    id: row.id,
    warningId: row.warning_id,
    channel: row.channel,
    occasion: row.occasion,
    state: row.state as NotificationRecord['state'],
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    doneAt: row.done_at,
    mutedBy: row.muted_by,
  };
}

/** Values of a warning's columns in WARNING_COLUMNS order, then updated_at. */
export function warningValues(w: Warning, now: string): unknown[] {
  return [
    w.id,
    w.rule,
    w.slot,
    w.unit,
    w.agent,
    w.state,
    w.severity,
    w.level,
    w.count,
    w.firstSeen,
    w.lastSeen,
    w.createdAt,
    w.resolvedAt,
    JSON.stringify(docOf(w)),
    now,
  ];
}
