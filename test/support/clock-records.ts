/** New records for the clock store's tests: one system of the register and one incident, as of T0. */
import type { NewIncident, NewMeasure, NewSystem } from '../../collector/store/clocks/clock-store.js';

const T0 = '2026-03-01T00:00:00.000Z';

export function system(overrides: Partial<NewSystem> = {}): NewSystem {
  return {
    id: 'sys-1',
    name: '办公内网',
    level: '机密',
    unit: '一处',
    scope: '本单位',
    environment: '机房A',
    commissionedAt: '2025-03-01',
    approvalRef: '审查〔2025〕7号',
    approvedBy: '市保密局',
    approvedAt: '2025-02-20',
    createdAt: T0,
    createdBy: 'admin',
    ...overrides,
  };
}

/** Remedial measures (第61条), each done and recorded by the officer at `at`. */
export function measuresDone(...whats: string[]): NewMeasure[] {
  return measuresAt(T0, ...whats);
}

export function measuresAt(at: string, ...whats: string[]): NewMeasure[] {
  return whats.map((what) => ({ what, by: 'officer', at, recordedAt: at, recordedBy: 'officer' }));
}

export function incident(overrides: Partial<NewIncident> = {}): NewIncident {
  return {
    id: 'inc-1',
    title: '涉密文件外发',
    level: '秘密',
    unit: '一处',
    unitLevel: 'unit',
    discoveredAt: T0,
    discoverySource: 'manual',
    description: null,
    measures: measuresDone('断网、收回'),
    evidence: [3, 5],
    createdAt: T0,
    createdBy: 'officer',
    ...overrides,
  };
}

/**
 * The 第35条 reading the clocks had before SPEC §7 read it per period: last assessment + 1 or 2
 * years (`rolling`), a change due at once. Tests written for it run with it.
 */
export const TODAYS_READING = { period: 'rolling', reassessWithinDays: 0 } as const;
/** The same as `clocks:` config keys. */
export const TODAYS_READING_CONFIG = { assessmentPeriod: 'rolling', reassessWithin: 0 } as const;
