import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRulesFile, loadRules } from '../../collector/rules/load.js';
import { matchesRule } from '../../collector/rules/match.js';
import { UserError } from '../../shared/errors.js';
import { EVENT_TYPES, RECORD_ONLY_EVENT_TYPES } from '../../shared/events.js';

const dir = mkdtempSync(join(tmpdir(), 'smew-rules-'));
let files = 0;
function file(text: string): string {
  const path = join(dir, `rules-${++files}.yaml`);
  writeFileSync(path, text);
  return path;
}

function errorOf(path: string): string {
  try {
    loadRules(path);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as UserError).message;
  }
  throw new Error('expected the rule file to be refused');
}

/** One rule in YAML, with `extra` lines appended to it (indented as rule keys). */
function rule(
  extra = '',
  head = 'name: wifi\n    title: { zh: 无线, en: Wireless }\n    match: { type: net.wireless.present }\n    severity: high',
): string {
  return `rules:\n  - ${head}${extra ? `\n    ${extra}` : ''}\n`;
}

describe('shipped rules (config/rules.yaml)', () => {
  const rules = loadRules(defaultRulesFile());

  it('load, with unique names and bilingual titles', () => {
    expect(new Set(rules.map((r) => r.name)).size).toBe(rules.length);
    for (const r of rules) expect(r.title.zh && r.title.en).toBeTruthy();
  });

  it.each(EVENT_TYPES.filter((t) => !RECORD_ONLY_EVENT_TYPES.includes(t)))('cover %s', (type) => {
    const data: Record<string, unknown> =
      type === 'usb.storage.attached'
        ? { registered: false }
        : type === 'file.marked'
          ? { marking: '机密' }
          : {};
    const event = {
      envelope: {
        agent: 'ag-a',
        seq: 1,
        ts: '2026-11-26T00:00:00Z',
        type,
        state: 'raised' as const,
        key: type,
        severity: 'high' as const,
        data,
      },
      unit: 'u',
    };
    expect(rules.some((r) => matchesRule(r, event))).toBe(true);
  });

  it('warn on wireless at once and correlate it on 3 hosts within an hour', () => {
    const byName = new Map(rules.map((r) => [r.name, r]));
    expect(byName.get('wireless-present')?.threshold).toBeUndefined();
    expect(byName.get('wireless-many-hosts')?.correlate).toEqual({
      hosts: 3,
      withinMs: 3_600_000,
      by: ['unit'],
    });
    expect(byName.get('agent-tamper')?.severity).toEqual({ kind: 'fixed', value: 'critical' });
    expect(byName.get('usb-registered')?.severity).toEqual({ kind: 'fixed', value: 'info' });
  });
});

