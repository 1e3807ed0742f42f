/**
 * Cost of one legal-clock scheduler pass over a store holding 1 000 000 deadline rows:
 *   npx tsx test/bench/clocks-pass.bench.ts [--rows N] [--due D] [--rounds R]
 * Fills a temp SQLite file with N rows for N/4 synthetic subjects, due over the next two years,
 * then times (a) a pass with nothing due — the cost of every node-cron tick — and (b) a pass
 * that fires D rows of real systems (each loaded, recomputed, recorded and delivered to a no-op
 * sink). Medians over R rounds. Not a test: it asserts only that each pass fired what it should.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ClockScheduler } from '../../collector/clocks/scheduler.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { ManualClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';
import { tempDir } from '../support/collector-harness.js';

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

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const dir = tempDir('smew-clocks-bench-');
try {
  const path = join(dir.path, 'smew.db');
  const store = openSqliteStore(path);

  // Filler rows, straight into the table: one transaction, the way a migration would load them.
  const fillStart = performance.now();
  const raw = new Database(path);
  const insert = raw.prepare(
    `INSERT INTO clock_deadlines (subject_type, subject_id, target, kind, for_due, due_at, repeats, created_at)
     VALUES ('system', ?, '', ?, ?, ?, ?, ?)`,
  );
  const kinds = ['reminder-30', 'reminder-7', 'reminder-1', 'overdue'];
  raw.transaction(() => {
    for (let i = 0; i < ROWS; i++) {
      const subject = `sys-filler-${Math.floor(i / 4)}`;
      const due = new Date(START + DAY + ((i * 7919) % (730 * DAY)));
      insert.run(
        subject,
        kinds[i % 4],
        '2028-01-01',
        due.toISOString(),
        i % 4 === 3 ? 1 : 0,
        new Date(START).toISOString(),
      );
    }
  })();
  raw.close();
  const fillMs = performance.now() - fillStart;

  const clock = new ManualClock(new Date(START));
  let delivered = 0;
  const scheduler = new ClockScheduler({
    store: store.clocks,
    clock,
    sink: { report: async () => void (delivered += 1) },
    logger: createLogger('bench', 'silent'),
    options: {
      assessment: { reminderDays: [30, 7, 1] },
      chain: { remindersMs: [12 * 3_600_000, 2 * 3_600_000] },
    },
    lateAfterMs: 120_000,
  });

  const idle: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    const summary = await scheduler.runPass('bench');
    idle.push(performance.now() - t);
    if (summary.fired !== 0) throw new Error(`idle pass fired ${summary.fired}`);
  }

  const busy: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // D real systems, overdue since before the pass: each pass fires D overdue rows.
    for (let i = 0; i < DUE; i++) {
      const record = await store.clocks.createSystem({
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
      throw new Error(`busy pass fired ${summary.fired}, delivered ${delivered}`);
  }
  await scheduler.stop();
  await store.close();

  console.log(
    `clock rows in store: ${ROWS.toLocaleString('en')} filler + ${(DUE * ROUNDS).toLocaleString('en')} real (filled in ${(fillMs / 1000).toFixed(1)} s)`,
  );
  console.log(`idle pass (nothing due):        median ${median(idle).toFixed(2)} ms over ${ROUNDS}`);
  console.log(
    `pass firing ${DUE} rows:          median ${median(busy).toFixed(0)} ms over ${ROUNDS} (${(median(busy) / DUE).toFixed(2)} ms per row)`,
  );
} finally {
  dir.remove();
}
