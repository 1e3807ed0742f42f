/**
 * The WarningStore contract on SQLite and PostgreSQL, driven through the warnings stage's
 * read-evaluate-write (runRules, sweepRuleState, updateWarning). Decisions come from the real
 * pure rules and lifecycle, so these tests pin what the store must keep: rule state between
 * calls, folded counts, evidence, the audit trail, outbox rows.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { evaluate, expireWindows, rowsNeeded } from '../../collector/rules/evaluate.js';
import { parseRules } from '../../collector/rules/load.js';
import type { RuleEvent } from '../../collector/rules/match.js';
import type { Store } from '../../collector/store/store.js';
import { conditionSeq } from '../../collector/store/warnings/records.js';
import type { NotifyRoute } from '../../collector/notify/occasion.js';
import { requestIncident, transition } from '../../collector/warnings/lifecycle.js';
import { acknowledgeNotice, issueNotice, reportNoticeResult } from '../../collector/warnings/notices.js';
import { approveSilence, createSilence } from '../../collector/warnings/silences.js';
import type { Actor } from '../../collector/warnings/warning.js';
import { runRules, runRulesBatch, sweepRuleState } from '../../collector/warnings/rules-batch.js';
import { updateWarning } from '../../collector/warnings/update-warning.js';
import { describeEachDialect, type DialectFixture } from './dialects.js';

const T0 = Date.parse('2026-11-26T00:00:00.000Z');
const MIN = 60_000;
const at = (minutes: number) => new Date(T0 + minutes * MIN).toISOString();

const RULES = parseRules(
  `rules:
  - name: wireless
    title: { zh: 无线网卡, en: Wireless adapter }
    match: { type: net.wireless.present }
    severity: { base: high }
  - name: restarts
    title: { zh: 频繁重启, en: Restarts }
    match: { type: agent.started }
    severity: medium
    group_by: [agent, type]
    threshold: { count: 3, within: 1h }
  - name: wireless-many
    title: { zh: 多台无线, en: Wireless on many hosts }
    match: { type: net.wireless.present }
    severity: high
    correlate: { hosts: 3, within: 1h, by: [unit] }
  - name: offline
    title: { zh: 终端离线, en: Agent offline }
    match: { type: agent.offline }
    severity: medium
`,
  'contract.yaml',
);

/** Every channel hears of every occasion (routing itself is collector/notify/occasion.ts's, tested apart). */
const allTo =
  (channels: readonly string[]): NotifyRoute =>
  () =>
    channels;

const officer: Actor = { name: 'alice', role: 'secadmin', unit: 'u1' };
const other: Actor = { name: 'bob', role: 'secadmin', unit: 'u1' };

