import { z } from 'zod';
import { SEVERITIES, LEVELS } from '../levels.js';
import { actor, isoTime, nullableIsoTime, openObject, pageOf } from './common.js';
import { terminalNameField } from './register.js';

/** 发现 → 识别 → 处置 → 关闭 / 误报 (SPEC §7); collector/warnings/warning.ts keeps warnings in them. */
export const WARNING_STATES = ['discovered', 'identified', 'handling', 'closed', 'false-positive'] as const;
export const warningState = z.enum(WARNING_STATES);

const names = z.object({ zh: z.string(), en: z.string() });

/** One step of a warning's handling. */
export const transitionRecord = z.object({
  action: z.enum(['transition', 'open-incident']),
  from: z.string(),
  to: z.string(),
  by: actor,
  at: isoTime,
  note: z.string(),
  incidentId: z
    .string()
    .optional()
    .meta({ description: 'on an open-incident step: the 第61条 incident it opened' }),
});
export type TransitionRecord = z.infer<typeof transitionRecord>;

/** A 第64条 warning as lists show it (`GET /api/v1/warnings`). */
export const warning = z.object({
  id: z.string(),
  state: warningState,
  stateName: names.optional().meta({ description: '发现 / 识别 / 处置 / 关闭 / 误报' }),
  severity: z.enum(SEVERITIES),
  rule: z.string(),
  title: names.optional(),
  key: z.string(),
  labels: z.record(z.string(), z.string()).optional(),
  origin: z.enum(['event', 'threshold', 'correlation']).optional(),
  count: z.int(),
  firstSeen: isoTime,
  lastSeen: isoTime,
  createdAt: isoTime.optional(),
  resolvedAt: nullableIsoTime
    .optional()
    .meta({ description: 'set when every condition of the warning has cleared' }),
  unit: z.string(),
  agent: z.string().nullable().meta({ description: 'null for a unit-level (correlated) warning' }),
  agents: z.array(z.string()).optional(),
  terminal: terminalNameField,
  level: z.enum(LEVELS).nullable().optional(),
  type: z.string().optional(),
  sample: z
    .object({ type: z.string(), key: z.string(), data: openObject })
    .optional()
    .meta({ description: 'the event that opened it; data is the agent’s text' }),
  incidents: z.array(z.string()).optional().meta({ description: 'the 第61条 incidents it opened' }),
  allowedTransitions: z
    .array(z.string())
    .optional()
    .meta({ description: 'the steps the caller may take now' }),
});
export type Warning = z.infer<typeof warning>;

/** A stored event behind a warning, or a condition the collector observed itself. */
export const evidence = z.object({
  eventId: z.int().optional(),
  agent: z.string(),
  seq: z.int().meta({ description: 'negative for a condition the collector observed itself' }),
  ts: isoTime,
  state: z.enum(['raised', 'cleared']),
  envelope: openObject
    .optional()
    .meta({ description: 'the signed envelope as received; verify it with the agent key' }),
  condition: openObject.optional(),
});

export const notificationSummary = z.object({
  channel: z.string().optional(),
  occasion: z.string().optional().meta({ description: 'opened, reraised:<time> or state:<to>' }),
  state: z.enum(['pending', 'sent', 'muted', 'failed']).optional(),
  attempts: z.int().optional(),
  lastError: z.string().nullable().optional(),
  doneAt: nullableIsoTime.optional(),
  mutedBy: z.string().nullable().optional(),
});

/** One warning with its evidence and history (`GET /api/v1/warnings/:id`, transitions). */
export const warningDetail = warning.extend({
  history: z.array(transitionRecord),
  evidence: z.array(evidence),
  notifications: z.array(notificationSummary).optional(),
});
export type WarningDetail = z.infer<typeof warningDetail>;

export const warningPage = pageOf(warning);

export const transitionBody = z.strictObject({
  to: warningState,
  note: z.string().max(20_000).optional(),
});
