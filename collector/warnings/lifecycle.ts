import { allows } from '../auth/permissions.js';
import type { Level } from '../../shared/levels.js';
import {
  incidentsOf,
  isTerminalState,
  WARNING_STATE_NAMES,
  type Actor,
  type TransitionRecord,
  type Warning,
  type WarningState,
} from './warning.js';

/**
 * Handling of a 第64条 warning: 发现 → 识别 → 处置 → 关闭, or 误报 (false positive, with a reason)
 * from any open step. Steps are not skipped, so the record always shows that the risk was
 * identified before it was handled. Closed and false-positive warnings are final: a new
 * occurrence opens a new warning (see releaseWarning in collector/rules/evaluate.ts).
 */
export const NEXT_STATES: Readonly<Record<WarningState, readonly WarningState[]>> = {
  discovered: ['identified', 'false-positive'],
  identified: ['handling', 'false-positive'],
  handling: ['closed', 'false-positive'],
  closed: [],
  'false-positive': [],
};

/** Notes are the legal record of each step; long enough for a paragraph, not for a document. */
export const MAX_NOTE_LENGTH = 4000;

export type RefusalReason =
  | 'role'
  | 'scope'
  | 'terminal'
  | 'illegal-transition'
  | 'incident-exists'
  | 'note-required'
  | 'note-too-long';

export interface Refusal {
  ok: false;
  reason: RefusalReason;
  message: string;
  messageZh: string;
}

export interface HandlingOptions {
  /**
   * Whether an actor of `actorUnit` may handle a warning of `warningUnit`. The API passes the unit
   * hierarchy (a unit and the units below it); the default allows only the same unit. An actor
   * with no unit is collector-wide.
   */
  inScope?: (actorUnit: string, warningUnit: string) => boolean;
}

export interface TransitionRequest {
  to: WarningState;
  note?: string;
  actor: Actor;
}

export type TransitionResult =
  | {
      ok: true;
      warning: Warning;
      record: TransitionRecord;
      /** True when the warning reached a final state: release its rule slot. */
      release: boolean;
    }
  | Refusal;

export function transition(
  warning: Warning,
  request: TransitionRequest,
  now: Date,
  options: HandlingOptions = {},
): TransitionResult {
  const note = (request.note ?? '').trim();
  const refused = checkActor(warning, request.actor, options) ?? checkNote(note);
  if (refused) return refused;
  const from = warning.state;
  if (isTerminalState(from)) {
    return refuse(
      'terminal',
      `the warning is already ${from}; a new occurrence opens a new warning`,
      `预警已${from === 'closed' ? '关闭' : '判定为误报'}，不能再变更`,
    );
  }
  if (!NEXT_STATES[from].includes(request.to)) {
    return refuse(
      'illegal-transition',
      `cannot go from ${from} to ${request.to}; next: ${NEXT_STATES[from].join(' or ')}`,
      `不能从“${WARNING_STATE_NAMES[from].zh}”转为“${WARNING_STATE_NAMES[request.to]?.zh ?? String(request.to)}”`,
    );
  }
  if (request.to === 'false-positive' && note === '') {
    return refuse(
      'note-required',
      'closing as a false positive needs a reason in the note',
      '判定误报必须填写理由',
    );
  }
  const record: TransitionRecord = {
    action: 'transition',
    from,
    to: request.to,
    by: { ...request.actor },
    at: now.toISOString(),
    note,
  };
  return {
    ok: true,
    warning: { ...warning, state: request.to, history: [...warning.history, record] },
    record,
    release: isTerminalState(request.to),
  };
}

/** The steps this actor may take now, for the dashboard's buttons. */
export function allowedTransitions(
  warning: Warning,
  actor: Actor,
  options: HandlingOptions = {},
): WarningState[] {
  if (checkActor(warning, actor, options)) return [];
  return [...NEXT_STATES[warning.state]];
}

/**
 * A request to open a 第61条 incident (a leak or possible leak) from this warning. Incidents and
 * their 24-hour report chain are built elsewhere; this returns what they need. The discovery
 * time is the warning's first evidence, the attested time the 24 hours run from.
 */
export interface IncidentRequest {
  kind: 'open-incident';
  warningId: string;
  title: string;
  level: Level | null;
  discoveredAt: string;
  unit: string;
  requestedBy: Actor;
  requestedAt: string;
  note: string;
}

export type IncidentRequestResult =
  { ok: true; warning: Warning; record: TransitionRecord; effect: IncidentRequest } | Refusal;

/** A lifecycle step as updateWarning (update-warning.ts) records it. */
export type WarningStep = TransitionResult | IncidentRequestResult;

/**
 * Allowed from every state but false-positive: a warning closed after handling may still turn
 * out to be a leak. The step is recorded in the warning's history without changing its state,
 * with `incidentId` once the incident exists; a warning opens one incident, not one per click.
 */
export function requestIncident(
  warning: Warning,
  request: { actor: Actor; note?: string; title?: string; incidentId?: string },
  now: Date,
  options: HandlingOptions = {},
): IncidentRequestResult {
  const note = (request.note ?? '').trim();
  const refused = checkActor(warning, request.actor, options) ?? checkNote(note);
  if (refused) return refused;
  if (warning.state === 'false-positive') {
    return refuse(
      'illegal-transition',
      'a warning judged a false positive cannot open an incident',
      '已判定为误报的预警不能启动泄密事件报告',
    );
  }
  const opened = incidentsOf(warning);
  if (opened.length > 0) {
    return refuse(
      'incident-exists',
      `this warning already opened incident ${opened.join(', ')}`,
      `该预警已启动泄密事件报告 ${opened.join('、')}`,
    );
  }
  const at = now.toISOString();
  const record: TransitionRecord = {
    action: 'open-incident',
    from: warning.state,
    to: warning.state,
    by: { ...request.actor },
    at,
    note,
    ...(request.incidentId !== undefined && { incidentId: request.incidentId }),
  };
  return {
    ok: true,
    warning: { ...warning, history: [...warning.history, record] },
    record,
    effect: {
      kind: 'open-incident',
      warningId: warning.id,
      title: request.title?.trim() || `${warning.title.zh}（${warning.key}）`,
      level: warning.level,
      discoveredAt: warning.firstSeen,
      unit: warning.unit,
      requestedBy: { ...request.actor },
      requestedAt: at,
      note,
    },
  };
}

function checkActor(warning: Warning, actor: Actor, options: HandlingOptions): Refusal | undefined {
  if (!allows(actor.role, 'warnings.handle')) {
    return refuse(
      'role',
      `role ${actor.role} may not handle warnings (warnings.handle: secadmin)`,
      '只有安全保密管理员可以处置预警事件',
    );
  }
  const inScope = options.inScope ?? ((mine: string, theirs: string) => mine === theirs);
  if (actor.unit !== null && !inScope(actor.unit, warning.unit)) {
    return refuse(
      'scope',
      `${actor.name} of ${actor.unit} may not handle a warning of ${warning.unit}`,
      '只能处置本单位及下级单位的预警',
    );
  }
  return undefined;
}

function checkNote(note: string): Refusal | undefined {
  if (note.length <= MAX_NOTE_LENGTH) return undefined;
  return refuse(
    'note-too-long',
    `a note is at most ${MAX_NOTE_LENGTH} characters`,
    `备注不能超过${MAX_NOTE_LENGTH}字`,
  );
}

function refuse(reason: RefusalReason, message: string, messageZh: string): Refusal {
  return { ok: false, reason, message, messageZh };
}
