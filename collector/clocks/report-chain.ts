import { ADMIN_LEVELS, OFF_SYSTEM_ADVICE, REPORT_CHANNELS } from '../../shared/api/clocks.js';
import { z } from 'zod';
import { instantSchema } from '../../shared/calendar.js';
import { COLLECTOR_LEVELS } from '../config.js';

/**
 * The 第61条 leak-report chain, as pure functions of an incident and its recorded reports: the
 * hops with their deadlines and states, and the deadline rows the scheduler stores. Readings:
 *
 * - ¶1: the unit reports within 24 h of discovery to two recipients, the same-level secrecy
 *   administration and its superior department (上级主管部门). The superior department is an
 *   end point: 第61条 gives it no onward duty, so no chain continues from it.
 * - "Same-level" for a unit below county level is the county administration: administrations
 *   exist from county level up (第3条: 县级以上地方各级保密行政管理部门).
 * - ¶2: 地方各级保密行政管理部门接到泄密报告的，应当在24小时内逐级报至国家保密行政管理部门. Read,
 *   as SPEC §7 does, as 24 h per level counted from that administration's own receipt. The
 *   stricter reading (the whole remaining chain within 24 h of the first receipt) can be checked
 *   against `endToEndMs`, which is reported for that reason.
 * - A hop's clock starts at receipt (`receivedAt`) of the report that reached its sender; with
 *   no recorded receipt the next hop has no deadline yet (state `unstarted`). With several
 *   reports on one hop (a phone call, then the paper), the earliest arrival meets the duty and
 *   starts the next clock: the administration knew from then.
 * - "24小时内" includes the 24th hour (以内 counts the bound itself), so a report arriving at
 *   exactly T = start + 24 h is on time and a hop is late only after T.
 * - A report is made when it arrives (SPEC §7): lateness is judged by the recipient's receipt,
 *   not by the first send. A call or a hand-over (phone, in person) arrives as it is made; a
 *   paper or a system report arrives at its receipt. A hop sent but not received by T is late.
 * - End to end (SPEC §7): besides each level's 24 h, the report should be at the national level
 *   24 h after the first administration received it. Until then the chain says which level holds
 *   it (the highest one known to have received it) and which hop it waits on. When the first
 *   administration received it through the hierarchy (its collector's signed receipt), the
 *   collectors above keep that clock where the report is held (collector/hierarchy/relay-duty.ts)
 *   and know the later hops the unit never hears of: the unit shows it but sets no row, so it
 *   does not warn of a report "stuck" that has moved on. Otherwise the unit's records (hops
 *   recorded by hand) are all there is, and its row warns.
 * - 第60条 closure: "有关机关、单位应当及时将处理结果书面告知同级保密行政管理部门". One more hop, from
 *   the unit to its same-level administration, started when the incident closes. "及时" sets no
 *   hours, so the hop has no deadline and is never late: it shows as waiting until it arrives.
 *   "书面" (in writing): only a paper or a system report makes it, never a call.
 */

export type ChainLevel = (typeof COLLECTOR_LEVELS)[number];
export { ADMIN_LEVELS };
export type AdminLevel = (typeof ADMIN_LEVELS)[number];

export { OFF_SYSTEM_ADVICE, REPORT_CHANNELS };
export type ReportChannel = (typeof REPORT_CHANNELS)[number];

export const HOUR_MS = 3_600_000;
/** The legal time for every hop; fixed by 第61条, so not configurable. */
export const HOP_DEADLINE_MS = 24 * HOUR_MS;
export const DEFAULT_HOP_REMINDERS_MS: readonly number[] = [12 * HOUR_MS, 2 * HOUR_MS];

export const incidentClockSchema = z.object({
  discoveredAt: instantSchema,
  unitLevel: z.enum(COLLECTOR_LEVELS),
  /** 第60条: when it closed with its 处理结果; the closure hop starts then. */
  closedAt: instantSchema.optional(),
});

