import { randomUUID } from 'node:crypto';
import { shanghaiDate } from '../../shared/calendar.js';
import {
  assessmentFoundRisks,
  assessmentResultOf,
  type AssessmentDue,
  type Fire,
  type System,
} from '../../shared/api/clocks.js';
import type { RectificationInput } from '../../shared/api/rectifications.js';
import { RectificationRegister } from '../rectifications/rectification-register.js';
import type { Principal } from '../auth/api-keys.js';
import type { FireRecord, SystemPatch, SystemRecord } from '../store/clocks/clock-store.js';
import type { Store } from '../store/store.js';
import type { SystemLevel } from './assessment-schedule.js';
import { systemSchedule } from './clock-records.js';
import { checkDate, ClockRefusal, inScope, ownerUnit, requireWriter } from './clock-requests.js';
import type { ChainLevel } from './report-chain.js';
import type { ClockScheduler } from './scheduler.js';

/**
 * The 第35条 register: systems, their assessments and the schedule each one is on. Every change
 * rebuilds the system's clock rows and runs a pass, so a change of level, scope or environment
 * is due — and reported — at once.
 */
export interface ClockDeps {
  store: Store;
  scheduler: ClockScheduler;
  /** The collector's own unit and level: the default owner and the first hop of the chain. */
  unit: string;
  level: ChainLevel;
  /** The administrative rank an incident of this unit reports by (clocks.unitRank); default `level`. */
  rankOf?: (unit: string) => ChainLevel;
  /** Told after an incident was stored or changed (a hop, a receipt), e.g. to report it upward now. */
  onIncidentChange?: (id: string) => void;
  /** Told after 整改 items were opened or closed, e.g. to report the unit's open items upward now. */
  onRectificationChange?: () => void;
  /** Told after a self-inspection was finalised, e.g. to send its report upward now. */
  onSelfInspectionFinalised?: (id: string) => void;
}

export interface NewSystem {
  name: string;
  level: SystemLevel;
  commissionedAt: string;
  unit?: string;
  scope?: string | null;
  environment?: string | null;
  approval?: { ref?: string | null; by?: string | null; at?: string | null };
}

export interface SystemChange {
  level?: SystemLevel;
  scope?: string | null;
  environment?: string | null;
  /** Whether the change "可能产生新的安全保密风险隐患" (第35条); required with a level, scope or environment. */
  newRisk?: boolean;
  /** The protective measures taken; required when newRisk. */
  measures?: string | null;
  status?: 'in-use' | 'decommissioned';
  filedAt?: string | null;
  /** What was done with a decommissioned system's equipment; required with the decommission. */
  disposal?: string | null;
  approval?: { ref?: string | null; by?: string | null; at?: string | null };
}

export interface NewAssessment {
  completedAt: string;
  assessor: string;
  /** Today's word or an earlier version's (assessmentResultOf reads it). */
  result: Parameters<typeof assessmentResultOf>[0];
  note?: string | null;
  /** 整改 items the risks found open (第35条 with 第59条's what, who and deadline). */
  rectifications?: RectificationInput[];
}

export function fireView(fire: FireRecord): Fire {
  return {
    hop: fire.target || undefined,
    kind: fire.kind,
    dueAt: fire.dueAt,
    firedAt: fire.firedAt,
    late: fire.late,
    lateByMs: fire.lateByMs,
    outcome: fire.outcome,
    condition: fire.condition?.type ?? null,
  };
}

/**
 * 第35条: a change of level, scope or environment says whether it may bring new risk, and one
 * that may comes with the protective measures taken ("采取相应防护措施，并开展…风险评估").
 */
function checkRisk(input: SystemChange): void {
  const changes = input.level !== undefined || input.scope !== undefined || input.environment !== undefined;
  if (changes && input.newRisk === undefined) {
    throw new ClockRefusal(
      400,
      'newRisk: say whether the change may bring new security risks (可能产生新的安全保密风险隐患, 第35条)',
    );
  }
  if (input.newRisk && !input.measures?.trim()) {
    throw new ClockRefusal(
      400,
      'measures: a change that may bring new risk needs the protective measures taken (采取相应防护措施, 第35条)',
    );
  }
}

export class SystemRegister {
  private readonly rectifications: RectificationRegister;

  constructor(private readonly deps: ClockDeps) {
    this.rectifications = new RectificationRegister(deps);
  }

