import { withTerminals } from '../register/terminal-naming.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../shared/clock.js';
import { SEVERITIES } from '../../shared/levels.js';
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
import { incidentsOf, WARNING_STATE_NAMES, type Actor, type Warning } from '../warnings/warning.js';
import { updateWarning } from '../warnings/update-warning.js';
import { visibleUnits } from './bearer-auth.js';
import { cursorParam, pageOf, readCursor } from './cursor.js';
import { actionResponses, idParams, notFound, refusalSchema, sendRefusal } from './route-helpers.js';
import {
  transitionBody,
  warningDetail,
  warningPage,
  warningState,
  type Warning as ApiWarning,
} from '../../shared/api/warnings.js';
import {
  authErrorResponses,
  errorSchema,
  requestSchema,
  responseSchema,
  type ShapeTypes,
} from './schemas.js';

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

const listQuery = z.object({
  state: z.array(warningState).optional(),
  severity: z.array(z.enum(SEVERITIES)).optional(),
  unit: z.string().min(1).max(200).optional(),
  limit: z.int().min(1).max(MAX_WARNINGS_PER_PAGE).default(100),
  offset: z
    .int()
    .min(0)
    .default(0)
    .meta({ description: 'older callers; cursor reads deep pages without skipping rows' }),
  cursor: cursorParam.optional(),
});

const warningDetailSchema = responseSchema(warningDetail);

export function warningToApi(warning: Warning, actor?: Actor, scope?: HandlingOptions): ApiWarning {
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

export function warningRoutes(deps: WarningApiDeps) {
  const { store, clock } = deps;
  async function visibleWarning(principal: Principal | null, id: string) {
    const warning = await store.warnings.getWarning(id);
    return warning && canSee(principal, warning.unit) ? warning : undefined;
  }
  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<ShapeTypes>();
    typed.get(
      '/api/v1/warnings',
      {
        config: { permission: 'monitoring.read' },
        schema: {
          summary: 'List warnings (第64条), most recent first',
          tags: ['warnings'],
          security: [{ bearer: [] }],
          querystring: requestSchema(listQuery),
          response: { 200: responseSchema(warningPage), 400: errorSchema, ...authErrorResponses },
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
        const items = await withTerminals(
          store,
          page.items.map((w) => warningToApi(w, actor, scope)),
          (w) => w.agent,
        );
        return { items, nextCursor: page.nextCursor };
      },
    );

    typed.get(
      '/api/v1/warnings/:id',
      {
        config: { permission: 'monitoring.read' },
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
        const [named] = await withTerminals(
          store,
          [warningToApi(warning, actorOf(request.principal), handlingScope(request.principal))],
          (w) => w.agent,
        );
        return {
          ...named!,
          history: warning.history,
          evidence: evidence.map(evidenceToApi),
          notifications,
        };
      },
    );

    typed.post(
      '/api/v1/warnings/:id/transitions',
      {
        config: { permission: 'warnings.handle' },
        schema: {
          summary: 'Move a warning on: identified, handling, closed, or false-positive (with a reason)',
          tags: ['warnings'],
          security: [{ bearer: [] }],
          params: idParams,
          body: requestSchema(transitionBody),
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
