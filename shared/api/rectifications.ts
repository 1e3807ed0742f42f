import { z } from 'zod';
import { calendarDate, isoTime, listOf, nullableIsoTime } from './common.js';

/**
 * 整改 items over HTTP (第59条: 整改内容和期限; 第35条: an assessment that found risks). Whatever
 * opened an item — a self-inspection finding, an assessment with risks found, the officer by
 * hand — it is one record here: what, who, the deadline, and its closing.
 */
export const RECTIFICATION_SOURCE_KINDS = ['self-inspection', 'assessment', 'manual'] as const;
/** `overdue` is read from the deadline (Asia/Shanghai) while the item is open; never stored. */
export const RECTIFICATION_STATES = ['open', 'overdue', 'done'] as const;
export type RectificationState = (typeof RECTIFICATION_STATES)[number];

/** What, who and by when: how a finding or an assessment opens an item. */
export const rectificationInput = z.strictObject({
  what: z.string().trim().min(1).max(2000).meta({ description: '整改内容' }),
  who: z.string().trim().min(1).max(200).meta({ description: '责任人 (free text)' }),
  deadline: calendarDate.meta({ description: '整改期限, the last day (Asia/Shanghai)' }),
});
export type RectificationInput = z.infer<typeof rectificationInput>;
export const rectificationInputs = z.array(rectificationInput).max(50);

export const rectificationSource = z.object({
  kind: z.enum(RECTIFICATION_SOURCE_KINDS),
  id: z.string().nullable().meta({ description: 'the self-inspection or the system' }),
  item: z.string().nullable().meta({ description: 'the checklist item, or the assessment id' }),
});

export const rectification = z.object({
  id: z.string(),
  unit: z.string(),
  what: z.string(),
  who: z.string(),
  deadline: calendarDate,
  state: z.enum(RECTIFICATION_STATES),
  daysLeft: z.int().meta({ description: 'negative when overdue' }),
  source: rectificationSource,
  createdAt: isoTime,
  createdBy: z.string(),
  closedAt: nullableIsoTime,
  closedBy: z.string().nullable(),
  closeNote: z.string().nullable(),
});
export type Rectification = z.infer<typeof rectification>;
export const rectificationList = listOf(rectification);

export const rectificationQuery = z.strictObject({
  state: z.enum(RECTIFICATION_STATES).optional(),
  source: z.enum(RECTIFICATION_SOURCE_KINDS).optional(),
});

/** By hand, or after an assessment (`source: {kind: assessment, systemId}`). */
export const rectificationBody = rectificationInput.extend({
  unit: z.string().min(1).max(200).optional(),
  assessment: z
    .strictObject({ systemId: z.string().max(64), assessmentId: z.int().optional() })
    .optional()
    .meta({ description: 'the assessment with risks found that this item puts right' }),
});

export const closeRectificationBody = z.strictObject({
  note: z.string().trim().min(1).max(4000).meta({ description: 'how it was put right (整改情况)' }),
});
