/**
 * Cost of one legal-clock scheduler pass over a store holding 1 000 000 deadline rows, on SQLite
 * and on PostgreSQL (when it runs here):
 *   npx tsx test/bench/clocks-pass.bench.ts [--rows N] [--due D] [--rounds R] [--batch B]
 * Fills the store with N rows for N/4 synthetic subjects, due over the next two years, then times
 * (a) a pass with nothing due — the cost of every node-cron tick, reported as `scheduler.passMs`;
 * (b) a pass that fires D rows of real systems (each loaded, recomputed, recorded and delivered
 * to a no-op sink): the clocks' own cost; (c) the same, delivered to the warnings stage with the
 * shipped rules, as a collector runs it. B rows per transaction (the scheduler's default if not
 * given). Medians over R rounds, wall time and this process's CPU per fired row. Not a test: it asserts only that each pass fired what it should. No --short
 * mode: a smaller store measures nothing, so `npm test`'s smoke run passes this one by.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type BatchConditionSink, ClockScheduler } from '../../collector/clocks/scheduler.js';
import type { ClockStore } from '../../collector/store/clocks/clock-store.js';
import { defaultRulesFile, loadRules } from '../../collector/rules/load.js';
import { openPostgresStore } from '../../collector/store/postgres-store.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import type { Store } from '../../collector/store/store.js';
import type { CollectorCondition, ConditionSink } from '../../collector/warnings/conditions.js';
import { WarningStage } from '../../collector/warnings/stage.js';
import { ManualClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';
import { tempDir } from '../support/collector-harness.js';
import { adminQuery, createTestSchema, postgresAvailable } from '../support/postgres.js';
import { argValue, median, printTable, reportFigures } from './support/report.js';

const ROWS = argValue('--rows', 1_000_000);
const DUE = argValue('--due', 1000);
const ROUNDS = argValue('--rounds', 5);
/** Rows per transaction of a pass; the scheduler's default when not given. */
const BATCH = process.argv.includes('--batch') ? argValue('--batch', 500) : undefined;
const DAY = 86_400_000;
const START = Date.parse('2026-03-01T02:00:00Z');
const KINDS = ['reminder-30', 'reminder-7', 'reminder-1', 'overdue'];

/** A store filled with the filler rows, ready for a scheduler. */
interface Target {
  store: Store;
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
    store,
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
    store,
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
  /** A pass firing DUE rows, conditions delivered to a sink that does nothing: the clocks' own cost. */
  busyMs: number;
  /** This process's CPU per fired row in that pass (the database server's not included). */
  busyCpuMsPerRow: number;
  /** The same, delivered to the warnings stage with the shipped rules, as a collector runs it. */
  warnedMs: number;
  warnedCpuMsPerRow: number;
}

const OPTIONS = {
  assessment: { reminderDays: [30, 7, 1] },
  chain: { remindersMs: [12 * 3_600_000, 2 * 3_600_000] },
};

/**
 * Times `rounds` passes that each fire DUE rows: before each, DUE new systems overdue since
 * before the pass are registered (outside the timing). Returns wall and CPU medians.
 */
async function busyPasses(
  label: string,
  clocks: ClockStore,
  scheduler: ClockScheduler,
  delivered: () => number,
): Promise<{ ms: number; cpuMsPerRow: number }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < DUE; i++) {
      const record = await clocks.createSystem({
        id: `sys-${label}-${r}-${i}`,
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
    const before = delivered();
    const cpuStart = process.cpuUsage();
    const t = performance.now();
    const summary = await scheduler.runPass('bench');
    wall.push(performance.now() - t);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000 / DUE);
    if (summary.fired !== DUE || delivered() - before !== DUE)
      throw new Error(`${label}: busy pass fired ${summary.fired}, delivered ${delivered() - before}`);
  }
  return { ms: median(wall), cpuMsPerRow: median(cpu) };
}

