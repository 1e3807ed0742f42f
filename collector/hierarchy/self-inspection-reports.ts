import { createHash } from 'node:crypto';
import type { Rectification } from '../../shared/api/rectifications.js';
import type { EvidenceFigures } from '../../shared/api/self-inspection.js';
import { rectificationView } from '../rectifications/rectification-register.js';
import { selfInspectionView } from '../self-inspection/self-inspection-desk.js';
import { selfInspectionReportData } from '../self-inspection/self-inspection-report.js';
import type { Store } from '../store/store.js';
import type { ReportType } from './messages.js';

/**
 * 第58–59条 up the hierarchy, as the annual figures go: a unit's finalised self-inspection (the
 * report data of self-inspection-report.ts, signed like every report) and the unit's open 整改
 * items, each sent again when what the administration above would see changes (an item closed
 * or gone overdue). The administration keeps the latest of each per unit and shows them.
 */
export interface ProducedItem {
  producerKey: string;
  type: ReportType;
  key: string;
  data: Record<string, unknown>;
}

/** At most this many open items travel in one `rectifications` report; the counts are whole. */
const ITEMS_PER_REPORT = 200;

/** A short fingerprint of what the parent would see, so a repeat pass queues nothing new. */
function fingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

function stateOf(items: readonly Rectification[]): string[] {
  return items.map((r) => `${r.id}:${r.state}`);
}

export async function selfInspectionItems(store: Store, unit: string, now: Date): Promise<ProducedItem[]> {
  const all = (await store.rectifications.list({ units: [unit] })).map((r) => rectificationView(r, now));
  const items: ProducedItem[] = [];
  for (const record of await store.selfInspections.list({ units: [unit] })) {
    if (record.finalizedAt === null) continue;
    const own = all.filter((r) => r.source.kind === 'self-inspection' && r.source.id === record.id);
    const data = selfInspectionReportData(
      selfInspectionView(record, own, (record.figures ?? {}) as EvidenceFigures),
    );
    items.push({
      producerKey: `self-inspection:${record.id}:${fingerprint(stateOf(own))}`,
      type: 'self-inspection',
      key: `self-inspection:${unit}:${record.year}`,
      data: { ...data },
    });
  }
  const open = all.filter((r) => r.state !== 'done');
  const data = {
    unit,
    takenAt: now.toISOString(),
    open: open.length,
    overdue: open.filter((r) => r.state === 'overdue').length,
    items: open.slice(0, ITEMS_PER_REPORT).map((r) => ({
      id: r.id,
      what: r.what,
      who: r.who,
      deadline: r.deadline,
      state: r.state,
      source: r.source.kind,
    })),
  };
  // Nothing to tell until the unit has had an item: an empty list is news only after a full one.
  if (all.length > 0) {
    items.push({
      // Every item with its state, closed ones too: after a close the open ones may be a set
      // already reported once (before another was opened), and the parent must still hear of it.
      producerKey: `rectifications:${fingerprint(stateOf(all))}`,
      type: 'rectifications',
      key: `rectifications:${unit}`,
      data,
    });
  }
  return items;
}

/** One unit below as the administration sees its self-inspection and its open 整改 items. */
export interface UnitSelfInspection {
  unit: string;
  level: string;
  origin: string | null;
  /** The latest finalised self-inspection received (newest year), or null: none yet. */
  selfInspection: { receivedAt: string; report: Record<string, unknown> } | null;
  /** The latest open-items report received, or null. */
  rectifications: { receivedAt: string; report: Record<string, unknown> } | null;
}

/** Each unit below within `units`, with the latest of each report; units that sent none too. */
export async function subordinateSelfInspections(
  store: Store,
  units: readonly string[] | undefined,
): Promise<UnitSelfInspection[]> {
  const byUnit = new Map<string, UnitSelfInspection>();
  for (const s of await store.hierarchy.listSubordinates({ units })) {
    byUnit.set(s.unit, {
      unit: s.unit,
      level: s.level,
      origin: s.id,
      selfInspection: null,
      rectifications: null,
    });
  }
  // The latest of each: the newest year, then the last raised at the unit (its time, then its
  // seq: two raised in one millisecond and received in one batch still have an order).
  const rank = new Map<object, [number, string, number]>();
  const newer = (current: object | null, candidate: object) =>
    current === null || compareRanks(rank.get(candidate)!, rank.get(current)!) > 0;
  for (const type of ['self-inspection', 'rectifications'] as const) {
    for (const r of await store.hierarchy.listReports({ units, type, limit: 10_000 })) {
      const entry =
        byUnit.get(r.unit) ??
        ({
          unit: r.unit,
          level: r.level,
          origin: r.origin,
          selfInspection: null,
          rectifications: null,
        } as UnitSelfInspection);
      byUnit.set(r.unit, entry);
      const candidate = { receivedAt: r.receivedAt, report: r.report.data };
      const year = typeof r.report.data.year === 'number' ? r.report.data.year : 0;
      rank.set(candidate, [year, r.report.ts, r.report.seq]);
      const field = type === 'self-inspection' ? 'selfInspection' : 'rectifications';
      if (newer(entry[field], candidate)) entry[field] = candidate;
    }
  }
  return [...byUnit.values()].sort((a, b) => a.unit.localeCompare(b.unit, 'zh'));
}

function compareRanks(a: [number, string, number], b: [number, string, number]): number {
  return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) || a[2] - b[2];
}
