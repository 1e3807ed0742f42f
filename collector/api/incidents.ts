import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SYSTEM_LEVELS, type SystemLevel } from '../clocks/assessment-schedule.js';
import { incidentChain, incidentClock } from '../clocks/clock-records.js';
import {
  ADMIN_LEVELS,
  chainHops,
  type ChainReport,
  hopIdForReport,
  REPORT_CHANNELS,
  type ReportChannel,
} from '../clocks/report-chain.js';
import { COLLECTOR_LEVELS } from '../config.js';
import type { FireRecord, IncidentRecord } from '../store/clocks/clock-store.js';
import type { Principal } from '../auth/api-keys.js';
import { requestIncident } from '../warnings/lifecycle.js';
import { visibleUnits } from './bearer-auth.js';
import { refusalSchema, sendRefusal } from './route-helpers.js';
import { handlingScope, REFUSAL_STATUS } from './warnings.js';
import { authErrorResponses, errorSchema, isoTime, listOf, nullableIsoTime } from './schemas.js';
import {
  ClockApiError,
  type ClockApiDeps,
  fireSchema,
  fireView,
  idParams,
  inScope,
  optionalText,
  ownerUnit,
  requireWriter,
  sendClockError,
} from './systems.js';

/**
 * 第61条 incidents and their report chain (SPEC §8): `GET|POST /api/v1/incidents`,
 * `GET /api/v1/incidents/{id}`, `POST /api/v1/incidents/{id}/reports` and, for a receipt that
 * comes after the report, `POST /api/v1/incidents/{id}/reports/{reportId}/receipt`.
 */
