/**
 * Keyset pagination as a contract both stores run (test/integration/paging.test.ts): walking a
 * list page by page with `after` = the last row of the previous page returns every row exactly
 * once, in list order, when many rows share a time and ids do not follow time, and under every
 * filter the list routes pass (agent, type, since, units; states, severities, units).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluate, rowsNeeded } from '../../collector/rules/evaluate.js';
import { parseRules } from '../../collector/rules/load.js';
import type { RuleEvent } from '../../collector/rules/match.js';
import type { EventFilter, Store, StoredEvent } from '../../collector/store/store.js';
import type { WarningFilter } from '../../collector/store/warnings/warning-store.js';
import { transition } from '../../collector/warnings/lifecycle.js';
import type { Warning } from '../../collector/warnings/warning.js';
import { runRules } from '../../collector/warnings/rules-batch.js';
import { updateWarning } from '../../collector/warnings/update-warning.js';
import { AGENT, enrollAgentIn, enrollment, event } from '../unit/store-contract.js';

const OTHER = 'ag-cccccccccccccccccccc';
const T0 = Date.parse('2026-11-26T00:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

const RULES = parseRules(
  `rules:
  - name: wireless
    title: { zh: 无线网卡, en: Wireless adapter }
    match: { type: net.wireless.present }
    severity: { base: high }
  - name: usb
    title: { zh: U盘, en: USB storage }
    match: { type: usb.storage.attached }
    severity: medium
`,
  'paging.yaml',
);

/** Every page in turn, as a client following nextCursor would read them. */
async function walk<T>(read: (after: T | undefined) => Promise<T[]>, limit: number): Promise<T[]> {
  const all: T[] = [];
  for (let pages = 0; pages < 1000; pages++) {
    const page = await read(all.at(-1));
    expect(page.length).toBeLessThanOrEqual(limit);
    all.push(...page);
    if (page.length < limit) return all;
  }
  throw new Error('walk did not end');
}

const byTimeThenId =
  <T>(time: (row: T) => string, id: (row: T) => number | string, idDescending: boolean) =>
  (a: T, b: T) => {
    if (time(a) !== time(b)) return time(a) < time(b) ? 1 : -1;
    const [x, y] = [id(a), id(b)];
    if (x === y) return 0;
    return (x < y ? -1 : 1) * (idDescending ? -1 : 1);
  };

/**
 * `count` warnings through the real rules, one per agent (every fourth a USB one, medium), over
 * six distinct times so runs of them share a lastSeen, in units u1 and u2 (every third).
 */
export async function seedWarnings(store: Store, count: number): Promise<void> {
  for (let seq = 1; seq <= count; seq++) {
    const i = seq - 1;
    const type = i % 4 === 0 ? 'usb.storage.attached' : 'net.wireless.present';
    const ruleEvent: RuleEvent = {
      eventId: seq,
      envelope: {
        agent: `ag-w${String(i).padStart(2, '0')}`,
        seq,
        ts: at((i * 5) % 6),
        type,
        state: 'raised',
        key: `${type}:k`,
        severity: 'high',
        data: {},
      },
      unit: i % 3 === 0 ? 'u2' : 'u1',
    };
    const now = new Date(Date.parse(ruleEvent.envelope.ts) + 1000);
    await runRules(
      store.warnings,
      { kind: 'event', eventId: seq, needed: rowsNeeded(ruleEvent, RULES) },
      (state) => evaluate(state, ruleEvent, RULES, now),
      { now: now.toISOString(), notify: () => [] },
    );
  }
}

