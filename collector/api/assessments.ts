import type { FastifyInstance } from 'fastify';
import { shanghaiDate } from '../../shared/calendar.js';
import { ASSESSMENT_RESULTS, type AssessmentResult, SYSTEM_LEVELS } from '../clocks/assessment-schedule.js';
import { systemSchedule } from '../clocks/clock-records.js';
import { visibleUnits } from './bearer-auth.js';
import { authErrorResponses, errorSchema, listOf } from './schemas.js';
import {
  afterSystemChange,
  calendarDate,
  checkDate,
  ClockApiError,
  type ClockApiDeps,
  idParams,
  optionalText,
  sendClockError,
  systemSchema,
  systemView,
  systemChangeErrors,
  writableSystem,
} from './systems.js';

/**
 * 第35条 assessments (SPEC §8): `POST /api/v1/systems/{id}/assessments` records one, and
 * `GET /api/v1/assessments/due` lists every system in use with its next due date.
 */
interface AssessmentBody {
  completedAt: string;
  assessor: string;
  result: AssessmentResult;
  note?: string | null;
}

const DUE_STATES = ['ok', 'due-soon', 'overdue', 'reassess'] as const;

const dueItemSchema = {
  type: 'object',
  required: ['systemId', 'name', 'level', 'nextDue', 'daysLeft', 'state'],
  properties: {
    systemId: { type: 'string' },
    name: { type: 'string' },
    level: { type: 'string', enum: SYSTEM_LEVELS },
    unit: { type: 'string' },
    nextDue: { ...calendarDate, description: 'the last day the assessment is on time (Asia/Shanghai)' },
    daysLeft: { type: 'integer', description: 'negative when overdue' },
    state: { type: 'string', enum: DUE_STATES },
    basis: { type: 'string', enum: ['first-assessment', 'periodic', 'change', 'failed-assessment'] },
    lastAssessedAt: { type: ['string', 'null'] },
  },
} as const;

export function assessmentRoutes(deps: ClockApiDeps) {
  return async (app: FastifyInstance) => {
    const security = [{ bearer: [] }];

    app.post<{ Params: { id: string }; Body: AssessmentBody }>(
      '/api/v1/systems/:id/assessments',
      {
        schema: {
          summary: 'Record a completed risk assessment (第35条)',
          tags: ['systems'],
          security,
          params: idParams,
          body: {
            type: 'object',
            required: ['completedAt', 'assessor', 'result'],
            additionalProperties: false,
            properties: {
              completedAt: { ...calendarDate, description: 'date completed (Asia/Shanghai)' },
              assessor: { type: 'string', minLength: 1, maxLength: 200 },
              result: {
                type: 'string',
                enum: ASSESSMENT_RESULTS,
                description: 'a failed assessment does not reset the clock: a reassessment is due',
              },
              note: optionalText(2000),
            },
          },
          response: { 201: systemSchema, ...systemChangeErrors },
        },
      },
      async (request, reply) => {
        try {
          const { principal, system } = await writableSystem(deps, request);
          const body = request.body;
          checkDate(body.completedAt, 'completedAt');
          const now = deps.scheduler.now();
          if (body.completedAt > shanghaiDate(now)) {
            throw new ClockApiError(
              400,
              `completedAt: ${body.completedAt} is in the future (today is ${shanghaiDate(now)} in Shanghai)`,
            );
          }
          if (system.status === 'decommissioned') {
            throw new ClockApiError(409, `system ${system.id} was decommissioned (备案 ${system.filedAt})`);
          }
          await deps.store.clocks.addAssessment(system.id, {
            completedAt: body.completedAt,
            assessor: body.assessor,
            result: body.result,
            note: body.note ?? null,
            recordedAt: now.toISOString(),
            recordedBy: principal.name,
          });
          const record = await afterSystemChange(deps, system.id);
          const fires = await deps.store.clocks.listFires({ type: 'system', id: record.id });
          return reply.code(201).send(systemView(record, deps.scheduler.now(), deps.scheduler, fires));
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.get<{ Querystring: { state?: (typeof DUE_STATES)[number] } }>(
      '/api/v1/assessments/due',
      {
        schema: {
          summary: 'Every system in use with its next assessment due date, soonest first',
          tags: ['systems'],
          security,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { state: { type: 'string', enum: DUE_STATES } },
          },
          response: { 200: listOf(dueItemSchema), 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request) => {
        const now = deps.scheduler.now();
        const records = await deps.store.clocks.listSystems({ units: visibleUnits(request.principal) });
        const items = records
          .filter((r) => r.status === 'in-use')
          .map((r) => {
            const schedule = systemSchedule(r, now, deps.scheduler.options);
            return {
              systemId: r.id,
              name: r.name,
              level: r.level,
              unit: r.unit,
              nextDue: schedule.nextDue!,
              daysLeft: schedule.daysLeft!,
              state: schedule.state as (typeof DUE_STATES)[number],
              basis: schedule.basis!,
              lastAssessedAt: schedule.lastAssessedAt,
            };
          })
          .filter((item) => request.query.state === undefined || item.state === request.query.state)
          .sort((a, b) => a.daysLeft - b.daysLeft || a.name.localeCompare(b.name));
        return { items };
      },
    );
  };
}