  async list(units: readonly string[] | undefined): Promise<System[]> {
    const now = this.deps.scheduler.now();
    const records = await this.deps.store.clocks.listSystems({ units });
    return records.map((r) => this.view(r, now));
  }

  /** A system the caller may see, with its fired reminders; 404 for one of another unit. */
  async get(principal: Principal | null, id: string): Promise<System> {
    const record = await this.visible(principal, id);
    return this.viewWithFires(record);
  }

  async register(caller: Principal | null, input: NewSystem): Promise<System> {
    const principal = requireWriter(caller);
    checkDate(input.commissionedAt, 'commissionedAt');
    if (input.approval?.at) checkDate(input.approval.at, 'approval.at');
    const created = await this.deps.store.clocks.createSystem({
      id: `sys-${randomUUID().replaceAll('-', '').slice(0, 16)}`,
      name: input.name,
      level: input.level,
      unit: ownerUnit(principal, input.unit, this.deps.unit),
      scope: input.scope ?? null,
      environment: input.environment ?? null,
      commissionedAt: input.commissionedAt,
      approvalRef: input.approval?.ref ?? null,
      approvedBy: input.approval?.by ?? null,
      approvedAt: input.approval?.at ?? null,
      createdAt: this.deps.scheduler.now().toISOString(),
      createdBy: principal.name,
    });
    return this.view(await this.afterChange(created.id), this.deps.scheduler.now());
  }

  /**
   * A change of level, scope or environment (a reassessment falls due when it may bring new risk),
   * the 第33条 approval recorded late, or a decommission.
   */
  async change(caller: Principal | null, id: string, input: SystemChange): Promise<System> {
    const principal = requireWriter(caller);
    const current = await this.visible(principal, id);
    if (current.status === 'decommissioned') {
      throw new ClockRefusal(
        409,
        `system ${current.id} was decommissioned (备案 ${current.filedAt}); register it again`,
      );
    }
    this.checkFiling(input);
    checkRisk(input);
    if (input.approval?.at) checkDate(input.approval.at, 'approval.at');
    const patch: SystemPatch = {
      level: input.level,
      scope: input.scope,
      environment: input.environment,
      newRisk: input.newRisk,
      measures: input.measures?.trim() || null,
      status: input.status,
      filedAt: input.filedAt ?? undefined,
      disposal: input.disposal?.trim() || undefined,
      approval: input.approval && {
        ref: input.approval.ref ?? null,
        by: input.approval.by ?? null,
        at: input.approval.at ?? null,
      },
    };
    const now = this.deps.scheduler.now().toISOString();
    await this.deps.store.clocks.updateSystem(current.id, patch, now, principal.name);
    return this.viewWithFires(await this.afterChange(current.id));
  }

  /** Decommissioning (第35条 register): its 备案 date and the equipment's fate; the reminders stop. */
  async decommission(
    caller: Principal | null,
    id: string,
    input: { filedAt: string; disposal: string },
  ): Promise<System> {
    return this.change(caller, id, { status: 'decommissioned', ...input });
  }

  async recordAssessment(caller: Principal | null, id: string, input: NewAssessment): Promise<System> {
    const principal = requireWriter(caller);
    const system = await this.visible(principal, id);
    checkDate(input.completedAt, 'completedAt');
    const now = this.deps.scheduler.now();
    if (input.completedAt > shanghaiDate(now)) {
      throw new ClockRefusal(
        400,
        `completedAt: ${input.completedAt} is in the future (today is ${shanghaiDate(now)} in Shanghai)`,
      );
    }
    if (system.status === 'decommissioned') {
      throw new ClockRefusal(409, `system ${system.id} was decommissioned (备案 ${system.filedAt})`);
    }
    const rectifications = input.rectifications ?? [];
    if (rectifications.length > 0 && !assessmentFoundRisks(input.result)) {
      throw new ClockRefusal(400, 'rectifications: an assessment that found no risks opens no 整改 items');
    }
    this.rectifications.checkDeadlines(rectifications, now);
    const entry = await this.deps.store.clocks.addAssessment(system.id, {
      completedAt: input.completedAt,
      assessor: input.assessor,
      result: assessmentResultOf(input.result),
      note: input.note ?? null,
      recordedAt: now.toISOString(),
      recordedBy: principal.name,
    });
    // The assessment counts for its period whatever it found; the risks are put right on their own clock.
    await this.rectifications.open(principal, system.unit, rectifications, {
      kind: 'assessment',
      id: system.id,
      item: String(entry!.id),
    });
    return this.viewWithFires(await this.afterChange(system.id));
  }

