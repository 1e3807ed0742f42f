import { describe, expect, it } from 'vitest';
import { allowedTransitions, requestIncident, transition } from '../../collector/warnings/lifecycle.js';
import {
  incidentsOf,
  WARNING_STATES,
  type Actor,
  type Warning,
  type WarningState,
} from '../../collector/warnings/warning.js';

const NOW = new Date('2026-11-26T08:00:00Z');

function sampleWarning(state: WarningState = 'discovered', over: Partial<Warning> = {}): Warning {
  return {
    id: 'w-0123456789abcdef01234567',
    rule: 'wireless-present',
    title: { zh: '涉密计算机存在未经批准的无线网卡', en: 'Unapproved wireless adapter on a classified host' },
    slot: 'wireless-present:["u1","ag-a","net.wireless.present:wlan0"]',
    key: 'ag-a|net.wireless.present:wlan0',
    labels: { agent: 'ag-a', key: 'net.wireless.present:wlan0' },
    origin: 'event',
    state,
    severity: 'critical',
    count: 1,
    firstSeen: '2026-11-26T06:30:00.000Z',
    lastSeen: '2026-11-26T06:30:00.000Z',
    createdAt: '2026-11-26T06:30:01.000Z',
    unit: 'u1',
    agent: 'ag-a',
    agents: ['ag-a'],
    level: '绝密',
    type: 'net.wireless.present',
    sample: { type: 'net.wireless.present', key: 'net.wireless.present:wlan0', data: { iface: 'wlan0' } },
    resolvedAt: null,
    history: [],
    ...over,
  };
}

const actor = (role: string, unit: string | null = 'u1', name = `${role}-1`): Actor => ({ name, role, unit });

/** The law's order, written out here rather than read from the code under test. */
const LEGAL = new Set([
  'discovered>identified',
  'identified>handling',
  'handling>closed',
  'discovered>false-positive',
  'identified>false-positive',
  'handling>false-positive',
]);

describe('permission and transition matrix: every role × every from × every to', () => {
  const roles = ['sysadmin', 'secadmin', 'auditor', 'viewer'];
  const cases = roles.flatMap((role) =>
    WARNING_STATES.flatMap((from) => WARNING_STATES.map((to) => [role, from, to] as const)),
  );
  it.each(cases)('%s: %s → %s', (role, from, to) => {
    const result = transition(sampleWarning(from), { to, note: '已核查', actor: actor(role) }, NOW);
    const expected =
      role !== 'secadmin'
        ? 'role'
        : from === 'closed' || from === 'false-positive'
          ? 'terminal'
          : LEGAL.has(`${from}>${to}`)
            ? 'ok'
            : 'illegal-transition';
    expect(result.ok ? 'ok' : result.reason).toBe(expected);
    if (result.ok) {
      expect(result.warning.state).toBe(to);
      expect(result.record).toEqual({
        action: 'transition',
        from,
        to,
        by: actor(role),
        at: NOW.toISOString(),
        note: '已核查',
      });
      expect(result.warning.history).toEqual([result.record]);
      expect(result.release).toBe(to === 'closed' || to === 'false-positive');
    } else {
      expect(result.message).not.toBe('');
      expect(result.messageZh).not.toBe('');
    }
  });
});

describe('false positive', () => {
  it.each([undefined, '', '   \n'])('needs a reason (note %j refused)', (note) => {
    const result = transition(
      sampleWarning('identified'),
      { to: 'false-positive', note, actor: actor('secadmin') },
      NOW,
    );
    expect(result).toMatchObject({ ok: false, reason: 'note-required' });
  });

  it('records the reason', () => {
    const result = transition(
      sampleWarning('discovered'),
      { to: 'false-positive', note: ' 测试用无线网卡，已备案 ', actor: actor('secadmin') },
      NOW,
    );
    expect(result.ok && result.record.note).toBe('测试用无线网卡，已备案');
  });

  it('other steps take an optional note', () => {
    expect(
      transition(sampleWarning('discovered'), { to: 'identified', actor: actor('secadmin') }, NOW).ok,
    ).toBe(true);
  });
});

