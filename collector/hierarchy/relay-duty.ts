import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import { CLOCK_CONDITION_TYPES } from '../clocks/clock-records.js';
import {
  arrivalOf,
  HOP_DEADLINE_MS,
  type HopState,
  hopStatus,
  OFF_SYSTEM_ADVICE,
  sameLevelAdministration,
} from '../clocks/report-chain.js';
import { COLLECTOR_LEVELS } from '../config.js';
import type { StoredReport } from '../store/hierarchy/hierarchy-store.js';
import type { Store } from '../store/store.js';
import type { CollectorCondition, ConditionSink } from '../warnings/conditions.js';
import type { HopFact } from './incident-chain.js';
import type { CollectorLevel } from './messages.js';

/**
 * 第61条 ¶2 at an administration: an incident reported from below must go to the next level
 * within 24 hours of this administration's receipt. The duty starts when the incident report
 * arrives here and is done when the parent's signed receipt for it comes back (the hop recorded
 * as this collector's `incident.hop` report). Before the deadline it reminds (the clocks'
 * offsets, default T−12 h and T−2 h); after it, it is late — both as collector conditions, so the
 * rules make them warnings here, and the warning goes up like any other.
 *
 * The facts live in the store (the received report, the parent's receipt); which conditions were
 * raised is kept per process, so after a restart a pending reminder is raised once more, into the
 * same open warning (grouped by key).
 */
export type DutyState = Extract<HopState, 'pending' | 'sent' | 'done' | 'overdue'>;

export interface RelayDuty extends HopFact {
  dueAt: string;
  state: DutyState;
  late: boolean;
  /** How late: at the report, or so far while unreported; null when not late. */
  lateByMs: number | null;
}

export interface ReceivedIncident {
  incident: StoredReport;
  id: string;
  /** Hops reported from below (incident.hop reports of its origin), in any order. */
  hops: HopFact[];
  /** This collector's own onward hop once the parent confirmed it. */
  ownHop: HopFact | undefined;
  /** This collector's duty to pass it on; undefined at the top level (national). */
  duty: RelayDuty | undefined;
  /**
   * SPEC §7 end to end: the first administration's receipt (the unit's hop as reported up, or
   * this collector's own receipt when it is that administration) and 24 h after it, by when the
   * report should be national; null when not known here.
   */
  endToEnd: { firstReceivedAt: string; dueAt: string } | null;
}

/** The first administration's receipt of the incident, as this collector knows it. */
function firstReceipt(incident: StoredReport, hops: readonly HopFact[], here: CollectorLevel): string | null {
  const unitLevel = String(incident.report.data.unitLevel ?? 'unit') as CollectorLevel;
  const first = sameLevelAdministration(unitLevel);
  const arrivals = hops
    .filter((h) => h.from === unitLevel && h.to === first)
    .map((h) =>
      arrivalOf({
        channel: h.channel ?? 'system',
        reportedAt: date(h.reportedAt),
        receivedAt: date(h.receivedAt),
      }),
    )
    .filter((d): d is Date => d !== null)
    .map((d) => d.toISOString());
  if (here === first) arrivals.push(incident.receivedAt);
  return arrivals.sort()[0] ?? null;
}

const date = (iso: string | null) => (iso === null ? null : new Date(iso));

export function hopFact(data: Record<string, unknown>): HopFact {
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    from: String(data.from),
    to: String(data.to),
    reportedAt: text(data.reportedAt),
    receivedAt: text(data.receivedAt),
    ...(typeof data.channel === 'string' ? { channel: data.channel } : {}),
  };
}

