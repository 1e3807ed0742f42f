import { describe, expect, it } from 'vitest';
import {
  approveSilence,
  createSilence,
  isSilenced,
  requiresSecondApprover,
  silenceMatches,
  silenceStatus,
  type NewSilence,
  type Silence,
  type SilenceMatcher,
} from '../../collector/warnings/silences.js';
import type { Actor, Warning } from '../../collector/warnings/warning.js';
import type { Level, Severity } from '../../shared/levels.js';

const NOW = new Date('2026-11-26T08:00:00Z');
const HOUR = 3_600_000;
const at = (hours: number) => new Date(NOW.getTime() + hours * HOUR);

const alice: Actor = { name: 'alice', role: 'secadmin', unit: 'u1' };
const bob: Actor = { name: 'bob', role: 'secadmin', unit: 'u1' };
const victor: Actor = { name: 'victor', role: 'viewer', unit: 'u1' };

function warning(
  severity: Severity = 'high',
  level: Level | null = '秘密',
  over: Partial<Warning> = {},
): Warning {
  return {
    id: 'w-1',
    rule: 'wireless-present',
    title: { zh: '无线网卡', en: 'Wireless adapter' },
    slot: 's',
    key: 'ag-a|net.wireless.present:wlan0',
    labels: {},
    origin: 'event',
    state: 'discovered',
    severity,
    count: 1,
    firstSeen: NOW.toISOString(),
    lastSeen: NOW.toISOString(),
    createdAt: NOW.toISOString(),
    unit: 'u1',
    agent: 'ag-a',
    agents: ['ag-a'],
    level,
    type: 'net.wireless.present',
    sample: {
      type: 'net.wireless.present',
      key: 'net.wireless.present:wlan0',
      data: { iface: 'wlan0', ssid: 'lab' },
    },
    resolvedAt: null,
    history: [],
    ...over,
  };
}

function input(over: Partial<NewSilence> = {}): NewSilence {
  return {
    id: 'sil-1',
    matcher: { rule: 'wireless-present' },
    startsAt: NOW.toISOString(),
    endsAt: at(4).toISOString(),
    author: alice,
    reason: '测试实验室无线网卡，审批单 2026-17',
    ...over,
  };
}

function made(over: Partial<NewSilence> = {}): Silence {
  const result = createSilence(input(over), NOW);
  if (!result.ok) throw new Error(result.message);
  return result.silence;
}

describe('creating a silence', () => {
  it.each([
    ['a viewer', { author: victor }, 'role'],
    ['no reason', { reason: '  ' }, 'reason-required'],
    ['an empty matcher', { matcher: {} }, 'matcher-empty'],
    ['an empty matcher with empty data', { matcher: { data: {} } }, 'matcher-empty'],
    ['an end before the start', { endsAt: at(-1).toISOString() }, 'window'],
    ['an end in the past', { startsAt: at(-3).toISOString(), endsAt: at(-2).toISOString() }, 'window'],
    ['a bad time', { endsAt: 'tomorrow' }, 'window'],
  ] as [string, Partial<NewSilence>, string][])('refuses %s', (_what, over, reason) => {
    expect(createSilence(input(over), NOW)).toMatchObject({ ok: false, reason });
  });

  it('keeps author, reason, window, and waits for no approver until one is needed', () => {
    const silence = made({ startsAt: '2026-11-26T16:00:00+08:00' });
    expect(silence).toMatchObject({
      author: alice,
      startsAt: NOW.toISOString(),
      approvedBy: null,
      createdAt: NOW.toISOString(),
    });
  });
});

describe('matching', () => {
  const unitWarning = warning('high', '秘密', {
    agent: null,
    agents: ['ag-a', 'ag-b'],
    origin: 'correlation',
  });
  it.each([
    [{ rule: 'wireless-present' }, true],
    [{ rule: 'bluetooth-present' }, false],
    [{ severity: 'high' }, true],
    [{ severity: 'critical' }, false],
    [{ agent: 'ag-a' }, true],
    [{ agent: 'ag-z' }, false],
    [{ unit: 'u1' }, true],
    [{ unit: 'u2' }, false],
    [{ key: 'ag-a|net.wireless.present:wlan0' }, true],
    [{ key: 'ag-a' }, false],
    [{ data: { ssid: 'lab' } }, true],
    [{ data: { ssid: 'lab2' } }, false],
    [{ data: { bssid: 'x' } }, false],
    [{ rule: 'wireless-present', unit: 'u1', data: { iface: 'wlan0' } }, true],
    [{ rule: 'wireless-present', unit: 'u2' }, false],
  ] as [SilenceMatcher, boolean][])('%j → %s', (matcher, expected) => {
    expect(silenceMatches(matcher, warning())).toBe(expected);
  });

  it('matches a unit-level warning by any of its hosts', () => {
    expect(silenceMatches({ agent: 'ag-b' }, unitWarning)).toBe(true);
  });
});

describe('time window', () => {
  it.each([
    [-1, false],
    [0, true],
    [3.99, true],
    [4, false],
  ])('at %s h → %s', (hours, expected) => {
    expect(isSilenced(warning(), [made()], at(hours))).toBe(expected);
  });
});

describe('second approver for critical warnings of 绝密 hosts', () => {
  it.each([
    ['critical', '绝密', true],
    ['critical', null, true],
    ['critical', '机密', false],
    ['high', '绝密', false],
  ] as [Severity, Level | null, boolean][])('%s on %s needs two: %s', (severity, level, expected) => {
    expect(requiresSecondApprover({ severity, level })).toBe(expected);
    expect(isSilenced(warning(severity, level), [made()], NOW)).toBe(!expected);
  });

  it('an unapproved silence waits, and says so', () => {
    const silence = made();
    const status = silenceStatus(warning('critical', '绝密'), [silence], NOW);
    expect(status.mutedBy).toBeUndefined();
    expect(status.awaitingApproval).toEqual([silence]);
  });

  it('the author cannot approve their own silence, nor can a viewer', () => {
    const silence = made();
    expect(approveSilence(silence, { ...alice, unit: 'u9' }, NOW)).toMatchObject({
      ok: false,
      reason: 'same-person',
    });
    expect(approveSilence(silence, victor, NOW)).toMatchObject({ ok: false, reason: 'role' });
  });

  it('a different officer approves it, and then it mutes', () => {
    const approved = approveSilence(made(), bob, at(1));
    if (!approved.ok) throw new Error(approved.message);
    expect(approved.silence.approvedBy).toEqual({ ...bob, at: at(1).toISOString() });
    expect(isSilenced(warning('critical', '绝密'), [approved.silence], at(1))).toBe(true);
    expect(approveSilence(approved.silence, { ...bob, name: 'carol' }, at(2))).toMatchObject({
      reason: 'approved',
    });
  });

  it('a self-approval written into the row by hand does not count', () => {
    const forged: Silence = { ...made(), approvedBy: { ...alice, at: NOW.toISOString() } };
    expect(isSilenced(warning('critical', '绝密'), [forged], NOW)).toBe(false);
  });
});

describe('what a silence does not do', () => {
  it('changes nothing on the warning: it stays listed, in its state, with its clocks', () => {
    const w = warning('critical', '机密');
    const before = structuredClone(w);
    expect(isSilenced(w, [made()], NOW)).toBe(true);
    expect(w).toEqual(before);
  });
});
