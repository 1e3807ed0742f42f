/**
 * The 国家秘密标志 of 第21条 ("应当标注密级、保密期限"): the level word, ★, and the 保密期限 when one is
 * set — `机密★1年`, `秘密★`, `绝密★长期`, `秘密★2030年12月31日`. One grammar for the agent, which
 * finds marks in files (agent/probes/markings.ts), and the collector, which writes them on the
 * documents it produces (collector/documents/).
 */

/** Levels that carry a mark; 非密 carries none. */
export const SECRET_LEVELS = ['绝密', '机密', '秘密'] as const;
export type SecretLevel = (typeof SECRET_LEVELS)[number];

// A plain string, not String.raw: the agent's bundle escapes non-ASCII characters in strings, but
// cannot in a raw template, and one such character makes V8 hold the whole bundle's source as
// two-byte text.
/** A 保密期限 as written after the ★: a date (…前), years, months, or 长期. */
export const SECRET_TERM_PATTERN = '\\d{4}年\\d{1,2}月\\d{1,2}日(?:前)?|\\d{1,3}年|\\d{1,3}个月|长期';

const WHOLE_TERM = new RegExp(`^(?:${SECRET_TERM_PATTERN})$`, 'u');

export function isSecretTerm(term: string): boolean {
  return WHOLE_TERM.test(term);
}

export function isSecretLevel(level: string): level is SecretLevel {
  return (SECRET_LEVELS as readonly string[]).includes(level);
}

/** The mark for a level and term; undefined for 非密 (nothing to mark). */
export function secretMark(level: string, term?: string | null): string | undefined {
  if (!isSecretLevel(level)) return undefined;
  return `${level}★${term ?? ''}`;
}