/** The incidents received from below (within `units`), each with its hops and this level's duty. */
export async function receivedIncidents(
  store: Store,
  options: {
    units: readonly string[] | undefined;
    here: CollectorLevel;
    parentLevel: CollectorLevel | undefined;
    now: Date;
  },
): Promise<ReceivedIncident[]> {
  const { units, here, now } = options;
  const incidents = await store.hierarchy.listReports({ units, type: 'incident', limit: 10_000 });
  const hops = await store.hierarchy.listReports({ units, type: 'incident.hop', limit: 10_000 });
  const next = options.parentLevel ?? COLLECTOR_LEVELS[COLLECTOR_LEVELS.indexOf(here) + 1];
  const out: ReceivedIncident[] = [];
  for (const incident of incidents) {
    const id = String(incident.report.data.id);
    const own = await store.hierarchy.ownReport(`incident.hop:${incident.origin}:${id}`);
    const ownHop = own ? hopFact(own.report.data) : undefined;
    let duty: RelayDuty | undefined;
    if (next !== undefined) {
      const dueAt = new Date(Date.parse(incident.receivedAt) + HOP_DEADLINE_MS);
      const reportedAt = ownHop?.reportedAt ?? null;
      // By the parent's receipt, or recorded by hand (a call arrives as it is made).
      const sentAt = reportedAt === null ? null : new Date(reportedAt);
      const arrivedAt =
        ownHop &&
        arrivalOf({
          channel: ownHop.channel ?? 'system',
          reportedAt: sentAt,
          receivedAt: ownHop.receivedAt === null ? null : new Date(ownHop.receivedAt),
        });
      const { state, late, lateByMs } = hopStatus(dueAt, sentAt, arrivedAt ?? null, now);
      duty = {
        from: here,
        to: next,
        reportedAt,
        receivedAt: arrivedAt?.toISOString() ?? null,
        dueAt: dueAt.toISOString(),
        state: state as DutyState,
        late,
        lateByMs,
      };
    }
    // The closure's written report (第60条) is no hop of the 第61条 chain.
    const facts = hops
      .filter((h) => h.report.data.incident === id && h.report.data.origin === incident.origin)
      .filter((h) => h.report.data.about !== 'closure')
      .map((h) => hopFact(h.report.data));
    const first = firstReceipt(incident, facts, here);
    out.push({
      incident,
      id,
      hops: facts,
      ownHop,
      duty,
      endToEnd:
        first === null
          ? null
          : { firstReceivedAt: first, dueAt: new Date(Date.parse(first) + HOP_DEADLINE_MS).toISOString() },
    });
  }
  return out;
}

export interface RelayDutyWatchDeps {
  store: Store;
  sink: ConditionSink;
  clock: Clock;
  logger: Logger;
  unit: string;
  level: CollectorLevel;
  /** How long before the deadline to remind, in ms (the clocks' chain reminders). */
  remindersMs: readonly number[];
}

/** What every condition about an incident from below says of it. */
function incidentFacts(received: ReceivedIncident) {
  const data = received.incident.report.data;
  return {
    incidentId: received.id,
    title: data.title,
    level: data.level,
    origin: received.incident.origin,
    originUnit: received.incident.unit,
  };
}

/** Raises and clears this administration's relay-duty conditions; run on every producer pass. */
export class RelayDutyWatch {
  private readonly raised = new Set<string>();
  private readonly cleared = new Set<string>();

  constructor(private readonly deps: RelayDutyWatchDeps) {}

  async pass(): Promise<void> {
    const { store, clock, level } = this.deps;
    const parent = await store.hierarchy.getParent();
    // Without a parent the next hop goes by paper or phone, outside this collector: no clock here.
    if (!parent) return;
    const now = clock.now();
    const reminders = [...this.deps.remindersMs].sort((a, b) => b - a);
    for (const received of await receivedIncidents(store, {
      units: undefined,
      here: level,
      parentLevel: parent.level,
      now,
    })) {
      const { duty } = received;
      if (!duty) continue;
      await this.watchEndToEnd(received, duty, now);
      const dueMs = Date.parse(duty.dueAt);
      const base = `${received.incident.origin}:${received.id}:${duty.from}>${duty.to}`;
      // One key per reminder, as the clocks do: the T−2 h one opens its own warning and notice.
      const reminderKey = (ms: number) =>
        `${CLOCK_CONDITION_TYPES.reportReminder}:${base}:reminder-${ms / 60_000}m`;
      const lateKey = `${CLOCK_CONDITION_TYPES.reportLate}:${base}`;
      if (duty.state === 'done') {
        // Judged by when it arrived: a duty still open at a reminder's time may have raised
        // it (in this process or before a restart), so it is cleared; a quick one never did.
        const confirmedMs = Date.parse(duty.receivedAt ?? duty.reportedAt!);
        for (const ms of reminders) {
          if (confirmedMs >= dueMs - ms) {
            await this.clear(reminderKey(ms), CLOCK_CONDITION_TYPES.reportReminder, received, duty, now);
          }
        }
        if (confirmedMs > dueMs)
          await this.clear(lateKey, CLOCK_CONDITION_TYPES.reportLate, received, duty, now);
        continue;
      }
      if (duty.state === 'overdue') {
        await this.raise(lateKey, CLOCK_CONDITION_TYPES.reportLate, 'missed', received, duty, now);
        continue;
      }
      // The nearest reminder reached (reminders run from the earliest, T−12 h, to the last, T−2 h).
      const due = reminders.filter((ms) => now.getTime() >= dueMs - ms).at(-1);
      if (due !== undefined) {
        await this.raise(
          reminderKey(due),
          CLOCK_CONDITION_TYPES.reportReminder,
          `reminder-${due / 60_000}m`,
          received,
          duty,
          now,
          reminderKey(due),
          due === reminders.at(-1),
        );
      }
    }
  }

