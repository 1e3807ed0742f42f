import { z } from 'zod';
import { durationSchema } from '../../shared/duration.js';
import { EVENT_TYPES } from '../../shared/events.js';
import { SEVERITIES, severitySchema } from '../../shared/levels.js';
import { COLLECTOR_CONDITION_TYPES } from '../warnings/conditions.js';

/**
 * The rule file of 第64条 early warning (config/rules.yaml): which events become warnings, how
 * they are grouped, how often they must repeat, and when hosts of one unit are correlated.
 * Everything a rule can get wrong is checked here, so a loaded rule never fails at run time.
 */

/** Rule names end up in warning ids, silences and URLs: keep them plain. */
export const RULE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** A group field: an envelope field, the agent's unit, or a top-level `data` field. */
export const GROUP_FIELD_PATTERN = /^(agent|key|type|unit|data\.[A-Za-z_][A-Za-z0-9_-]{0,63})$/;
const TYPE_GLOB_PATTERN = /^[a-z0-9.*-]+$/;
const DATA_FIELD_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** A string checked by a pattern, reported in words: zod's own regex issue names only the format. */
function textLike(pattern: RegExp, what: string) {
  return z.string({ error: what }).refine((text) => pattern.test(text), what);
}

/** `net.*` → /^net\..*$/: `*` stands for any characters, dots included; nothing else is special. */
export function typeGlobToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.\\^$+?()[\]{}|-]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/** What a rule can match: the agents' event catalogue and the collector's own conditions. */
const RULE_TYPES: readonly string[] = [...EVENT_TYPES, ...COLLECTOR_CONDITION_TYPES];

const typeGlob = textLike(
  TYPE_GLOB_PATTERN,
  'an event type such as net.wireless.present, or a glob such as net.*',
).superRefine((glob, ctx) => {
  // A misspelt type would match nothing and silently never warn: refuse it instead.
  const re = typeGlobToRegExp(glob);
  if (!RULE_TYPES.some((type) => re.test(type))) {
    ctx.addIssue({
      code: 'custom',
      message: `an event type of the catalogue or a collector condition (${RULE_TYPES.join(', ')}) or a glob matching one`,
    });
  }
});

const DATA_CONDITION_EXPECTED =
  'a value to equal (text, number, true/false), {equals: value} or {regex: pattern}';

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/**
 * `iface: wlan0` is equality; `ssid: {regex: …}` tests the text; `{equals: …}` is the long form.
 * Checked by hand so a broken pattern is reported with the engine's own reason.
 */
const dataCondition = z.unknown().transform((value, ctx): DataConditionSpec => {
  if (isScalar(value)) return { equals: value };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const record = value as Record<string, unknown>;
    if (keys.length === 1 && keys[0] === 'equals' && isScalar(record.equals))
      return { equals: record.equals };
    if (keys.length === 1 && keys[0] === 'regex' && typeof record.regex === 'string' && record.regex !== '') {
      try {
        new RegExp(record.regex, 'u');
        return { regex: record.regex };
      } catch (err) {
        const reason = (err as Error).message.replace(/^Invalid regular expression: /, '');
        ctx.addIssue({ code: 'custom', path: ['regex'], message: `a valid regular expression (${reason})` });
        return z.NEVER;
      }
    }
  }
  ctx.addIssue({ code: 'custom', message: DATA_CONDITION_EXPECTED });
  return z.NEVER;
});
type DataConditionSpec = { equals: string | number | boolean } | { regex: string };

const matchSchema = z.strictObject({
  type: z.union([typeGlob, z.array(typeGlob).min(1, 'at least one event type')], {
    error: 'an event type, a glob such as net.*, or a list of them',
  }),
  /**
   * `raised` (default): the rule watches conditions, and their `cleared` events resolve its
   * warnings. `cleared` or `any`: every matching event is an occurrence of its own.
   */
  state: z.enum(['raised', 'cleared', 'any']).default('raised'),
  data: z
    .record(textLike(DATA_FIELD_PATTERN, 'a data field name such as iface or ssid'), dataCondition, {
      error: 'a mapping of data fields to values or {regex: pattern}',
    })
    .optional(),
});

const severityRule = z.union(
  [
    z.enum([...SEVERITIES, 'from-event']),
    // What the violation means on a 秘密 host; severityForLevel moves it with the host's level.
    z.strictObject({ base: severitySchema }),
  ],
  {
    error: `one of ${[...SEVERITIES, 'from-event'].join(', ')}, or {base: <severity>} to adjust by host level`,
  },
);

const groupField = textLike(GROUP_FIELD_PATTERN, 'agent, key, type, unit or data.<field>');
const groupFields = (what: string) =>
  z.array(groupField, { error: `a list of ${what}` }).min(1, `at least one of ${what}`);
