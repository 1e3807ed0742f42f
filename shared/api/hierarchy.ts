import { z } from 'zod';
import { COLLECTOR_LEVELS, REPORT_CHANNELS } from './clocks.js';
import { isoTime, listOf, nullableIsoTime, openObject } from './common.js';

/** The collector hierarchy as people see it: the parent link, the collectors below, what came up. */
export const hierarchyStatus = z.object({
  collector: z.string(),
  unit: z.string(),
  level: z.string(),
  parent: z
    .object({
      id: z.string(),
      url: z.string(),
      unit: z.string(),
      level: z.string(),
      enrolledAt: isoTime,
      lastContactAt: nullableIsoTime,
      lastError: z.string().nullable(),
    })
    .partial()
    .nullable(),
  outbox: z
    .object({
      pending: z.int(),
      delivered: z.int(),
      rejected: z.int(),
      oldestPendingAt: nullableIsoTime,
      lastReceiptAt: nullableIsoTime,
    })
    .partial(),
});

export const subordinate = z.object({
  id: z.string(),
  unit: z.string(),
  level: z.enum(COLLECTOR_LEVELS),
  alg: z.string().optional(),
  publicKey: z.string().optional(),
  parent: z.string(),
  direct: z.boolean(),
  enrolledAt: isoTime,
  lastSeenAt: nullableIsoTime,
});
export const subordinateList = listOf(subordinate);

const count = z.int().nullable();

/**
 * One unit below this administration for the 下级单位 page (issue 18): its place in the tree and
 * the figures its collector last reported up (`unit.status`); null figures: none reported yet.
 */
export const subordinateUnit = z.object({
  collector: z.string(),
  unit: z.string(),
  level: z.enum(COLLECTOR_LEVELS),
  parent: z
    .string()
    .meta({ description: 'the collector it is enrolled at; this collector for a direct child' }),
  direct: z.boolean(),
  depth: z.int().meta({ description: '1 for a direct child, 2 below it, …' }),
  enrolledAt: isoTime,
  lastSeenAt: nullableIsoTime,
  statusAt: nullableIsoTime.meta({ description: 'when the unit took the figures below' }),
  terminals: z.object({ total: z.int(), online: z.int() }).nullable(),
  openWarnings: z.record(z.string(), z.int()).nullable().meta({ description: 'severity → open warnings' }),
  overdueAssessments: count,
  incidents: z.object({ total: z.int(), open: z.int(), lateHops: z.int() }).nullable(),
  noticesUnanswered: count.meta({ description: 'notices from above without a 排查 result' }),
  openRectifications: count.meta({
    description: 'open 整改 items (issue 18 self-inspection); null until rectifications report up',
  }),
});
export type SubordinateUnit = z.infer<typeof subordinateUnit>;
export const subordinateUnitList = listOf(subordinateUnit);

/** A report received from below, as its origin signed it. */
export const receivedReport = z.object({
  id: z.int(),
  origin: z.string(),
  seq: z.int(),
  unit: z.string(),
  level: z.string(),
  type: z.string(),
  key: z.string(),
  via: z.string().meta({ description: 'the direct child it came through' }),
  path: z.array(z.string()).meta({ description: 'units from the origin up to the direct child' }),
  receivedAt: isoTime,
  report: openObject.meta({ description: 'the report as its origin signed it' }),
  chain: z
    .array(openObject)
    .optional()
    .meta({ description: 'certificates from the origin up to the direct child' }),
});
export const receivedReportList = listOf(receivedReport);

export const receivedIncident = z.object({
  origin: z.string(),
  unit: z.string(),
  id: z.string(),
  title: z.string(),
  level: z.string().optional(),
  discoveredAt: isoTime,
  receivedAt: isoTime,
  duty: z
    .object({
      from: z.string(),
      to: z.string(),
      dueAt: isoTime,
      state: z.enum(['pending', 'sent', 'done', 'overdue']),
      reportedAt: nullableIsoTime,
      receivedAt: nullableIsoTime,
      late: z.boolean(),
      lateByMs: z.int().nullable(),
    })
    .partial()
    .nullable()
    .optional()
    .meta({
      description:
        'this administration’s own 第61条 duty: pass it on within 24 h of its receipt here; done at the parent’s receipt (null at the top)',
    }),
  closure: z
    .object({ closedAt: isoTime, outcome: z.string().nullable() })
    .nullable()
    .optional()
    .meta({ description: '第60条: closed at the unit with its 处理结果, as reported up' }),
  endToEnd: z
    .object({
      firstReceivedAt: isoTime,
      dueAt: isoTime.meta({
        description: 'first administration’s receipt + 24 h: national by then (SPEC §7)',
      }),
      stuckHere: z.boolean().meta({ description: 'past dueAt and this administration has not passed it on' }),
    })
    .nullable()
    .optional(),
  hops: z.array(
    z.object({
      from: z.string(),
      to: z.string(),
      dueAt: isoTime,
      reportedAt: nullableIsoTime,
      receivedAt: nullableIsoTime,
      late: z.boolean(),
    }),
  ),
});
export const receivedIncidentList = listOf(receivedIncident);

