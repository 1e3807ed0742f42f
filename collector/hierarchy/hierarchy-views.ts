import type { z } from 'zod';
import type {
  hierarchyNotice,
  hierarchyStatus,
  receivedIncident,
  receivedReport,
  subordinate,
  subordinateUnit,
} from '../../shared/api/hierarchy.js';
import type { StoredNotice, StoredReport, SubordinateRecord } from '../store/hierarchy/hierarchy-store.js';
import type { Hierarchy, NewNotice } from './hierarchy.js';
import { incidentChain } from './incident-chain.js';
import { policyUpdateSchema } from './policy-merge.js';
import { receivedIncidents } from './relay-duty.js';
import type { UnitStatusFigures } from './unit-status.js';

/**
 * What the hierarchy shows people: this collector's parent link, the collectors below, the
 * reports and incidents that came up, the notices and their answers from below. `units` is the
 * caller's scope (undefined: the whole tree). The routes in collector/api/hierarchy.ts call these.
 */
type Status = z.input<typeof hierarchyStatus>;
type Subordinate = z.input<typeof subordinate>;
type ReceivedReport = z.input<typeof receivedReport>;
type ReceivedIncident = z.input<typeof receivedIncident>;
type NoticeView = z.input<typeof hierarchyNotice>;
type SubordinateUnit = z.input<typeof subordinateUnit>;
type Units = readonly string[] | undefined;

export class HierarchyViews {
  constructor(private readonly hierarchy: Hierarchy) {}

  private get store() {
    return this.hierarchy.parentSide.store;
  }

  async status(): Promise<Status> {
    const side = this.hierarchy.parentSide;
    const parent = await this.store.getParent();
    return {
      collector: side.identity.id,
      unit: side.unit,
      level: side.level,
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
      outbox: await this.store.outboxStats(),
    };
  }

  async subordinates(units: Units): Promise<Subordinate[]> {
    return (await this.store.listSubordinates({ units })).map(subordinateView);
  }

  /**
   * The 下级单位 tree: every unit below in the caller's scope, parents before children, each with
   * the figures its collector last reported up (`unit.status`, signed like every report).
   */
  async units(units: Units): Promise<SubordinateUnit[]> {
    const subordinates = await this.store.listSubordinates({ units });
    const self = this.hierarchy.parentSide.identity.id;
    const byParent = new Map<string, SubordinateRecord[]>();
    for (const s of subordinates) byParent.set(s.parent, [...(byParent.get(s.parent) ?? []), s]);
    const out: SubordinateUnit[] = [];
    const visit = async (parent: string, depth: number) => {
      for (const s of byParent.get(parent) ?? []) {
        out.push(await this.unitRow(s, depth));
        await visit(s.id, depth + 1);
      }
    };
    await visit(self, 1);
    // A unit whose parent is outside the caller's scope still shows, at the top of what is seen.
    const shown = new Set(out.map((u) => u.collector));
    for (const s of subordinates) if (!shown.has(s.id)) out.push(await this.unitRow(s, 1));
    return out;
  }

  private async unitRow(s: SubordinateRecord, depth: number): Promise<SubordinateUnit> {
    const [latest] = await this.store.listReports({ type: 'unit.status', origin: s.id, limit: 1 });
    const figures = latest?.report.data as Partial<UnitStatusFigures & { takenAt: string }> | undefined;
    return {
      collector: s.id,
      unit: s.unit,
      level: s.level,
      parent: s.parent,
      direct: s.direct,
      depth,
      enrolledAt: s.enrolledAt,
      lastSeenAt: s.lastSeenAt,
      statusAt: figures?.takenAt ?? null,
      terminals: figures?.terminals ?? null,
      openWarnings: figures?.openWarnings ?? null,
      overdueAssessments: figures?.overdueAssessments ?? null,
      incidents: figures?.incidents ?? null,
      noticesUnanswered: figures?.noticesUnanswered ?? null,
      // A unit on an older smew reports no such figure: "—", not 0.
      openRectifications: figures?.openRectifications ?? null,
    };
  }

