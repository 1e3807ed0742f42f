import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SIGNATURE_ALGS } from '../../shared/crypto/suite.js';
import type { Principal } from '../auth/api-keys.js';
import { COLLECTOR_LEVELS } from '../config.js';
import type { Hierarchy } from '../hierarchy/hierarchy.js';
import { shanghaiYear } from '../hierarchy/annual-figures.js';
import { incidentChain } from '../hierarchy/incident-chain.js';
import { receivedIncidents } from '../hierarchy/relay-duty.js';
import { MAX_BATCH_BYTES } from '../hierarchy/hierarchy-config.js';
import { NOTICE_TYPES, REPORT_TYPES } from '../hierarchy/messages.js';
import { policyUpdateSchema } from '../hierarchy/policy-merge.js';
import { annualRefusal } from '../hierarchy/producers.js';
import {
  answerPull,
  enrollChild,
  receiveBatch,
  type Answer,
  type ChildEnrollRequest,
} from '../hierarchy/parent-side.js';
import { enrollmentProofProperties } from './enroll.js';
import type { StoredNotice, StoredReport, SubordinateRecord } from '../store/hierarchy/hierarchy-store.js';
import { seesUnit, visibleUnits } from './bearer-auth.js';
import { notFound } from './route-helpers.js';
import { authErrorResponses, errorSchema, isoTime, listOf, nullableIsoTime, openObject } from './schemas.js';

/**
 * The hierarchy's HTTP routes. Collector-to-collector routes (enroll with a token; reports and
 * pulls signed by an enrolled child's key) are open to the network like agent enrollment; the
 * views for people need a bearer key and show a unit-scoped key only what passed through its unit.
 */
export interface HierarchyApiDeps {
  hierarchy: Hierarchy;
  /** This collector's own unit: a key for it sees the whole tree below. */
  unit: string;
  /** http.maxReportBody: the largest batch body a child may post (default MAX_BATCH_BYTES). */
  maxReportBody?: number;
}

const security = [{ bearer: [] }];
const noticeIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 100 } },
} as const;

function send<T>(reply: FastifyReply, answer: Answer<T>) {
  if (!answer.ok) return reply.code(answer.status).send({ error: answer.error });
  return answer.body;
}

/** undefined = every unit; a key for this collector's own unit is not limited either. */
function scope(principal: Principal | null, ownUnit: string): string[] | undefined {
  const units = visibleUnits(principal);
  return units?.length === 1 && units[0] === ownUnit ? undefined : units;
}

/**
 * This collector's own hierarchy business (its parent link, the policy in force, notices received
 * from above and the results sent back) belongs to its own unit: refused to a key for a unit below.
 */
function ownBusiness(request: FastifyRequest, reply: FastifyReply, ownUnit: string): boolean {
  if (seesUnit(request.principal, ownUnit)) return true;
  void reply
    .code(403)
    .send({ error: `a key for unit ${request.principal?.unit} cannot see or act for ${ownUnit} itself` });
  return false;
}

function mayWrite(request: FastifyRequest, reply: FastifyReply): Principal | undefined {
  const principal = request.principal;
  if (!principal || principal.role === 'viewer') {
    void reply.code(403).send({ error: 'a viewer key cannot do this; use an officer or admin key' });
    return undefined;
  }
  return principal;
}

const subordinateSchema = {
  type: 'object',
  required: ['id', 'unit', 'level', 'parent', 'direct', 'enrolledAt', 'lastSeenAt'],
  properties: {
    id: { type: 'string' },
    unit: { type: 'string' },
    level: { type: 'string', enum: [...COLLECTOR_LEVELS] },
    alg: { type: 'string' },
    publicKey: { type: 'string' },
    parent: { type: 'string' },
    direct: { type: 'boolean' },
    enrolledAt: isoTime,
    lastSeenAt: nullableIsoTime,
  },
} as const;

