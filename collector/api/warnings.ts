import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import { SEVERITIES, type Severity } from '../../shared/levels.js';
import type { Principal } from '../auth/api-keys.js';
import type { Store } from '../store/store.js';
import type { LiveFeed } from './stream.js';
import type { NotifyRoute } from '../notify/occasion.js';
import type { EvidenceRecord } from '../store/warnings/records.js';
import {
  allowedTransitions,
  transition,
  type HandlingOptions,
  type RefusalReason,
} from '../warnings/lifecycle.js';
import {
  incidentsOf,
  WARNING_STATE_NAMES,
  WARNING_STATES,
  type Actor,
  type Warning,
  type WarningState,
} from '../warnings/warning.js';
import { updateWarning } from '../warnings/update-warning.js';
import { visibleUnits } from './bearer-auth.js';
import { cursorParam, pageOf, pageSchema, readCursor } from './cursor.js';
import { actionResponses, idParams, notFound, refusalSchema, sendRefusal } from './route-helpers.js';
import { authErrorResponses, errorSchema, isoTime, nullableIsoTime, openObject } from './schemas.js';

/**
 * 第64条 warnings over HTTP (SPEC §8): list and filter, one warning with its evidence (the signed
 * envelopes, re-verifiable) and its audit trail, and the lifecycle steps 发现 → 识别 → 处置 → 关闭 / 误报.
 * A caller sees only the warnings of its units; a refusal says why in English and Chinese.
 */
export interface WarningApiDeps {
  store: Store;
  clock: Clock;
  /** Told after a warning changed, e.g. for the live feed and the notifier. */
  onChange?: (warningId: string) => void;
  /** Which channels announce a lifecycle step (notify.channels[].on); none when absent. */
  notify?: NotifyRoute;
}

export const MAX_WARNINGS_PER_PAGE = 1000;
const MAX_EVIDENCE = 1000;

export function actorOf(principal: Principal | null): Actor {
  if (!principal) return { name: 'anonymous', role: 'none', unit: null };
  return { name: principal.name, role: principal.role, unit: principal.unit };
}

/** Whether the caller may see a record of `unit`. */
export function canSee(principal: Principal | null, unit: string): boolean {
  const units = visibleUnits(principal);
  return units === undefined || units.includes(unit);
}

/** A caller handles the warnings of its unit and the units below it, as it sees them. */
export function handlingScope(principal: Principal | null): HandlingOptions {
  return { inScope: (_mine, theirs) => canSee(principal, theirs) };
}

export const REFUSAL_STATUS: Record<RefusalReason, number> = {
  role: 403,
  scope: 403,
  terminal: 409,
  'illegal-transition': 409,
  'incident-exists': 409,
  'note-required': 400,
  'note-too-long': 400,
};

const historySchema = {
  type: 'object',
  required: ['action', 'from', 'to', 'by', 'at', 'note'],
  properties: {
    action: { type: 'string', enum: ['transition', 'open-incident'] },
    from: { type: 'string' },
    to: { type: 'string' },
    by: {
      type: 'object',
      required: ['name', 'role', 'unit'],
      properties: { name: { type: 'string' }, role: { type: 'string' }, unit: { type: ['string', 'null'] } },
    },
    at: isoTime,
    note: { type: 'string' },
    incidentId: { type: 'string', description: 'on an open-incident step: the 第61条 incident it opened' },
  },
} as const;

export const warningSchema = {
  type: 'object',
  required: ['id', 'state', 'severity', 'rule', 'key', 'count', 'firstSeen', 'lastSeen', 'unit', 'agent'],
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: [...WARNING_STATES] },
    stateName: {
      type: 'object',
      properties: { zh: { type: 'string' }, en: { type: 'string' } },
      description: '发现 / 识别 / 处置 / 关闭 / 误报',
    },
    severity: { type: 'string', enum: [...SEVERITIES] },
    rule: { type: 'string' },
    title: { type: 'object', properties: { zh: { type: 'string' }, en: { type: 'string' } } },
    key: { type: 'string' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    origin: { type: 'string', enum: ['event', 'threshold', 'correlation'] },
    count: { type: 'integer' },
    firstSeen: isoTime,
    lastSeen: isoTime,
    createdAt: isoTime,
    resolvedAt: { ...nullableIsoTime, description: 'set when every condition of the warning has cleared' },
    unit: { type: 'string' },
    agent: { type: ['string', 'null'], description: 'null for a unit-level (correlated) warning' },
    agents: { type: 'array', items: { type: 'string' } },
    level: { type: ['string', 'null'] },
    type: { type: 'string' },
    sample: openObject,
    incidents: { type: 'array', items: { type: 'string' }, description: 'the 第61条 incidents it opened' },
    allowedTransitions: {
      type: 'array',
      items: { type: 'string' },
      description: 'the steps the caller may take now',
    },
  },
} as const;