/** A report about the leak (第61条), or the written report of its closure (第60条). */
export const REPORT_ABOUT = ['leak', 'closure'] as const;
export type ReportAbout = (typeof REPORT_ABOUT)[number];
/** 第60条 书面告知: the channels that are in writing. */
export const WRITTEN_CHANNELS: readonly ReportChannel[] = ['paper', 'system'];

export const chainReportSchema = z
  .object({
    fromLevel: z.enum(COLLECTOR_LEVELS),
    to: z.union([z.enum(['same-level-admin', 'superior-dept']), z.enum(ADMIN_LEVELS)]),
    reportedAt: instantSchema,
    receivedAt: instantSchema.optional(),
    channel: z.enum(REPORT_CHANNELS),
    by: z.string().min(1),
    /** What confirms receipt: a receipt number, the name of who took the call, a signature. */
    receipt: z.string().optional(),
    about: z.enum(REPORT_ABOUT).optional(),
    /** Recorded from a parent collector's signed receipt: that administration keeps the clock onward. */
    viaParent: z.boolean().optional(),
  })
  .refine((r) => r.receivedAt === undefined || r.receivedAt.getTime() >= r.reportedAt.getTime(), {
    message: 'receivedAt cannot be before reportedAt',
    path: ['receivedAt'],
  });

export type IncidentClock = z.infer<typeof incidentClockSchema>;
export type ChainReport = z.infer<typeof chainReportSchema>;

/** `unit` is the reporting unit itself (机关、单位), whatever its administrative level. */
export type HopFrom = 'unit' | AdminLevel;
export type HopTo = AdminLevel | 'superior-dept';
export type HopId = `${HopFrom}>${HopTo}` | `closure>${AdminLevel}`;
/** The target of the end-to-end deadline row (first administration's receipt → national). */
export const END_TO_END = 'end-to-end';

/**
 * `unstarted`: the sender's receipt is not recorded, so the hop's 24 hours have no start yet.
 * `sent`: reported, its receipt not yet back; the hop is not made until it is.
 */
export type HopState = 'unstarted' | 'pending' | 'sent' | 'done' | 'overdue';

/** Channels by which a report reaches its recipient as it is made. */
const ARRIVES_AS_MADE: readonly ReportChannel[] = ['phone', 'in-person'];

/** When a report reached its recipient: its receipt, or the call or hand-over itself; null while on its way. */
export function arrivalOf(report: {
  channel: ReportChannel | string | undefined;
  reportedAt: Date | null;
  receivedAt?: Date | null;
}): Date | null {
  if (report.receivedAt) return report.receivedAt;
  return ARRIVES_AS_MADE.includes(report.channel as ReportChannel) ? report.reportedAt : null;
}

export interface HopStatus {
  state: HopState;
  /** Arrived after dueAt, or still not arrived after it. */
  late: boolean;
  /** How late: at arrival, or so far when it has not arrived; null when not late. */
  lateByMs: number | null;
}

/**
 * The one rule for whether a hop is late (第61条, SPEC §7): made when it arrives, due 24 h from
 * its start, late only after T. The unit's chain, an administration's relay duty and the chain a
 * parent shows all ask this.
 */
export function hopStatus(
  dueAt: Date | null,
  sentAt: Date | null,
  arrivedAt: Date | null,
  now: Date,
): HopStatus {
  const due = dueAt?.getTime();
  if (arrivedAt) {
    const lateByMs = due !== undefined && arrivedAt.getTime() > due ? arrivedAt.getTime() - due : null;
    return { state: 'done', late: lateByMs !== null, lateByMs };
  }
  if (due !== undefined && now.getTime() > due) {
    return { state: 'overdue', late: true, lateByMs: now.getTime() - due };
  }
  return {
    state: sentAt ? 'sent' : due !== undefined ? 'pending' : 'unstarted',
    late: false,
    lateByMs: null,
  };
}

/**
 * From the last reminder on (T−2 h by default) a hop still not received should go by phone or on
 * paper, and be recorded here (SPEC §7): the reminder, the dashboard and the notifications say so.
 */
