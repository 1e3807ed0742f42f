import { z } from 'zod';
import { calendarDate, isoTime, listOf, nullableIsoTime } from './common.js';
import { rectificationInputs } from './rectifications.js';
import { terminalName } from './register.js';

export { calendarDate };

/**
 * The legal clocks over HTTP: the 第35条 register of classified systems with their assessments,
 * and 第61条 incidents with their report chain. The word lists are defined here, once, and the
 * collector's clocks and config read them from here.
 */
export const SYSTEM_LEVELS = ['绝密', '机密', '秘密'] as const;
export const ASSESSMENT_RESULTS = ['pass', 'risks-found', 'major-risks'] as const;
export type AssessmentResult = (typeof ASSESSMENT_RESULTS)[number];
/** Words earlier versions took, read as SPEC §7 says: `fail` is `major-risks`. */
const OLD_ASSESSMENT_RESULTS = { 'pass-with-findings': 'risks-found', fail: 'major-risks' } as const;

/** An assessment result as given (today's word or an earlier version's) in SPEC §7's words. */
export function assessmentResultOf(
  word: AssessmentResult | keyof typeof OLD_ASSESSMENT_RESULTS,
): AssessmentResult {
  return Object.hasOwn(OLD_ASSESSMENT_RESULTS, word)
    ? OLD_ASSESSMENT_RESULTS[word as keyof typeof OLD_ASSESSMENT_RESULTS]
    : (word as AssessmentResult);
}

/** Whether an assessment result found risks (发现风险隐患 or 存在重大风险隐患): anything but a pass. */
export function assessmentFoundRisks(result: string | undefined): boolean {
  return result !== undefined && result !== 'pass';
}
/** Where a collector stands in the hierarchy; also the ends of a report chain. */
export const COLLECTOR_LEVELS = ['unit', 'county', 'city', 'province', 'national'] as const;
export const ADMIN_LEVELS = ['county', 'city', 'province', 'national'] as const;
export const REPORT_CHANNELS = ['system', 'paper', 'phone', 'in-person'] as const;
/** Where an incident's discovery time came from; `evidence` (earliest event) is the reading before issue 16. */
export const DISCOVERY_SOURCES = ['identified', 'manual', 'evidence'] as const;
export const INCIDENT_RECIPIENTS = ['same-level-admin', 'superior-dept', ...ADMIN_LEVELS] as const;
/** What the last reminder and the dashboard tell the officer (SPEC §7). */
export const OFF_SYSTEM_ADVICE = {
  zh: '回执未到：请立即以电话或书面方式报告，并在系统中登记该次报告及其回执',
  en: 'No receipt yet: report by phone or on paper now, and record the report and its receipt here',
} as const;
export const DUE_STATES = ['ok', 'due-soon', 'overdue', 'reassess'] as const;
const DUE_BASES = ['first-assessment', 'periodic', 'change', 'failed-assessment'] as const;

const nullableCalendarDate = calendarDate.nullable();
const optionalText = (max: number) => z.string().max(max).nullable().optional();

/** One firing of a clock: a reminder, an overdue warning, a missed report. */
export const fire = z.object({
  hop: z.string().optional(),
  kind: z.string().meta({ description: 'reminder-30, overdue, reassess, reminder-12h, missed…' }),
  dueAt: isoTime,
  firedAt: isoTime,
  late: z.boolean().meta({ description: 'fired well after its due time: the collector was not running' }),
  lateByMs: z.int(),
  outcome: z.enum(['fired', 'stale', 'cleared']),
  condition: z.string().nullable().meta({ description: 'the condition type it raised or cleared' }),
});
export type Fire = z.infer<typeof fire>;

export const systemSchedule = z.object({
  state: z.enum([...DUE_STATES, 'decommissioned']),
  nextDue: nullableCalendarDate,
  daysLeft: z.int().nullable().meta({ description: 'negative when overdue' }),
  interval: z.int().meta({ description: 'years between assessments at the current level' }),
  basis: z.enum(DUE_BASES).nullable().optional(),
  lastAssessedAt: nullableCalendarDate.optional(),
  recommended: nullableCalendarDate.optional().meta({
    description: 'under the calendar reading, the rolling date (建议日期): reminded, never overdue',
  }),
  unapproved: z
    .boolean()
    .optional()
    .meta({ description: 'in use without a 第33条 测评审查 approval (未经测评审查投入使用)' }),
});

