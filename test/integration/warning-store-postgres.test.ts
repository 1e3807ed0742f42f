/**
 * Several collectors on one PostgreSQL database: each test opens two stores (two pools, as two
 * collector processes have) on one schema and makes them act at the same moment. What must hold:
 * one condition seen by both is one warning; every stored event is evaluated exactly once, even
 * when ids commit out of order; each outbox row is delivered by one collector; dashboards agree.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluate, rowsNeeded } from '../../collector/rules/evaluate.js';
import { parseRules } from '../../collector/rules/load.js';
import type { RuleEvent } from '../../collector/rules/match.js';
import { openPostgresStore, type PostgresStore } from '../../collector/store/postgres-store.js';
import { conditionSeq } from '../../collector/store/warnings/records.js';
import { runRules, runRulesBatch } from '../../collector/warnings/rules-batch.js';
import type { EventEnvelope } from '../../shared/envelope.js';
import { eventually } from '../support/eventually.js';
import { postgresAvailable } from '../support/postgres.js';
import { sharedTestSchema } from '../support/postgres-shared-schema.js';
import { AGENT, enrollment, event, NOW } from '../unit/store-contract.js';

const RULES = parseRules(
  `rules:
  - name: offline
    title: { zh: 终端离线, en: Agent offline }
    match: { type: agent.offline }
    severity: medium
  - name: wireless
    title: { zh: 无线网卡, en: Wireless adapter }
    match: { type: net.wireless.present }
    severity: high
`,
  'collectors.yaml',
);

const T0 = Date.parse(NOW);
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const toAll = (channels: readonly string[]) => () => channels;

describe.runIf(await postgresAvailable())(
  'WarningStore and SessionStore: two collectors on one PostgreSQL',
  () => {
    const schema = sharedTestSchema();
    let url: string;
    let a: PostgresStore;
    let b: PostgresStore;

    beforeEach(async () => {
      url = await schema.url();
      // Both open at once, as two collectors starting together: the migration runs once.
      [a, b] = await Promise.all([openPostgresStore(url), openPostgresStore(url)]);
    });
    afterEach(async () => {
      await Promise.all([a.close(), b.close()]);
      await schema.empty();
    });
    afterAll(() => schema.drop());

    async function enrollAgent() {
      await a.createEnrollmentToken({
        tokenHash: 'token-1',
        unit: '一处',
        createdAt: NOW,
        expiresAt: at(3600),
      });
      expect((await a.enrollAgent(enrollment())).ok).toBe(true);
    }

    /** What the liveness monitor of either collector reports when the agent falls silent. */
    function reportOffline(store: PostgresStore, second: number) {
      const condition = {
        type: 'agent.offline',
        state: 'raised' as const,
        key: `agent.offline:${AGENT}`,
        unit: '一处',
        agent: AGENT,
        severity: 'medium' as const,
        data: { lastSeen: at(0) },
        at: at(second),
      };
      const ruleEvent: RuleEvent = {
        envelope: { ...condition, agent: AGENT, seq: 0, ts: condition.at },
        unit: condition.unit,
      };
      return runRules(
        store.warnings,
        { kind: 'condition', condition, needed: rowsNeeded(ruleEvent, RULES) },
        (state, conditionId) =>
          evaluate(
            state,
            { ...ruleEvent, envelope: { ...ruleEvent.envelope, seq: conditionSeq(conditionId!) } },
            RULES,
            new Date(at(second)),
          ),
        { now: at(second), notify: toAll(['hook', 'mail']) },
      );
    }

    it('one condition raised by both collectors at once is one warning, with every report as evidence', async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => reportOffline(i % 2 === 0 ? a : b, i)),
      );
      expect(results.flatMap((r) => r!.opened)).toHaveLength(1);
      const warnings = await b.warnings.listWarnings({ limit: 10 });
      expect(warnings.map((w) => [w.rule, w.count])).toEqual([['offline', 8]]);
      expect(await a.warnings.listEvidence(warnings[0]!.id, 20)).toHaveLength(8);
      expect(
        (await a.warnings.listNotifications({ limit: 10 })).map((n) => [n.channel, n.occasion]).sort(),
      ).toEqual([
        ['hook', 'opened'],
        ['mail', 'opened'],
      ]);
    });

    it('delivers each outbox row once when both collectors drain it at the same time', async () => {
      // 12 warnings (one per agent seq) × 3 channels = 36 rows, drained 5 at a time by each.
      for (let i = 0; i < 12; i++) {
        await runRules(
          a.warnings,
          { kind: 'event', eventId: i + 1, needed: rowsNeeded(wireless(i + 1, `u${i}`), RULES) },
          (state) => evaluate(state, wireless(i + 1, `u${i}`), RULES, new Date(at(1))),
          { now: at(1), notify: toAll(['hook', 'mail', 'sms']) },
        );
      }
      const delivered = new Map<number, string[]>();
      const drain = async (name: string, store: PostgresStore) => {
        for (;;) {
          const due = await store.warnings.dueNotifications(at(2), 5);
          if (due.length === 0) return;
          for (const n of due) {
            delivered.set(n.id, [...(delivered.get(n.id) ?? []), name]);
            await store.warnings.finishNotification(n.id, { state: 'sent', at: at(2) });
          }
        }
      };
      await Promise.all([drain('a', a), drain('b', b)]);
      expect(delivered.size).toBe(36);
      expect([...delivered.values()].filter((by) => by.length !== 1)).toEqual([]);
      const rows = await b.warnings.listNotifications({ limit: 100 });
      expect(rows.every((n) => n.state === 'sent' && n.attempts === 1)).toBe(true);
    });

    it('a claimed row waits out its lease; a collector that died holding it hands it over then', async () => {
      await runRules(
        a.warnings,
        { kind: 'event', eventId: 1, needed: rowsNeeded(wireless(1, '一处'), RULES) },
        (state) => evaluate(state, wireless(1, '一处'), RULES, new Date(at(1))),
        { now: at(1), notify: toAll(['hook']) },
      );
      const [claimed] = await a.warnings.dueNotifications(at(1), 10);
      expect(claimed).toBeDefined();
      // a "dies" here without finishing: b must not send it meanwhile…
      expect(await b.warnings.dueNotifications(at(60), 10)).toEqual([]);
      // …and takes it once the lease (5 min) is over.
      const [taken] = await b.warnings.dueNotifications(at(5 * 60 + 2), 10);
      expect(taken?.id).toBe(claimed!.id);
      await b.warnings.finishNotification(taken!.id, { state: 'sent', at: at(302) });
      // a's late answer changes nothing that is done.
      await a.warnings.finishNotification(claimed!.id, {
        state: 'retry',
        error: 'late',
        nextAttemptAt: at(400),
        at: at(303),
      });
      expect(await b.warnings.listNotifications({ limit: 10 })).toMatchObject([
        { state: 'sent', attempts: 1, lastError: null },
      ]);
    });

    it('a collector that stops mid-send hands its claim back: the other sends it at once', async () => {
      await runRules(
        a.warnings,
        { kind: 'event', eventId: 1, needed: rowsNeeded(wireless(1, '一处'), RULES) },
        (state) => evaluate(state, wireless(1, '一处'), RULES, new Date(at(1))),
        { now: at(1), notify: toAll(['hook', 'mail']) },
      );
      const claimed = await a.warnings.dueNotifications(at(1), 10);
      expect(claimed).toHaveLength(2);
      await a.warnings.finishNotification(claimed[0]!.id, { state: 'sent', at: at(1) });
      await a.close();
      const taken = await b.warnings.dueNotifications(at(2), 10);
      expect(taken.map((n) => [n.id, n.attempts])).toEqual([[claimed[1]!.id, 0]]);
    });

    it('the rules stage never passes an event id whose insert has not committed yet', async () => {
      await enrollAgent();
      // An ingest transaction on another connection draws an id and is still open…
      const slow = new pg.Client({ connectionString: url });
      await slow.connect();
      try {
        await slow.query('BEGIN');
        const stored = await slow.query<{ id: number }>(
          `INSERT INTO events (agent_id, seq, ts, received_at, type, state, key, severity, data, envelope)
         VALUES ($1, 1, $2, $2, 'net.wireless.present', 'raised', 'k', 'high', '{}', $3) RETURNING id`,
          [AGENT, NOW, envelopeOf(1)],
        );
        // …while the other collector stores a later event and commits it.
        await b.insertEvent(event(2, { envelope: envelopeOf(2) }));
        const pending = b.warnings.eventsAfterRulesCursor(100);
        let answered = false;
        void pending.then(
          () => (answered = true),
          () => (answered = true),
        );
        // The rules stage is seen waiting for the very advisory lock the open insert holds.
        await eventually(
          async () => {
            const { rows } = await slow.query<{ waiting: number }>(
              `SELECT count(*)::int AS waiting FROM pg_locks w
               JOIN pg_locks h ON h.locktype = 'advisory' AND h.pid = $1 AND h.granted
                 AND w.classid = h.classid AND w.objid = h.objid AND w.objsubid = h.objsubid
               WHERE w.locktype = 'advisory' AND NOT w.granted`,
              [(slow as unknown as { processID: number }).processID],
            );
            return rows[0]!.waiting > 0 || undefined;
          },
          { what: 'the rules stage waiting on the open insert’s lock' },
        );
        expect(answered).toBe(false);
        await slow.query('COMMIT');
        expect((await pending).map((e) => e.id)).toEqual([
          Number(stored.rows[0]!.id),
          Number(stored.rows[0]!.id) + 1,
        ]);
      } finally {
        await slow.end();
      }
    });

    it('both rules stages racing ingest from both collectors evaluate every event exactly once', async () => {
      await enrollAgent();
      const total = 80;
      let stopped = false;
      const evaluated: number[] = [];
      const stage = async (store: PostgresStore) => {
        while (!stopped || (await store.warnings.eventsAfterRulesCursor(1)).length > 0) {
          const batch = await store.warnings.eventsAfterRulesCursor(16);
          if (batch.length === 0) {
            await sleep(5);
            continue;
          }
          const results = await runRulesBatch(
            store.warnings,
            batch.map((row) => {
              const ruleEvent = {
                eventId: row.id,
                envelope: JSON.parse(row.envelope) as EventEnvelope,
                unit: row.unit,
              };
              return {
                input: { kind: 'event' as const, eventId: row.id, needed: rowsNeeded(ruleEvent, RULES) },
                evaluate: (state: Parameters<typeof evaluate>[0]) =>
                  evaluate(state, ruleEvent, RULES, new Date(at(1))),
              };
            }),
            { now: at(1), notify: toAll(['hook']) },
          );
          results.forEach((result, i) => {
            if (result) evaluated.push(batch[i]!.id);
          });
        }
      };
      const ingest = async (store: PostgresStore, first: number) => {
        // Small concurrent batches from each collector: ids interleave and commit out of order.
        for (let seq = first; seq <= total; seq += 8) {
          const seqs = [seq, seq + 2, seq + 4, seq + 6].filter((s) => s <= total);
          await Promise.all(seqs.map((s) => store.insertEvent(event(s, { envelope: envelopeOf(s) }))));
        }
      };
      const stages = Promise.all([stage(a), stage(b)]);
      await Promise.all([ingest(a, 1), ingest(b, 2)]);
      stopped = true;
      await stages;
      expect(evaluated).toHaveLength(total);
      expect(new Set(evaluated).size).toBe(total);
      // One warning, with every event as its evidence: none skipped, none counted twice.
      const warnings = await a.warnings.listWarnings({ limit: 10 });
      expect(warnings.map((w) => [w.rule, w.count])).toEqual([['wireless', total]]);
      const evidence = await b.warnings.listEvidence(warnings[0]!.id, 1000);
      expect(evidence.map((e) => e.seq).sort((x, y) => x - y)).toEqual(
        Array.from({ length: total }, (_, i) => i + 1),
      );
    });

    it('dashboards agree: a session made on one collector works on the other; failures count across both', async () => {
      await a.sessions.createSession({
        idHash: 'h'.repeat(64),
        user: '张三',
        role: 'secadmin',
        unit: '一处',
        csrfToken: 'csrf',
        createdAt: at(0),
        lastSeenAt: at(0),
        expiresAt: at(3600),
        ip: '10.0.0.1',
        userAgent: 'Chromium',
      });
      // Requests finishing on both collectors in any order: lastSeenAt only moves forward.
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? a : b).sessions.touchSession('h'.repeat(64), at(10 - i)),
        ),
      );
      expect((await b.sessions.getSession('h'.repeat(64)))?.lastSeenAt).toBe(at(10));
      await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? a : b).sessions.recordFailedLogin({ name: '张三', ip: '10.0.0.9', at: at(i) }),
        ),
      );
      expect(await a.sessions.countFailedLogins({ name: '张三', ip: '10.0.0.9', since: at(0) })).toEqual({
        pair: { count: 6, oldest: at(0) },
        ip: { count: 6, oldest: at(0) },
      });
      expect(await b.sessions.deleteSession('h'.repeat(64))).toBe(true);
      expect(await a.sessions.getSession('h'.repeat(64))).toBeUndefined();
    });
  },
);

function wireless(seq: number, unit: string): RuleEvent {
  return {
    eventId: seq,
    envelope: {
      agent: AGENT,
      seq,
      ts: at(1),
      type: 'net.wireless.present',
      state: 'raised',
      key: 'net.wireless.present:wlan0',
      severity: 'high',
      data: {},
    },
    unit,
  };
}

function envelopeOf(seq: number): string {
  return JSON.stringify(wireless(seq, '一处').envelope);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
