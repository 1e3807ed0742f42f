/**
 * The clock of one 整改 item, pure: its rows and its state at the Asia/Shanghai day boundaries.
 */
import { describe, expect, it } from 'vitest';
import {
  daysLeft,
  rectificationDeadlineSpecs,
  rectificationState,
} from '../../collector/rectifications/rectification-clock.js';
import type { RectificationRecord } from '../../collector/store/rectifications/rectification-store.js';

const item: RectificationRecord = {
  id: 'rect-1',
  unit: '甲单位',
  what: '修订保密制度',
  who: '张三',
  deadline: '2027-01-01',
  source: { kind: 'manual', id: null, item: null },
  createdAt: '2026-12-01T00:00:00.000Z',
  createdBy: 'officer',
  closedAt: null,
  closedBy: null,
  closeNote: null,
};

describe('rectification clock', () => {
  it('reminds 7 days and 1 day ahead and is overdue from the next Shanghai day, repeating', () => {
    expect(rectificationDeadlineSpecs(item)).toEqual([
      {
        target: '',
        kind: 'reminder-7',
        forDue: '2027-01-01',
        dueAt: '2026-12-24T16:00:00.000Z',
        repeats: false,
        escalatesTo: null,
      },
      {
        target: '',
        kind: 'reminder-1',
        forDue: '2027-01-01',
        dueAt: '2026-12-30T16:00:00.000Z',
        repeats: false,
        escalatesTo: null,
      },
      {
        target: '',
        kind: 'overdue',
        forDue: '2027-01-01',
        dueAt: '2027-01-01T16:00:00.000Z',
        repeats: true,
        escalatesTo: null,
      },
    ]);
  });

  it('is open through the last day (Shanghai), overdue after it, done once closed', () => {
    const lastMoment = new Date('2027-01-01T15:59:59.999Z'); // 23:59:59.999 in Shanghai
    expect(rectificationState(item, lastMoment)).toBe('open');
    expect(daysLeft(item, lastMoment)).toBe(0);
    const nextDay = new Date('2027-01-01T16:00:00.000Z');
    expect(rectificationState(item, nextDay)).toBe('overdue');
    expect(daysLeft(item, nextDay)).toBe(-1);
    const closed = { ...item, closedAt: '2027-01-03T00:00:00.000Z', closedBy: '李四', closeNote: '已修订' };
    expect(rectificationState(closed, nextDay)).toBe('done');
    expect(rectificationDeadlineSpecs(closed)).toEqual([]);
  });
});