const RECIPIENTS = ['same-level-admin', 'superior-dept', ...ADMIN_LEVELS] as const;
/** A clock a little ahead of ours is not an error; a report "tomorrow" is. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

const reportSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    from: { type: 'string' },
    to: { type: 'string' },
    reportedAt: isoTime,
    receivedAt: nullableIsoTime,
    channel: { type: 'string', enum: REPORT_CHANNELS },
    by: { type: 'string' },
    receipt: { type: ['string', 'null'] },
    recordedAt: isoTime,
    recordedBy: { type: 'string' },
  },
} as const;

const hopSchema = {
  type: 'object',
  required: ['id', 'from', 'to', 'dueAt', 'reportedAt', 'receivedAt', 'late'],
  properties: {
    id: { type: 'string' },
    from: { type: 'string', description: '`unit` is the reporting unit itself' },
    to: { type: 'string' },
    startedAt: { ...nullableIsoTime, description: 'discovery, or the sender’s own receipt' },
    dueAt: { ...nullableIsoTime, description: 'startedAt + 24 h; null until the sender’s receipt is known' },
    reportedAt: nullableIsoTime,
    receivedAt: nullableIsoTime,
    late: { type: 'boolean' },
    lateByMs: {
      type: ['integer', 'null'],
      description: 'how late: at the report, or so far when unreported',
    },
    state: { type: 'string', enum: ['unstarted', 'pending', 'done', 'overdue'] },
    escalatesTo: { type: 'string', description: 'where a missed deadline becomes a warning' },
    reportIds: { type: 'array', items: { type: 'integer' } },
  },
} as const;

const incidentSchema = {
  type: 'object',
  required: ['id', 'title', 'level', 'unit', 'discoveredAt', 'hops', 'endToEndMs'],
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    level: { type: 'string', enum: SYSTEM_LEVELS, description: 'the level of the secrets concerned' },
    unit: { type: 'string' },
    unitLevel: { type: 'string', enum: COLLECTOR_LEVELS },
    discoveredAt: isoTime,
    discoverySource: { type: 'string', enum: ['evidence', 'manual'] },
    description: { type: ['string', 'null'] },
    measures: { type: ['string', 'null'], description: 'remedial measures taken (第61条: at once)' },
    evidence: { type: 'array', items: { type: 'integer' }, description: 'event ids' },
    createdAt: isoTime,
    createdBy: { type: 'string' },
    hops: { type: 'array', items: hopSchema },
    reports: { type: 'array', items: reportSchema },
    nationalReceivedAt: nullableIsoTime,
    endToEndMs: { type: ['integer', 'null'], description: 'discovery → national receipt; null until then' },
    endToEnd: { type: ['string', 'null'], description: 'the same, as 61h40m' },
    reminders: { type: 'array', items: fireSchema },
  },
} as const;

function hoursMinutes(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

function incidentView(record: IncidentRecord, now: Date, fires?: FireRecord[]) {
  const chain = incidentChain(record, now);
  const clock = incidentClock(record);
  const reportIdsByHop = new Map<string, number[]>();
  for (const report of record.reports) {
    const hop = hopIdForReport(clock, toChainReport(report));
    if (hop) reportIdsByHop.set(hop, [...(reportIdsByHop.get(hop) ?? []), report.id]);
  }
  return {
    id: record.id,
    title: record.title,
    level: record.level,
    unit: record.unit,
    unitLevel: record.unitLevel,
    discoveredAt: record.discoveredAt,
    discoverySource: record.discoverySource,
    description: record.description,
    measures: record.measures,
    evidence: record.evidence,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    hops: chain.hops.map((hop) => ({
      id: hop.id,
      from: hop.from,
      to: hop.to,
      startedAt: iso(hop.startedAt),
      dueAt: iso(hop.dueAt),
      reportedAt: iso(hop.reportedAt),
      receivedAt: iso(hop.receivedAt),
      late: hop.late,
      lateByMs: hop.lateByMs,
      state: hop.state,
      escalatesTo: hop.escalatesTo,
      reportIds: reportIdsByHop.get(hop.id) ?? [],
    })),
    reports: record.reports.map((r) => ({
      id: r.id,
      from: r.fromLevel,
      to: r.to,
      reportedAt: r.reportedAt,
      receivedAt: r.receivedAt,
      channel: r.channel,
      by: r.by,
      receipt: r.receipt,
      recordedAt: r.recordedAt,
      recordedBy: r.recordedBy,
    })),
    nationalReceivedAt: iso(chain.nationalReceivedAt),
    endToEndMs: chain.endToEndMs,
    endToEnd: chain.endToEndMs === null ? null : hoursMinutes(chain.endToEndMs),
    reminders: fires?.map(fireView),
  };
}

function toChainReport(r: IncidentRecord['reports'][number]): ChainReport {
  return {
    fromLevel: r.fromLevel as ChainReport['fromLevel'],
    to: r.to as ChainReport['to'],
    reportedAt: new Date(r.reportedAt),
    receivedAt: r.receivedAt === null ? undefined : new Date(r.receivedAt),
    channel: r.channel,
    by: r.by,
  };
}

interface CreateIncidentBody {
  title: string;
  level: SystemLevel;
  discoveredAt?: string;
  evidence?: number[];
  description?: string | null;
  measures?: string | null;
  unit?: string;
}

interface ReportBody {
  to: (typeof RECIPIENTS)[number];
  reportedAt: string;
  channel: ReportChannel;
  from?: (typeof COLLECTOR_LEVELS)[number];
  receivedAt?: string;
  receipt?: string | null;
  by?: string;
}

function notInFuture(at: Date, now: Date, field: string): void {
  if (at.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
    throw new ClockApiError(400, `${field}: ${at.toISOString()} is in the future (now ${now.toISOString()})`);
  }
}

/** A warning with more signed events than this opens an incident with the first ones. */
const MAX_INCIDENT_EVIDENCE = 1000;

interface WarningIncidentBody {
  title?: string;
  level?: SystemLevel;
  discoveredAt?: string;
  description?: string | null;
  measures?: string | null;
  note?: string;
}