const evidenceSchema = {
  type: 'object',
  required: ['agent', 'seq', 'ts', 'state'],
  properties: {
    eventId: { type: 'integer' },
    agent: { type: 'string' },
    seq: { type: 'integer', description: 'negative for a condition the collector observed itself' },
    ts: isoTime,
    state: { type: 'string', enum: ['raised', 'cleared'] },
    envelope: { ...openObject, description: 'the signed envelope as received; verify it with the agent key' },
    condition: openObject,
  },
} as const;

const warningDetailSchema = {
  ...warningSchema,
  required: [...warningSchema.required, 'history', 'evidence'],
  properties: {
    ...warningSchema.properties,
    history: { type: 'array', items: historySchema },
    evidence: { type: 'array', items: evidenceSchema },
    notifications: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          channel: { type: 'string' },
          occasion: { type: 'string', description: 'opened, reraised:<time> or state:<to>' },
          state: { type: 'string', enum: ['pending', 'sent', 'muted', 'failed'] },
          attempts: { type: 'integer' },
          lastError: { type: ['string', 'null'] },
          doneAt: nullableIsoTime,
          mutedBy: { type: ['string', 'null'] },
        },
      },
    },
  },
} as const;

export function warningToApi(warning: Warning, actor?: Actor, scope?: HandlingOptions) {
  return {
    id: warning.id,
    state: warning.state,
    stateName: WARNING_STATE_NAMES[warning.state],
    severity: warning.severity,
    rule: warning.rule,
    title: warning.title,
    key: warning.key,
    labels: warning.labels,
    origin: warning.origin,
    count: warning.count,
    firstSeen: warning.firstSeen,
    lastSeen: warning.lastSeen,
    createdAt: warning.createdAt,
    resolvedAt: warning.resolvedAt,
    unit: warning.unit,
    agent: warning.agent,
    agents: warning.agents,
    level: warning.level,
    type: warning.type,
    sample: warning.sample,
    incidents: incidentsOf(warning),
    ...(actor && { allowedTransitions: allowedTransitions(warning, actor, scope) }),
  };
}

/** Tells the dashboards that these warnings changed (each stream filters by its caller's units). */
export async function announceWarnings(feed: LiveFeed, store: Store, ids: readonly string[]): Promise<void> {
  if (feed.subscribers === 0) return;
  for (const id of ids) {
    const warning = await store.warnings.getWarning(id);
    if (warning) {
      feed.publish({
        type: 'warning',
        unit: warning.unit,
        id,
        severity: warning.severity,
        state: warning.state,
      });
    }
  }
}

function evidenceToApi(record: EvidenceRecord) {
  let envelope: Record<string, unknown> | undefined;
  if (record.envelope !== undefined) {
    try {
      envelope = JSON.parse(record.envelope) as Record<string, unknown>;
    } catch {
      envelope = undefined;
    }
  }
  return {
    ...(record.eventId !== undefined && { eventId: record.eventId }),
    agent: record.agent,
    seq: record.seq,
    ts: record.ts,
    state: record.state,
    ...(envelope && { envelope }),
    ...(record.condition && { condition: record.condition }),
  };
}

interface ListQuery {
  state?: WarningState[];
  severity?: Severity[];
  unit?: string;
  cursor?: string;
  limit: number;
  offset: number;
}