describe('scope and limits', () => {
  it('an officer of another unit may not act; the unit hierarchy can allow it', () => {
    const other = actor('secadmin', 'u2');
    expect(transition(sampleWarning(), { to: 'identified', actor: other }, NOW)).toMatchObject({
      reason: 'scope',
    });
    const parentOfU1 = (mine: string, theirs: string) =>
      mine === theirs || (mine === 'u2' && theirs === 'u1');
    expect(
      transition(sampleWarning(), { to: 'identified', actor: other }, NOW, { inScope: parentOfU1 }).ok,
    ).toBe(true);
    expect(transition(sampleWarning(), { to: 'identified', actor: actor('secadmin', null) }, NOW).ok).toBe(
      true,
    );
  });

  it('refuses a note too long to be a note', () => {
    const result = transition(
      sampleWarning(),
      { to: 'identified', note: 'x'.repeat(4001), actor: actor('secadmin') },
      NOW,
    );
    expect(result).toMatchObject({ reason: 'note-too-long' });
  });

  it('keeps the history of every step, in order', () => {
    let warning = sampleWarning();
    for (const to of ['identified', 'handling', 'closed'] as const) {
      const result = transition(warning, { to, note: to, actor: actor('secadmin') }, NOW);
      if (!result.ok) throw new Error(result.message);
      warning = result.warning;
    }
    expect(warning.history.map((r) => `${r.from}>${r.to}`)).toEqual([
      'discovered>identified',
      'identified>handling',
      'handling>closed',
    ]);
  });

  it('lists the steps an actor may take', () => {
    expect(allowedTransitions(sampleWarning('identified'), actor('secadmin'))).toEqual([
      'handling',
      'false-positive',
    ]);
    expect(allowedTransitions(sampleWarning('identified'), actor('viewer'))).toEqual([]);
    expect(allowedTransitions(sampleWarning('closed'), actor('secadmin'))).toEqual([]);
  });
});

describe('opening a 第61条 incident', () => {
  it('returns the request, discovered at the first evidence, and records the step', () => {
    const result = requestIncident(
      sampleWarning('handling'),
      { actor: actor('secadmin'), note: '疑似泄密' },
      NOW,
    );
    if (!result.ok) throw new Error(result.message);
    expect(result.effect).toMatchObject({
      kind: 'open-incident',
      warningId: 'w-0123456789abcdef01234567',
      level: '绝密',
      discoveredAt: '2026-11-26T06:30:00.000Z',
      unit: 'u1',
      requestedAt: NOW.toISOString(),
    });
    expect(result.effect.title).toContain('涉密计算机存在未经批准的无线网卡');
    expect(result.warning.state).toBe('handling');
    expect(result.warning.history).toEqual([
      {
        action: 'open-incident',
        from: 'handling',
        to: 'handling',
        by: actor('secadmin'),
        at: NOW.toISOString(),
        note: '疑似泄密',
      },
    ]);
  });

  it('is refused for a viewer and for a false positive, allowed after closing', () => {
    expect(requestIncident(sampleWarning(), { actor: actor('viewer') }, NOW)).toMatchObject({
      reason: 'role',
    });
    expect(requestIncident(sampleWarning('false-positive'), { actor: actor('secadmin') }, NOW)).toMatchObject(
      {
        reason: 'illegal-transition',
      },
    );
    expect(requestIncident(sampleWarning('closed'), { actor: actor('secadmin') }, NOW).ok).toBe(true);
  });

  it('records the incident it opened, and opens no second one', () => {
    const first = requestIncident(sampleWarning(), { actor: actor('secadmin'), incidentId: 'inc-1' }, NOW);
    if (!first.ok) throw new Error(first.message);
    expect(first.record.incidentId).toBe('inc-1');
    expect(incidentsOf(first.warning)).toEqual(['inc-1']);
    expect(requestIncident(first.warning, { actor: actor('secadmin') }, NOW)).toMatchObject({
      ok: false,
      reason: 'incident-exists',
    });
  });
});