  /** Every system in use with its next assessment due date, soonest first. */
  async due(units: readonly string[] | undefined, state?: AssessmentDue['state']): Promise<AssessmentDue[]> {
    const now = this.deps.scheduler.now();
    const records = await this.deps.store.clocks.listSystems({ units });
    return records
      .filter((r) => r.status === 'in-use')
      .map((r) => {
        const schedule = systemSchedule(r, now, this.deps.scheduler.options);
        return {
          systemId: r.id,
          name: r.name,
          level: r.level,
          unit: r.unit,
          nextDue: schedule.nextDue!,
          daysLeft: schedule.daysLeft!,
          state: schedule.state as AssessmentDue['state'],
          basis: schedule.basis!,
          lastAssessedAt: schedule.lastAssessedAt,
          recommended: schedule.recommended,
          unapproved: schedule.unapproved,
        };
      })
      .filter((item) => state === undefined || item.state === state)
      .sort((a, b) => a.daysLeft - b.daysLeft || a.name.localeCompare(b.name));
  }

  private checkFiling(input: SystemChange): void {
    if (input.status === 'decommissioned' && !input.filedAt) {
      throw new ClockRefusal(
        400,
        'filedAt: decommissioning needs the filing (备案) date, YYYY-MM-DD (第35条)',
      );
    }
    if (input.status === 'decommissioned' && !input.disposal?.trim()) {
      throw new ClockRefusal(
        400,
        'disposal: decommissioning records what was done with the equipment (销毁、移交…)',
      );
    }
    if (input.disposal?.trim() && input.status !== 'decommissioned') {
      throw new ClockRefusal(400, 'disposal: only a decommission (status "decommissioned") records it');
    }
    if (!input.filedAt) return;
    checkDate(input.filedAt, 'filedAt');
    if (input.status !== 'decommissioned') {
      throw new ClockRefusal(400, 'filedAt: only a decommission (status "decommissioned") has a filing date');
    }
    if (input.filedAt > shanghaiDate(this.deps.scheduler.now())) {
      throw new ClockRefusal(400, `filedAt: ${input.filedAt} is in the future`);
    }
  }

  /** Loads a system the caller may see, or 404 (a system of another unit is not admitted to exist). */
  private async visible(principal: Principal | null, id: string): Promise<SystemRecord> {
    const record = await this.deps.store.clocks.getSystem(id);
    if (!record || !inScope(principal, record.unit)) throw new ClockRefusal(404, `no system ${id}`);
    return record;
  }

  /** Rebuilds the system's rows and runs a pass, so what the change made due fires now. */
  private async afterChange(id: string): Promise<SystemRecord> {
    const record = (await this.deps.store.clocks.getSystem(id))!;
    await this.deps.scheduler.refreshSystem(record);
    await this.deps.scheduler.runPass('change');
    return record;
  }

  private async viewWithFires(record: SystemRecord): Promise<System> {
    const fires = await this.deps.store.clocks.listFires({ type: 'system', id: record.id });
    return this.view(record, this.deps.scheduler.now(), fires);
  }

  private view(record: SystemRecord, now: Date, fires?: FireRecord[]): System {
    const schedule = systemSchedule(record, now, this.deps.scheduler.options);
    return {
      id: record.id,
      name: record.name,
      level: record.level,
      unit: record.unit,
      scope: record.scope,
      environment: record.environment,
      commissionedAt: record.commissionedAt,
      approval:
        record.approvalRef || record.approvedBy || record.approvedAt
          ? { ref: record.approvalRef, by: record.approvedBy, at: record.approvedAt }
          : null,
      status: record.status,
      filedAt: record.filedAt,
      disposal: record.disposal,
      createdAt: record.createdAt,
      createdBy: record.createdBy,
      schedule: {
        state: schedule.state,
        nextDue: schedule.nextDue,
        daysLeft: schedule.daysLeft,
        interval: schedule.interval,
        basis: schedule.basis,
        lastAssessedAt: schedule.lastAssessedAt,
        recommended: schedule.recommended,
        unapproved: schedule.unapproved,
      },
      assessments: record.assessments,
      changes: record.changes.map(({ kind, at, from, to, by, newRisk, measures }) => ({
        kind,
        at,
        from,
        to,
        by,
        newRisk,
        measures,
      })),
      reminders: fires?.map(fireView),
    };
  }
}
