import { describe, expect, it } from 'vitest';
import {
  emptyRuleState,
  evaluate,
  expireWindows,
  releaseWarning,
  rowsNeeded,
  type RowChange,
  type RuleEffect,
  type RuleState,
} from '../../collector/rules/evaluate.js';
import { defaultRulesFile, loadRules, parseRules } from '../../collector/rules/load.js';
import { groupKey, matchesRule, type RuleEvent } from '../../collector/rules/match.js';
import type { Rule } from '../../collector/rules/schema.js';
import { applyRuleEffect } from '../../collector/warnings/apply-effects.js';
import type { Warning } from '../../collector/warnings/warning.js';
import type { Level, Severity } from '../../shared/levels.js';

const T0 = Date.parse('2026-11-26T00:00:00Z');
const MIN = 60_000;

interface EventSpec {
  agent?: string;
  type?: string;
  state?: 'raised' | 'cleared';
  key?: string;
  severity?: Severity;
  data?: Record<string, unknown>;
  unit?: string;
  level?: Level;
  /** Minutes after T0. */
  at?: number;
}

let seq = 0;
function ev(spec: EventSpec = {}): RuleEvent {
  const type = spec.type ?? 'net.wireless.present';
  return {
    eventId: ++seq,
    envelope: {
      agent: spec.agent ?? 'ag-a',
      seq,
      ts: new Date(T0 + (spec.at ?? 0) * MIN).toISOString(),
      type,
      state: spec.state ?? 'raised',
      key: spec.key ?? `${type}:wlan0`,
      severity: spec.severity ?? 'high',
      data: spec.data ?? { iface: 'wlan0' },
    },
    unit: spec.unit ?? 'u1',
    ...(spec.level && { agentLevel: spec.level }),
  };
}

function rules(yaml: string): Rule[] {
  return parseRules(`rules:\n${yaml}`, 'test.yaml');
}
function oneRule(body: string): Rule[] {
  return rules(`  - name: r\n    title: { zh: 规则, en: Rule }\n${body.replace(/^/gm, '    ')}\n`);
}

/** Feeds events in order, each evaluated at its own time, keeping warnings as a store would. */
function run(events: RuleEvent[], ruleSet: Rule[], state: RuleState = emptyRuleState()) {
  const warnings = new Map<string, Warning>();
  const effects: RuleEffect[] = [];
  for (const event of events) {
    const result = evaluate(state, event, ruleSet, new Date(event.envelope.ts));
    state = result.state;
    for (const effect of result.effects) {
      effects.push(effect);
      const id = effect.kind === 'open' ? effect.warning.id : effect.warningId;
      const next = applyRuleEffect(warnings.get(id), effect);
      if (next) warnings.set(id, next);
    }
  }
  return { state, effects, warnings: [...warnings.values()] };
}

describe('rule matching', () => {
  const cases: [string, string, EventSpec, boolean][] = [
    ['exact type', 'type: net.wireless.present', {}, true],
    ['other type', 'type: net.wireless.present', { type: 'net.bluetooth.present' }, false],
    ['glob net.*', 'type: net.*', { type: 'net.connection.prohibited' }, true],
    ['glob net.* vs usb', 'type: net.*', { type: 'usb.storage.attached' }, false],
    ['glob *.present', "type: '*.present'", { type: 'net.bluetooth.present' }, true],
    ['glob in the middle', "type: 'net.*.present'", { type: 'net.wireless.connected' }, false],
    ['list of types', 'type: [file.marked, net.modem.present]', { type: 'net.modem.present' }, true],
    ['data equality', 'type: net.*\ndata: { iface: wlan0 }', {}, true],
    ['data inequality', 'type: net.*\ndata: { iface: wlan1 }', {}, false],
    [
      'boolean false',
      'type: usb.*\ndata: { registered: false }',
      { type: 'usb.storage.attached', data: { registered: false } },
      true,
    ],
    [
      'boolean is not text',
      "type: usb.*\ndata: { registered: 'false' }",
      { type: 'usb.storage.attached', data: { registered: false } },
      false,
    ],
    [
      'number equality',
      'type: net.*\ndata: { port: 443 }',
      { type: 'net.connection.prohibited', data: { port: 443 } },
      true,
    ],
    ['missing field', 'type: net.*\ndata: { ssid: x }', {}, false],
    [
      'regex match',
      "type: net.*\ndata: { ssid: { regex: '^corp-' } }",
      { data: { ssid: 'corp-guest' } },
      true,
    ],
    ['regex miss', "type: net.*\ndata: { ssid: { regex: '^corp-' } }", { data: { ssid: 'home' } }, false],
    ['regex on a number', "type: net.*\ndata: { port: { regex: '^44' } }", { data: { port: 443 } }, true],
    ['regex on a missing field', "type: net.*\ndata: { ssid: { regex: '.*' } }", {}, false],
    [
      'regex on unicode',
      'type: file.marked\ndata: { marking: { regex: 绝密 } }',
      { type: 'file.marked', data: { marking: '绝密★长期' } },
      true,
    ],
    ['default state skips cleared', 'type: net.*', { state: 'cleared' }, false],
    ['state cleared', 'type: net.*\nstate: cleared', { state: 'cleared' }, true],
    ['state cleared skips raised', 'type: net.*\nstate: cleared', {}, false],
    ['state any', 'type: net.*\nstate: any', { state: 'cleared' }, true],
  ];
  it.each(cases)('%s', (_what, match, spec, expected) => {
    const [rule] = oneRule(`match:\n${match.replace(/^/gm, '  ')}\nseverity: high`);
    expect(matchesRule(rule!, ev(spec))).toBe(expected);
  });
});

