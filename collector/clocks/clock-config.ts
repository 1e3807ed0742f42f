import cron from 'node-cron';
import { z } from 'zod';
import { ADMIN_LEVELS, type COLLECTOR_LEVELS } from '../../shared/api/clocks.js';
import { durationSchema } from '../../shared/duration.js';
import { ASSESSMENT_PERIODS } from './assessment-schedule.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * `clocks:` in the collector config. Reminder offsets are durations before the deadline:
 * whole days for 第35条 (its rows fall on Shanghai midnights), under 24 h for 第61条 hops.
 */
export const clockConfigSchema = z
  .strictObject({
    /** node-cron expression for the periodic pass; a pass also runs at startup and after each change. */
    schedule: z
      .string()
      .refine((expression) => cron.validate(expression), {
        message: 'expected a cron expression such as "* * * * *" (every minute)',
      })
      .default('* * * * *'),
    /** 第35条 read per period (`calendar`, SPEC §7) or as last assessment + 1 or 2 years (`rolling`). */
    assessmentPeriod: z.enum(ASSESSMENT_PERIODS).default('calendar'),
    /** After a change that may bring new risk, the reassessment falls due within this many days. */
    reassessWithin: durationSchema
      .refine((ms) => ms >= 0 && ms % DAY_MS === 0, {
        message: 'expected a whole number of days such as 30d',
      })
      .default(30 * DAY_MS),
    assessmentReminders: z
      .array(
        durationSchema.refine((ms) => ms > 0 && ms % DAY_MS === 0, {
          message: 'expected a whole number of days such as 30d',
        }),
      )
      .default([30 * DAY_MS, 7 * DAY_MS, DAY_MS]),
    reportReminders: z
      .array(
        durationSchema.refine((ms) => ms > 0 && ms < 24 * HOUR_MS, {
          message: 'expected a duration under the 24 h deadline, such as 12h or 2h',
        }),
      )
      .default([12 * HOUR_MS, 2 * HOUR_MS]),
    /** A row fired more than this after its due time is marked late: the collector was not running. */
    lateAfter: durationSchema.default(2 * 60_000),
    /**
     * How long a row that failed to fire stays with the collector that claimed it before any
     * collector retries it. A collector that dies mid-pass holds nothing: its batch, claim
     * included, is rolled back and the rows are due again at once.
     */
    lease: durationSchema.refine((ms) => ms >= 1000, { message: 'expected at least 1s' }).default(5 * 60_000),
    /**
     * 第61条 "同级保密行政管理部门" follows the unit's own administrative rank, not this collector's
     * place in the hierarchy: a 省直机关 on a county collector reports to the province. `county`
     * also stands for units below county level. Unset: the collector's level.
     */
    unitRank: z.enum(ADMIN_LEVELS).optional(),
    /** The same, per unit, for the units whose incidents this collector records. */
    unitRanks: z.record(z.string().min(1), z.enum(ADMIN_LEVELS)).optional(),
  })
  .default({
    schedule: '* * * * *',
    assessmentPeriod: 'calendar',
    reassessWithin: 30 * DAY_MS,
    assessmentReminders: [30 * DAY_MS, 7 * DAY_MS, DAY_MS],
    reportReminders: [12 * HOUR_MS, 2 * HOUR_MS],
    lateAfter: 2 * 60_000,
    lease: 5 * 60_000,
  });

export type ClockConfig = z.infer<typeof clockConfigSchema>;

export function clockOptionsFromConfig(config: ClockConfig) {
  return {
    assessment: {
      reminderDays: config.assessmentReminders.map((ms) => ms / DAY_MS),
      period: config.assessmentPeriod,
      reassessWithinDays: config.reassessWithin / DAY_MS,
    },
    chain: { remindersMs: config.reportReminders },
  };
}

/** The rank an incident of `unit` reports by (its chain's first administration), apart from the collector's level. */
export function unitRankOf(
  config: Pick<ClockConfig, 'unitRank' | 'unitRanks'>,
  unit: string,
  collectorLevel: (typeof COLLECTOR_LEVELS)[number],
): (typeof COLLECTOR_LEVELS)[number] {
  return config.unitRanks?.[unit] ?? config.unitRank ?? collectorLevel;
}