const positiveDuration = durationSchema.refine((ms) => ms > 0, 'a duration above zero such as 10m or 1h');

const wholeNumber = (min: number) =>
  z
    .number({ error: `a whole number from ${min} to 100000` })
    .int(`a whole number from ${min} to 100000`)
    .min(min, `a whole number from ${min} to 100000`)
    .max(100_000, `a whole number from ${min} to 100000`);

const thresholdSchema = z.strictObject({ count: wholeNumber(2), within: positiveDuration });

const correlateSchema = z.strictObject({
  hosts: wholeNumber(2),
  within: positiveDuration,
  by: z
    .array(
      groupField.refine(
        (field) => field !== 'agent',
        'a field shared across hosts (unit, type, key or data.<field>), not agent',
      ),
      { error: 'a list of fields shared across hosts, such as [unit]' },
    )
    .min(1, 'at least one field, such as unit')
    .default(['unit']),
});

const ruleSchema = z
  .strictObject({
    name: textLike(RULE_NAME_PATTERN, 'a name of lowercase letters, digits and dashes'),
    title: z.strictObject(
      {
        zh: z.string({ error: 'a title in Chinese' }).min(1, 'a title in Chinese'),
        en: z.string({ error: 'a title in English' }).min(1, 'a title in English'),
      },
      { error: 'a mapping {zh: 中文标题, en: English title}' },
    ),
    match: matchSchema,
    severity: severityRule,
    group_by: groupFields('agent, key, type, unit or data.<field>').optional(),
    threshold: thresholdSchema.optional(),
    correlate: correlateSchema.optional(),
  })
  .superRefine((rule, ctx) => {
    if (rule.threshold && rule.correlate) {
      ctx.addIssue({
        code: 'custom',
        path: ['correlate'],
        message: 'either threshold or correlate, not both',
      });
    }
    if (rule.correlate && rule.group_by) {
      ctx.addIssue({
        code: 'custom',
        path: ['group_by'],
        message: 'no group_by in a correlate rule: it groups by correlate.by',
      });
    }
  });

export const rulesFileSchema = z
  .strictObject({
    rules: z
      .array(ruleSchema, { error: 'a list of rules' })
      .min(1, 'at least one rule: an empty list would silence every warning'),
  })
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.rules.forEach((rule, index) => {
      const first = seen.get(rule.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', index, 'name'],
          message: `a name not used before (rule ${first + 1} has it)`,
        });
      } else seen.set(rule.name, index);
    });
  });
export type RulesFile = z.infer<typeof rulesFileSchema>;
export type RuleSpec = RulesFile['rules'][number];

export type DataCondition = { equals: string | number | boolean } | { regex: RegExp };
export type SeveritySpec =
  | { kind: 'fixed'; value: z.infer<typeof severitySchema> }
  | { kind: 'from-event' }
  | { kind: 'host-level'; base: z.infer<typeof severitySchema> };

/** A rule ready to run: globs and patterns compiled once at load. */
export interface Rule {
  name: string;
  title: { zh: string; en: string };
  match: {
    types: RegExp[];
    state: 'raised' | 'cleared' | 'any';
    data: [field: string, condition: DataCondition][];
  };
  severity: SeveritySpec;
  /** Without `correlate`: the fields whose values make one warning (default agent, key). */
  groupBy: string[];
  threshold?: { count: number; withinMs: number };
  correlate?: { hosts: number; withinMs: number; by: string[] };
}

export const DEFAULT_GROUP_BY = ['agent', 'key'];

export function compileRule(spec: RuleSpec): Rule {
  const types = Array.isArray(spec.match.type) ? spec.match.type : [spec.match.type];
  const data = Object.entries(spec.match.data ?? {}).map(([field, condition]): [string, DataCondition] => {
    if ('regex' in condition) return [field, { regex: new RegExp(condition.regex, 'u') }];
    return [field, condition];
  });
  const severity: SeveritySpec =
    typeof spec.severity === 'object'
      ? { kind: 'host-level', base: spec.severity.base }
      : spec.severity === 'from-event'
        ? { kind: 'from-event' }
        : { kind: 'fixed', value: spec.severity };
  return {
    name: spec.name,
    title: spec.title,
    match: { types: types.map(typeGlobToRegExp), state: spec.match.state, data },
    severity,
    groupBy: spec.correlate ? spec.correlate.by : (spec.group_by ?? DEFAULT_GROUP_BY),
    ...(spec.threshold && { threshold: { count: spec.threshold.count, withinMs: spec.threshold.within } }),
    ...(spec.correlate && {
      correlate: { hosts: spec.correlate.hosts, withinMs: spec.correlate.within, by: spec.correlate.by },
    }),
  };
}