export function describePagingContract(
  name: string,
  open: () => Promise<{ store: Store; close(): Promise<void> }>,
) {
  describe(`keyset pages: ${name}`, () => {
    let store: Store;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ store, close } = await open());
    });
    afterEach(async () => close());

    it('events: every row exactly once, newest first, ties on ts in id order, under each filter', async () => {
      await enrollAgentIn(store);
      await store.createEnrollmentToken({
        tokenHash: 'token-2',
        unit: '二处',
        createdAt: '2026-01-01T00:00:00Z',
        expiresAt: '2999-01-01T00:00:00Z',
      });
      await store.enrollAgent(enrollment({ tokenHash: 'token-2', agentId: OTHER, publicKey: 'PUBKEY-2' }));
      // 53 events over 12 distinct times (four or five share each), inserted out of time order.
      const seqs = { [AGENT]: 0, [OTHER]: 0 };
      const batch = Array.from({ length: 53 }, (_, i) => {
        const agentId = i % 3 === 0 ? OTHER : AGENT;
        seqs[agentId] += 1;
        const ts = at((i * 7) % 12);
        return event(seqs[agentId], {
          agentId,
          ts,
          type: i % 2 === 0 ? 'usb.storage.attached' : 'net.wireless.present',
        });
      });
      await store.insertEvents(batch.slice(0, 20));
      for (const e of batch.slice(20, 30)) await store.insertEvent(e);
      await store.insertEvents(batch.slice(30));
      const every = await store.listEvents({ limit: 1000 });
      expect(every).toHaveLength(53);
      const order = byTimeThenId<StoredEvent>(
        (e) => e.ts,
        (e) => e.id,
        true,
      );
      expect(every.map((e) => e.id)).toEqual([...every].sort(order).map((e) => e.id));

      const filters: [string, Omit<EventFilter, 'limit'>, (e: StoredEvent) => boolean][] = [
        ['none', {}, () => true],
        ['agent', { agentId: OTHER }, (e) => e.agentId === OTHER],
        ['type', { type: 'usb.storage.attached' }, (e) => e.type === 'usb.storage.attached'],
        ['since', { since: at(5) }, (e) => e.ts >= at(5)],
        ['units', { units: ['一处'] }, (e) => e.unit === '一处'],
        [
          'type + since + units',
          { type: 'net.wireless.present', since: at(3), units: ['一处', '二处'] },
          (e) => e.type === 'net.wireless.present' && e.ts >= at(3),
        ],
        ['no unit', { units: [] }, () => false],
      ];
      for (const [label, filter, keep] of filters) {
        const expected = every.filter(keep).map((e) => e.id);
        for (const limit of [1, 4, 5, 100]) {
          const read = (after: StoredEvent | undefined) =>
            store.listEvents({ ...filter, limit, after: after && { ts: after.ts, id: after.id } });
          const walked = (await walk(read, limit)).map((e) => e.id);
          expect(walked, `${label}, pages of ${limit}`).toEqual(expected);
        }
      }
    });

    it('warnings: every row exactly once, most recent first, ties on lastSeen in id order, under each filter', async () => {
      await seedWarnings(store, 31);
      const every = await store.warnings.listWarnings({ limit: 1000 });
      expect(every).toHaveLength(31);
      const order = byTimeThenId<Warning>(
        (w) => w.lastSeen,
        (w) => w.id,
        false,
      );
      expect(every.map((w) => w.id)).toEqual([...every].sort(order).map((w) => w.id));
      // Some of u1's move on, so a state filter leaves gaps in the order.
      const officer = { name: 'alice', role: 'secadmin', unit: 'u1' } as const;
      for (const w of every.filter((w) => w.unit === 'u1').filter((_, i) => i % 2 === 0)) {
        await updateWarning(store.warnings, w.id, (it) =>
          transition(it, { to: 'identified', actor: officer }, new Date(at(10))),
        );
      }
      const now = await store.warnings.listWarnings({ limit: 1000 });
      expect(now.filter((w) => w.state === 'identified').length).toBeGreaterThan(3);

      const filters: [string, Omit<WarningFilter, 'limit'>, (w: Warning) => boolean][] = [
        ['none', {}, () => true],
        ['states', { states: ['discovered'] }, (w) => w.state === 'discovered'],
        ['severities', { severities: ['medium'] }, (w) => w.severity === 'medium'],
        ['units', { units: ['u1'] }, (w) => w.unit === 'u1'],
        [
          'states + units',
          { states: ['identified', 'handling'], units: ['u1', 'u2'] },
          (w) => w.state === 'identified',
        ],
      ];
      for (const [label, filter, keep] of filters) {
        const expected = now.filter(keep).map((w) => w.id);
        expect(expected.length, label).toBeGreaterThan(0);
        for (const limit of [1, 3, 6, 100]) {
          const read = (after: Warning | undefined) =>
            store.warnings.listWarnings({
              ...filter,
              limit,
              after: after && { lastSeen: after.lastSeen, id: after.id },
            });
          const walked = (await walk(read, limit)).map((w) => w.id);
          expect(walked, `${label}, pages of ${limit}`).toEqual(expected);
        }
      }
    });
  });
}
