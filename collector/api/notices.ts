import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import type { Principal } from '../auth/api-keys.js';
import type { Store } from '../store/store.js';
import {
  acknowledgeNotice,
  issueNotice,
  recipientStatus,
  reportNoticeResult,
  type Notice,
  type NoticeRefusal,
} from '../warnings/notices.js';
import { visibleUnits } from './bearer-auth.js';
import { actionResponses, idParams, notFound, refusalSchema, sendRefusal } from './route-helpers.js';
import {
  acknowledgeBody,
  newNoticeBody,
  notice,
  noticeList,
  noticeQuery,
  resultBody,
  type Notice as ApiNotice,
} from '../../shared/api/notices.js';
import {
  authErrorResponses,
  errorSchema,
  requestSchema,
  responseSchema,
  type ShapeTypes,
} from './schemas.js';
import { actorOf } from './warnings.js';

/**
 * Warning notices (预警通报) over HTTP: issue, list, acknowledge, report the 排查 result. Each
 * recipient shows its state and whether it is overdue, so late answers stand out. Notices to
 * subordinate collectors travel through the hierarchy once it exists; here the recipients are
 * units of this collector.
 */
const noticeSchema = responseSchema(notice);

function toApi(notice: Notice, now: Date): ApiNotice {
  const recipients = notice.recipients.map((r) => ({ ...r, ...recipientStatus(notice, r, now) }));
  return { ...notice, recipients, overdue: recipients.filter((r) => r.overdue).length };
}

function canSeeNotice(principal: Principal | null, notice: Notice): boolean {
  const units = visibleUnits(principal);
  if (units === undefined) return true;
  return (
    (notice.issuerUnit !== null && units.includes(notice.issuerUnit)) ||
    notice.recipients.some((r) => units.includes(r.unit))
  );
}

const REFUSAL_STATUS: Record<NoticeRefusal['reason'], number> = {
  role: 403,
  scope: 403,
  invalid: 400,
  'not-recipient': 409,
  done: 409,
};

function refused(reply: FastifyReply, refusal: NoticeRefusal) {
  return sendRefusal(reply, REFUSAL_STATUS[refusal.reason], refusal);
}

const resultBodySchema = requestSchema(resultBody);
const acknowledgeBodySchema = requestSchema(acknowledgeBody);
const answerResponses = { ...actionResponses(noticeSchema), 400: refusalSchema } as const;

export function noticeRoutes(deps: { store: Store; clock: Clock }) {
  const { store, clock } = deps;
  async function visibleNotice(principal: Principal | null, id: string) {
    const notice = await store.warnings.getNotice(id);
    return notice && canSeeNotice(principal, notice) ? notice : undefined;
  }
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<ShapeTypes>();
    app.get(
      '/api/v1/notices',
      {
        config: { permission: 'monitoring.read' },
        schema: {
          summary: 'Warning notices (预警通报) issued by or sent to the caller’s units, newest first',
          tags: ['notices'],
          security: [{ bearer: [] }],
          querystring: requestSchema(noticeQuery),
          response: { 200: responseSchema(noticeList), 400: errorSchema, ...authErrorResponses },
        },
      },
      async (request) => {
        const now = clock.now();
        const notices = await store.warnings.listNotices({
          units: visibleUnits(request.principal),
          limit: request.query.limit,
        });
        return { items: notices.map((n) => toApi(n, now)) };
      },
    );

    app.get(
      '/api/v1/notices/:id',
      {
        config: { permission: 'monitoring.read' },
        schema: {
          summary: 'One notice with each recipient’s acknowledgement and 排查 result',
          tags: ['notices'],
          security: [{ bearer: [] }],
          params: idParams,
          response: { 200: noticeSchema, 404: errorSchema, ...authErrorResponses },
        },
      },
      async (request, reply) => {
        const notice = await visibleNotice(request.principal, request.params.id);
        if (!notice) return notFound(reply, 'notice', request.params.id);
        return toApi(notice, clock.now());
      },
    );

    app.post(
      '/api/v1/notices',
      {
        config: { permission: 'notices.manage' },
        schema: {
          summary: 'Issue a warning notice (预警通报) to units, with a deadline for their answer',
          tags: ['notices'],
          security: [{ bearer: [] }],
          body: requestSchema(newNoticeBody),
          response: {
            201: noticeSchema,
            400: refusalSchema,
            403: refusalSchema,
            401: authErrorResponses[401],
          },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request.principal);
        const visible = visibleUnits(request.principal);
        const outside = visible === undefined ? [] : request.body.units.filter((u) => !visible.includes(u));
        if (outside.length > 0) {
          return reply.code(403).send({
            error: `${actor.name} may send notices only to ${visible!.join(', ')}, not ${outside.join(', ')}`,
            errorZh: '只能向本单位及下级单位发布预警通报',
            reason: 'scope',
          });
        }
        const now = clock.now();
        const result = issueNotice({ id: `n-${randomUUID()}`, ...request.body, issuedBy: actor }, now);
        if (!result.ok) return refused(reply, result);
        await store.warnings.addNotice(result.notice);
        return reply.code(201).send(toApi(result.notice, now));
      },
    );

    const answer = (path: string, summary: string, withResult: boolean) =>
      app.post(
        path,
        {
          config: { permission: 'notices.manage' },
          schema: {
            summary,
            tags: ['notices'],
            security: [{ bearer: [] }],
            params: idParams,
            body: withResult ? resultBodySchema : acknowledgeBodySchema,
            response: answerResponses,
          },
        },
        async (request, reply) => {
          const { id } = request.params;
          const actor = actorOf(request.principal);
          if (!(await visibleNotice(request.principal, id))) return notFound(reply, 'notice', id);
          const unit = request.body?.unit ?? actor.unit;
          if (unit === null) {
            return reply
              .code(400)
              .send({ error: 'unit: name the recipient unit you answer for', reason: 'invalid' });
          }
          const now = clock.now();
          const result = await store.warnings.updateNotice(id, (notice) =>
            withResult
              ? reportNoticeResult(
                  notice,
                  unit,
                  actor,
                  (request.body as { result?: string }).result ?? '',
                  now,
                )
              : acknowledgeNotice(notice, unit, actor, now),
          );
          if (!result) return notFound(reply, 'notice', id);
          if (!result.ok) return refused(reply, result);
          return toApi(result.notice, now);
        },
      );
    answer('/api/v1/notices/:id/acknowledgements', 'A recipient unit acknowledges the notice', false);
    answer('/api/v1/notices/:id/results', 'A recipient unit reports its investigation (排查) result', true);
  };
}