export function offSystemReportDue(
  hop: { dueAt: Date | null; arrivedAt: Date | null },
  now: Date,
  remindersMs: readonly number[] = DEFAULT_HOP_REMINDERS_MS,
): boolean {
  if (!hop.dueAt || hop.arrivedAt) return false;
  const last = Math.min(...remindersMs, HOP_DEADLINE_MS);
  return now.getTime() >= hop.dueAt.getTime() - last;
}

export interface Hop {
  id: HopId;
  from: HopFrom;
  to: HopTo;
  /** Discovery for the unit's hops, the sender's receipt for an administration's. */
  startedAt: Date | null;
  dueAt: Date | null;
  /** The first send; the hop is not made by it. */
  reportedAt: Date | null;
  /** The earliest arrival (see arrivalOf): when the hop was made. */
  receivedAt: Date | null;
  /** Arrived after dueAt, or still not arrived after it. */
  late: boolean;
  /** How late: at arrival, or so far when it has not arrived; null when not late. */
  lateByMs: number | null;
  state: HopState;
  /** The administration where a missed deadline becomes a warning: the next level up. */
  escalatesTo: AdminLevel;
  reports: ChainReport[];
}

/**
 * Where the report stands against "24 h from the first administration's receipt to the national
 * level": `heldBy` is the highest administration known to have received it, `waitingOn` the hop
 * it waits on; both null once it is at the national level or before any administration has it.
 */
export interface EndToEnd {
  startedAt: Date | null;
  dueAt: Date | null;
  state: HopState;
  late: boolean;
  lateByMs: number | null;
  heldBy: AdminLevel | null;
  waitingOn: HopId | null;
  /** The first administration received it through the hierarchy: the clock is kept above. */
  watchedAbove: boolean;
}

export interface ReportChain {
  hops: Hop[];
  endToEnd: EndToEnd;
  /** 第60条: the written report of the 处理结果; null while the incident is open. */
  closure: Hop | null;
  /** When the national administration received it; null until it has. */
  nationalReceivedAt: Date | null;
  /** Discovery → national receipt; null until complete. */
  endToEndMs: number | null;
  /** Reports that fit no hop of this incident (wrong level or recipient); kept visible, not dropped. */
  unmatched: ChainReport[];
}

export type HopDeadlineKind = `reminder-${string}` | 'missed';

/**
 * One row for the scheduler. `forDue` is the hop deadline the row serves; if a corrected receipt
 * moves the deadline, rows with the old `forDue` are stale and are replaced.
 */
export interface HopDeadline {
  hopId: HopId | typeof END_TO_END;
  kind: HopDeadlineKind;
  dueAt: Date;
  forDue: Date;
  escalatesTo: AdminLevel;
}

export interface ReportChainOptions {
  /** How long before each deadline to remind, in ms; each must be under 24 h. */
  remindersMs?: readonly number[];
}

/** The administration a unit at this level reports to as "same-level". */
export function sameLevelAdministration(unitLevel: ChainLevel): AdminLevel {
  return unitLevel === 'unit' ? 'county' : unitLevel;
}

function nextAdmin(level: AdminLevel): AdminLevel | undefined {
  return ADMIN_LEVELS[ADMIN_LEVELS.indexOf(level) + 1];
}

function isAdminLevel(level: string): level is AdminLevel {
  return (ADMIN_LEVELS as readonly string[]).includes(level);
}

/** The hops this incident's chain consists of, in order: the unit's two, then level by level. */
export function chainHops(unitLevel: ChainLevel): { id: HopId; from: HopFrom; to: HopTo }[] {
  const first = sameLevelAdministration(unitLevel);
  const hops: { id: HopId; from: HopFrom; to: HopTo }[] = [
    { id: `unit>${first}`, from: 'unit', to: first },
    { id: 'unit>superior-dept', from: 'unit', to: 'superior-dept' },
  ];
  for (let from: AdminLevel = first, to = nextAdmin(from); to; from = to, to = nextAdmin(from)) {
    hops.push({ id: `${from}>${to}`, from, to });
  }
  return hops;
}