describe('group keys', () => {
  it.each([
    ['[agent, key]', {}, 'ag-a|net.wireless.present:wlan0'],
    ['[agent, data.iface]', { data: { iface: 'wlp2s0' } }, 'ag-a|wlp2s0'],
    ['[unit, type]', {}, 'u1|net.wireless.present'],
    ['[agent, data.ssid]', {}, 'ag-a|'],
    ['[data.port]', { data: { port: 443 } }, '443'],
  ] as [string, EventSpec, string][])('%s', (groupBy, spec, key) => {
    const [rule] = oneRule(`match: { type: net.* }\nseverity: high\ngroup_by: ${groupBy}`);
    expect(groupKey(rule!, ev(spec)).key).toBe(key);
  });

  it('keeps units apart and cannot be confused by separators in agent text', () => {
    const [rule] = oneRule('match: { type: net.* }\nseverity: high\ngroup_by: [data.a, data.b]');
    const one = groupKey(rule!, ev({ data: { a: 'x|y', b: 'z' } }));
    const two = groupKey(rule!, ev({ data: { a: 'x', b: 'y|z' } }));
    expect(one.key).toBe(two.key);
    expect(one.slot).not.toBe(two.slot);
    const other = groupKey(rule!, ev({ data: { a: 'x|y', b: 'z' }, unit: 'u2' }));
    expect(other.slot).not.toBe(one.slot);
  });
});

describe('deduplication', () => {
  it('folds 10 000 identical events into one warning with count 10 000, fast', () => {
    const ruleSet = oneRule('match: { type: net.wireless.present }\nseverity: { base: high }');
    const events = Array.from({ length: 10_000 }, (_, i) => ev({ at: i / 60 }));
    const started = performance.now();
    const { warnings, effects, state } = run(events, ruleSet);
    const elapsed = performance.now() - started;
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.count).toBe(10_000);
    expect(warnings[0]!.firstSeen).toBe(events[0]!.envelope.ts);
    expect(warnings[0]!.lastSeen).toBe(events[9_999]!.envelope.ts);
    expect(effects.filter((e) => e.kind === 'open')).toHaveLength(1);
    expect(effects.filter((e) => e.kind === 'bump')).toHaveLength(9_999);
    // Every event is evidence, one ref per effect, for the store to append.
    expect(new Set(effects.map((e) => (e.kind === 'open' ? e.evidence[0]!.seq : e.evidence.seq))).size).toBe(
      10_000,
    );
    expect(Object.keys(state.open)).toHaveLength(1);
    // Linear, not quadratic: ~0.3 s idle; the bound leaves room for a loaded CI box, while folding
    // by rescanning the evidence (10 000² steps) would take minutes.
    expect(elapsed).toBeLessThan(10_000);
  });

  it('gives a warning the same id whenever the same events are evaluated', () => {
    const ruleSet = loadRules(defaultRulesFile());
    const events = [
      ev({ agent: 'ag-x' }),
      ev({ agent: 'ag-y', type: 'agent.tamper', key: 'tamper', data: { what: 'bin' } }),
    ];
    expect(run(events, ruleSet).warnings.map((w) => w.id)).toEqual(
      run(events, ruleSet).warnings.map((w) => w.id),
    );
  });

  it('raises the severity when a later event weighs more, never lowers it', () => {
    const ruleSet = oneRule('match: { type: net.* }\nseverity: from-event');
    const { warnings } = run(
      [ev({ severity: 'medium' }), ev({ severity: 'critical' }), ev({ severity: 'low' })],
      ruleSet,
    );
    expect(warnings[0]!.severity).toBe('critical');
  });
});

