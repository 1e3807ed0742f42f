/**
 * Several collectors' clock schedulers on one PostgreSQL schema, each on its own pool as separate
 * processes would be, sharing a ManualClock: incidents whose 24 h deadlines are long past are
 * fired once between them when they pass at the same moment, and the rows a collector claimed
 * before it died are fired by another once the lease runs out.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClockScheduler } from '../../collector/clocks/scheduler.js';
import type { ClockStore, DeadlineRow } from '../../collector/store/clock-store.js';
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
        measures: null,
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
    // Who holds each row's lease: a row may be leased again only after it was fired.
    const holders = new Map<number, string>();
    const leaseTo = (owner: string) => async (rows: readonly DeadlineRow[]) => {
      for (const row of rows) {
        expect(holders.get(row.id), `row ${row.id} leased to ${owner} too`).toBeUndefined();
        holders.set(row.id, owner);
      }
    };
    const a = scheduler('collector-a', watchClaims(first.clocks, leaseTo('collector-a')), sinks[0]!);
    const b = scheduler('collector-b', watchClaims(second.clocks, leaseTo('collector-b')), sinks[1]!);
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

  it('rows a dead collector claimed are fired by another once its lease runs out', async () => {
    const [doomed, survivor] = [await collector(), await collector()];
    const deadSink = new RecordingSink();
    const liveSink = new RecordingSink();
    // The doomed collector's store dies right after its first claim: the process is gone with the
    // rows leased to it, nothing fired.
    const claimed: DeadlineRow[] = [];
    const dying = watchClaims(doomed.clocks, async (rows) => {
      claimed.push(...rows);
      await doomed.close();
    });
    const dead = scheduler('collector-dead', dying, deadSink);
    const alive = scheduler('collector-alive', survivor.clocks, liveSink);
    await missedIncidents(survivor.clocks, alive);

    await expect(dead.runPass('startup')).rejects.toThrow();
    expect(claimed).toHaveLength(8);
    expect(deadSink.take()).toEqual([]);

    // Within the lease the survivor fires everything else, but not the dead collector's rows.
    clock.advance(LEASE_MS - 1000);
    expect(await alive.runPass('cron')).toMatchObject({ fired: ROWS - claimed.length, errors: 0 });
    expect(liveSink.take()).toHaveLength(ROWS - claimed.length);
    const leased = new Set(claimed.map((r) => r.id));
    expect([...(await firesPerRow()).keys()].filter((id) => leased.has(id))).toEqual([]);

    // Once the lease has run out, the survivor takes them over and fires each once.
    clock.advance(1000);
    expect(await alive.runPass('cron')).toMatchObject({ fired: claimed.length, errors: 0 });
    const taken = liveSink.take();
    expect(taken.map((c) => c.key).sort()).toEqual(
      claimed.map((r) => `incident.report.late:${r.subject.id}:${r.target}`).sort(),
    );
    const fires = await firesPerRow();
    expect(fires.size).toBe(ROWS);
    for (const [id, outcomes] of fires) expect(outcomes, `row ${id}`).toEqual(['fired']);
    expect((await alive.runPass('cron')).fired).toBe(0);
  });
});

/** The store as a collector uses it, telling `onClaim` of every batch of rows it leased. */
function watchClaims(store: ClockStore, onClaim: (rows: DeadlineRow[]) => Promise<void>): ClockStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'claimDueDeadlines') {
        return async (claim: Parameters<ClockStore['claimDueDeadlines']>[0]) => {
          const rows = await target.claimDueDeadlines(claim);
          await onClaim(rows);
          return rows;
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe.skipIf(ready)('clock schedulers on PostgreSQL (not running)', () => {
  it('needs PostgreSQL on 127.0.0.1:5432', () => {});
});
