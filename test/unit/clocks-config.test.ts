import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clockOptionsFromConfig, unitRankOf } from '../../collector/clocks/clock-config.js';
import { loadCollectorConfig } from '../../collector/config.js';
import { UserError } from '../../shared/errors.js';
import { tempDir } from '../support/collector-harness.js';

describe('clocks config', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir('smew-clocks-config-');
  });
  afterEach(() => dir.remove());

  const load = (yaml: string) => {
    const file = join(dir.path, 'collector.yaml');
    writeFileSync(file, yaml);
    return loadCollectorConfig(file, {});
  };

  it('defaults to the calendar reading, 30 days to reassess, 30/7/1 days and T−12 h/T−2 h, a pass every minute', () => {
    const config = load('unit: 一处\n');
    expect(config.clocks).toEqual({
      schedule: '* * * * *',
      assessmentPeriod: 'calendar',
      reassessWithin: 30 * 86_400_000,
      assessmentReminders: [30 * 86_400_000, 7 * 86_400_000, 86_400_000],
      reportReminders: [12 * 3_600_000, 2 * 3_600_000],
      lateAfter: 120_000,
      lease: 300_000,
    });
    expect(clockOptionsFromConfig(config.clocks)).toEqual({
      assessment: { reminderDays: [30, 7, 1], period: 'calendar', reassessWithinDays: 30 },
      chain: { remindersMs: [12 * 3_600_000, 2 * 3_600_000] },
    });
  });

  it('takes the unit’s administrative rank apart from the collector’s level (第61条 同级)', () => {
    const config = load(
      'unit: 某省直机关\nlevel: unit\nclocks:\n  unitRank: province\n  unitRanks: { 某市直单位: city }\n',
    );
    expect(config.level).toBe('unit');
    expect(unitRankOf(config.clocks, '某省直机关', config.level)).toBe('province');
    expect(unitRankOf(config.clocks, '某市直单位', config.level)).toBe('city');
    // Unset, the rank is the collector's level, as before.
    const plain = load('unit: 一处\nlevel: county\n');
    expect(unitRankOf(plain.clocks, '一处', plain.level)).toBe('county');
    expect(() => load('unit: 一处\nclocks:\n  unitRank: township\n')).toThrow(UserError);
  });

  it('takes reminders as durations', () => {
    const config = load(
      'clocks:\n  assessmentReminders: [60d, 14d]\n  reportReminders: [6h, 30m]\n  schedule: "*/5 * * * *"\n' +
        '  assessmentPeriod: rolling\n  reassessWithin: 10d\n',
    );
    expect(clockOptionsFromConfig(config.clocks)).toEqual({
      assessment: { reminderDays: [60, 14], period: 'rolling', reassessWithinDays: 10 },
      chain: { remindersMs: [6 * 3_600_000, 30 * 60_000] },
    });
  });

  it('names the key, what was found and what is expected', () => {
    const attempt = () =>
      load(
        'clocks:\n  assessmentReminders: [30d, 36h]\n  reportReminders: [25h]\n  schedule: "every minute"\n' +
          '  assessmentPeriod: yearly\n',
      );
    expect(attempt).toThrow(UserError);
    expect(attempt).toThrow(
      /key clocks\.schedule: found "every minute" \(string\); expected a cron expression/,
    );
    expect(attempt).toThrow(
      /key clocks\.assessmentReminders\.1: found "36h" \(string\); expected a whole number of days/,
    );
    expect(attempt).toThrow(/key clocks\.assessmentPeriod: found "yearly" \(string\)/);
    expect(attempt).toThrow(
      /key clocks\.reportReminders\.0: found "25h" \(string\); expected a duration under the 24 h deadline/,
    );
  });
});