describe('severity', () => {
  it.each([
    [{ base: 'high' }, '绝密', 'low', 'critical'],
    [{ base: 'high' }, '机密', 'low', 'high'],
    [{ base: 'high' }, '秘密', 'critical', 'high'],
    [{ base: 'high' }, '非密', 'low', 'medium'],
    // Level unknown: the more severe of the base and the agent's own judgement.
    [{ base: 'high' }, undefined, 'low', 'high'],
    [{ base: 'medium' }, undefined, 'critical', 'critical'],
    ['from-event', '非密', 'critical', 'critical'],
    ['low', '绝密', 'critical', 'low'],
  ] as [unknown, Level | undefined, Severity, Severity][])(
    '%j on %s, agent says %s → %s',
    (severity, level, agentSays, expected) => {
      const ruleSet = oneRule(`match: { type: net.* }\nseverity: ${JSON.stringify(severity)}`);
      const { warnings } = run([ev({ severity: agentSays, ...(level && { level }) })], ruleSet);
      expect(warnings[0]!.severity).toBe(expected);
      expect(warnings[0]!.level).toBe(level ?? null);
    },
  );
});

describe('threshold windows', () => {
  const ruleSet = oneRule(
    'match: { type: net.connection.prohibited }\nseverity: high\ngroup_by: [agent, type]\nthreshold: { count: 3, within: 10m }',
  );
  const conn = (at: number, agent = 'ag-a', port = 443) =>
    ev({
      type: 'net.connection.prohibited',
      key: `conn:${at}`,
      data: { remote: '8.8.8.8', port, proto: 'tcp' },
      at,
      agent,
    });

  it('N − 1 events: no warning', () => {
    const { warnings, state } = run([conn(0), conn(1)], ruleSet);
    expect(warnings).toHaveLength(0);
    expect(Object.values(state.windows)[0]!.hits).toHaveLength(2);
  });

  it('N within the window: one warning with all N as evidence', () => {
    const { warnings, effects, state } = run([conn(0), conn(4), conn(10)], ruleSet);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ count: 3, origin: 'threshold', firstSeen: conn(0).envelope.ts });
    const open = effects.find((e) => e.kind === 'open');
    expect(open?.kind === 'open' && open.evidence.map((r) => r.ts)).toHaveLength(3);
    expect(state.windows).toEqual({});
  });

  it('N spread beyond the window: none', () => {
    expect(run([conn(0), conn(6), conn(12), conn(18)], ruleSet).warnings).toHaveLength(0);
  });

  it('counts each host apart', () => {
    expect(run([conn(0, 'ag-a'), conn(1, 'ag-b'), conn(2, 'ag-c')], ruleSet).warnings).toHaveLength(0);
  });

  it('once open, further events bump it', () => {
    const { warnings } = run([conn(0), conn(1), conn(2), conn(30), conn(90)], ruleSet);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.count).toBe(5);
  });

  it('keeps windows small and lets expireWindows drop the stale ones', () => {
    const { state } = run([conn(0), conn(1)], ruleSet);
    expect(expireWindows(state, ruleSet, new Date(T0 + 5 * MIN)).state.windows).toEqual(state.windows);
    const expired = expireWindows(state, ruleSet, new Date(T0 + 12 * MIN));
    expect(expired.state.windows).toEqual({});
    expect(expired.state.conditions).toEqual({});
    expect(expired.changes.map((c) => c.table).sort()).toEqual(['conditions', 'conditions', 'windows']);
  });
});