const reportViewSchema = {
  type: 'object',
  required: ['id', 'origin', 'seq', 'unit', 'level', 'type', 'key', 'via', 'path', 'receivedAt', 'report'],
  properties: {
    id: { type: 'integer' },
    origin: { type: 'string' },
    seq: { type: 'integer' },
    unit: { type: 'string' },
    level: { type: 'string' },
    type: { type: 'string' },
    key: { type: 'string' },
    via: { type: 'string', description: 'the direct child it came through' },
    path: {
      type: 'array',
      items: { type: 'string' },
      description: 'units from the origin up to the direct child',
    },
    receivedAt: isoTime,
    report: { ...openObject, description: 'the report as its origin signed it' },
    chain: {
      type: 'array',
      items: openObject,
      description: 'certificates from the origin up to the direct child',
    },
  },
} as const;

const noticeViewSchema = {
  type: 'object',
  required: ['id', 'source', 'notice', 'receivedAt'],
  properties: {
    id: { type: 'string' },
    source: { type: 'string', enum: ['issued', 'received'] },
    notice: openObject,
    receivedAt: isoTime,
    ackedAt: nullableIsoTime,
    result: { type: ['string', 'null'] },
    resultAt: nullableIsoTime,
    responses: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          collector: { type: 'string' },
          unit: { type: 'string' },
          level: { type: 'string' },
          direct: { type: 'boolean' },
          ackedAt: nullableIsoTime,
          result: { type: ['string', 'null'] },
          resultAt: nullableIsoTime,
        },
      },
    },
    unanswered: {
      type: 'array',
      items: { type: 'string' },
      description: 'units that have not sent a 排查 result',
    },
    unacknowledged: {
      type: 'array',
      items: { type: 'string' },
      description: 'units that have not acknowledged',
    },
  },
} as const;

function subordinateView(s: SubordinateRecord) {
  return {
    id: s.id,
    unit: s.unit,
    level: s.level,
    alg: s.alg,
    publicKey: s.publicKey,
    parent: s.parent,
    direct: s.direct,
    enrolledAt: s.enrolledAt,
    lastSeenAt: s.lastSeenAt,
  };
}

function reportView(r: StoredReport) {
  return {
    id: r.id,
    origin: r.origin,
    seq: r.seq,
    unit: r.unit,
    level: r.level,
    type: r.type,
    key: r.key,
    via: r.via,
    path: r.pathUnits,
    receivedAt: r.receivedAt,
    report: r.report,
    chain: r.chain,
  };
}

function noticeView(n: StoredNotice) {
  return {
    id: n.id,
    source: n.source,
    notice: n.notice,
    receivedAt: n.receivedAt,
    ackedAt: n.ackedAt,
    result: n.result,
    resultAt: n.resultAt,
  };
}

