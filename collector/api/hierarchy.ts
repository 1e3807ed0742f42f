import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { childEnrollBody, childEnrolled } from '../../shared/api/enroll.js';
import type { Principal } from '../auth/api-keys.js';
import type { Hierarchy } from '../hierarchy/hierarchy.js';
import { shanghaiYear } from '../hierarchy/annual-figures.js';
import { HierarchyViews } from '../hierarchy/hierarchy-views.js';
import { MAX_BATCH_BYTES } from '../hierarchy/hierarchy-config.js';
import { NOTICE_TYPES, REPORT_TYPES } from '../hierarchy/messages.js';
import { annualRefusal } from '../hierarchy/producers.js';
import { answerPull, enrollChild, receiveBatch, type Answer } from '../hierarchy/parent-side.js';
import { seesUnit, visibleUnits } from './bearer-auth.js';
import { notFound } from './route-helpers.js';
import { isoTime, openObject as openRecord } from '../../shared/api/common.js';
import {
  annualBody,
  annualFigures,
  annualQuery,
  annualQueued,
  hierarchyNotice,
  hierarchyNoticeList,
  hierarchyNoticeParams,
  hierarchyStatus,
  noticeResultBody,
  policyInForce,
  receivedIncident,
  receivedIncidentList,
  receivedReportList,
  relayHopBody,
  relayHopParams,
  subordinateList,
  unitSelfInspectionList,
  subordinateUnitList,
} from '../../shared/api/hierarchy.js';
import { subordinateSelfInspections } from '../hierarchy/self-inspection-reports.js';
import {
  authErrorResponses,
  errorSchema,
  openObject,
  requestSchema,
  responseSchema,
  type ShapeTypes,
} from './schemas.js';

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