/**
 * Which hop a report records, or undefined when it fits none (the API refuses those). A unit's
 * report to its same-level administration may name it as `same-level-admin` or by level.
 */
export function hopIdForReport(incident: IncidentClock, report: ChainReport): HopId | undefined {
  const first = sameLevelAdministration(incident.unitLevel);
  if (report.about === 'closure') {
    const toSameLevel = report.to === 'same-level-admin' || report.to === first;
    return report.fromLevel === incident.unitLevel && toSameLevel ? `closure>${first}` : undefined;
  }
  if (report.fromLevel === incident.unitLevel) {
    if (report.to === 'superior-dept') return 'unit>superior-dept';
    if (report.to === 'same-level-admin' || report.to === first) return `unit>${first}`;
  }
  const from = report.fromLevel;
  if (!isAdminLevel(from) || ADMIN_LEVELS.indexOf(from) < ADMIN_LEVELS.indexOf(first)) return undefined;
  const to = nextAdmin(from);
  return to !== undefined && report.to === to ? `${from}>${to}` : undefined;
}

function earliest(dates: (Date | undefined)[]): Date | null {
  let min: Date | null = null;
  for (const d of dates) if (d && (min === null || d.getTime() < min.getTime())) min = d;
  return min;
}

/** The chain as it stands at `now`. */
export function reportChain(
  incident: IncidentClock,
  reports: readonly ChainReport[],
  now: Date,
): ReportChain {
  const first = sameLevelAdministration(incident.unitLevel);
  const byHop = new Map<HopId, ChainReport[]>();
  const unmatched: ChainReport[] = [];
  for (const report of reports) {
    const id = hopIdForReport(incident, report);
    if (id === undefined) unmatched.push(report);
    else byHop.set(id, [...(byHop.get(id) ?? []), report]);
  }

  const receivedBy = new Map<AdminLevel, Date | null>();
  const hops: Hop[] = [];
  // chainHops lists each administration's incoming hop before its onward one.
  for (const { id, from, to } of chainHops(incident.unitLevel)) {
    const hopReports = byHop.get(id) ?? [];
    const startedAt = from === 'unit' ? incident.discoveredAt : (receivedBy.get(from) ?? null);
    const dueAt = startedAt && new Date(startedAt.getTime() + HOP_DEADLINE_MS);
    const reportedAt = earliest(hopReports.map((r) => r.reportedAt));
    const receivedAt = earliest(hopReports.map((r) => arrivalOf(r) ?? undefined));
    if (to !== 'superior-dept') receivedBy.set(to, receivedAt);
    const { state, late, lateByMs } = hopStatus(dueAt, reportedAt, receivedAt, now);
    hops.push({
      id,
      from,
      to,
      startedAt,
      dueAt,
      reportedAt,
      receivedAt,
      late,
      lateByMs,
      state,
      escalatesTo: from === 'unit' ? first : (to as AdminLevel),
      reports: hopReports,
    });
  }

  const nationalReceivedAt = receivedBy.get('national') ?? null;
  return {
    hops,
    endToEnd: endToEndOf(
      receivedBy,
      first,
      now,
      (byHop.get(`unit>${first}`) ?? []).some((r) => r.viaParent),
    ),
    closure: closureHop(incident, byHop.get(`closure>${first}`) ?? [], first, now),
    nationalReceivedAt,
    endToEndMs: nationalReceivedAt && nationalReceivedAt.getTime() - incident.discoveredAt.getTime(),
    unmatched,
  };
}