/** Routes children call; their own authentication is the token or the signature. */
export function hierarchyLinkRoutes(deps: HierarchyApiDeps) {
  return async (app: FastifyInstance) => {
    const side = deps.hierarchy.parentSide;
    const maxReportBody = deps.maxReportBody ?? MAX_BATCH_BYTES;
    app.post<{ Body: ChildEnrollRequest }>(
      '/api/v1/hierarchy/enroll',
      {
        schema: {
          summary: 'Enroll a child collector with a one-time token (smew collector enroll)',
          tags: ['hierarchy'],
          body: {
            type: 'object',
            required: ['token', 'publicKey', 'alg', 'unit', 'level'],
            additionalProperties: false,
            properties: {
              token: { type: 'string', minLength: 1, maxLength: 256 },
              publicKey: { type: 'string', minLength: 1, maxLength: 4096, description: 'base64 SPKI DER' },
              alg: { type: 'string', enum: [...SIGNATURE_ALGS] },
              unit: { type: 'string', minLength: 1, maxLength: 200 },
              level: { type: 'string', enum: [...COLLECTOR_LEVELS] },
              ...enrollmentProofProperties,
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['child', 'parent', 'cert'],
              properties: { child: openObject, parent: openObject, cert: openObject },
            },
            400: errorSchema,
            401: errorSchema,
            403: errorSchema,
            409: errorSchema,
          },
        },
      },
      async (request, reply) => send(reply, await enrollChild(side, request.body)),
    );

    /** A signed message from an enrolled child, answered with one signed by this collector. */
    const signedExchange = (
      path: string,
      summary: string,
      message: { asked: string; answered: string },
      answer: (body: unknown) => Promise<Answer<unknown>>,
      options: {
        bodyLimit?: number;
        errorHandler?: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => unknown;
      } = {},
    ) =>
      app.post(
        path,
        {
          ...options,
          schema: {
            summary,
            tags: ['hierarchy'],
            body: { ...openObject, description: `${message.asked}, signed by the child` },
            response: {
              200: { ...openObject, description: `${message.answered}, signed by this collector` },
              400: errorSchema,
              401: errorSchema,
              403: errorSchema,
              409: errorSchema,
              413: errorSchema,
            },
          },
        },
        async (request, reply) => send(reply, await answer(request.body)),
      );
    signedExchange(
      '/api/v1/hierarchy/reports',
      'A child collector’s signed batch of reports; answered with a signed receipt',
      { asked: 'smew.hierarchy.batch', answered: 'smew.hierarchy.receipt' },
      async (body) => {
        const answer = await receiveBatch(side, body);
        // What was accepted is queued for this collector's own parent: on it goes, now.
        if (answer.ok) deps.hierarchy.relayed();
        return answer;
      },
      {
        // Read before any signature can be checked: bounded, and a refusal says by what.
        bodyLimit: maxReportBody,
        errorHandler: (error: FastifyError, _request, reply) => {
          if (error.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') throw error;
          side.metrics?.refusedMessages.inc({ status: '413' });
          return reply.code(413).send({
            error: `a batch of reports may be at most ${maxReportBody} bytes (http.maxReportBody on this collector); this one is larger`,
          });
        },
      },
    );
    signedExchange(
      '/api/v1/hierarchy/pull',
      'A child collector asks for the notices it has not acknowledged',
      { asked: 'smew.hierarchy.pull', answered: 'smew.hierarchy.notices' },
      (body) => answerPull(side, body),
    );
  };
}

/** Views and actions for people; registered inside the bearer-key scope. */
export function hierarchyRoutes(deps: HierarchyApiDeps) {
  return async (app: FastifyInstance) => {
    const { hierarchy } = deps;
    const store = hierarchy.parentSide.store;

    app.get(
      '/api/v1/hierarchy/status',
      {
        schema: {
          summary: 'This collector’s parent link and upward backlog',
          tags: ['hierarchy'],
          security,
          response: {
            200: {
              type: 'object',
              required: ['collector', 'unit', 'level', 'parent', 'outbox'],
              properties: {
                collector: { type: 'string' },
                unit: { type: 'string' },
                level: { type: 'string' },
                parent: {
                  type: ['object', 'null'],
                  properties: {
                    id: { type: 'string' },
                    url: { type: 'string' },
                    unit: { type: 'string' },
                    level: { type: 'string' },
                    enrolledAt: isoTime,
                    lastContactAt: nullableIsoTime,
                    lastError: { type: ['string', 'null'] },
                  },
                },
                outbox: {
                  type: 'object',
                  properties: {
                    pending: { type: 'integer' },
                    delivered: { type: 'integer' },
                    rejected: { type: 'integer' },
                    oldestPendingAt: nullableIsoTime,
                    lastReceiptAt: nullableIsoTime,
                  },
                },
              },
            },
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        if (!ownBusiness(request, reply, deps.unit)) return reply;
        const parent = await store.getParent();
        return {
          collector: hierarchy.parentSide.identity.id,
          unit: hierarchy.parentSide.unit,
          level: hierarchy.parentSide.level,
          parent: parent
            ? {
                id: parent.id,
                url: parent.url,
                unit: parent.unit,
                level: parent.level,
                enrolledAt: parent.enrolledAt,
                lastContactAt: parent.lastContactAt,
                lastError: parent.lastError,
              }
            : null,
          outbox: await store.outboxStats(),
        };
      },
    );

    app.get(
      '/api/v1/hierarchy/collectors',
      {
        schema: {
          summary: 'Subordinate collectors (direct children and those below them), scoped by unit',
          tags: ['hierarchy'],
          security,
          response: { 200: listOf(subordinateSchema), ...authErrorResponses },
        },
      },
      async (request) => ({
        items: (await store.listSubordinates({ units: scope(request.principal, deps.unit) })).map(
          subordinateView,
        ),
      }),
    );

    app.get<{ Querystring: { unit?: string; type?: string; origin?: string; limit: number } }>(
      '/api/v1/hierarchy/reports',
      {
        schema: {
          summary: 'Reports received from subordinate collectors, newest first, each as its origin signed it',
          tags: ['hierarchy'],
          security,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              unit: {
                type: 'string',
                minLength: 1,
                maxLength: 200,
                description: 'only reports that passed through this unit',
              },
              type: { type: 'string', enum: [...REPORT_TYPES] },
              origin: { type: 'string', pattern: '^co-[a-z2-7]{20}$' },
              limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 500 },
            },
          },
          response: { 200: listOf(reportViewSchema), 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request) => {
        const { unit, type, origin, limit } = request.query;
        const allowed = scope(request.principal, deps.unit);
        let units: string[] | undefined = allowed;
        if (unit !== undefined) units = allowed === undefined || allowed.includes(unit) ? [unit] : [];
        return { items: (await store.listReports({ units, type, origin, limit })).map(reportView) };
      },
    );

    app.get(
      '/api/v1/hierarchy/incidents',
      {
        schema: {
          summary:
            'Incidents reported from below with their 第61条 hops and deadlines, including this level’s own',
          tags: ['hierarchy'],
          security,
          response: {
            200: listOf({
              type: 'object',
              required: ['origin', 'unit', 'id', 'title', 'discoveredAt', 'receivedAt', 'hops'],
              properties: {
                origin: { type: 'string' },
                unit: { type: 'string' },
                id: { type: 'string' },
                title: { type: 'string' },
                level: { type: 'string' },
                discoveredAt: isoTime,
                receivedAt: isoTime,
                duty: {
                  type: ['object', 'null'],
                  description:
                    'this administration’s own 第61条 duty: pass it on within 24 h of its receipt here; done at the parent’s receipt (null at the top)',
                  properties: {
                    from: { type: 'string' },
                    to: { type: 'string' },
                    dueAt: isoTime,
                    state: { type: 'string', enum: ['pending', 'done', 'overdue'] },
                    reportedAt: nullableIsoTime,
                    receivedAt: nullableIsoTime,
                    late: { type: 'boolean' },
                    lateByMs: { type: ['integer', 'null'] },
                  },
                },
                hops: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['from', 'to', 'dueAt', 'reportedAt', 'receivedAt', 'late'],
                    properties: {
                      from: { type: 'string' },
                      to: { type: 'string' },
                      dueAt: isoTime,
                      reportedAt: nullableIsoTime,
                      receivedAt: nullableIsoTime,
                      late: { type: 'boolean' },
                    },
                  },
                },
              },
            }),
            ...authErrorResponses,
          },
        },
      },
      async (request) => {
        const parent = await store.getParent();
        const now = hierarchy.parentSide.clock.now();
        const here = hierarchy.parentSide.level;
        const received = await receivedIncidents(hierarchy.store, {
          units: scope(request.principal, deps.unit),
          here,
          parentLevel: parent?.level,
          now,
        });
        const items = received.map(({ incident, id, hops, ownHop, duty }) => ({
          origin: incident.origin,
          unit: incident.unit,
          id,
          title: String(incident.report.data.title),
          level: String(incident.report.data.level),
          discoveredAt: String(incident.report.data.discoveredAt),
          receivedAt: incident.receivedAt,
          hops: incidentChain({
            discoveredAt: String(incident.report.data.discoveredAt),
            receivedHere: incident.receivedAt,
            here,
            hops,
            ownHop,
            parentLevel: parent?.level,
            now,
          }),
          duty: duty ?? null,
        }));
        return { items };
      },
    );

    const figuresSchema = {
      type: 'object',
      additionalProperties: { type: 'object', additionalProperties: { type: 'number' } },
      description:
        'section → name → count (systems, assessments, incidents, warnings, warningTypes, notices, agents)',
    } as const;
    const yearSchema = { type: 'integer', minimum: 2000, maximum: 9999 } as const;
    app.get<{ Querystring: { year?: number } }>(
      '/api/v1/hierarchy/annual',
      {
        schema: {
          summary:
            'The annex (附表) figures of the 第56条 年度保密工作情况 of this unit and of each subordinate unit for a year, with totals (default: last year)',
          tags: ['hierarchy'],
          security,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { year: yearSchema },
          },
          response: {
            200: {
              type: 'object',
              required: ['year', 'items', 'totals', 'missing'],
              properties: {
                year: { type: 'integer' },
                items: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['unit', 'level', 'origin', 'own', 'final', 'takenAt', 'receivedAt', 'figures'],
                    properties: {
                      unit: { type: 'string' },
                      level: { type: 'string' },
                      origin: { type: 'string' },
                      own: { type: 'boolean', description: 'this collector’s own figures' },
                      final: { type: 'boolean', description: 'taken after the year ended' },
                      takenAt: isoTime,
                      receivedAt: nullableIsoTime,
                      figures: figuresSchema,
                    },
                  },
                },
                totals: figuresSchema,
                missing: {
                  type: 'array',
                  items: { type: 'string' },
                  description: 'subordinate units whose figures for the year have not arrived',
                },
              },
            },
            400: errorSchema,
            ...authErrorResponses,
          },
        },
      },
      async (request) => {
        const year = request.query.year ?? shanghaiYear(hierarchy.parentSide.clock.now()) - 1;
        return hierarchy.annualView(year, scope(request.principal, deps.unit));
      },
    );

    app.post<{ Body: { year: number } }>(
      '/api/v1/hierarchy/annual',
      {
        schema: {
          summary:
            'Send this unit’s annex (附表) figures of its 第56条 年度保密工作情况 for a finished year to the parent now (once per year)',
          tags: ['hierarchy'],
          security,
          body: {
            type: 'object',
            required: ['year'],
            additionalProperties: false,
            properties: { year: yearSchema },
          },
          response: {
            202: {
              type: 'object',
              required: ['created', 'report'],
              properties: {
                created: {
                  type: 'boolean',
                  description: 'false: the figures of that year had already been queued',
                },
                report: { ...openObject, description: 'the figures as queued for the parent' },
              },
            },
            400: errorSchema,
            409: errorSchema,
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        if (!mayWrite(request, reply) || !ownBusiness(request, reply, deps.unit)) return reply;
        const { year } = request.body;
        const answer = await hierarchy.produceAnnual(year);
        if (!answer.ok) {
          return reply
            .code(answer.reason === 'unfinished' ? 400 : 409)
            .send({ error: annualRefusal(answer.reason, year) });
        }
        return reply.code(202).send({ created: answer.created, report: answer.data });
      },
    );

    app.get(
      '/api/v1/hierarchy/policy',
      {
        schema: {
          summary:
            'The policy this collector gives its agents: its own narrowed by every policy update from above (a lower level may tighten, never loosen)',
          tags: ['hierarchy'],
          security,
          response: {
            200: {
              type: 'object',
              required: ['policy'],
              properties: {
                policy: {
                  ...openObject,
                  type: ['object', 'null'],
                  description: 'null: agents keep their local policy',
                },
                hash: { type: 'string' },
                since: isoTime,
                rulings: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      notice: { type: 'string' },
                      issuerUnit: { type: 'string' },
                      issuerLevel: { type: 'string' },
                      ts: isoTime,
                    },
                  },
                },
              },
            },
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        if (!ownBusiness(request, reply, deps.unit)) return reply;
        return (await hierarchy.policy?.inForce()) ?? { policy: null, rulings: [] };
      },
    );

    app.get(
      '/api/v1/hierarchy/notices',
      {
        schema: {
          summary: 'Notices (预警通报) and policy updates issued here or received from above, newest first',
          tags: ['hierarchy'],
          security,
          response: { 200: listOf(noticeViewSchema), ...authErrorResponses },
        },
      },
      async (request) => ({
        items: (await store.listNotices(500))
          .filter((n) => n.source === 'issued' || seesUnit(request.principal, deps.unit))
          .map(noticeView),
      }),
    );

    app.post<{
      Body: {
        type: 'notice' | 'policy';
        title: string;
        body: string;
        severity?: string;
        dueAt?: string;
        policy?: Record<string, unknown>;
      };
    }>(
      '/api/v1/hierarchy/notices',
      {
        schema: {
          summary: 'Issue a notice (预警通报) or a policy update to every subordinate collector',
          tags: ['hierarchy'],
          security,
          body: {
            type: 'object',
            required: ['type', 'title', 'body'],
            additionalProperties: false,
            properties: {
              type: { type: 'string', enum: [...NOTICE_TYPES] },
              title: { type: 'string', minLength: 1, maxLength: 500 },
              body: { type: 'string', maxLength: 20_000 },
              severity: { type: 'string', maxLength: 20 },
              dueAt: { ...isoTime, description: 'when the 排查 results are due' },
              policy: openObject,
            },
          },
          response: { 201: noticeViewSchema, 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        if (!mayWrite(request, reply) || !ownBusiness(request, reply, deps.unit)) return reply;
        if (request.body.type === 'policy') {
          if (request.body.policy === undefined)
            return reply.code(400).send({ error: 'policy: a policy update needs the policy object' });
          const parsed = policyUpdateSchema.safeParse(request.body.policy);
          if (!parsed.success) {
            const issue = parsed.error.issues[0]!;
            return reply.code(400).send({
              error: `policy.${issue.path.map(String).join('.')}: ${issue.message} (the sections of SPEC §4: level, interfaces, wireless, bluetooth, network, usb, files, beacon)`,
            });
          }
        }
        const notice = await hierarchy.issueNotice(request.body);
        const stored = await store.getNotice(notice.id);
        return reply.code(201).send(noticeView(stored!));
      },
    );

    app.get<{ Params: { id: string } }>(
      '/api/v1/hierarchy/notices/:id',
      {
        schema: {
          summary:
            'One notice with each subordinate’s acknowledgement and 排查 result, and who has not answered',
          tags: ['hierarchy'],
          security,
          params: noticeIdParams,
          response: { 200: noticeViewSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        const notice = await store.getNotice(request.params.id);
        // A notice received from above is this collector's own business; one issued here went to the units below.
        if (!notice || (notice.source === 'received' && !seesUnit(request.principal, deps.unit))) {
          return notFound(reply, 'notice', request.params.id);
        }
        const units = scope(request.principal, deps.unit);
        const subordinates = await store.listSubordinates({ units });
        const answers = new Map((await store.listResponses(notice.id)).map((r) => [r.collector, r]));
        const responses = subordinates.map((s) => {
          const a = answers.get(s.id);
          return {
            collector: s.id,
            unit: s.unit,
            level: s.level,
            direct: s.direct,
            ackedAt: a?.ackedAt ?? null,
            result: a?.result ?? null,
            resultAt: a?.resultAt ?? null,
          };
        });
        return {
          ...noticeView(notice),
          responses,
          unacknowledged: responses.filter((r) => r.ackedAt === null).map((r) => r.unit),
          unanswered: responses.filter((r) => r.result === null).map((r) => r.unit),
        };
      },
    );

    app.post<{ Params: { id: string }; Body: { result: string } }>(
      '/api/v1/hierarchy/notices/:id/result',
      {
        schema: {
          summary: 'Send this collector’s 排查 result for a notice from above to the parent',
          tags: ['hierarchy'],
          security,
          params: noticeIdParams,
          body: {
            type: 'object',
            required: ['result'],
            additionalProperties: false,
            properties: { result: { type: 'string', minLength: 1, maxLength: 20_000 } },
          },
          response: { 202: noticeViewSchema, 404: errorSchema, 409: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        const principal = mayWrite(request, reply);
        if (!principal || !ownBusiness(request, reply, deps.unit)) return reply;
        const notice = await store.getNotice(request.params.id);
        if (!notice || notice.source !== 'received') {
          return reply.code(404).send({ error: `no notice ${request.params.id} received from above` });
        }
        if (!(await hierarchy.recordResult(notice.id, request.body.result, principal.name))) {
          return reply
            .code(409)
            .send({ error: `the 排查 result for ${notice.id} was already sent at ${notice.resultAt}` });
        }
        return reply.code(202).send(noticeView((await store.getNotice(notice.id))!));
      },
    );
  };
}