  /**
   * SPEC §7 end to end, raised here because here is where it can be acted on: the report is held
   * by this administration (its onward hop not yet received) past 24 h from the first
   * administration's receipt. Once passed on, the level above holds it and watches in turn.
   */
  private async watchEndToEnd(received: ReceivedIncident, duty: RelayDuty, now: Date): Promise<void> {
    if (!received.endToEnd) return;
    const key = `${CLOCK_CONDITION_TYPES.reportStuck}:${received.incident.origin}:${received.id}`;
    const stuck = duty.state !== 'done' && now.getTime() > Date.parse(received.endToEnd.dueAt);
    const wasLate =
      duty.state === 'done' && Date.parse(duty.receivedAt!) > Date.parse(received.endToEnd.dueAt);
    if (!stuck && !wasLate) return;
    const state = stuck ? 'raised' : 'cleared';
    if ((stuck ? this.raised : this.cleared).has(key)) return;
    await this.deps.sink.report({
      type: CLOCK_CONDITION_TYPES.reportStuck,
      state,
      key,
      unit: this.deps.unit,
      severity: stuck ? 'critical' : 'info',
      data: {
        ...incidentFacts(received),
        hop: 'end-to-end',
        firstReceivedAt: received.endToEnd.firstReceivedAt,
        endToEndDueAt: received.endToEnd.dueAt,
        heldBy: duty.from,
        waitingOn: `${duty.from}>${duty.to}`,
        escalatesTo: 'national',
        lateByMs: Math.max(0, now.getTime() - Date.parse(received.endToEnd.dueAt)),
        ...(stuck ? { deadline: 'missed' } : { reason: 'reported' }),
      },
      at: now.toISOString(),
    });
    (stuck ? this.raised : this.cleared).add(key);
    if (stuck) {
      this.deps.logger.warn(
        { incident: received.id, origin: received.incident.unit, heldBy: duty.from },
        'hierarchy: an incident report is not at the national level 24 hours after the first administration received it (第61条)',
      );
    }
  }

  private condition(
    type: string,
    key: string,
    state: 'raised' | 'cleared',
    received: ReceivedIncident,
    duty: RelayDuty,
    now: Date,
    deadline?: string,
    offSystem = false,
  ): CollectorCondition {
    return {
      type,
      state,
      key,
      unit: this.deps.unit,
      severity:
        state === 'cleared' ? 'info' : type === CLOCK_CONDITION_TYPES.reportLate ? 'critical' : 'high',
      data: {
        ...incidentFacts(received),
        hop: `${duty.from}>${duty.to}`,
        from: duty.from,
        to: duty.to,
        receivedAt: received.incident.receivedAt,
        hopDueAt: duty.dueAt,
        ...(deadline === undefined ? { reason: 'reported' } : { deadline }),
        escalatesTo: duty.to,
        late: duty.late,
        lateByMs: duty.lateByMs ?? 0,
        ...(offSystem ? { advice: OFF_SYSTEM_ADVICE.zh } : {}),
      },
      at: now.toISOString(),
    };
  }

  private async raise(
    once: string,
    type: string,
    deadline: string,
    received: ReceivedIncident,
    duty: RelayDuty,
    now: Date,
    key = once,
    offSystem = false,
  ): Promise<void> {
    if (this.raised.has(once)) return;
    await this.deps.sink.report(
      this.condition(type, key, 'raised', received, duty, now, deadline, offSystem),
    );
    this.raised.add(once);
    this.deps.logger.warn(
      { incident: received.id, origin: received.incident.unit, hop: `${duty.from}>${duty.to}`, deadline },
      deadline === 'missed'
        ? 'hierarchy: an incident from below was not passed on within 24 hours (第61条)'
        : 'hierarchy: the 24-hour deadline to pass on an incident from below is near (第61条)',
    );
  }

  private async clear(
    key: string,
    type: string,
    received: ReceivedIncident,
    duty: RelayDuty,
    now: Date,
  ): Promise<void> {
    if (this.cleared.has(key)) return;
    await this.deps.sink.report(this.condition(type, key, 'cleared', received, duty, now));
    this.cleared.add(key);
  }
}