function endToEndOf(
  receivedBy: Map<AdminLevel, Date | null>,
  first: AdminLevel,
  now: Date,
  watchedAbove: boolean,
): EndToEnd {
  const startedAt = receivedBy.get(first) ?? null;
  const dueAt = startedAt && new Date(startedAt.getTime() + HOP_DEADLINE_MS);
  const national = receivedBy.get('national') ?? null;
  const status = hopStatus(dueAt, null, national, now);
  let heldBy: AdminLevel | null = null;
  for (const level of ADMIN_LEVELS) if (receivedBy.get(level)) heldBy = level;
  const stuck = national === null && heldBy !== null;
  const next = heldBy && nextAdmin(heldBy);
  return {
    startedAt,
    dueAt,
    ...status,
    heldBy: stuck ? heldBy : null,
    waitingOn: stuck && next ? `${heldBy!}>${next}` : null,
    watchedAbove,
  };
}

/** 第60条: no hours set ("及时"), so no deadline and never late; waiting until it arrives. */
function closureHop(
  incident: IncidentClock,
  reports: ChainReport[],
  first: AdminLevel,
  now: Date,
): Hop | null {
  if (!incident.closedAt) return null;
  const reportedAt = earliest(reports.map((r) => r.reportedAt));
  const receivedAt = earliest(reports.map((r) => arrivalOf(r) ?? undefined));
  const { state } = hopStatus(null, reportedAt, receivedAt, now);
  return {
    id: `closure>${first}`,
    from: 'unit',
    to: first,
    startedAt: incident.closedAt,
    dueAt: null,
    reportedAt,
    receivedAt,
    late: false,
    lateByMs: null,
    state: state === 'unstarted' ? 'pending' : state,
    escalatesTo: first,
    reports,
  };
}

/** `reminder-12h`, `reminder-90m`: the offset in the largest unit that divides it. */
function reminderKind(ms: number): `reminder-${string}` {
  for (const [unit, size] of [
    ['h', HOUR_MS],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `reminder-${ms / size}${unit}`;
  }
  return `reminder-${ms}ms`;
}

/**
 * The deadline rows for every hop not yet received whose clock has started: reminders before T and
 * `missed` at T + 1 ms, the first instant that is late (T itself is still on time), so the row
 * fires exactly when the hop turns `overdue`. A function of the recorded facts, not of now:
 * rows already past when stored fire at once and the scheduler marks them late.
 */
export function reportChainDeadlines(
  incident: IncidentClock,
  reports: readonly ChainReport[],
  options: ReportChainOptions = {},
): HopDeadline[] {
  const reminders = [...new Set(options.remindersMs ?? DEFAULT_HOP_REMINDERS_MS)].sort((a, b) => b - a);
  for (const ms of reminders) {
    if (!Number.isInteger(ms) || ms <= 0 || ms >= HOP_DEADLINE_MS) {
      throw new RangeError(`a hop reminder must be a whole number of ms between 0 and 24 h: ${ms}`);
    }
  }
  // The state at the epoch is irrelevant here: only dueAt and receivedAt are read.
  const { hops, endToEnd } = reportChain(incident, reports, new Date(0));
  // A report not at the national level 24 h after the first administration's receipt (SPEC §7).
  const endToEndRow: HopDeadline[] =
    endToEnd.dueAt && endToEnd.state !== 'done' && !endToEnd.watchedAbove
      ? [
          {
            hopId: END_TO_END,
            kind: 'missed',
            dueAt: new Date(endToEnd.dueAt.getTime() + 1),
            forDue: endToEnd.dueAt,
            escalatesTo: 'national',
          },
        ]
      : [];
  return [
    ...endToEndRow,
    ...hops.flatMap((hop) => {
      const due = hop.dueAt;
      if (hop.receivedAt || !due) return [];
      const row = (kind: HopDeadlineKind, at: number): HopDeadline => ({
        hopId: hop.id,
        kind,
        dueAt: new Date(at),
        forDue: due,
        escalatesTo: hop.escalatesTo,
      });
      return [
        ...reminders.map((ms) => row(reminderKind(ms), due.getTime() - ms)),
        row('missed', due.getTime() + 1),
      ];
    }),
  ];
}