/** A registered classified information system (第35条) with its assessment schedule. */
export const system = z.object({
  id: z.string(),
  name: z.string(),
  level: z.enum(SYSTEM_LEVELS),
  unit: z.string(),
  scope: z.string().nullable().optional(),
  environment: z.string().nullable().optional(),
  commissionedAt: calendarDate,
  approval: z
    .object({ ref: z.string().nullable(), by: z.string().nullable(), at: nullableCalendarDate })
    .partial()
    .nullable()
    .optional()
    .meta({ description: '第33条 test-and-review approval' }),
  status: z.enum(['in-use', 'decommissioned']),
  filedAt: nullableCalendarDate.meta({ description: '备案 date of a decommissioned system' }),
  disposal: z
    .string()
    .nullable()
    .optional()
    .meta({ description: 'what was done with a decommissioned system’s equipment' }),
  createdAt: isoTime.optional(),
  createdBy: z.string().optional(),
  schedule: systemSchedule,
  assessments: z
    .array(
      z
        .object({
          id: z.int(),
          completedAt: calendarDate,
          assessor: z.string(),
          result: z.string(),
          note: z.string().nullable(),
          recordedAt: isoTime,
          recordedBy: z.string(),
        })
        .partial(),
    )
    .optional(),
  changes: z
    .array(
      z
        .object({
          kind: z.enum(['level', 'scope', 'environment', 'status']),
          at: isoTime,
          from: z.string().nullable(),
          to: z.string().nullable(),
          by: z.string(),
          newRisk: z
            .boolean()
            .nullable()
            .meta({ description: '可能产生新的安全保密风险隐患; null on older records' }),
          measures: z.string().nullable().meta({ description: 'protective measures taken' }),
        })
        .partial(),
    )
    .optional(),
  reminders: z.array(fire).optional().meta({ description: 'each reminder and warning the clock fired' }),
});
export type System = z.infer<typeof system>;
export const systemList = listOf(system);

/** 第33条 测评审查: who approved (authority), the reference, the date. */
const approvalBody = z
  .strictObject({ ref: optionalText(200), by: optionalText(200), at: nullableCalendarDate.optional() })
  .optional()
  .meta({
    description: '第33条 test-and-review approval; without its date a system in use is 未经测评审查投入使用',
  });

export const newSystemBody = z.strictObject({
  name: z.string().min(1).max(200),
  level: z.enum(SYSTEM_LEVELS).meta({ description: '绝密, 机密 or 秘密' }),
  commissionedAt: calendarDate.meta({ description: 'commissioning date (Asia/Shanghai)' }),
  unit: z.string().min(1).max(200).optional(),
  scope: optionalText(1000),
  environment: optionalText(1000),
  approval: approvalBody,
});

export const systemPatchBody = z
  .strictObject({
    level: z.enum(SYSTEM_LEVELS).optional(),
    scope: optionalText(1000),
    environment: optionalText(1000),
    newRisk: z.boolean().optional().meta({
      description:
        'required with level, scope or environment: may the change bring new risk (可能产生新的安全保密风险隐患)? If so the reassessment falls due within clocks.reassessWithin',
    }),
    measures: optionalText(2000).meta({ description: 'protective measures taken; required when newRisk' }),
    status: z.enum(['in-use', 'decommissioned']).optional(),
    filedAt: nullableCalendarDate.optional().meta({ description: '备案 date; required to decommission' }),
    disposal: optionalText(2000).meta({
      description: 'what was done with the equipment (销毁、移交、降密使用…); required to decommission',
    }),
    approval: approvalBody,
  })
  .meta({ minProperties: 1 });

/** `POST /api/v1/systems/{id}/decommission`: the 备案 date and what was done with the equipment. */
export const decommissionBody = z.strictObject({
  filedAt: calendarDate.meta({ description: '备案 date (Asia/Shanghai)' }),
  disposal: z.string().trim().min(1).max(2000).meta({ description: 'what was done with the equipment' }),
});

export const assessmentBody = z.strictObject({
  completedAt: calendarDate.meta({ description: 'date completed (Asia/Shanghai)' }),
  assessor: z.string().min(1).max(200),
  result: z
    .enum([
      ...ASSESSMENT_RESULTS,
      ...(Object.keys(OLD_ASSESSMENT_RESULTS) as (keyof typeof OLD_ASSESSMENT_RESULTS)[]),
    ])
    .meta({
      description:
        'pass (未发现风险隐患), risks-found (发现风险隐患（需整改）) or major-risks (存在重大风险隐患); an assessment counts whatever it found (SPEC §7). Earlier words are read as: pass-with-findings → risks-found, fail → major-risks',
    }),
  note: optionalText(2000),
  rectifications: rectificationInputs.optional().meta({
    description: 'the 整改 items (what, who, deadline) an assessment with risks found opens; more may follow',
  }),
});

