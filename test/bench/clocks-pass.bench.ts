/**
 * Cost of one legal-clock scheduler pass over a store holding 1 000 000 deadline rows, on SQLite
 * and on PostgreSQL (when it runs here):
 *   npx tsx test/bench/clocks-pass.bench.ts [--rows N] [--due D] [--rounds R]
 * Fills the store with N rows for N/4 synthetic subjects, due over the next two years, then times
 * (a) a pass with nothing due — the cost of every node-cron tick — and (b) a pass that fires D
 * rows of real systems (each loaded, recomputed, recorded and delivered to a no-op sink). Medians
 * over R rounds. Not a test: it asserts only that each pass fired what it should. No --short
 * mode: a smaller store measures nothing, so `npm test`'s smoke run passes this one by.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ClockScheduler } from '../../collector/clocks/scheduler.js';
import type { ClockStore } from '../../collector/store/clock-store.js';
import { openPostgresStore } from '../../collector/store/postgres-store.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { ManualClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';
import { tempDir } from '../support/collector-harness.js';
import { adminQuery, createTestSchema, postgresAvailable } from '../support/postgres.js';
import { median, printTable, reportFigures } from './support/report.js';

function argValue(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const ROWS = argValue('--rows', 1_000_000);
const DUE = argValue('--due', 1000);
const ROUNDS = argValue('--rounds', 5);
const DAY = 86_400_000;
const START = Date.parse('2026-03-01T02:00:00Z');
const KINDS = ['reminder-30', 'reminder-7', 'reminder-1', 'overdue'];

/** A store filled with the filler rows, ready for a scheduler. */
interface Target {
  clocks: ClockStore;
  fillMs: number;
  close(): Promise<void>;
}

/**
 * Filler row i: subject i/4, one of the four assessment kinds, due somewhere in the two years
 * after START + 1 day (so never in a pass), written straight into the table as a migration would.
 */
async function sqliteTarget(): Promise<Target> {
  const dir = tempDir('smew-clocks-bench-');
  const path = join(dir.path, 'smew.db');
  const store = openSqliteStore(path);
  const fillStart = performance.now();
  const raw = new Database(path);
  const insert = raw.prepare(
    `INSERT INTO clock_deadlines (subject_type, subject_id, target, kind, for_due, due_at, repeats, created_at)
     VALUES ('system', ?, '', ?, ?, ?, ?, ?)`,
  );
  raw.transaction(() => {
    for (let i = 0; i < ROWS; i++) {
      const due = new Date(START + DAY + ((i * 7919) % (730 * DAY)));
      insert.run(
        `sys-filler-${Math.floor(i / 4)}`,
        KINDS[i % 4],
        '2028-01-01',
        due.toISOString(),
        i % 4 === 3 ? 1 : 0,
        new Date(START).toISOString(),
      );
    }
  })();
  raw.close();
  return {
    clocks: store.clocks,
    fillMs: performance.now() - fillStart,
    close: async () => {
      await store.close();
      dir.remove();
    },
  };
}

/** The same rows, generated inside PostgreSQL in one statement, then analysed for the planner. */
async function postgresTarget(): Promise<Target> {
  const schema = await createTestSchema();
  const store = await openPostgresStore(schema.url);
  const fillStart = performance.now();
  await adminQuery(
    `INSERT INTO ${schema.name}.clock_deadlines
       (subject_type, subject_id, target, kind, for_due, due_at, repeats, created_at)
     SELECT 'system', 'sys-filler-' || (i / 4), '', ($1::text[])[i % 4 + 1], '2028-01-01',
       to_char(to_timestamp(($2::bigint + (i * 7919) % $3::bigint) / 1000.0) AT TIME ZONE 'UTC',
         'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       i % 4 = 3, $4
     FROM generate_series(0::bigint, $5::bigint - 1) AS i`,
    [KINDS, START + DAY, 730 * DAY, new Date(START).toISOString(), ROWS],
  );
  await adminQuery(`ANALYZE ${schema.name}.clock_deadlines`);
  return {
    clocks: store.clocks,
    fillMs: performance.now() - fillStart,
    close: async () => {
      await store.close();
      await schema.drop();
    },
  };
}

