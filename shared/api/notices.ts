import { z } from 'zod';
import { actor, isoTime, listOf, nullableIsoTime } from './common.js';

const noticeActor = actor.nullable();

/** One recipient unit of a notice: its answer and whether it is late. */
export const noticeRecipient = z.object({
  unit: z.string(),
  state: z.enum(['pending', 'acknowledged', 'reported']),
  overdue: z.boolean().meta({ description: 'no result by the deadline, or a result after it' }),
  acknowledgedAt: nullableIsoTime.optional(),
  acknowledgedBy: noticeActor.optional(),
  result: z.string().nullable().optional().meta({ description: '排查结果' }),
  resultAt: nullableIsoTime.optional(),
  resultBy: noticeActor.optional(),
});

/** A warning notice (预警通报) with each recipient's state. */
export const notice = z.object({
  id: z.string(),
  title: z.string(),
  text: z.string(),
  requiredAction: z.string(),
  deadline: isoTime,
  issuerUnit: z.string().nullable().optional(),
  issuedBy: noticeActor,
  issuedAt: isoTime,
  warningId: z.string().nullable().optional(),
  overdue: z.int().optional().meta({ description: 'recipients past the deadline' }),
  recipients: z.array(noticeRecipient),
});
export type Notice = z.infer<typeof notice>;

export const noticeList = listOf(notice);

export const noticeQuery = z.object({ limit: z.int().min(1).max(1000).default(100) });

export const newNoticeBody = z.strictObject({
  title: z.string().max(1000),
  text: z.string().max(20_000),
  requiredAction: z.string().max(20_000),
  deadline: isoTime,
  units: z.array(z.string().max(200)).min(1).max(500),
  warningId: z.string().max(64).optional(),
});

const recipientUnit = z.string().max(200).optional().meta({ description: 'default the caller’s unit' });
export const acknowledgeBody = z.strictObject({ unit: recipientUnit });
export const resultBody = z.strictObject({ unit: recipientUnit, result: z.string().max(20_000) });