/** One system in use and when its next assessment is due (`GET /api/v1/assessments/due`). */
export const assessmentDue = z.object({
  systemId: z.string(),
  name: z.string(),
  level: z.enum(SYSTEM_LEVELS),
  unit: z.string().optional(),
  nextDue: calendarDate.meta({ description: 'the last day the assessment is on time (Asia/Shanghai)' }),
  daysLeft: z.int().meta({ description: 'negative when overdue' }),
  state: z.enum(DUE_STATES),
  basis: z.enum(DUE_BASES).optional(),
  lastAssessedAt: z.string().nullable().optional(),
  recommended: z.string().nullable().optional().meta({ description: '建议日期 under the calendar reading' }),
  unapproved: z.boolean().optional().meta({ description: '未经测评审查投入使用 (第33条)' }),
});
export type AssessmentDue = z.infer<typeof assessmentDue>;
export const assessmentDueList = listOf(assessmentDue);
export const assessmentDueQuery = z.strictObject({ state: z.enum(DUE_STATES).optional() });

/** 第61条 "应当立即采取补救措施": one remedial measure, what was done, by whom, when. */
export const measure = z.object({
  id: z.int().optional(),
  what: z.string(),
  by: z.string(),
  at: isoTime,
  recordedAt: isoTime.optional(),
  recordedBy: z.string().optional(),
});

export const measureBody = z.strictObject({
  what: z.string().trim().min(1).max(2000).meta({ description: 'what was done (断网、收回、封存…)' }),
  by: z.string().trim().min(1).max(200).optional().meta({ description: 'who did it; default the caller' }),
  at: isoTime.optional().meta({ description: 'when it was done; default now' }),
});
export type MeasureBody = z.infer<typeof measureBody>;

/**
 * Measures as a list; a text (the older form) is read as one measure by the caller, now. One
 * array schema, not a union with a text: the API's type coercion wraps a text in an array.
 */
const measuresInput = z
  .array(z.union([measureBody, z.string().max(5000)]))
  .max(50)
  .nullable()
  .optional()
  .meta({ description: 'remedial measures [{what, by, at}]; the first report cannot leave without one' });

/** 第60条: the incident closes with its 处理结果, reported in writing to the same-level administration. */
export const closureBody = z.strictObject({
  outcome: z.string().trim().min(1).max(5000).meta({ description: '处理结果' }),
  closedAt: isoTime.optional().meta({ description: 'default now' }),
});

/** A report along an incident's chain, as recorded. */
export const chainReport = z
  .object({
    id: z.int(),
    about: z.enum(['leak', 'closure']),
    from: z.string(),
    to: z.string(),
    reportedAt: isoTime,
    receivedAt: nullableIsoTime,
    channel: z.enum(REPORT_CHANNELS),
    by: z.string(),
    receipt: z.string().nullable(),
    recordedAt: isoTime,
    recordedBy: z.string(),
  })
  .partial();

/** One hop of the chain with its 24 h deadline and lateness. */
export const hop = z.object({
  id: z.string(),
  from: z.string().meta({ description: '`unit` is the reporting unit itself' }),
  to: z.string(),
  startedAt: nullableIsoTime.optional().meta({ description: 'discovery, or the sender’s own receipt' }),
  dueAt: nullableIsoTime.meta({ description: 'startedAt + 24 h; null until the sender’s receipt is known' }),
  reportedAt: nullableIsoTime.meta({ description: 'the first send; the hop is not made by it' }),
  receivedAt: nullableIsoTime.meta({
    description: 'when it arrived: the receipt, or a call or hand-over as it was made; the hop is made then',
  }),
  late: z.boolean().meta({ description: 'arrived after dueAt, or not arrived by it' }),
  lateByMs: z
    .int()
    .nullable()
    .optional()
    .meta({ description: 'how late: at arrival, or so far while it has not arrived' }),
  state: z
    .enum(['unstarted', 'pending', 'sent', 'done', 'overdue'])
    .optional()
    .meta({ description: 'sent: reported, its receipt not yet back' }),
  offSystemDue: z.boolean().optional().meta({
    description:
      'from the last reminder (T−2 h) without a receipt: report by phone or on paper and record it',
  }),
  escalatesTo: z.string().optional().meta({ description: 'where a missed deadline becomes a warning' }),
  reportIds: z.array(z.int()).optional(),
});
export type Hop = z.infer<typeof hop>;