describe('correlation across hosts', () => {
  const ruleSet = oneRule(
    'match: { type: net.wireless.* }\nseverity: { base: high }\ncorrelate: { hosts: 3, within: 1h, by: [unit] }',
  );
  const wifi = (agent: string, at: number, unit = 'u1', level?: Level) =>
    ev({ agent, at, unit, ...(level && { level }) });

  it('2 hosts: no warning', () => {
    expect(run([wifi('ag-a', 0), wifi('ag-b', 5)], ruleSet).warnings).toHaveLength(0);
  });

  it('3 hosts within 1h: one unit-level warning', () => {
    const { warnings } = run([wifi('ag-a', 0), wifi('ag-b', 20, 'u1', '绝密'), wifi('ag-c', 59)], ruleSet);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      origin: 'correlation',
      unit: 'u1',
      agent: null,
      agents: ['ag-a', 'ag-b', 'ag-c'],
      count: 3,
      key: 'u1',
      severity: 'critical',
      level: '绝密',
    });
  });

  it('3 hosts spread over more than 1h: none', () => {
    expect(run([wifi('ag-a', 0), wifi('ag-b', 40), wifi('ag-c', 70)], ruleSet).warnings).toHaveLength(0);
  });

  it('one host three times is not three hosts', () => {
    expect(run([wifi('ag-a', 0), wifi('ag-a', 1), wifi('ag-a', 2)], ruleSet).warnings).toHaveLength(0);
  });

  it('hosts of different units are not correlated', () => {
    expect(run([wifi('ag-a', 0), wifi('ag-b', 1), wifi('ag-c', 2, 'u2')], ruleSet).warnings).toHaveLength(0);
  });

  it('a fourth host joins the open warning', () => {
    const { warnings } = run([wifi('ag-a', 0), wifi('ag-b', 1), wifi('ag-c', 2), wifi('ag-d', 3)], ruleSet);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.agents).toEqual(['ag-a', 'ag-b', 'ag-c', 'ag-d']);
  });

  it('with the shipped rules: a warning per host and one for the unit', () => {
    const { warnings } = run(
      [wifi('ag-a', 0), wifi('ag-b', 1), wifi('ag-c', 2)],
      loadRules(defaultRulesFile()),
    );
    expect(warnings.map((w) => w.rule).sort()).toEqual([
      'wireless-many-hosts',
      'wireless-present',
      'wireless-present',
      'wireless-present',
    ]);
  });
});

describe('cleared conditions', () => {
  const ruleSet = oneRule('match: { type: net.* }\nseverity: high');

  it('resolve the warning without deleting or closing it', () => {
    const { warnings, effects, state } = run([ev({ at: 0 }), ev({ at: 5, state: 'cleared' })], ruleSet);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      state: 'discovered',
      count: 1,
      resolvedAt: ev({ at: 5 }).envelope.ts,
    });
    expect(effects.at(-1)).toMatchObject({ kind: 'resolve', remaining: 0 });
    expect(Object.keys(state.open)).toHaveLength(1);
  });

  it('a re-raise after resolution bumps the same warning and un-resolves it', () => {
    const { warnings, effects } = run(
      [ev({ at: 0 }), ev({ at: 5, state: 'cleared' }), ev({ at: 9 })],
      ruleSet,
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ count: 2, resolvedAt: null });
    expect(effects.at(-1)).toMatchObject({ kind: 'bump', reraised: true });
  });

  it('resolve only when every condition of the group has cleared', () => {
    const grouped = oneRule('match: { type: net.* }\nseverity: high\ngroup_by: [agent, type]');
    const events = [ev({ key: 'k1' }), ev({ key: 'k2', at: 1 }), ev({ key: 'k1', at: 2, state: 'cleared' })];
    const partly = run(events, grouped);
    expect(partly.effects.at(-1)).toMatchObject({ kind: 'resolve', remaining: 1, resolvedAt: null });
    expect(partly.warnings[0]!.resolvedAt).toBeNull();
    const fully = run([...events, ev({ key: 'k2', at: 3, state: 'cleared' })], grouped);
    expect(fully.warnings[0]!.resolvedAt).toBe(ev({ at: 3 }).envelope.ts);
  });

  it('a clear of an unknown condition does nothing', () => {
    const { effects } = run([ev(), ev({ key: 'other', state: 'cleared' })], ruleSet);
    expect(effects.map((e) => e.kind)).toEqual(['open']);
  });

  it('a condition cleared while waiting in a window is not held raised by the warning', () => {
    const windowed = oneRule(
      'match: { type: net.* }\nseverity: high\ngroup_by: [agent, type]\nthreshold: { count: 2, within: 10m }',
    );
    const { warnings, state } = run(
      [ev({ key: 'k1' }), ev({ key: 'k1', at: 1, state: 'cleared' }), ev({ key: 'k2', at: 2 })],
      windowed,
    );
    expect(warnings).toHaveLength(1);
    const open = Object.values(state.open)[0]!;
    expect(open.raisedCount).toBe(1);
    expect(Object.keys(state.conditions)).toEqual([JSON.stringify(['ag-a', 'k2'])]);
    const after = run([ev({ key: 'k2', at: 3, state: 'cleared' })], windowed, state);
    expect(after.effects).toMatchObject([{ kind: 'resolve', remaining: 0 }]);
  });
});