async function measure(store: string, target: Target): Promise<Measured> {
  const clock = new ManualClock(new Date(START));
  const logger = createLogger('bench', 'silent');
  let delivered = 0;
  const scheduler = (sink: ConditionSink) =>
    new ClockScheduler({
      store: target.store.clocks,
      clock,
      sink,
      logger,
      options: OPTIONS,
      lateAfterMs: 120_000,
      ...(BATCH ? { batch: BATCH } : {}),
    });
  const bare = scheduler({ report: async () => void (delivered += 1) });
  // The collector's own sink: the rules stage, which records each condition and opens its warning.
  const stage = new WarningStage({
    store: target.store,
    rules: loadRules(defaultRulesFile()),
    clock,
    logger,
    notify: () => [],
  });
  let warned = 0;
  // A stage that takes a batch of conditions in one transaction gets them so.
  const batches = stage as Partial<BatchConditionSink>;
  const warning = scheduler({
    report: async (condition) => void (await stage.report(condition), (warned += 1)),
    ...(batches.reportAll && {
      reportAll: async (conditions: readonly CollectorCondition[]) =>
        void (await batches.reportAll!.call(stage, conditions), (warned += conditions.length)),
    }),
  });
  try {
    console.log(
      `${store}: ${ROWS.toLocaleString('en')} rows filled in ${(target.fillMs / 1000).toFixed(1)} s`,
    );
    const query: number[] = [];
    for (let r = 0; r < 20; r++) {
      const t = performance.now();
      await target.store.clocks.lastRun();
      query.push(performance.now() - t);
    }

    const idle: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t = performance.now();
      const summary = await bare.runPass('bench');
      idle.push(performance.now() - t);
      if (summary.fired !== 0) throw new Error(`${store}: idle pass fired ${summary.fired}`);
    }

    const busy = await busyPasses('bare', target.store.clocks, bare, () => delivered);
    const withWarnings = await busyPasses('warned', target.store.clocks, warning, () => warned);
    return {
      store,
      fillMs: target.fillMs,
      queryMs: median(query),
      idleMs: median(idle),
      busyMs: busy.ms,
      busyCpuMsPerRow: busy.cpuMsPerRow,
      warnedMs: withWarnings.ms,
      warnedCpuMsPerRow: withWarnings.cpuMsPerRow,
    };
  } finally {
    await bare.stop();
    await warning.stop();
    await stage.stop();
    await target.close();
  }
}

const results: Measured[] = [await measure('SQLite', await sqliteTarget())];
if (await postgresAvailable()) results.push(await measure('PostgreSQL', await postgresTarget()));

console.log(
  `clock rows in store: ${ROWS.toLocaleString('en')} filler + ${(2 * DUE * ROUNDS).toLocaleString('en')} real; ` +
    `medians over ${ROUNDS} passes; batch ${BATCH ?? 'default'}`,
);
console.log(
  `idle: nothing due (every cron tick). busy: ${DUE} of them due, conditions to a no-op sink (the clocks alone). ` +
    `+warnings: the same, delivered to the warnings stage with the shipped rules (as a collector runs).`,
);
printTable(
  results.map((m) => ({
    store: m.store,
    'fill s': (m.fillMs / 1000).toFixed(1),
    'one query ms': m.queryMs.toFixed(2),
    'idle pass ms': m.idleMs.toFixed(2),
    [`busy pass (${DUE} due) ms`]: m.busyMs.toFixed(0),
    'ms/row': (m.busyMs / DUE).toFixed(3),
    'CPU ms/row': m.busyCpuMsPerRow.toFixed(3),
    [`busy +warnings ms`]: m.warnedMs.toFixed(0),
    'ms/row ': (m.warnedMs / DUE).toFixed(3),
    'CPU ms/row ': m.warnedCpuMsPerRow.toFixed(3),
  })),
);
const byStore = Object.fromEntries(
  results.map((m) => [
    m.store === 'SQLite' ? 'sqlite' : 'postgres',
    {
      idlePassMs: m.idleMs,
      busyPassMs: m.busyMs,
      busyPassCpuMsPerRow: m.busyCpuMsPerRow,
      busyPassWithWarningsMs: m.warnedMs,
      busyPassWithWarningsCpuMsPerRow: m.warnedCpuMsPerRow,
      firedPerBusyPass: DUE,
      queryMs: m.queryMs,
      fillMs: m.fillMs,
    },
  ]),
);
// passMs: the pass every cron tick runs over the embedded default store (SQLite), nothing due.
// busyPassMs: the same store, a pass firing DUE rows (no-op sink).
reportFigures({
  scheduler: {
    rows: ROWS,
    passMs: results[0]!.idleMs,
    busyPassMs: results[0]!.busyMs,
    firedPerBusyPass: DUE,
    byStore,
  },
});
