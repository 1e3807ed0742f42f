/**
 * Several collectors' clock schedulers on one PostgreSQL schema, each on its own pool as separate
 * processes would be, sharing a ManualClock: incidents whose 24 h deadlines are long past are
 * fired once between them when they pass at the same moment, and the rows a collector was firing
 * when it died are fired by another at once, each once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClockScheduler } from '../../collector/clocks/scheduler.js';
import type { ClockStore, DeadlineRow } from '../../collector/store/clocks/clock-store.js';
import { openPostgresStore, type PostgresStore } from '../../collector/store/postgres-store.js';
import { ManualClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';
import { adminQuery, createTestSchema, postgresAvailable, type TestSchema } from '../support/postgres.js';
import { RecordingSink } from './clocks-harness.js';

const H = 3_600_000;
const INCIDENTS = 40;
const NOW = '2026-03-05T00:00:00.000Z';
const LEASE_MS = 5 * 60_000;
/** Two first hops per incident at this unit level (county, superior department), each one `missed` row. */
const ROWS = INCIDENTS * 2;

const ready = await postgresAvailable();

describe.runIf(ready)('clock schedulers of several collectors on one PostgreSQL', () => {
  let schema: TestSchema;
  const stores: PostgresStore[] = [];
  const schedulers: ClockScheduler[] = [];
  let clock: ManualClock;

  async function collector(): Promise<PostgresStore> {
    const store = await openPostgresStore(schema.url);
    stores.push(store);
    return store;
  }

  function scheduler(owner: string, store: ClockStore, sink: RecordingSink): ClockScheduler {
    const made = new ClockScheduler({
      store,
      clock,
      sink,
      logger: createLogger('test', 'silent'),
      options: { assessment: { reminderDays: [30, 7, 1] }, chain: { remindersMs: [12 * H, 2 * H] } },
      lateAfterMs: 2 * 60_000,
      owner,
      leaseMs: LEASE_MS,
      // Small batches: each pass claims many times, so the two collectors' claims interleave.
      batch: 8,
    });
    schedulers.push(made);
    return made;
  }

  /** Incidents discovered three days ago and never reported: every 24 h deadline long missed. */
  async function missedIncidents(store: ClockStore, refresher: ClockScheduler): Promise<void> {
    for (let i = 0; i < INCIDENTS; i++) {
      const discoveredAt = new Date(Date.parse(NOW) - 72 * H - i * 60_000).toISOString();
      const incident = await store.createIncident({
        id: `inc-${String(i).padStart(3, '0')}`,
        title: `涉密文件外发 ${i}`,
        level: '秘密',
        unit: '一处',
        unitLevel: 'unit',
        discoveredAt,
        discoverySource: 'manual',
        description: null,
        measures: [],
        evidence: [],
        createdAt: discoveredAt,
        createdBy: 'officer',
      });
      await refresher.refreshIncident(incident);
    }
  }

  /** Every fire stored, per deadline row: what the schema holds, whoever recorded it. */
  async function firesPerRow(): Promise<Map<number, string[]>> {
    const rows = await adminQuery<{ deadline_id: number; outcome: string }>(
      `SELECT deadline_id::int AS deadline_id, outcome FROM ${schema.name}.clock_fires ORDER BY id`,
    );
    const fires = new Map<number, string[]>();
    for (const row of rows) fires.set(row.deadline_id, [...(fires.get(row.deadline_id) ?? []), row.outcome]);
    return fires;
  }

  async function deadlineIds(): Promise<number[]> {
    const rows = await adminQuery<{ id: number }>(
      `SELECT id::int AS id FROM ${schema.name}.clock_deadlines ORDER BY id`,
    );
    return rows.map((r) => r.id);
  }

  beforeEach(async () => {
    schema = await createTestSchema();
    clock = new ManualClock(NOW);
  });
  afterEach(async () => {
    for (const made of schedulers.splice(0)) await made.stop();
    for (const store of stores.splice(0)) await store.close();
    await schema.drop();
  });

  it('two schedulers passing at the same moment fire every due row exactly once between them', async () => {
    const [first, second] = [await collector(), await collector()];
    const sinks = [new RecordingSink(), new RecordingSink()];
    // Who fired each row: a row is decided by one collector only.
    const holders = new Map<number, string>();
    const decidedBy = (owner: string) => (rows: readonly DeadlineRow[]) => {
      for (const row of rows) {
        expect(holders.get(row.id), `row ${row.id} fired by ${owner} too`).toBeUndefined();
        holders.set(row.id, owner);
      }
    };
    const a = scheduler('collector-a', watchFires(first.clocks, decidedBy('collector-a')), sinks[0]!);
    const b = scheduler('collector-b', watchFires(second.clocks, decidedBy('collector-b')), sinks[1]!);
    await missedIncidents(first.clocks, a);
    const ids = await deadlineIds();
    expect(ids).toHaveLength(ROWS);

    const [passA, passB] = await Promise.all([a.runPass('startup'), b.runPass('startup')]);
    expect(holders.size).toBe(ROWS);
    expect(passA.errors + passB.errors).toBe(0);
    expect(passA.fired + passB.fired).toBe(ROWS);
    // Both took part: the rows were shared out, not fired by whichever came first.
    expect(passA.fired).toBeGreaterThan(0);
    expect(passB.fired).toBeGreaterThan(0);

    const fires = await firesPerRow();
    expect([...fires.keys()].sort((x, y) => x - y)).toEqual(ids);
    for (const [id, outcomes] of fires) expect(outcomes, `row ${id}`).toEqual(['fired']);
    // Each condition reached a sink once: one late-report warning per incident and hop.
    const keys = sinks.flatMap((sink) => sink.take()).map((c) => c.key);
    expect(keys).toHaveLength(ROWS);
    expect(new Set(keys).size).toBe(ROWS);
    expect(keys.every((key) => key.startsWith('incident.report.late:inc-'))).toBe(true);

    // Passing again, together, finds nothing left.
    const again = await Promise.all([a.runPass('cron'), b.runPass('cron')]);
    expect(again.map((p) => p.fired + p.stale + p.delivered)).toEqual([0, 0]);
  });

  it('rows a collector was firing when it died are fired by another at once, each once', async () => {
    const [doomed, survivor] = [await collector(), await collector()];
    const deadSink = new RecordingSink();
    const liveSink = new RecordingSink();
    // The doomed collector dies in the middle of its first batch, after claiming 8 rows and
    // deciding two: its transaction never commits (PostgreSQL rolls back the transaction of a
    // connection that goes away), and the process is gone.
    const claimed: DeadlineRow[] = [];
    const dying = watchFires(doomed.clocks, (rows) => {
      claimed.push(...rows);
      if (claimed.length === 3) throw new Error('collector killed mid-batch');
    });
    const dead = scheduler('collector-dead', withClose(dying, doomed), deadSink);
    const alive = scheduler('collector-alive', survivor.clocks, liveSink);
    await missedIncidents(survivor.clocks, alive);

    await expect(dead.runPass('startup')).rejects.toThrow();
    expect(claimed).toHaveLength(3);
    expect(deadSink.take()).toEqual([]);
    expect(await firesPerRow()).toEqual(new Map());
    const leases = await adminQuery<{ n: number }>(
      `SELECT COUNT(*)::int AS n FROM ${schema.name}.clock_deadlines WHERE claimed_by IS NOT NULL`,
    );
    expect(leases[0]!.n).toBe(0);

    // No lease to wait for: the survivor fires everything at once, the dead collector's rows too.
    expect(await alive.runPass('cron')).toMatchObject({ fired: ROWS, errors: 0 });
    const taken = liveSink.take();
    expect(taken).toHaveLength(ROWS);
    expect(taken.map((c) => c.key)).toEqual(
      expect.arrayContaining(claimed.map((r) => `incident.report.late:${r.subject.id}:${r.target}`)),
    );
    const fires = await firesPerRow();
    expect(fires.size).toBe(ROWS);
    for (const [id, outcomes] of fires) expect(outcomes, `row ${id}`).toEqual(['fired']);
    expect((await alive.runPass('cron')).fired).toBe(0);
  });
});

/**
 * The store as a collector uses it, telling `onDecide` of every row it decides to fire, inside
 * the batch's transaction (`onDecide` throwing is the collector dying there).
 */
function watchFires(store: ClockStore, onDecide: (rows: DeadlineRow[]) => void): ClockStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'fireDueDeadlines') {
        const fire: ClockStore['fireDueDeadlines'] = (claim, decide) =>
          target.fireDueDeadlines(claim, (row, record) => {
            onDecide([row]);
            return decide(row, record);
          });
        return fire;
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The store, whose process ends (its pool closed) as soon as a batch fails. */
function withClose(store: ClockStore, handle: PostgresStore): ClockStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'fireDueDeadlines') {
        const fire: ClockStore['fireDueDeadlines'] = async (claim, decide) => {
          try {
            return await target.fireDueDeadlines(claim, decide);
          } catch (err) {
            await handle.close();
            throw err;
          }
        };
        return fire;
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe.skipIf(ready)('clock schedulers on PostgreSQL (not running)', () => {
  it('needs PostgreSQL on 127.0.0.1:5432', () => {});
});
