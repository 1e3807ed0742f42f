import { z } from 'zod';

/** Classification levels in their legal words (保密法). 非密 = unclassified. */
export const LEVELS = ['绝密', '机密', '秘密', '非密'] as const;
export const levelSchema = z.enum(LEVELS);
export type Level = z.infer<typeof levelSchema>;

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const severitySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof severitySchema>;

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/**
 * The same violation weighs more on a more secret host: a base severity is what it means on a
 * 秘密 host; 机密 keeps it, 绝密 raises it one step, 非密 lowers it one step.
 */
export function severityForLevel(base: Severity, level: Level): Severity {
  const shift = level === '绝密' ? 1 : level === '非密' ? -1 : 0;
  const rank = Math.min(SEVERITIES.length - 1, Math.max(0, severityRank(base) + shift));
  return SEVERITIES[rank]!;
}