describeEachDialect('WarningStore contract', (makeFixture) => {
  let fixture: DialectFixture;
  let store: Store;
  let seq = 0;

  beforeEach(async () => {
    fixture = await makeFixture();
    store = await fixture.open();
    seq = 0;
  });
  afterEach(async () => {
    await store.close();
    await fixture.dispose();
  });

  function ev(
    spec: {
      agent?: string;
      type?: string;
      state?: 'raised' | 'cleared';
      at?: number;
      unit?: string;
      key?: string;
    } = {},
  ) {
    const type = spec.type ?? 'net.wireless.present';
    seq += 1;
    const event: RuleEvent = {
      eventId: seq,
      envelope: {
        agent: spec.agent ?? 'ag-a',
        seq,
        ts: at(spec.at ?? 0),
        type,
        state: spec.state ?? 'raised',
        key: spec.key ?? `${type}:wlan0`,
        severity: 'high',
        data: { iface: 'wlan0' },
      },
      unit: spec.unit ?? 'u1',
    };
    return event;
  }

  async function feed(event: RuleEvent, channels: string[] = ['hook']) {
    return runRules(
      store.warnings,
      { kind: 'event', eventId: event.eventId!, needed: rowsNeeded(event, RULES) },
      (state) => evaluate(state, event, RULES, new Date(Date.parse(event.envelope.ts) + 1000)),
      { now: new Date(Date.parse(event.envelope.ts) + 1000).toISOString(), notify: allTo(channels) },
    );
  }

  it('opens a warning, folds repeats into its count and keeps every event as evidence', async () => {
    const first = await feed(ev());
    expect(first?.opened).toHaveLength(1);
    const id = first!.opened[0]!;
    for (let i = 1; i <= 4; i++) expect((await feed(ev({ at: i })))?.updated).toContain(id);
    const warnings = await store.warnings.listWarnings({ limit: 10, units: ['u1'] });
    expect(warnings.map((w) => [w.rule, w.count])).toEqual([['wireless', 5]]);
    expect(warnings[0]!.lastSeen).toBe(at(4));
    const evidence = await store.warnings.listEvidence(id, 100);
    expect(evidence.map((e) => e.eventId)).toEqual([1, 2, 3, 4, 5]);
    // One outbox row per channel and warning, however often it repeats.
    expect(
      (await store.warnings.listNotifications({ warningId: id, limit: 10 })).map((n) => n.channel),
    ).toEqual(['hook']);
  });

  it('evaluates an event once: the cursor refuses a replay', async () => {
    const event = ev();
    expect(await feed(event)).toBeDefined();
    expect(await feed(event)).toBeUndefined();
    const [warning] = await store.warnings.listWarnings({ limit: 10 });
    expect(warning!.count).toBe(1);
  });

  it('a cleared event resolves the warning without deleting it; raising again reopens the condition', async () => {
    const id = (await feed(ev()))!.opened[0]!;
    await feed(ev({ state: 'cleared', at: 1 }));
    let warning = await store.warnings.getWarning(id);
    expect(warning).toMatchObject({ state: 'discovered', resolvedAt: at(1), count: 1 });
    expect((await store.warnings.listEvidence(id, 10)).map((e) => e.state)).toEqual(['raised', 'cleared']);
    await feed(ev({ at: 2 }));
    warning = await store.warnings.getWarning(id);
    expect(warning).toMatchObject({ resolvedAt: null, count: 2 });
    // Raised again after it had resolved: one more notification, with its own occasion; a repeat
    // while still raised is folded in silently.
    await feed(ev({ at: 3 }));
    expect(
      (await store.warnings.listNotifications({ warningId: id, limit: 10 })).map((n) => n.occasion),
    ).toEqual(['opened', `reraised:${at(2)}`]);
  });

  it('keeps threshold windows between calls', async () => {
    const started = (agent: string, minute: number) => ev({ agent, type: 'agent.started', at: minute });
    expect((await feed(started('ag-a', 0)))!.opened).toEqual([]);
    expect((await feed(started('ag-a', 10)))!.opened).toEqual([]);
    const third = await feed(started('ag-a', 20));
    expect(third!.opened).toHaveLength(1);
    const warning = await store.warnings.getWarning(third!.opened[0]!);
    expect(warning).toMatchObject({ origin: 'threshold', count: 3, rule: 'restarts' });
    expect(await store.warnings.listEvidence(warning!.id, 10)).toHaveLength(3);
  });

  it('sweeps expired windows away; a window still counting stays', async () => {
    const started = (agent: string, minute: number) => ev({ agent, type: 'agent.started', at: minute });
    await feed(started('ag-a', 0));
    await feed(started('ag-b', 50));
    // At 0:70 ag-a's start is outside the hour, ag-b's is not: ag-a's window and condition pair go.
    expect(
      await sweepRuleState(store.warnings, (state) => expireWindows(state, RULES, new Date(at(70)))),
    ).toBe(2);
    expect(
      await sweepRuleState(store.warnings, (state) => expireWindows(state, RULES, new Date(at(70)))),
    ).toBe(0);
    // ag-b's window survived: two more starts within the hour cross the threshold.
    await feed(started('ag-b', 60));
    expect((await feed(started('ag-b', 65)))!.opened).toHaveLength(1);
    // ag-a's window was dropped: its next start is a first again.
    expect((await feed(started('ag-a', 71)))!.opened).toEqual([]);
  });

  it('correlates hosts of one unit, not of different units', async () => {
    await feed(ev({ agent: 'ag-a' }));
    await feed(ev({ agent: 'ag-b', unit: 'u2' }));
    await feed(ev({ agent: 'ag-c', at: 1 }));
    const unitLevel = async () =>
      (await store.warnings.listWarnings({ limit: 50 })).filter((w) => w.rule === 'wireless-many');
    expect(await unitLevel()).toEqual([]);
    await feed(ev({ agent: 'ag-d', at: 2 }));
    const [warning] = await unitLevel();
    expect(warning).toMatchObject({ origin: 'correlation', unit: 'u1', agent: null });
    expect([...warning!.agents].sort()).toEqual(['ag-a', 'ag-c', 'ag-d']);
  });

  it('reads and writes as much rule state for the 60th condition of a unit-level warning as for the 10th', async () => {
    // Every event a new condition on one of four hosts: each opens a host warning and folds into
    // the one unit-level warning. What the store hands the rules and what they write back must
    // not grow with the conditions that warning holds (it once listed them all in its row).
    const now = new Date(at(2));
    const key = (i: number) => `net.wireless.present:wlan${String(i).padStart(3, '0')}`;
    const traffic: number[] = [];
    const run = async (event: RuleEvent) => {
      let bytes = 0;
      const result = await runRules(
        store.warnings,
        { kind: 'event', eventId: event.eventId!, needed: rowsNeeded(event, RULES) },
        (state) => {
          const evaluation = evaluate(state, event, RULES, now);
          bytes = JSON.stringify(state).length + JSON.stringify(evaluation.changes).length;
          return evaluation;
        },
        { now: now.toISOString(), notify: allTo([]) },
      );
      traffic.push(bytes);
      return result;
    };
    for (let i = 0; i < 60; i++) await run(ev({ agent: `ag-${i % 4}`, key: key(i), at: 1 }));
    // Equal but for a count's digits.
    const same = (a: number, b: number) => expect(Math.abs(traffic[a]! - traffic[b]!)).toBeLessThan(8);
    same(59, 10);
    const [unitLevel] = (await store.warnings.listWarnings({ limit: 100 })).filter(
      (w) => w.rule === 'wireless-many',
    );
    expect(unitLevel).toMatchObject({ count: 60, resolvedAt: null });
    // Each host condition it holds resolves it only when it is the last to clear.
    for (let i = 0; i < 60; i++)
      await run(ev({ agent: `ag-${i % 4}`, key: key(i), state: 'cleared', at: 2 }));
    same(118, 70);
    expect((await store.warnings.getWarning(unitLevel!.id))?.resolvedAt).toBe(at(2));
  });

  it('records transitions with who, when and note; a final state frees the rule slot', async () => {
    const id = (await feed(ev()))!.opened[0]!;
    const step = (to: 'identified' | 'handling' | 'closed', minute: number) =>
      updateWarning(
        store.warnings,
        id,
        (w) => transition(w, { to, note: `→ ${to}`, actor: officer }, new Date(at(minute))),
        // Only closing is announced in this test's routing.
        (_w, occasion) => (occasion.kind === 'state' && occasion.to === 'closed' ? ['hook'] : []),
      );
    expect((await step('identified', 1))?.ok).toBe(true);
    // Refused steps write nothing.
    expect(await step('closed', 2)).toMatchObject({ ok: false, reason: 'illegal-transition' });
    expect((await step('handling', 3))?.ok).toBe(true);
    expect((await step('closed', 4))?.ok).toBe(true);
    const warning = await store.warnings.getWarning(id);
    expect(warning!.state).toBe('closed');
    expect(
      (await store.warnings.listNotifications({ warningId: id, limit: 10 })).map((n) => [
        n.occasion,
        n.createdAt,
      ]),
    ).toEqual([
      ['opened', new Date(T0 + 1000).toISOString()],
      ['state:closed', at(4)],
    ]);
    expect(warning!.history.map((h) => [h.from, h.to, h.by.name, h.at, h.note])).toEqual([
      ['discovered', 'identified', 'alice', at(1), '→ identified'],
      ['identified', 'handling', 'alice', at(3), '→ handling'],
      ['handling', 'closed', 'alice', at(4), '→ closed'],
    ]);
    // The next occurrence opens a new warning instead of reviving the closed one.
    const next = await feed(ev({ at: 5 }));
    expect(next!.opened).toHaveLength(1);
    expect(next!.opened[0]).not.toBe(id);
    expect(
      await updateWarning(store.warnings, 'w-nope', (w) =>
        transition(w, { to: 'identified', actor: officer }, new Date()),
      ),
    ).toBeUndefined();
  });

  it('records the incident a warning opened in its audit trail', async () => {
    const id = (await feed(ev()))!.opened[0]!;
    const opened = await updateWarning(store.warnings, id, (w) =>
      requestIncident(w, { actor: officer, note: '疑似泄密', incidentId: 'inc-1' }, new Date(at(1))),
    );
    expect(opened?.ok).toBe(true);
    const warning = await store.warnings.getWarning(id);
    expect(warning!.state).toBe('discovered');
    expect(warning!.history).toMatchObject([
      { action: 'open-incident', incidentId: 'inc-1', note: '疑似泄密', at: at(1) },
    ]);
    expect(
      await updateWarning(store.warnings, id, (w) =>
        requestIncident(w, { actor: officer, incidentId: 'inc-2' }, new Date(at(2))),
      ),
    ).toMatchObject({ ok: false, reason: 'incident-exists' });
  });

  it('feeds collector conditions through the same rules, with the condition as evidence', async () => {
    const condition = {
      type: 'agent.offline',
      state: 'raised' as const,
      key: 'agent.offline:ag-a',
      unit: 'u1',
      agent: 'ag-a',
      severity: 'medium' as const,
      data: { lastSeen: at(0) },
      at: at(5),
    };
    const event: RuleEvent = {
      envelope: {
        agent: 'ag-a',
        seq: 0,
        ts: condition.at,
        type: condition.type,
        state: 'raised',
        key: condition.key,
        severity: 'medium',
        data: condition.data,
      },
      unit: 'u1',
    };
    const result = await runRules(
      store.warnings,
      { kind: 'condition', condition, needed: rowsNeeded(event, RULES) },
      (state, conditionId) =>
        evaluate(
          state,
          { ...event, envelope: { ...event.envelope, seq: conditionSeq(conditionId!) } },
          RULES,
          new Date(at(6)),
        ),
      { now: at(6), notify: allTo([]) },
    );
    expect(result!.opened).toHaveLength(1);
    const [evidence] = await store.warnings.listEvidence(result!.opened[0]!, 10);
    expect(evidence!.condition).toMatchObject({
      type: 'agent.offline',
      key: 'agent.offline:ag-a',
      data: { lastSeen: at(0) },
    });
    expect(evidence!.eventId).toBeUndefined();
  });

  it('filters warnings by state, severity and unit', async () => {
    await feed(ev({ agent: 'ag-a' }));
    await feed(ev({ agent: 'ag-b', unit: 'u2' }));
    expect(await store.warnings.listWarnings({ limit: 10, units: ['u2'] })).toHaveLength(1);
    expect(await store.warnings.listWarnings({ limit: 10, units: [] })).toHaveLength(0);
    expect(await store.warnings.listWarnings({ limit: 10, states: ['closed'] })).toHaveLength(0);
    expect(await store.warnings.listWarnings({ limit: 10, severities: ['high'] })).toHaveLength(2);
    expect(await store.warnings.listWarnings({ limit: 1, offset: 1 })).toHaveLength(1);
  });

  it('keeps silences, their approval and early expiry', async () => {
    const created = createSilence(
      {
        id: 's-1',
        matcher: { rule: 'wireless' },
        startsAt: at(0),
        endsAt: at(60),
        author: officer,
        reason: '检修',
      },
      new Date(at(0)),
    );
    if (!created.ok) throw new Error(created.message);
    await store.warnings.addSilence(created.silence);
    expect((await store.warnings.listSilences({ activeAt: at(30), limit: 10 })).map((s) => s.id)).toEqual([
      's-1',
    ]);
    expect(
      await store.warnings.updateSilence('s-1', (s) => approveSilence(s, officer, new Date(at(1)))),
    ).toMatchObject({
      ok: false,
      reason: 'same-person',
    });
    await store.warnings.updateSilence('s-1', (s) => approveSilence(s, other, new Date(at(1))));
    expect((await store.warnings.getSilence('s-1'))!.approvedBy).toMatchObject({ name: 'bob', at: at(1) });
    expect(await store.warnings.expireSilence('s-1', other, at(2))).toBe(true);
    expect(await store.warnings.expireSilence('s-1', other, at(3))).toBe(false);
    expect(await store.warnings.listSilences({ activeAt: at(30), limit: 10 })).toEqual([]);
    expect((await store.warnings.getSilence('s-1'))!.expiredBy).toMatchObject({ name: 'bob', at: at(2) });
  });

  it('keeps notices with each recipient’s acknowledgement and 排查 result', async () => {
    const issued = issueNotice(
      {
        id: 'n-1',
        title: '无线排查',
        text: '发现无线网卡',
        requiredAction: '全面排查',
        deadline: at(600),
        units: ['u1', 'u2'],
        issuedBy: { ...officer, unit: null },
      },
      new Date(at(0)),
    );
    if (!issued.ok) throw new Error(issued.message);
    await store.warnings.addNotice(issued.notice);
    await store.warnings.updateNotice('n-1', (n) => acknowledgeNotice(n, 'u1', officer, new Date(at(1))));
    await store.warnings.updateNotice('n-1', (n) =>
      reportNoticeResult(n, 'u1', officer, '已排查，无异常', new Date(at(2))),
    );
    const notice = await store.warnings.getNotice('n-1');
    expect(notice!.recipients).toMatchObject([
      { unit: 'u1', acknowledgedAt: at(1), result: '已排查，无异常', resultAt: at(2) },
      { unit: 'u2', acknowledgedAt: null, result: null },
    ]);
    expect((await store.warnings.listNotices({ units: ['u2'], limit: 10 })).map((n) => n.id)).toEqual([
      'n-1',
    ]);
    expect(await store.warnings.listNotices({ units: ['u3'], limit: 10 })).toEqual([]);
  });

  it('keeps the notification outbox: retry later, then sent or muted, never due twice', async () => {
    const id = (await feed(ev(), ['hook', 'mail']))!.opened[0]!;
    const due = await store.warnings.dueNotifications(at(1), 10);
    expect(due.map((n) => n.channel)).toEqual(['hook', 'mail']);
    await store.warnings.finishNotification(due[0]!.id, {
      state: 'retry',
      error: 'refused',
      nextAttemptAt: at(5),
      at: at(1),
    });
    await store.warnings.finishNotification(due[1]!.id, { state: 'muted', silenceId: 's-1', at: at(1) });
    expect(await store.warnings.dueNotifications(at(2), 10)).toEqual([]);
    expect(await store.warnings.nextNotificationDue()).toBe(at(5));
    const retry = await store.warnings.dueNotifications(at(5), 10);
    expect(retry).toMatchObject([{ channel: 'hook', attempts: 1, lastError: 'refused' }]);
    await store.warnings.finishNotification(retry[0]!.id, { state: 'sent', at: at(5) });
    const all = await store.warnings.listNotifications({ warningId: id, limit: 10 });
    expect(all.map((n) => [n.channel, n.state])).toEqual([
      ['hook', 'sent'],
      ['mail', 'muted'],
    ]);
    expect(await store.warnings.nextNotificationDue()).toBeUndefined();
  });

  it('hands out due notifications oldest first; a row given up is failed, with its error, and never due again', async () => {
    const older = (await feed(ev({ agent: 'ag-a' })))!.opened[0]!;
    const newer = (await feed(ev({ agent: 'ag-b', at: 3 })))!.opened[0]!;
    const [first] = await store.warnings.dueNotifications(at(10), 1);
    expect(first).toMatchObject({ warningId: older, occasion: 'opened', state: 'pending', attempts: 0 });
    await store.warnings.finishNotification(first!.id, {
      state: 'retry',
      error: 'x'.repeat(5000),
      nextAttemptAt: null,
      at: at(10),
    });
    const [failed] = await store.warnings.listNotifications({ warningId: older, limit: 10 });
    expect(failed).toMatchObject({ state: 'failed', attempts: 1, doneAt: at(10) });
    // Errors are kept bounded: a hostile receiver cannot fill the store through them.
    expect(failed!.lastError).toHaveLength(1000);
    expect((await store.warnings.dueNotifications(at(100), 10)).map((n) => n.warningId)).toEqual([newer]);
  });

  it('lists warnings most recently seen first', async () => {
    await feed(ev({ agent: 'ag-a' }));
    await feed(ev({ agent: 'ag-b', at: 5 }));
    await feed(ev({ agent: 'ag-a', at: 10 }));
    const listed = await store.warnings.listWarnings({ limit: 10, units: ['u1'] });
    expect(listed.filter((w) => w.rule === 'wireless').map((w) => [w.agent, w.lastSeen])).toEqual([
      ['ag-a', at(10)],
      ['ag-b', at(5)],
    ]);
  });

  it('decides a batch as it would the same events one by one: windows, correlations, folds, clears', async () => {
    const events = [
      ev({ agent: 'ag-a', type: 'agent.started', at: 0 }),
      ev({ agent: 'ag-a' }),
      ev({ agent: 'ag-a', type: 'agent.started', at: 10 }),
      ev({ agent: 'ag-b', at: 1 }),
      ev({ agent: 'ag-a', at: 2 }),
      ev({ agent: 'ag-a', type: 'agent.started', at: 20 }),
      ev({ agent: 'ag-c', at: 3 }),
      ev({ agent: 'ag-b', state: 'cleared', at: 4 }),
    ];
    const now = new Date(at(30));
    const results = await runRulesBatch(
      store.warnings,
      events.map((event) => ({
        input: { kind: 'event' as const, eventId: event.eventId!, needed: rowsNeeded(event, RULES) },
        evaluate: (state: Parameters<typeof evaluate>[0]) => evaluate(state, event, RULES, now),
      })),
      { now: at(30), notify: allTo(['hook']) },
    );
    expect(results.map((r) => r!.opened.length)).toEqual([0, 1, 0, 1, 0, 1, 2, 0]);
    const warnings = await store.warnings.listWarnings({ limit: 20 });
    const summary = warnings.map((w) => [w.rule, w.agent, w.count, w.resolvedAt]);
    summary.sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));
    expect(summary).toEqual([
      ['restarts', 'ag-a', 3, null],
      ['wireless', 'ag-a', 2, null],
      ['wireless', 'ag-b', 1, at(4)],
      ['wireless', 'ag-c', 1, null],
      ['wireless-many', null, 3, null],
    ]);
    const restarts = warnings.find((w) => w.rule === 'restarts')!;
    expect((await store.warnings.listEvidence(restarts.id, 10)).map((e) => e.seq)).toEqual([1, 3, 6]);
    expect(await store.warnings.listNotifications({ limit: 20 })).toHaveLength(5);
    // The batch left the rows a next event needs: a fourth start folds into the open warning.
    expect((await feed(ev({ agent: 'ag-a', type: 'agent.started', at: 25 })))!.updated).toEqual([
      restarts.id,
    ]);
  });

  it('hands the rules stage stored events past its cursor, oldest first, with the agent’s unit', async () => {
    await store.createEnrollmentToken({
      tokenHash: 'tok',
      unit: 'u1',
      createdAt: at(0),
      expiresAt: at(60),
    });
    const enrolled = await store.enrollAgent({
      tokenHash: 'tok',
      agentId: 'ag-a',
      alg: 'ed25519',
      publicKey: 'KEY-A',
      hostname: 'ws-a',
      version: '1',
      brokerSecretHash: 'secret',
      now: at(0),
    });
    expect(enrolled.ok).toBe(true);
    const envelopes = [1, 2, 3].map((minute) => ev({ at: minute }).envelope);
    const stored = await store.insertEvents(
      envelopes.map((e) => ({
        agentId: e.agent,
        seq: e.seq,
        ts: e.ts,
        receivedAt: e.ts,
        type: e.type,
        state: e.state,
        key: e.key,
        severity: e.severity,
        data: e.data,
        envelope: JSON.stringify(e),
        skewed: false,
      })),
    );
    const ids = stored.map((r) => (r.outcome === 'inserted' ? r.id : -1));
    const pending = await store.warnings.eventsAfterRulesCursor(10);
    expect(pending.map((p) => [p.id, p.unit, (JSON.parse(p.envelope) as { seq: number }).seq])).toEqual([
      [ids[0], 'u1', 1],
      [ids[1], 'u1', 2],
      [ids[2], 'u1', 3],
    ]);
    const step = (row: (typeof pending)[number]) => {
      const event: RuleEvent = {
        eventId: row.id,
        envelope: JSON.parse(row.envelope) as RuleEvent['envelope'],
        unit: row.unit,
      };
      return {
        input: { kind: 'event' as const, eventId: row.id, needed: rowsNeeded(event, RULES) },
        evaluate: (state: Parameters<typeof evaluate>[0]) => evaluate(state, event, RULES, new Date(at(4))),
      };
    };
    // One batch: the second step folds into the warning the first opened (it sees its writes);
    // the same event twice in a batch is evaluated once.
    const results = await runRulesBatch(
      store.warnings,
      [step(pending[0]!), step(pending[1]!), step(pending[1]!)],
      {
        now: at(4),
        notify: allTo([]),
      },
    );
    expect(results[0]!.opened).toHaveLength(1);
    expect(results[1]!.updated).toEqual(results[0]!.opened);
    expect(results[2]).toBeUndefined();
    expect((await store.warnings.eventsAfterRulesCursor(10)).map((p) => p.id)).toEqual([ids[2]]);
    // Evidence of a stored event carries the envelope exactly as received.
    const evidence = await store.warnings.listEvidence(results[0]!.opened[0]!, 10);
    expect(evidence.map((e) => [e.eventId, e.envelope])).toEqual([
      [ids[0], pending[0]!.envelope],
      [ids[1], pending[1]!.envelope],
    ]);
  });
});