  /** Reports from below; `unit` narrows to those that passed through it, within the caller's scope. */
  async reports(
    scope: Units,
    filter: { unit?: string; type?: string; origin?: string; limit: number },
  ): Promise<ReceivedReport[]> {
    const { unit, ...rest } = filter;
    const units = unit === undefined ? scope : scope === undefined || scope.includes(unit) ? [unit] : [];
    return (await this.store.listReports({ units, ...rest })).map(reportView);
  }

  /** Incidents reported from below with their 第61条 hops and this level's own duty. */
  async incidents(units: Units): Promise<ReceivedIncident[]> {
    const parent = await this.store.getParent();
    const now = this.hierarchy.parentSide.clock.now();
    const here = this.hierarchy.parentSide.level;
    const received = await receivedIncidents(this.hierarchy.store, {
      units,
      here,
      parentLevel: parent?.level,
      now,
    });
    const closures = new Map(
      (await this.store.listReports({ units, type: 'incident.closure', limit: 10_000 })).map((r) => [
        `${r.origin}:${String(r.report.data.id)}`,
        {
          closedAt: String(r.report.data.closedAt),
          outcome: (r.report.data.outcome as string | null) ?? null,
        },
      ]),
    );
    return received.map(({ incident, id, hops, ownHop, duty, endToEnd }) => ({
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
      closure: closures.get(`${incident.origin}:${id}`) ?? null,
      endToEnd: endToEnd && {
        ...endToEnd,
        stuckHere: duty !== undefined && duty.state !== 'done' && now.getTime() > Date.parse(endToEnd.dueAt),
      },
    }));
  }

  /** Notices issued here, and those received from above when the caller may see this unit's own. */
  async notices(seesOwnUnit: boolean): Promise<NoticeView[]> {
    return (await this.store.listNotices(500))
      .filter((n) => n.source === 'issued' || seesOwnUnit)
      .map(noticeView);
  }

  /** One notice with each subordinate's answer and who has not answered; undefined when unseen. */
  async notice(id: string, units: Units, seesOwnUnit: boolean): Promise<NoticeView | undefined> {
    const notice = await this.store.getNotice(id);
    // A notice received from above is this collector's own business; one issued here went to the units below.
    if (!notice || (notice.source === 'received' && !seesOwnUnit)) return undefined;
    const subordinates = await this.store.listSubordinates({ units });
    const answers = new Map((await this.store.listResponses(notice.id)).map((r) => [r.collector, r]));
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
  }

  /** Issues a notice or a policy update to every collector below; a bad policy is refused by why. */
  async issueNotice(
    input: NewNotice,
  ): Promise<{ ok: true; notice: NoticeView } | { ok: false; error: string }> {
    if (input.type === 'policy') {
      if (input.policy === undefined)
        return { ok: false, error: 'policy: a policy update needs the policy object' };
      const parsed = policyUpdateSchema.safeParse(input.policy);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        return {
          ok: false,
          error: `policy.${issue.path.map(String).join('.')}: ${issue.message} (the sections of SPEC §4: level, interfaces, wireless, bluetooth, network, usb, files, beacon)`,
        };
      }
    }
    const notice = await this.hierarchy.issueNotice(input);
    return { ok: true, notice: noticeView((await this.store.getNotice(notice.id))!) };
  }

  /** Sends this collector's 排查 result for a notice from above; why not, when it cannot. */
  async sendResult(
    id: string,
    result: string,
    by: string,
  ): Promise<{ ok: true; notice: NoticeView } | { ok: false; status: 404 | 409; error: string }> {
    const notice = await this.store.getNotice(id);
    if (!notice || notice.source !== 'received') {
      return { ok: false, status: 404, error: `no notice ${id} received from above` };
    }
    if (!(await this.hierarchy.recordResult(notice.id, result, by))) {
      return {
        ok: false,
        status: 409,
        error: `the 排查 result for ${notice.id} was already sent at ${notice.resultAt}`,
      };
    }
    return { ok: true, notice: noticeView((await this.store.getNotice(notice.id))!) };
  }
}

function subordinateView(s: SubordinateRecord): Subordinate {
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

function reportView(r: StoredReport): ReceivedReport {
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

function noticeView(n: StoredNotice): NoticeView {
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