/** Routes children call; their own authentication is the token or the signature. */
export function hierarchyLinkRoutes(deps: HierarchyApiDeps) {
  return async (app: FastifyInstance) => {
    const side = deps.hierarchy.parentSide;
    const maxReportBody = deps.maxReportBody ?? MAX_BATCH_BYTES;
    app.withTypeProvider<ShapeTypes>().post(
      '/api/v1/hierarchy/enroll',
      {
        config: { permission: 'public' },
        schema: {
          summary: 'Enroll a child collector with a one-time token (smew collector enroll)',
          tags: ['hierarchy'],
          body: requestSchema(childEnrollBody),
          response: {
            200: responseSchema(childEnrolled),
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
          config: { permission: 'public' },
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

const reportsQuery = z.strictObject({
  unit: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: 'only reports that passed through this unit' }),
  type: z.enum(REPORT_TYPES).optional(),
  origin: z
    .string()
    .regex(/^co-[a-z2-7]{20}$/)
    .optional(),
  limit: z.int().min(1).max(10_000).default(500),
});

const newNoticeBody = z.strictObject({
  type: z.enum(NOTICE_TYPES),
  title: z.string().min(1).max(500),
  body: z.string().max(20_000),
  severity: z.string().max(20).optional(),
  dueAt: isoTime.optional().meta({ description: 'when the 排查 results are due' }),
  policy: openRecord.optional(),
});

const noticeSchema = responseSchema(hierarchyNotice);
const noticeParams = requestSchema(hierarchyNoticeParams);

/** Views and actions for people; registered inside the bearer-key scope. The views are collector/hierarchy/hierarchy-views.ts. */
export function hierarchyRoutes(deps: HierarchyApiDeps) {
  const { hierarchy } = deps;
  const views = new HierarchyViews(hierarchy);
  return async (app: FastifyInstance) => {
    await app.register(treeRoutes(deps, views));
    await app.register(noticeRoutes(deps, views));
  };
}

const tags = ['hierarchy'];

/** The tree: the parent link, the collectors below, what came up, the annual figures. */
function treeRoutes(deps: HierarchyApiDeps, views: HierarchyViews) {
  const { hierarchy } = deps;
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<ShapeTypes>();

    app.get(
      '/api/v1/hierarchy/status',
      {
        config: { permission: 'hierarchy.status' },
        schema: {
          summary: 'This collector’s parent link and upward backlog',
          tags,
          security,
          response: { 200: responseSchema(hierarchyStatus), ...authErrorResponses },
        },
      },
      async (request, reply) => {
        if (!ownBusiness(request, reply, deps.unit)) return reply;
        return views.status();
      },
    );

    app.get(
      '/api/v1/hierarchy/collectors',
      {
        config: { permission: 'hierarchy.status' },
        schema: {
          summary: 'Subordinate collectors (direct children and those below them), scoped by unit',
          tags,
          security,
          response: { 200: responseSchema(subordinateList), ...authErrorResponses },
        },
      },
      async (request) => ({ items: await views.subordinates(scope(request.principal, deps.unit)) }),
    );

    app.get(
      '/api/v1/hierarchy/units',
      {
        config: { permission: 'hierarchy.read' },
        schema: {
          summary:
            '下级单位: every unit below (tree order, with depth), each with the figures its collector last reported up',
          tags,
          security,
          response: { 200: responseSchema(subordinateUnitList), ...authErrorResponses },
        },
      },
      async (request) => ({ items: await views.units(scope(request.principal, deps.unit)) }),
    );

    app.get(
      '/api/v1/hierarchy/reports',
      {
        config: { permission: 'hierarchy.read' },
        schema: {
          summary: 'Reports received from subordinate collectors, newest first, each as its origin signed it',
          tags,
          security,
          querystring: requestSchema(reportsQuery),
          response: { 200: responseSchema(receivedReportList), 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request) => ({
        items: await views.reports(scope(request.principal, deps.unit), request.query),
      }),
    );

    app.get(
      '/api/v1/hierarchy/incidents',
      {
        config: { permission: 'hierarchy.read' },
        schema: {
          summary:
            'Incidents reported from below with their 第61条 hops and deadlines, including this level’s own',
          tags,
          security,
          response: { 200: responseSchema(receivedIncidentList), ...authErrorResponses },
        },
      },
      async (request) => ({ items: await views.incidents(scope(request.principal, deps.unit)) }),
    );

    app.post(
      '/api/v1/hierarchy/incidents/:origin/:id/reports',
      {
        config: { permission: 'hierarchy.manage' },
        schema: {
          summary:
            'Record by hand this level’s onward 第61条 hop for an incident from below (phone, paper, another system) with its receipt',
          tags,
          security,
          params: requestSchema(relayHopParams),
          body: requestSchema(relayHopBody),
          response: {
            201: responseSchema(receivedIncident),
            400: errorSchema,
            404: errorSchema,
            409: errorSchema,
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        const principal = request.principal!;
        if (!ownBusiness(request, reply, deps.unit)) return reply;
        const { origin, id } = request.params;
        const find = async () =>
          (await views.incidents(undefined)).find((i) => i.origin === origin && i.id === id);
        if (!(await find())) return notFound(reply, 'incident from below', `${origin}/${id}`);
        if (
          request.body.receivedAt &&
          Date.parse(request.body.receivedAt) < Date.parse(request.body.reportedAt)
        ) {
          return reply.code(400).send({ error: 'receivedAt: cannot be before reportedAt' });
        }
        const { reportedAt, receivedAt, channel, receipt, by } = request.body;
        const recorded = await deps.hierarchy.recordRelayHop(origin, id, {
          reportedAt: new Date(reportedAt).toISOString(),
          receivedAt: receivedAt === undefined ? null : new Date(receivedAt).toISOString(),
          channel,
          by: by ?? principal.name,
          receipt: receipt ?? null,
        });
        if (!recorded)
          return reply.code(409).send({ error: 'no parent is enrolled: there is nowhere to record the hop' });
        return reply.code(201).send((await find())!);
      },
    );

    app.get(
      '/api/v1/hierarchy/self-inspections',
      {
        config: { permission: 'hierarchy.read' },
        schema: {
          summary:
            'Each unit below: its latest 第58条 self-inspection report and its open 整改 items (第59条), as received',
          tags,
          security,
          response: { 200: responseSchema(unitSelfInspectionList), ...authErrorResponses },
        },
      },
      async (request) => ({
        items: await subordinateSelfInspections(hierarchy.store, scope(request.principal, deps.unit)),
      }),
    );

    app.get(
      '/api/v1/hierarchy/annual',
      {
        config: { permission: 'hierarchy.read' },
        schema: {
          summary:
            'The annex (附表) figures of the 第56条 年度保密工作情况 of this unit and of each subordinate unit for a year, with totals (default: last year)',
          tags,
          security,
          querystring: requestSchema(annualQuery),
          response: { 200: responseSchema(annualFigures), 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request) => {
        const year = request.query.year ?? shanghaiYear(hierarchy.parentSide.clock.now()) - 1;
        return hierarchy.annualView(year, scope(request.principal, deps.unit));
      },
    );

    app.post(
      '/api/v1/hierarchy/annual',
      {
        config: { permission: 'hierarchy.manage' },
        schema: {
          summary:
            'Send this unit’s annex (附表) figures of its 第56条 年度保密工作情况 for a finished year to the parent now (once per year)',
          tags,
          security,
          body: requestSchema(annualBody),
          response: {
            202: responseSchema(annualQueued),
            400: errorSchema,
            409: errorSchema,
            ...authErrorResponses,
          },
        },
      },
      async (request, reply) => {
        if (!ownBusiness(request, reply, deps.unit)) return reply;
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
  };
}

/** The policy in force, and notices between the levels with their answers. */
function noticeRoutes(deps: HierarchyApiDeps, views: HierarchyViews) {
  const { hierarchy } = deps;
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<ShapeTypes>();

    app.get(
      '/api/v1/hierarchy/policy',
      {
        config: { permission: 'hierarchy.read' },
        schema: {
          summary:
            'The policy this collector gives its agents: its own narrowed by every policy update from above (a lower level may tighten, never loosen)',
          tags,
          security,
          response: { 200: responseSchema(policyInForce), ...authErrorResponses },
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
        config: { permission: 'hierarchy.read' },
        schema: {
          summary: 'Notices (预警通报) and policy updates issued here or received from above, newest first',
          tags,
          security,
          response: { 200: responseSchema(hierarchyNoticeList), ...authErrorResponses },
        },
      },
      async (request) => ({ items: await views.notices(seesUnit(request.principal, deps.unit)) }),
    );

    app.post(
      '/api/v1/hierarchy/notices',
      {
        config: { permission: 'hierarchy.manage' },
        schema: {
          summary: 'Issue a notice (预警通报) or a policy update to every subordinate collector',
          tags,
          security,
          body: requestSchema(newNoticeBody),
          response: { 201: noticeSchema, 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        if (!ownBusiness(request, reply, deps.unit)) return reply;
        const issued = await views.issueNotice(request.body);
        if (!issued.ok) return reply.code(400).send({ error: issued.error });
        return reply.code(201).send(issued.notice);
      },
    );

    app.get(
      '/api/v1/hierarchy/notices/:id',
      {
        config: { permission: 'hierarchy.read' },
        schema: {
          summary:
            'One notice with each subordinate’s acknowledgement and 排查 result, and who has not answered',
          tags,
          security,
          params: noticeParams,
          response: { 200: noticeSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const units = scope(request.principal, deps.unit);
        const notice = await views.notice(id, units, seesUnit(request.principal, deps.unit));
        return notice ?? notFound(reply, 'notice', id);
      },
    );

    app.post(
      '/api/v1/hierarchy/notices/:id/result',
      {
        config: { permission: 'hierarchy.manage' },
        schema: {
          summary: 'Send this collector’s 排查 result for a notice from above to the parent',
          tags,
          security,
          params: noticeParams,
          body: requestSchema(noticeResultBody),
          response: { 202: noticeSchema, 404: errorSchema, 409: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        const principal = request.principal!;
        if (!ownBusiness(request, reply, deps.unit)) return reply;
        const sent = await views.sendResult(request.params.id, request.body.result, principal.name);
        if (!sent.ok) return reply.code(sent.status).send({ error: sent.error });
        return reply.code(202).send(sent.notice);
      },
    );
  };
}
