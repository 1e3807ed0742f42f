import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isCalendarDate, shanghaiDate } from '../../shared/calendar.js';
import type { Principal } from '../auth/api-keys.js';
import { SYSTEM_LEVELS } from '../clocks/assessment-schedule.js';
import { systemSchedule } from '../clocks/clock-records.js';
import type { ClockScheduler } from '../clocks/scheduler.js';
import type { ChainLevel } from '../clocks/report-chain.js';
import type { FireRecord, SystemPatch, SystemRecord } from '../store/clocks/clock-store.js';
import type { Store } from '../store/store.js';
import { visibleUnits } from './bearer-auth.js';
import { authErrorResponses, errorSchema, isoTime, listOf } from './schemas.js';

/**
 * The 第35条 register (SPEC §8): `GET|POST /api/v1/systems`, `GET|PATCH /api/v1/systems/{id}`.
 * Every write rebuilds the system's clock rows and runs a pass, so a change of level, scope or
 * environment is due — and reported — at once.
 */
export interface ClockApiDeps {
  store: Store;
  scheduler: ClockScheduler;
  /** The collector's own unit and level: the default owner and the first hop of the chain. */
  unit: string;
  level: ChainLevel;
  /** Told after an incident was stored or changed (a hop, a receipt), e.g. to report it upward now. */
  onIncidentChange?: (id: string) => void;
}

// ---- shared by the clock routes (systems, assessments, incidents) ----

export const calendarDate = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;
export const nullableCalendarDate = { type: ['string', 'null'], pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;
export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 64 } },
} as const;
const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength }) as const;
export const optionalText = (maxLength: number) => ({ type: ['string', 'null'], maxLength }) as const;

export class ClockApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** A real calendar date (the schema checks only the shape, so 2025-02-29 gets a clear message). */
export function checkDate(value: string, field: string): string {
  if (!isCalendarDate(value)) {
    throw new ClockApiError(
      400,
      `${field}: ${JSON.stringify(value)} is not a calendar date; expected YYYY-MM-DD`,
    );
  }
  return value;
}

/** Viewers read; admins and officers (保密干部) keep the register and the incidents. */
export function requireWriter(principal: Principal | null): Principal {
  if (!principal || principal.role === 'viewer') {
    throw new ClockApiError(
      403,
      `role ${principal?.role ?? 'none'} may only read; admin or officer may change this`,
    );
  }
  return principal;
}

/** The unit a new record belongs to: the caller's own, unless a key for every unit names one. */
export function ownerUnit(principal: Principal, requested: string | undefined, fallback: string): string {
  if (principal.unit === null) return requested ?? fallback;
  if (requested !== undefined && requested !== principal.unit) {
    throw new ClockApiError(403, `unit: this key is limited to unit ${principal.unit}, not ${requested}`);
  }
  return principal.unit;
}

export function inScope(principal: Principal | null, unit: string): boolean {
  const units = visibleUnits(principal);
  return units === undefined || units.includes(unit);
}

export function sendClockError(err: unknown, reply: FastifyReply) {
  if (err instanceof ClockApiError) return reply.code(err.statusCode).send({ error: err.message });
  throw err;
}

export const fireSchema = {
  type: 'object',
  required: ['kind', 'dueAt', 'firedAt', 'late', 'lateByMs', 'outcome'],
  properties: {
    hop: { type: 'string' },
    kind: { type: 'string', description: 'reminder-30, overdue, reassess, reminder-12h, missed…' },
    dueAt: isoTime,
    firedAt: isoTime,
    late: { type: 'boolean', description: 'fired well after its due time: the collector was not running' },
    lateByMs: { type: 'integer' },
    outcome: { type: 'string', enum: ['fired', 'stale', 'cleared'] },
    condition: { type: ['string', 'null'], description: 'the condition type it raised or cleared' },
  },
} as const;

export function fireView(fire: FireRecord) {
  return {
    hop: fire.target || undefined,
    kind: fire.kind,
    dueAt: fire.dueAt,
    firedAt: fire.firedAt,
    late: fire.late,
    lateByMs: fire.lateByMs,
    outcome: fire.outcome,
    condition: fire.condition?.type ?? null,
  };
}

// ---- systems ----

const scheduleSchema = {
  type: 'object',
  required: ['state', 'nextDue', 'daysLeft', 'interval'],
  properties: {
    state: { type: 'string', enum: ['ok', 'due-soon', 'overdue', 'reassess', 'decommissioned'] },
    nextDue: nullableCalendarDate,
    daysLeft: { type: ['integer', 'null'], description: 'negative when overdue' },
    interval: { type: 'integer', description: 'years between assessments at the current level' },
    basis: {
      type: ['string', 'null'],
      enum: ['first-assessment', 'periodic', 'change', 'failed-assessment', null],
    },
    lastAssessedAt: nullableCalendarDate,
  },
} as const;