interface Measured {
  store: string;
  fillMs: number;
  /** One indexed single-row read (lastRun): the round trip every store call pays at least. */
  queryMs: number;
  idleMs: number;
  busyMs: number;
}

async function measure(store: string, target: Target): Promise<Measured> {
  const clock = new ManualClock(new Date(START));
  let delivered = 0;
  const scheduler = new ClockScheduler({
    store: target.clocks,
    clock,
    sink: { report: async () => void (delivered += 1) },
    logger: createLogger('bench', 'silent'),
    options: {
      assessment: { reminderDays: [30, 7, 1] },
      chain: { remindersMs: [12 * 3_600_000, 2 * 3_600_000] },
    },
    lateAfterMs: 120_000,
  });
  try {
    console.log(
      `${store}: ${ROWS.toLocaleString('en')} rows filled in ${(target.fillMs / 1000).toFixed(1)} s`,
    );
    const query: number[] = [];
    for (let r = 0; r < 20; r++) {
      const t = performance.now();
      await target.clocks.lastRun();
      query.push(performance.now() - t);
    }

    const idle: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t = performance.now();
      const summary = await scheduler.runPass('bench');
      idle.push(performance.now() - t);
      if (summary.fired !== 0) throw new Error(`${store}: idle pass fired ${summary.fired}`);
    }

    const busy: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // D real systems, overdue since before the pass: each pass fires D overdue rows.
      for (let i = 0; i < DUE; i++) {
        const record = await target.clocks.createSystem({
          id: `sys-bench-${r}-${i}`,
          name: `系统${i}`,
          level: '秘密',
          unit: '一处',
          scope: null,
          environment: null,
          commissionedAt: '2026-02-01',
          approvalRef: null,
          approvedBy: null,
          approvedAt: null,
          createdAt: new Date(START).toISOString(),
          createdBy: 'bench',
        });
        await scheduler.refreshSystem(record);
      }
      delivered = 0;
      const t = performance.now();
      const summary = await scheduler.runPass('bench');
      busy.push(performance.now() - t);
      if (summary.fired !== DUE || delivered !== DUE)
        throw new Error(`${store}: busy pass fired ${summary.fired}, delivered ${delivered}`);
    }
    return {
      store,
      fillMs: target.fillMs,
      queryMs: median(query),
      idleMs: median(idle),
      busyMs: median(busy),
    };
  } finally {
    await scheduler.stop();
    await target.close();
  }
}

const results: Measured[] = [await measure('SQLite', await sqliteTarget())];
if (await postgresAvailable()) results.push(await measure('PostgreSQL', await postgresTarget()));

console.log(
  `clock rows in store: ${ROWS.toLocaleString('en')} filler + ${(DUE * ROUNDS).toLocaleString('en')} real; medians over ${ROUNDS} passes`,
);
printTable(
  results.map((m) => ({
    store: m.store,
    'fill s': (m.fillMs / 1000).toFixed(1),
    'one query ms': m.queryMs.toFixed(2),
    'idle pass ms': m.idleMs.toFixed(2),
    [`pass firing ${DUE} ms`]: m.busyMs.toFixed(0),
    'ms per fired row': (m.busyMs / DUE).toFixed(2),
  })),
);
const byStore = Object.fromEntries(
  results.map((m) => [
    m.store === 'SQLite' ? 'sqlite' : 'postgres',
    {
      idlePassMs: m.idleMs,
      busyPassMs: m.busyMs,
      firedPerBusyPass: DUE,
      queryMs: m.queryMs,
      fillMs: m.fillMs,
    },
  ]),
);
// passMs: the pass every cron tick runs over the embedded default store (SQLite), nothing due.
reportFigures({ scheduler: { rows: ROWS, passMs: results[0]!.idleMs, byStore } });