const figures = z.record(z.string(), z.record(z.string(), z.number())).meta({
  description:
    'section → name → count (systems, assessments, incidents, warnings, warningTypes, notices, agents)',
});
export const annualYear = z.int().min(2000).max(9999);

/** The 第56条 annex figures of a year, per unit and in total. */
export const annualFigures = z.object({
  year: z.int(),
  items: z.array(
    z.object({
      unit: z.string(),
      level: z.string(),
      origin: z.string(),
      own: z.boolean().meta({ description: 'this collector’s own figures' }),
      final: z.boolean().meta({ description: 'taken after the year ended' }),
      takenAt: isoTime,
      receivedAt: nullableIsoTime,
      figures,
    }),
  ),
  totals: figures,
  missing: z
    .array(z.string())
    .meta({ description: 'subordinate units whose figures for the year have not arrived' }),
});
export const annualQuery = z.strictObject({ year: annualYear.optional() });
export const annualBody = z.strictObject({ year: annualYear });
export const annualQueued = z.object({
  created: z.boolean().meta({ description: 'false: the figures of that year had already been queued' }),
  report: openObject.meta({ description: 'the figures as queued for the parent' }),
});

export const policyInForce = z.object({
  policy: openObject.nullable().meta({ description: 'null: agents keep their local policy' }),
  hash: z.string().optional(),
  since: isoTime.optional(),
  rulings: z
    .array(
      z
        .object({ notice: z.string(), issuerUnit: z.string(), issuerLevel: z.string(), ts: isoTime })
        .partial(),
    )
    .optional(),
});

/** A notice or policy update issued here or received from above, with the answers from below. */
export const hierarchyNotice = z.object({
  id: z.string(),
  source: z.enum(['issued', 'received']),
  notice: openObject,
  receivedAt: isoTime,
  ackedAt: nullableIsoTime.optional(),
  result: z.string().nullable().optional(),
  resultAt: nullableIsoTime.optional(),
  responses: z
    .array(
      z
        .object({
          collector: z.string(),
          unit: z.string(),
          level: z.string(),
          direct: z.boolean(),
          ackedAt: nullableIsoTime,
          result: z.string().nullable(),
          resultAt: nullableIsoTime,
        })
        .partial(),
    )
    .optional(),
  unanswered: z.array(z.string()).optional().meta({ description: 'units that have not sent a 排查 result' }),
  unacknowledged: z.array(z.string()).optional().meta({ description: 'units that have not acknowledged' }),
});
export type HierarchyNotice = z.infer<typeof hierarchyNotice>;
export const hierarchyNoticeList = listOf(hierarchyNotice);

export const hierarchyNoticeParams = z.object({ id: z.string().max(100) });
export const noticeResultBody = z.strictObject({ result: z.string().min(1).max(20_000) });

/** `POST /api/v1/hierarchy/incidents/{origin}/{id}/reports`: this level's onward hop, recorded by hand. */
export const relayHopParams = z.object({ origin: z.string().max(200), id: z.string().max(64) });
export const relayHopBody = z.strictObject({
  reportedAt: isoTime,
  receivedAt: isoTime
    .optional()
    .meta({ description: 'when the next level received it; a call or hand-over arrives as it is made' }),
  channel: z.enum(REPORT_CHANNELS),
  receipt: z.string().max(500).nullable().optional(),
  by: z.string().min(1).max(200).optional(),
});

const receivedUnitReport = z
  .object({ receivedAt: isoTime, report: openObject })
  .nullable()
  .meta({ description: 'the latest received; null: none yet' });

/** 第58–59条: each unit below with its latest self-inspection report and its open 整改 items. */
export const unitSelfInspectionList = listOf(
  z.object({
    unit: z.string(),
    level: z.string(),
    origin: z.string().nullable(),
    selfInspection: receivedUnitReport,
    rectifications: receivedUnitReport,
  }),
);