export const systemSchema = {
  type: 'object',
  required: ['id', 'name', 'level', 'unit', 'commissionedAt', 'status', 'filedAt', 'schedule'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    level: { type: 'string', enum: SYSTEM_LEVELS },
    unit: { type: 'string' },
    scope: { type: ['string', 'null'] },
    environment: { type: ['string', 'null'] },
    commissionedAt: calendarDate,
    approval: {
      type: ['object', 'null'],
      description: '第33条 test-and-review approval',
      properties: {
        ref: { type: ['string', 'null'] },
        by: { type: ['string', 'null'] },
        at: nullableCalendarDate,
      },
    },
    status: { type: 'string', enum: ['in-use', 'decommissioned'] },
    filedAt: { ...nullableCalendarDate, description: '备案 date of a decommissioned system' },
    createdAt: isoTime,
    createdBy: { type: 'string' },
    schedule: scheduleSchema,
    assessments: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          completedAt: calendarDate,
          assessor: { type: 'string' },
          result: { type: 'string' },
          note: { type: ['string', 'null'] },
          recordedAt: isoTime,
          recordedBy: { type: 'string' },
        },
      },
    },
    changes: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          kind: { type: 'string', enum: ['level', 'scope', 'environment', 'status'] },
          at: isoTime,
          from: { type: ['string', 'null'] },
          to: { type: ['string', 'null'] },
          by: { type: 'string' },
        },
      },
    },
    reminders: { type: 'array', items: fireSchema, description: 'each reminder and warning the clock fired' },
  },
} as const;

export function systemView(record: SystemRecord, now: Date, scheduler: ClockScheduler, fires?: FireRecord[]) {
  const schedule = systemSchedule(record, now, scheduler.options);
  return {
    id: record.id,
    name: record.name,
    level: record.level,
    unit: record.unit,
    scope: record.scope,
    environment: record.environment,
    commissionedAt: record.commissionedAt,
    approval:
      record.approvalRef || record.approvedBy || record.approvedAt
        ? { ref: record.approvalRef, by: record.approvedBy, at: record.approvedAt }
        : null,
    status: record.status,
    filedAt: record.filedAt,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    schedule: {
      state: schedule.state,
      nextDue: schedule.nextDue,
      daysLeft: schedule.daysLeft,
      interval: schedule.interval,
      basis: schedule.basis,
      lastAssessedAt: schedule.lastAssessedAt,
    },
    assessments: record.assessments,
    changes: record.changes.map(({ kind, at, from, to, by }) => ({ kind, at, from, to, by })),
    reminders: fires?.map(fireView),
  };
}

interface CreateSystemBody {
  name: string;
  level: SystemRecord['level'];
  commissionedAt: string;
  unit?: string;
  scope?: string | null;
  environment?: string | null;
  approval?: { ref?: string | null; by?: string | null; at?: string | null };
}

interface PatchSystemBody {
  level?: SystemRecord['level'];
  scope?: string | null;
  environment?: string | null;
  status?: 'in-use' | 'decommissioned';
  filedAt?: string | null;
}