/** A 第61条 leak incident with its report chain. */
export const incident = z.object({
  id: z.string(),
  title: z.string(),
  level: z.enum(SYSTEM_LEVELS).meta({ description: 'the level of the secrets concerned' }),
  unit: z.string(),
  unitLevel: z.enum(COLLECTOR_LEVELS).optional(),
  discoveredAt: isoTime.meta({ description: 'when the unit found it (第61条 发现), which starts the 24 h' }),
  discoverySource: z.enum(DISCOVERY_SOURCES).optional().meta({
    description: 'identified: the warning’s 识别 time; manual: entered; evidence: an older reading',
  }),
  identifiedAt: nullableIsoTime
    .optional()
    .meta({ description: 'when the warning it came from was identified (识别)' }),
  evidenceFrom: nullableIsoTime
    .optional()
    .meta({ description: 'the earliest evidence event’s attested time' }),
  evidenceTo: nullableIsoTime.optional().meta({ description: 'the latest evidence event’s attested time' }),
  description: z.string().nullable().optional(),
  measures: z.array(measure).meta({ description: 'remedial measures taken (第61条: at once)' }),
  evidence: z.array(z.int()).optional().meta({ description: 'event ids' }),
  terminals: z
    .array(terminalName)
    .optional()
    .meta({ description: 'the registered terminals the evidence came from (编号 · hostname · 责任人)' }),
  createdAt: isoTime.optional(),
  createdBy: z.string().optional(),
  hops: z.array(hop),
  reports: z.array(chainReport).optional(),
  nationalReceivedAt: nullableIsoTime.optional(),
  endToEndDue: z
    .object({
      startedAt: nullableIsoTime.meta({ description: 'the first administration’s receipt' }),
      dueAt: nullableIsoTime.meta({ description: 'startedAt + 24 h: the report should be national by then' }),
      state: z.enum(['unstarted', 'pending', 'sent', 'done', 'overdue']),
      late: z.boolean(),
      lateByMs: z.int().nullable(),
      heldBy: z.string().nullable().meta({ description: 'the level that holds it, as recorded here' }),
      waitingOn: z.string().nullable().meta({ description: 'the hop it waits on' }),
      watchedAbove: z.boolean().optional().meta({
        description:
          'the first administration received it through the hierarchy: the collectors above keep this clock where the report is held; no warning here',
      }),
    })
    .optional()
    .meta({ description: 'SPEC §7: national 24 h after the first administration received it' }),
  closedAt: nullableIsoTime.optional(),
  outcome: z.string().nullable().optional().meta({ description: '处理结果 (第60条)' }),
  closedBy: z.string().nullable().optional(),
  closure: hop.nullable().optional().meta({
    description:
      '第60条: the written report of the 处理结果 to the same-level administration; no deadline (及时)',
  }),
  endToEndMs: z.int().nullable().meta({ description: 'discovery → national receipt; null until then' }),
  endToEnd: z.string().nullable().optional().meta({ description: 'the same, as 61h40m' }),
  reminders: z.array(fire).optional(),
});
export type Incident = z.infer<typeof incident>;
export const incidentList = listOf(incident);

export const newIncidentBody = z.strictObject({
  title: z.string().min(1).max(200),
  level: z.enum(SYSTEM_LEVELS),
  discoveredAt: isoTime.optional().meta({
    description: 'when the unit found the leak, ISO 8601 with Z or an offset; required',
  }),
  evidence: z.array(z.int().min(1)).max(100).optional(),
  description: optionalText(5000),
  measures: measuresInput,
  unit: z.string().min(1).max(200).optional(),
});

export const warningIncidentBody = z.strictObject({
  title: z.string().min(1).max(200).optional(),
  level: z
    .enum(SYSTEM_LEVELS)
    .optional()
    .meta({ description: 'default: the level of the warning’s hosts, when it is 绝密, 机密 or 秘密' }),
  discoveredAt: isoTime.optional().meta({
    description:
      'when the unit found the leak; omitted: when the warning was identified (识别), or now if it was not',
  }),
  description: optionalText(5000),
  measures: measuresInput,
  note: z.string().max(4000).optional(),
});

export const reportBody = z.strictObject({
  to: z
    .enum(INCIDENT_RECIPIENTS)
    .meta({ description: 'same-level-admin, superior-dept, or the administration’s level' }),
  reportedAt: isoTime,
  channel: z.enum(REPORT_CHANNELS),
  from: z
    .enum(COLLECTOR_LEVELS)
    .optional()
    .meta({ description: 'who reported: default the unit itself; an administration by its level' }),
  receivedAt: isoTime.optional().meta({ description: 'when the recipient received it; starts its own 24 h' }),
  receipt: optionalText(500),
  by: z.string().min(1).max(200).optional(),
  about: z.enum(['leak', 'closure']).optional().meta({
    description: 'leak (default): a 第61条 report; closure: the written report of the 处理结果 (第60条)',
  }),
});

export const receiptParams = z.object({ id: z.string().max(64), reportId: z.int().min(1) });
export const receiptBody = z.strictObject({ receivedAt: isoTime, receipt: optionalText(500) });