export function warningRoutes(deps: WarningApiDeps) {
  const { store, clock } = deps;
  async function visibleWarning(principal: Principal | null, id: string) {
    const warning = await store.warnings.getWarning(id);
    return warning && canSee(principal, warning.unit) ? warning : undefined;
  }
  return async (app: FastifyInstance) => {
    app.get<{ Querystring: ListQuery }>(
      '/api/v1/warnings',
      {
        schema: {
          summary: 'List warnings (第64条), most recent first',
          tags: ['warnings'],
          security: [{ bearer: [] }],
          querystring: {
            type: 'object',
            properties: {
              state: { type: 'array', items: { type: 'string', enum: [...WARNING_STATES] } },
              severity: { type: 'array', items: { type: 'string', enum: [...SEVERITIES] } },
              unit: { type: 'string', minLength: 1, maxLength: 200 },
              limit: { type: 'integer', minimum: 1, maximum: MAX_WARNINGS_PER_PAGE, default: 100 },
              offset: {
                type: 'integer',
                minimum: 0,
                default: 0,
                description: 'older callers; cursor reads deep pages without skipping rows',
              },
              cursor: cursorParam,
            },
          },
          response: { 200: pageSchema(warningSchema), 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        const { state, severity, unit, cursor, limit, offset } = request.query;
        const after = readCursor('warnings', cursor, 'string');
        if (!after.ok) return reply.code(400).send({ error: after.error });
        if (after.key && offset > 0) {
          return reply.code(400).send({ error: 'cursor and offset: pass one or the other, not both' });
        }
        const visible = visibleUnits(request.principal);
        const units =
          unit === undefined ? visible : visible === undefined || visible.includes(unit) ? [unit] : [];
        const warnings = await store.warnings.listWarnings({
          states: state,
          severities: severity,
          units,
          after: after.key && { lastSeen: after.key.at, id: after.key.id },
          limit: limit + 1,
          offset,
        });
        const page = pageOf('warnings', warnings, limit, (w) => ({ at: w.lastSeen, id: w.id }));
        const actor = actorOf(request.principal);
        const scope = handlingScope(request.principal);
        return { items: page.items.map((w) => warningToApi(w, actor, scope)), nextCursor: page.nextCursor };
      },
    );

    app.get<{ Params: { id: string } }>(
      '/api/v1/warnings/:id',
      {
        schema: {
          summary: 'One warning with its evidence (signed envelopes) and transition history',
          tags: ['warnings'],
          security: [{ bearer: [] }],
          params: idParams,
          response: { 200: warningDetailSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        const warning = await visibleWarning(request.principal, request.params.id);
        if (!warning) return notFound(reply, 'warning', request.params.id);
        const [evidence, notifications] = await Promise.all([
          store.warnings.listEvidence(warning.id, MAX_EVIDENCE),
          store.warnings.listNotifications({ warningId: warning.id, limit: 100 }),
        ]);
        return {
          ...warningToApi(warning, actorOf(request.principal), handlingScope(request.principal)),
          history: warning.history,
          evidence: evidence.map(evidenceToApi),
          notifications,
        };
      },
    );

    app.post<{ Params: { id: string }; Body: { to: WarningState; note?: string } }>(
      '/api/v1/warnings/:id/transitions',
      {
        schema: {
          summary: 'Move a warning on: identified, handling, closed, or false-positive (with a reason)',
          tags: ['warnings'],
          security: [{ bearer: [] }],
          params: idParams,
          body: {
            type: 'object',
            required: ['to'],
            additionalProperties: false,
            properties: {
              to: { type: 'string', enum: [...WARNING_STATES] },
              note: { type: 'string', maxLength: 20_000 },
            },
          },
          response: { ...actionResponses(warningDetailSchema), 400: refusalSchema },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        if (!(await visibleWarning(request.principal, id))) return notFound(reply, 'warning', id);
        const actor = actorOf(request.principal);
        const result = await updateWarning(
          store.warnings,
          id,
          (warning) =>
            transition(
              warning,
              { to: request.body.to, note: request.body.note, actor },
              clock.now(),
              handlingScope(request.principal),
            ),
          deps.notify,
        );
        if (!result) return notFound(reply, 'warning', id);
        if (!result.ok) {
          return sendRefusal(reply, REFUSAL_STATUS[result.reason], result);
        }
        deps.onChange?.(id);
        const warning = (await store.warnings.getWarning(id))!;
        const evidence = await store.warnings.listEvidence(id, MAX_EVIDENCE);
        return {
          ...warningToApi(warning, actor, handlingScope(request.principal)),
          history: warning.history,
          evidence: evidence.map(evidenceToApi),
        };
      },
    );
  };
}