describe('a bad rule file is refused whole, naming file, rule, key, found and expected', () => {
  const cases: [string, string, string[]][] = [
    ['not YAML', 'rules: [\n  - name: x\n', ['at line', 'not valid YAML']],
    ['no rules key', 'other: 1\n', ['key (top level)', 'unknown key(s) other']],
    ['rules not a list', 'rules: wifi\n', ['key rules: found "wifi" (string); expected a list of rules']],
    ['an empty list', 'rules: []\n', ['key rules: found a list; expected at least one rule']],
    [
      'a misspelt event type',
      rule(
        '',
        'name: wifi\n    title: { zh: 无线, en: Wireless }\n    match: { type: net.wirless.present }\n    severity: high',
      ),
      [
        'rule 1 ("wifi")',
        'key match.type',
        'found "net.wirless.present" (string)',
        'expected an event type of the catalogue',
      ],
    ],
    [
      'a glob with capitals',
      rule(
        '',
        'name: wifi\n    title: { zh: 无线, en: Wireless }\n    match: { type: NET.* }\n    severity: high',
      ),
      [
        'key match.type',
        'found "NET.*"',
        'expected an event type such as net.wireless.present, or a glob such as net.*',
      ],
    ],
    [
      'a broken regex',
      rule(
        '',
        "name: wifi\n    title: { zh: 无线, en: Wireless }\n    match: { type: net.wireless.connected, data: { ssid: { regex: '(' } } }\n    severity: high",
      ),
      ['key match.data.ssid.regex', 'found "(" (string)', 'expected a valid regular expression'],
    ],
    [
      'a data condition of the wrong shape',
      rule(
        '',
        'name: wifi\n    title: { zh: 无线, en: Wireless }\n    match: { type: net.wireless.connected, data: { ssid: { like: x } } }\n    severity: high',
      ),
      ['key match.data.ssid', 'found a mapping', 'expected a value to equal'],
    ],
    [
      'an unknown severity',
      rule(
        '',
        'name: wifi\n    title: { zh: 无线, en: Wireless }\n    match: { type: net.wireless.present }\n    severity: severe',
      ),
      [
        'key severity',
        'found "severe" (string)',
        'expected one of info, low, medium, high, critical, from-event',
      ],
    ],
    [
      'a bad base severity',
      rule(
        '',
        'name: wifi\n    title: { zh: 无线, en: Wireless }\n    match: { type: net.wireless.present }\n    severity: { base: huge }',
      ),
      ['key severity: found a mapping', 'or {base: <severity>} to adjust by host level'],
    ],
    [
      'a bad duration',
      rule('threshold: { count: 3, within: soon }'),
      ['key threshold.within', 'found "soon"', 'expected a duration such as 500ms'],
    ],
    [
      'a threshold of one',
      rule('threshold: { count: 1, within: 1h }'),
      ['key threshold.count', 'found 1 (number)', 'expected a whole number from 2 to 100000'],
    ],
    [
      'threshold and correlate together',
      rule('threshold: { count: 3, within: 1h }\n    correlate: { hosts: 3, within: 1h }'),
      ['key correlate', 'expected either threshold or correlate, not both'],
    ],
    [
      'group_by in a correlate rule',
      rule('group_by: [agent]\n    correlate: { hosts: 3, within: 1h }'),
      ['key group_by', 'expected no group_by in a correlate rule'],
    ],
    [
      'correlating by agent',
      rule('correlate: { hosts: 3, within: 1h, by: [agent] }'),
      ['key correlate.by.0', 'found "agent"', 'not agent'],
    ],
    [
      'an unknown group field',
      rule('group_by: [host]'),
      ['key group_by.0', 'found "host" (string)', 'expected agent, key, type, unit or data.<field>'],
    ],
    ['a misspelt key', rule('group-by: [agent]'), ['key (the rule itself)', 'unknown key(s) group-by']],
    [
      'a missing title',
      rule('', 'name: wifi\n    match: { type: net.wireless.present }\n    severity: high'),
      ['rule 1 ("wifi")', 'key title: found nothing', 'expected a mapping {zh: 中文标题, en: English title}'],
    ],
    [
      'a bad name',
      rule(
        '',
        'name: Wireless Present\n    title: { zh: 无线, en: Wireless }\n    match: { type: net.wireless.present }\n    severity: high',
      ),
      ['key name', 'found "Wireless Present"', 'expected a name of lowercase letters, digits and dashes'],
    ],
  ];

  it.each(cases)('%s', (_what, text, expected) => {
    const path = file(text);
    const message = errorOf(path);
    expect(message.startsWith(path)).toBe(true);
    for (const part of expected) expect(message).toContain(part);
  });

  it('names a duplicate by both rule numbers', () => {
    const one =
      'name: wifi\n    title: { zh: 无线, en: Wireless }\n    match: { type: net.wireless.present }\n    severity: high';
    const message = errorOf(file(`rules:\n  - ${one}\n  - ${one}\n`));
    expect(message).toContain('rule 2 ("wifi"): key name');
    expect(message).toContain('expected a name not used before (rule 1 has it)');
  });

  it('reports every mistake at once, with the line of each', () => {
    const text = [
      'rules:',
      '  - name: ok',
      '    title: { zh: 好, en: Fine }',
      '    match: { type: net.bluetooth.present }',
      '    severity: high',
      '  - name: bad',
      '    title: { zh: 坏, en: Bad }',
      '    match: { type: net.nothing }',
      '    severity: loud',
      '',
    ].join('\n');
    const lines = errorOf(file(text)).split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('line 8: rule 2 ("bad"): key match.type');
    expect(lines[1]).toContain('line 9: rule 2 ("bad"): key severity');
  });

  it('says when the file is missing', () => {
    expect(errorOf(join(dir, 'absent.yaml'))).toMatch(/absent\.yaml does not exist/);
  });

  it('compiles a good file: globs, regexes, defaults', () => {
    const rules = loadRules(
      file(
        "rules:\n  - name: any-net\n    title: { zh: 网络, en: Network }\n    match: { type: [net.*, usb.storage.attached], data: { ssid: { regex: '^corp-' } } }\n    severity: from-event\n",
      ),
    );
    expect(rules[0]!.groupBy).toEqual(['agent', 'key']);
    expect(rules[0]!.match.state).toBe('raised');
    expect(rules[0]!.match.types.map(String)).toEqual(['/^net\\..*$/', '/^usb\\.storage\\.attached$/']);
  });
});