export function incidentRoutes(deps: ClockApiDeps) {
  /**
   * Stores a new incident after checking its evidence: every event must be stored and in the
   * caller's scope. Discovery is the time given (manual) or else the attested time of the
   * earliest evidence event. Returns the new id.
   */
  const createIncident = async (
    principal: Principal,
    input: {
      title: string;
      level: SystemLevel;
      unit: string;
      evidence: number[];
      discoveredAt?: string;
      description?: string | null;
      measures?: string | null;
    },
  ): Promise<string> => {
    const now = deps.scheduler.now();
    const events = await deps.store.clocks.evidenceEvents(input.evidence);
    const missing = input.evidence.filter(
      (id) => !events.some((e) => e.id === id && inScope(principal, e.unit)),
    );
    if (missing.length > 0) throw new ClockApiError(400, `evidence: no stored event ${missing.join(', ')}`);
    let discoveredAt: Date;
    let source: 'evidence' | 'manual';
    if (input.discoveredAt !== undefined) {
      discoveredAt = new Date(input.discoveredAt);
      source = 'manual';
    } else if (events[0]) {
      discoveredAt = new Date(events[0].ts);
      source = 'evidence';
    } else {
      throw new ClockApiError(
        400,
        'discoveredAt: required (ISO 8601 time) unless evidence names stored events',
      );
    }
    notInFuture(discoveredAt, now, 'discoveredAt');
    const id = `inc-${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    await deps.store.clocks.createIncident({
      id,
      title: input.title,
      level: input.level,
      unit: input.unit,
      unitLevel: deps.level,
      discoveredAt: discoveredAt.toISOString(),
      discoverySource: source,
      description: input.description ?? null,
      measures: input.measures ?? null,
      evidence: input.evidence,
      createdAt: now.toISOString(),
      createdBy: principal.name,
    });
    return id;
  };

  const visibleIncident = async (request: FastifyRequest, id: string) => {
    const record = await deps.store.clocks.getIncident(id);
    if (!record || !inScope(request.principal, record.unit))
      throw new ClockApiError(404, `no incident ${id}`);
    return record;
  };
  /** Rebuilds the chain's rows and runs a pass, then answers with the incident as it now stands. */
  const afterChange = async (id: string) => {
    deps.onIncidentChange?.(id);
    const record = (await deps.store.clocks.getIncident(id))!;
    await deps.scheduler.refreshIncident(record);
    await deps.scheduler.runPass('change');
    const fires = await deps.store.clocks.listFires({ type: 'incident', id });
    return incidentView(record, deps.scheduler.now(), fires);
  };

  return async (app: FastifyInstance) => {
    const tags = ['incidents'];
    const security = [{ bearer: [] }];

    app.get(
      '/api/v1/incidents',
      {
        schema: {
          summary: 'List leak incidents (第61条) with their report chains, newest first',
          tags,
          security,
          response: { 200: listOf(incidentSchema), ...authErrorResponses },
        },
      },
      async (request) => {
        const now = deps.scheduler.now();
        const records = await deps.store.clocks.listIncidents({ units: visibleUnits(request.principal) });
        return { items: records.map((r) => incidentView(r, now)) };
      },
    );

    app.post<{ Body: CreateIncidentBody }>(
      '/api/v1/incidents',
      {
        schema: {
          summary: 'Record a leak or possible leak; its 24 h report deadlines start at discovery',
          tags,
          security,
          body: {
            type: 'object',
            required: ['title', 'level'],
            additionalProperties: false,
            properties: {
              title: { type: 'string', minLength: 1, maxLength: 200 },
              level: { type: 'string', enum: SYSTEM_LEVELS },
              discoveredAt: {
                ...isoTime,
                description:
                  'ISO 8601 with Z or an offset; omitted: the attested time of the earliest evidence event',
              },
              evidence: { type: 'array', maxItems: 100, items: { type: 'integer', minimum: 1 } },
              description: optionalText(5000),
              measures: optionalText(5000),
              unit: { type: 'string', minLength: 1, maxLength: 200 },
            },
          },
          response: { 201: incidentSchema, 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        try {
          const principal = requireWriter(request.principal);
          const body = request.body;
          const id = await createIncident(principal, {
            ...body,
            unit: ownerUnit(principal, body.unit, deps.unit),
            evidence: [...new Set(body.evidence ?? [])],
          });
          return reply.code(201).send(await afterChange(id));
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.post<{ Params: { id: string }; Body: WarningIncidentBody }>(
      '/api/v1/warnings/:id/incident',
      {
        schema: {
          summary:
            'Open a 第61条 incident from a warning: its signed events are the evidence, discovered at the earliest attested time',
          tags: [...tags, 'warnings'],
          security,
          params: idParams,
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              title: { type: 'string', minLength: 1, maxLength: 200 },
              level: {
                type: 'string',
                enum: SYSTEM_LEVELS,
                description: 'default: the level of the warning’s hosts, when it is 绝密, 机密 or 秘密',
              },
              discoveredAt: {
                ...isoTime,
                description: 'only for a warning with no signed event (a condition the collector observed)',
              },
              description: optionalText(5000),
              measures: optionalText(5000),
              note: { type: 'string', maxLength: 4000 },
            },
          },
          response: {
            201: incidentSchema,
            400: refusalSchema,
            403: refusalSchema,
            404: errorSchema,
            409: refusalSchema,
            401: authErrorResponses[401],
          },
        },
      },
      async (request, reply) => {
        try {
          const principal = requireWriter(request.principal);
          const body = request.body;
          const warning = await deps.store.warnings.getWarning(request.params.id);
          if (!warning || !inScope(principal, warning.unit))
            throw new ClockApiError(404, `no warning ${request.params.id}`);
          const actor = { name: principal.name, role: principal.role, unit: principal.unit };
          const scope = handlingScope(principal);
          // Checked before the incident exists, so a refused step leaves no incident behind.
          const check = requestIncident(warning, { actor, note: body.note }, deps.scheduler.now(), scope);
          if (!check.ok) return sendRefusal(reply, REFUSAL_STATUS[check.reason], check);
          const level = body.level ?? SYSTEM_LEVELS.find((l) => l === warning.level);
          if (!level) {
            throw new ClockApiError(
              400,
              `level: the warning’s hosts have no classified level on record; give 绝密, 机密 or 秘密`,
            );
          }
          const evidence = await deps.store.warnings.listEvidence(warning.id, MAX_INCIDENT_EVIDENCE);
          const eventIds = [
            ...new Set(evidence.flatMap((e) => (e.eventId === undefined ? [] : [e.eventId]))),
          ];
          if (eventIds.length > 0 && body.discoveredAt !== undefined) {
            throw new ClockApiError(
              400,
              'discoveredAt: this warning has signed events; the discovery time is the earliest one’s attested time',
            );
          }
          const id = await createIncident(principal, {
            title: body.title ?? check.effect.title,
            level,
            unit: warning.unit,
            evidence: eventIds,
            discoveredAt: body.discoveredAt,
            description: body.description,
            measures: body.measures,
          });
          const linked = await deps.store.warnings.updateWarning(warning.id, (current) =>
            requestIncident(current, { actor, note: body.note, incidentId: id }, deps.scheduler.now(), scope),
          );
          if (!linked?.ok) {
            request.log.warn(
              { warning: warning.id, incident: id },
              'incident opened, but the warning changed meanwhile and was not linked',
            );
          }
          return reply.code(201).send(await afterChange(id));
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.get<{ Params: { id: string } }>(
      '/api/v1/incidents/:id',
      {
        schema: {
          summary: 'One incident: hops with deadlines and lateness, end-to-end time, reminders fired',
          tags,
          security,
          params: idParams,
          response: { 200: incidentSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        try {
          const record = await visibleIncident(request, request.params.id);
          const fires = await deps.store.clocks.listFires({ type: 'incident', id: record.id });
          return incidentView(record, deps.scheduler.now(), fires);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.post<{ Params: { id: string }; Body: ReportBody }>(
      '/api/v1/incidents/:id/reports',
      {
        schema: {
          summary: 'Record a report along the chain: who, to whom, when, by which channel, and its receipt',
          tags,
          security,
          params: idParams,
          body: {
            type: 'object',
            required: ['to', 'reportedAt', 'channel'],
            additionalProperties: false,
            properties: {
              to: {
                type: 'string',
                enum: RECIPIENTS,
                description: 'same-level-admin, superior-dept, or the administration’s level',
              },
              reportedAt: isoTime,
              channel: { type: 'string', enum: REPORT_CHANNELS },
              from: {
                type: 'string',
                enum: COLLECTOR_LEVELS,
                description: 'who reported: default the unit itself; an administration by its level',
              },
              receivedAt: { ...isoTime, description: 'when the recipient received it; starts its own 24 h' },
              receipt: optionalText(500),
              by: { type: 'string', minLength: 1, maxLength: 200 },
            },
          },
          response: { 201: incidentSchema, 400: errorSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        try {
          const principal = requireWriter(request.principal);
          const incident = await visibleIncident(request, request.params.id);
          const body = request.body;
          const now = deps.scheduler.now();
          const reportedAt = new Date(body.reportedAt);
          const receivedAt = body.receivedAt === undefined ? undefined : new Date(body.receivedAt);
          notInFuture(reportedAt, now, 'reportedAt');
          if (reportedAt < new Date(incident.discoveredAt)) {
            throw new ClockApiError(
              400,
              `reportedAt: ${reportedAt.toISOString()} is before the discovery ${incident.discoveredAt}`,
            );
          }
          if (receivedAt) {
            notInFuture(receivedAt, now, 'receivedAt');
            if (receivedAt < reportedAt)
              throw new ClockApiError(400, 'receivedAt: cannot be before reportedAt');
          }
          const fromLevel = body.from ?? (incident.unitLevel as (typeof COLLECTOR_LEVELS)[number]);
          const clock = incidentClock(incident);
          const report: ChainReport = {
            fromLevel,
            to: body.to,
            reportedAt,
            receivedAt,
            channel: body.channel,
            by: body.by ?? principal.name,
          };
          if (!hopIdForReport(clock, report)) {
            const hops = chainHops(clock.unitLevel).map(
              (h) => `${h.from === 'unit' ? fromLevel : h.from}→${h.to}`,
            );
            throw new ClockApiError(
              400,
              `to: a report from ${fromLevel} to ${body.to} is no hop of this chain; expected one of ${hops.join(', ')}`,
            );
          }
          await deps.store.clocks.addReport(incident.id, {
            fromLevel,
            to: body.to,
            reportedAt: reportedAt.toISOString(),
            receivedAt: receivedAt?.toISOString() ?? null,
            channel: body.channel,
            by: report.by,
            receipt: body.receipt ?? null,
            recordedAt: now.toISOString(),
            recordedBy: principal.name,
          });
          return reply.code(201).send(await afterChange(incident.id));
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );

    app.post<{
      Params: { id: string; reportId: number };
      Body: { receivedAt: string; receipt?: string | null };
    }>(
      '/api/v1/incidents/:id/reports/:reportId/receipt',
      {
        schema: {
          summary: 'Record the receipt of an earlier report; the recipient’s 24 h run from it',
          tags,
          security,
          params: {
            type: 'object',
            required: ['id', 'reportId'],
            properties: { id: { type: 'string', maxLength: 64 }, reportId: { type: 'integer', minimum: 1 } },
          },
          body: {
            type: 'object',
            required: ['receivedAt'],
            additionalProperties: false,
            properties: { receivedAt: isoTime, receipt: optionalText(500) },
          },
          response: { 200: incidentSchema, 400: errorSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        try {
          requireWriter(request.principal);
          const incident = await visibleIncident(request, request.params.id);
          const report = incident.reports.find((r) => r.id === request.params.reportId);
          if (!report)
            throw new ClockApiError(404, `no report ${request.params.reportId} on incident ${incident.id}`);
          const receivedAt = new Date(request.body.receivedAt);
          notInFuture(receivedAt, deps.scheduler.now(), 'receivedAt');
          if (receivedAt < new Date(report.reportedAt)) {
            throw new ClockApiError(400, 'receivedAt: cannot be before the report it confirms');
          }
          await deps.store.clocks.setReportReceipt(
            incident.id,
            report.id,
            receivedAt.toISOString(),
            request.body.receipt ?? null,
          );
          return await afterChange(incident.id);
        } catch (err) {
          return sendClockError(err, reply);
        }
      },
    );
  };
}
