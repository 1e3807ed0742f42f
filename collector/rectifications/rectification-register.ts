import { randomUUID } from 'node:crypto';
import { shanghaiDate } from '../../shared/calendar.js';
import { assessmentFoundRisks } from '../../shared/api/clocks.js';
import type {
  Rectification,
  RectificationInput,
  RectificationState,
} from '../../shared/api/rectifications.js';
import type { Principal } from '../auth/api-keys.js';
import { checkDate, ClockRefusal, inScope, ownerUnit, requireWriter } from '../clocks/clock-requests.js';
import type { ClockScheduler } from '../clocks/scheduler.js';
import type {
  RectificationRecord,
  RectificationSource,
  RectificationSourceKind,
} from '../store/rectifications/rectification-store.js';
import type { Store } from '../store/store.js';
import { daysLeft, rectificationState } from './rectification-clock.js';

/**
 * The one home of 整改 items: opened by a self-inspection finding (第58–59条), by an assessment
 * with risks found (第35条), or by hand; listed with their state; closed with a note. Every change
 * rebuilds the item's clock rows and runs a pass, so a reminder or an overdue warning due now
 * fires now and a closed item's warning clears.
 */
export interface RectificationDeps {
  store: Store;
  scheduler: ClockScheduler;
  /** The collector's own unit: the default owner of an item. */
  unit: string;
  /** Told after items were opened or closed, e.g. to report the unit's open items upward. */
  onRectificationChange?: () => void;
}

export function rectificationView(record: RectificationRecord, now: Date): Rectification {
  return { ...record, state: rectificationState(record, now), daysLeft: daysLeft(record, now) };
}

export class RectificationRegister {
  constructor(private readonly deps: RectificationDeps) {}

  async list(
    units: readonly string[] | undefined,
    filter: { state?: RectificationState; source?: RectificationSourceKind; sourceId?: string } = {},
  ): Promise<Rectification[]> {
    const now = this.deps.scheduler.now();
    const records = await this.deps.store.rectifications.list({
      units,
      open: filter.state === undefined ? undefined : filter.state !== 'done',
      source: filter.source && { kind: filter.source, id: filter.sourceId },
    });
    return records
      .map((r) => rectificationView(r, now))
      .filter((r) => filter.state === undefined || r.state === filter.state);
  }

  /**
   * Opens items for `source` in `unit` (already checked against the caller). A deadline must be a
   * real date, not before today: an item cannot be overdue the moment it is opened.
   */
  async open(
    principal: Principal,
    unit: string,
    inputs: readonly RectificationInput[],
    source: RectificationSource,
  ): Promise<Rectification[]> {
    if (inputs.length === 0) return [];
    const now = this.deps.scheduler.now();
    this.checkDeadlines(inputs, now);
    const records = await this.deps.store.rectifications.add(
      inputs.map((input) => ({
        id: `rect-${randomUUID().replaceAll('-', '').slice(0, 16)}`,
        unit,
        what: input.what.trim(),
        who: input.who.trim(),
        deadline: input.deadline,
        source,
        createdAt: now.toISOString(),
        createdBy: principal.name,
      })),
    );
    for (const record of records) await this.deps.scheduler.refreshRectification(record);
    await this.deps.scheduler.runPass('change');
    this.deps.onRectificationChange?.();
    return records.map((r) => rectificationView(r, now));
  }

  /** Checks inputs before anything is stored (a caller storing more first checks here). */
  checkDeadlines(inputs: readonly RectificationInput[], now: Date): void {
    const today = shanghaiDate(now);
    inputs.forEach((input, i) => {
      checkDate(input.deadline, `rectifications[${i}].deadline`);
      if (input.deadline < today) {
        throw new ClockRefusal(
          400,
          `rectifications[${i}].deadline: ${input.deadline} is already past (today is ${today} in Shanghai)`,
          `整改期限 ${input.deadline} 早于今天（${today}）`,
        );
      }
    });
  }

  /**
   * By hand (整改 the officer opens), or after an assessment with risks found: the item then
   * belongs to the system's unit and names the assessment (the latest with risks found by default).
   */
  async openByHand(
    caller: Principal | null,
    input: RectificationInput & { unit?: string; assessment?: { systemId: string; assessmentId?: number } },
  ): Promise<Rectification> {
    const principal = requireWriter(caller, 'inspection.manage');
    const { what, who, deadline } = input;
    if (!input.assessment) {
      const unit = ownerUnit(principal, input.unit, this.deps.unit);
      const [item] = await this.open(principal, unit, [{ what, who, deadline }], {
        kind: 'manual',
        id: null,
        item: null,
      });
      return item!;
    }
    const { systemId, assessmentId } = input.assessment;
    const system = await this.deps.store.clocks.getSystem(systemId);
    if (!system || !inScope(principal, system.unit))
      throw new ClockRefusal(404, `no system ${systemId}`, `没有涉密信息系统 ${systemId}`);
    const withRisks = system.assessments.filter((a) => assessmentFoundRisks(a.result));
    const assessment =
      assessmentId === undefined ? withRisks.at(-1) : withRisks.find((a) => a.id === assessmentId);
    if (!assessment) {
      throw new ClockRefusal(
        409,
        assessmentId === undefined
          ? `system ${systemId} has no assessment that found risks; open the item by hand instead`
          : `assessment ${assessmentId} of system ${systemId} does not exist or found no risks`,
        '该系统没有发现风险隐患的安全保密风险评估，请手工登记整改事项',
      );
    }
    const [item] = await this.open(principal, system.unit, [{ what, who, deadline }], {
      kind: 'assessment',
      id: system.id,
      item: String(assessment.id),
    });
    return item!;
  }

  async close(caller: Principal | null, id: string, note: string): Promise<Rectification> {
    const principal = requireWriter(caller, 'inspection.manage');
    const current = await this.deps.store.rectifications.get(id);
    if (!current || !inScope(principal, current.unit))
      throw new ClockRefusal(404, `no rectification ${id}`, `没有整改事项 ${id}`);
    const now = this.deps.scheduler.now();
    const result = await this.deps.store.rectifications.close(id, {
      at: now.toISOString(),
      by: principal.name,
      note: note.trim(),
    });
    if (!result?.closed) {
      throw new ClockRefusal(
        409,
        `rectification ${id} was closed already (${current.closedAt ?? 'just now'})`,
        '该整改事项已完成',
      );
    }
    await this.deps.scheduler.refreshRectification(result.record);
    await this.deps.scheduler.runPass('change');
    this.deps.onRectificationChange?.();
    return rectificationView(result.record, now);
  }
}