describe('release after handling', () => {
  it('a closed warning frees its slot: the next occurrence opens a new warning', () => {
    const ruleSet = oneRule('match: { type: net.* }\nseverity: high');
    const first = run([ev({ at: 0 })], ruleSet);
    const warning = first.warnings[0]!;
    const released = releaseWarning(first.state, warning);
    expect(released.state.open).toEqual({});
    expect(released.state.conditions).toEqual({});
    const second = run([ev({ at: 5 })], ruleSet, released.state);
    expect(second.warnings).toHaveLength(1);
    expect(second.warnings[0]!.id).not.toBe(warning.id);
    // A stale release (the slot now holds the newer warning) changes nothing.
    expect(releaseWarning(second.state, warning).changes).toEqual([]);
  });
});

describe('state as rows', () => {
  const ruleSet = loadRules(defaultRulesFile());
  const stream = (): RuleEvent[] => [
    ev({ agent: 'ag-a', at: 0 }),
    ev({ agent: 'ag-b', at: 1, level: '绝密' }),
    ev({ agent: 'ag-a', at: 2, state: 'cleared' }),
    ev({ agent: 'ag-c', at: 3 }),
    ev({ agent: 'ag-a', type: 'agent.started', key: 'started', data: { version: '1' }, at: 4 }),
    ev({ agent: 'ag-a', type: 'agent.started', key: 'started', data: { version: '1' }, at: 5 }),
    ev({ agent: 'ag-a', type: 'agent.started', key: 'started', data: { version: '1' }, at: 6 }),
    ev({
      agent: 'ag-d',
      type: 'net.connection.prohibited',
      key: 'c1',
      data: { remote: '1.1.1.1', port: 53, proto: 'udp' },
      at: 7,
    }),
    ev({
      agent: 'ag-d',
      type: 'net.connection.prohibited',
      key: 'c2',
      data: { remote: '1.1.1.2', port: 53, proto: 'udp' },
      at: 8,
    }),
    ev({ agent: 'ag-d', type: 'net.connection.prohibited', key: 'c1', state: 'cleared', data: {}, at: 9 }),
  ];

  it('survive a JSON round trip mid-stream (a restart loses nothing)', () => {
    const events = stream();
    const whole = run(events, ruleSet);
    const firstHalf = run(events.slice(0, 5), ruleSet);
    const restored = JSON.parse(JSON.stringify(firstHalf.state)) as RuleState;
    const secondHalf = run(events.slice(5), ruleSet, restored);
    expect([...firstHalf.effects, ...secondHalf.effects]).toEqual(whole.effects);
    expect(secondHalf.state).toEqual(whole.state);
  });

  it('a store that loads only rowsNeeded and writes changes sees the same effects', () => {
    const events = stream();
    const whole = run(events, ruleSet);
    const store = emptyRuleState();
    const effects: RuleEffect[] = [];
    for (const event of events) {
      const need = rowsNeeded(event, ruleSet);
      const snapshot = emptyRuleState();
      const slots = new Set(need.slots);
      const indexed = store.conditions[need.condition];
      if (indexed) {
        snapshot.conditions[need.condition] = indexed;
        if (event.envelope.state === 'cleared') for (const slot of indexed) slots.add(slot);
      }
      for (const slot of slots) {
        if (store.open[slot]) snapshot.open[slot] = store.open[slot];
        if (store.windows[slot]) snapshot.windows[slot] = store.windows[slot];
        if (store.correlations[slot]) snapshot.correlations[slot] = store.correlations[slot];
      }
      const result = evaluate(snapshot, event, ruleSet, new Date(event.envelope.ts));
      effects.push(...result.effects);
      for (const change of result.changes) applyChange(store, change);
    }
    expect(effects).toEqual(whole.effects);
    expect(store).toEqual(whole.state);
  });

  it('never modifies the state it is given', () => {
    const { state } = run(stream().slice(0, 4), ruleSet);
    const frozen = JSON.stringify(state);
    run(stream().slice(4), ruleSet, state);
    expect(JSON.stringify(state)).toBe(frozen);
  });
});

function applyChange(store: RuleState, change: RowChange): void {
  if (change.table === 'slotConditions') {
    for (const [cond, slots] of Object.entries(store.conditions)) {
      const rest = slots.filter((slot) => slot !== change.id);
      if (rest.length > 0) store.conditions[cond] = rest;
      else delete store.conditions[cond];
    }
    return;
  }
  if (change.table === 'conditions') {
    const slots = (store.conditions[change.id] ?? []).filter((slot) => slot !== change.slot);
    if (change.row) slots.push(change.slot);
    if (slots.length > 0) store.conditions[change.id] = slots;
    else delete store.conditions[change.id];
    return;
  }
  const table = store[change.table] as Record<string, unknown>;
  if (change.row === null) delete table[change.id];
  else table[change.id] = change.row;
}