function newSystemId(): string {
  return `sys-${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

/** Loads a system the caller may see, or 404 (a system of another unit is not admitted to exist). */
export async function visibleSystem(
  deps: ClockApiDeps,
  request: FastifyRequest,
  id: string,
): Promise<SystemRecord> {
  const record = await deps.store.clocks.getSystem(id);
  if (!record || !inScope(request.principal, record.unit)) throw new ClockApiError(404, `no system ${id}`);
  return record;
}

/** A change to one system: a key that may write, and the system, which it must be able to see. */
export async function writableSystem(
  deps: ClockApiDeps,
  request: FastifyRequest<{ Params: { id: string } }>,
) {
  const principal = requireWriter(request.principal);
  return { principal, system: await visibleSystem(deps, request, request.params.id) };
}

/** The refusals of a change to one system: bad input, unknown, decommissioned, or the key. */
export const systemChangeErrors = {
  400: errorSchema,
  404: errorSchema,
  409: errorSchema,
  ...authErrorResponses,
} as const;

/** Rebuilds the system's rows and runs a pass, so what the change made due fires now. */
export async function afterSystemChange(deps: ClockApiDeps, id: string): Promise<SystemRecord> {
  const record = (await deps.store.clocks.getSystem(id))!;
  await deps.scheduler.refreshSystem(record);
  await deps.scheduler.runPass('change');
  return record;
}

export function systemRoutes(deps: ClockApiDeps) {
  return async (app: FastifyInstance) => {
    const tags = ['systems'];
    const security = [{ bearer: [] }];

    app.get(
      '/api/v1/systems',
      {
        schema: {
          summary: 'List registered classified information systems (第35条)',
          tags,
          security,
          response: { 200: listOf(systemSchema), ...authErrorResponses },
        },
      },
      async (request) => {
        const now = deps.scheduler.now();
        const records = await deps.store.clocks.listSystems({ units: visibleUnits(request.principal) });
        return { items: records.map((r) => systemView(r, now, deps.scheduler)) };
      },
    );

    app.post<{ Body: CreateSystemBody }>(
      '/api/v1/systems',
      {
        schema: {
          summary: 'Register a classified information system',
          tags,
          security,
          body: {
            type: 'object',
            required: ['name', 'level', 'commissionedAt'],
            additionalProperties: false,
            properties: {
              name: text(200),
              level: { type: 'string', enum: SYSTEM_LEVELS, description: '绝密, 机密 or 秘密' },
              commissionedAt: { ...calendarDate, description: 'commissioning date (Asia/Shanghai)' },
              unit: text(200),
              scope: optionalText(1000),
              environment: optionalText(1000),
              approval: {
                type: 'object',
                additionalProperties: false,
                description: '第33条 test-and-review approval',
                properties: { ref: optionalText(200), by: optionalText(200), at: nullableCalendarDate },
              },
            },
          },
          response: { 201: systemSchema, 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        try {
          const principal = requireWriter(request.principal);
          const body = request.body;
          checkDate(body.commissionedAt, 'commissionedAt');
          if (body.approval?.at) checkDate(body.approval.at, 'approval.at');
          const now = deps.scheduler.now();
          const created = await deps.store.clocks.createSystem({
            id: newSystemId(),
            name: body.name,
            level: body.level,
            unit: ownerUnit(principal, body.unit, deps.unit),
            scope: body.scope ?? null,
            environment: body.environment ?? null,
            commissionedAt: body.commissionedAt,
            approvalRef: body.approval?.ref ?? null,
            approvedBy: body.approval?.by ?? null,
            approvedAt: body.approval?.at ?? null,
            createdAt: now.toISOString(),
            createdBy: principal.name,
          });
          const record = await afterSystemChange(deps, created.id);
          return reply.code(201).send(systemView(record, deps.scheduler.now(), deps.scheduler));
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.get<{ Params: { id: string } }>(
      '/api/v1/systems/:id',
      {
        schema: {
          summary: 'One system, with its schedule, assessments, change history and fired reminders',
          tags,
          security,
          params: idParams,
          response: { 200: systemSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        try {
          const record = await visibleSystem(deps, request, request.params.id);
          const fires = await deps.store.clocks.listFires({ type: 'system', id: record.id });
          return systemView(record, deps.scheduler.now(), deps.scheduler, fires);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.patch<{ Params: { id: string }; Body: PatchSystemBody }>(
      '/api/v1/systems/:id',
      {
        schema: {
          summary: 'Change level, scope or environment (a reassessment falls due at once), or decommission',
          tags,
          security,
          params: idParams,
          body: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: {
              level: { type: 'string', enum: SYSTEM_LEVELS },
              scope: optionalText(1000),
              environment: optionalText(1000),
              status: { type: 'string', enum: ['in-use', 'decommissioned'] },
              filedAt: { ...nullableCalendarDate, description: '备案 date; required to decommission' },
            },
          },
          response: { 200: systemSchema, ...systemChangeErrors },
        },
      },
      async (request, reply) => {
        try {
          const { principal, system: current } = await writableSystem(deps, request);
          const body = request.body;
          if (current.status === 'decommissioned') {
            throw new ClockApiError(
              409,
              `system ${current.id} was decommissioned (备案 ${current.filedAt}); register it again`,
            );
          }
          if (body.status === 'decommissioned' && !body.filedAt) {
            throw new ClockApiError(
              400,
              'filedAt: decommissioning needs the filing (备案) date, YYYY-MM-DD (第35条)',
            );
          }
          if (body.filedAt) {
            checkDate(body.filedAt, 'filedAt');
            if (body.status !== 'decommissioned') {
              throw new ClockApiError(
                400,
                'filedAt: only a decommission (status "decommissioned") has a filing date',
              );
            }
            if (body.filedAt > shanghaiDate(deps.scheduler.now())) {
              throw new ClockApiError(400, `filedAt: ${body.filedAt} is in the future`);
            }
          }
          const patch: SystemPatch = {
            level: body.level,
            scope: body.scope,
            environment: body.environment,
            status: body.status,
            filedAt: body.filedAt ?? undefined,
          };
          await deps.store.clocks.updateSystem(
            current.id,
            patch,
            deps.scheduler.now().toISOString(),
            principal.name,
          );
          const record = await afterSystemChange(deps, current.id);
          const fires = await deps.store.clocks.listFires({ type: 'system', id: record.id });
          return systemView(record, deps.scheduler.now(), deps.scheduler, fires);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );
  };
}
