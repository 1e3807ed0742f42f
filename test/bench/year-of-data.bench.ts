/**
 * A year of data (issue 19): how long a page of `GET /api/v1/events` and `GET /api/v1/warnings`
 * takes in the store over a 10 000-terminal unit's year, on SQLite and PostgreSQL, side by side.
 *
 * The year, estimated: 10 000 terminals in 10 units, each raising about 100 events a year
 * (1 000 000 events, two a minute, so many share a time) and 100 000 warnings (a fifth still
 * open). Heartbeats update the agent row and are not stored as events. Rows are seeded straight
 * into the tables (one INSERT … SELECT over a generated series per table), then each query runs
 * ROUNDS times through the store, reading a page of 100 as the route does (limit + 1):
 * - events, first page; deep page (the cursor of the row half way down); filtered (type and one
 *   unit, deep); and the old `since` query at the deep page's time, where it applies;
 * - warnings, first page; deep page by cursor against the old `offset` at the same depth;
 *   open warnings (state filter) deep by cursor.
 * Prints p50/p99 in ms. Target: p99 ≤ 100 ms.
 *   npx tsx test/bench/year-of-data.bench.ts [--short] [--events N] [--warnings N] [--rounds N]
 *     [--only sqlite|postgres]
 * Not a test.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { join } from 'node:path';
import { openPostgresStore } from '../../collector/store/postgres-store.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import type { EventFilter, Store } from '../../collector/store/store.js';
import type { WarningFilter } from '../../collector/store/warnings/warning-store.js';
import { tempDir } from '../support/collector-harness.js';
import { seedWarnings } from '../support/paging-contract.js';
import { createTestSchema, postgresAvailable } from '../support/postgres.js';
import { argValue, isShort, printTable, reportFigures } from './support/report.js';

const SHORT = isShort();
const EVENTS = argValue('--events', SHORT ? 20_000 : 1_000_000);
const WARNINGS = argValue('--warnings', SHORT ? 2_000 : 100_000);
const ROUNDS = argValue('--rounds', SHORT ? 20 : 200);
const AGENTS = 10_000;
const UNITS = 10;
const PAGE = 100;
const YEAR_START = Date.parse('2026-01-01T00:00:00Z') / 1000;
/** Seconds between events, whole minutes for warnings: a year spread so that times repeat. */
const EVENT_STEP = Math.max(1, Math.floor((365 * 86_400) / EVENTS));
const ENVELOPE = JSON.stringify({ v: 1, pad: 'x'.repeat(420) });

interface Target {
  name: string;
  store: Store;
  seed(doc: string): Promise<void>;
  /** SQLite only: gather planner statistics (the store never runs ANALYZE; PostgreSQL's autovacuum does). */
  analyze?(): void;
  close(): Promise<void>;
}

/** SQL both databases take, given how each spells a number to text and a time to ISO text. */
function seedSql(dialect: {
  series: string;
  pad(expr: string, width: number): string;
  iso(secs: string): string;
}) {
  const agent = `'ag-' || ${dialect.pad('(n % ' + AGENTS + ')', 20)}`;
  return {
    agents: `INSERT INTO agents (id, unit, alg, public_key, enrolled_at, broker_secret_hash)
      SELECT ${agent}, 'unit-' || (n % ${UNITS}), 'ed25519', 'pk-' || n, '2026-01-01T00:00:00.000Z', 'h'
      FROM ${dialect.series.replace('$N', String(AGENTS - 1)).replace('$FROM', '0')}`,
    events: `INSERT INTO events (agent_id, seq, ts, received_at, type, state, key, severity, data, envelope)
      SELECT ${agent}, n / ${AGENTS} + 1, ${dialect.iso(`${YEAR_START} + n * ${EVENT_STEP} - (n % 2)`)},
        ${dialect.iso(`${YEAR_START} + n * ${EVENT_STEP}`)},
        CASE n % 6 WHEN 0 THEN 'usb.storage.attached' WHEN 1 THEN 'net.wireless.present'
          WHEN 2 THEN 'net.bluetooth.present' WHEN 3 THEN 'net.address.unapproved'
          WHEN 4 THEN 'file.marked' ELSE 'agent.started' END,
        'raised', 'k-' || (n % 50), 'high', '{}', '${ENVELOPE}'
      FROM ${dialect.series.replace('$N', String(EVENTS - 1)).replace('$FROM', '0')}`,
    warnings: `INSERT INTO warnings (id, rule, slot, unit, agent, state, severity, level, count, first_seen,
        last_seen, created_at, resolved_at, updated_at, doc)
      SELECT 'w-' || ${dialect.pad('n', 8)}, 'wireless', 'slot-' || n, 'unit-' || (n % ${UNITS}),
        ${agent},
        CASE n % 10 WHEN 0 THEN 'discovered' WHEN 1 THEN 'identified' ELSE 'closed' END,
        CASE n % 3 WHEN 0 THEN 'high' ELSE 'medium' END, NULL, 1,
        ${dialect.iso(`${YEAR_START} + (n / 3) * 900`)}, ${dialect.iso(`${YEAR_START} + (n / 3) * 900`)},
        ${dialect.iso(`${YEAR_START} + (n / 3) * 900`)}, NULL, ${dialect.iso(`${YEAR_START} + (n / 3) * 900`)},
        $DOC
      FROM ${dialect.series.replace('$N', String(WARNINGS)).replace('$FROM', '1')}`,
  };
}

function openSqlite(): Target {
  const dir = tempDir('smew-year-');
  const path = join(dir.path, 'smew.db');
  const store = openSqliteStore(path);
  const sql = seedSql({
    series: `(WITH RECURSIVE s(n) AS (SELECT $FROM UNION ALL SELECT n + 1 FROM s WHERE n < $N) SELECT n FROM s)`,
    pad: (expr, width) => `printf('%0${width}d', ${expr})`,
    iso: (secs) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${secs}, 'unixepoch')`,
  });
  return {
    name: 'SQLite',
    store,
    async seed(doc) {
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.transaction(() => {
        db.exec(sql.agents);
        db.exec(sql.events);
        db.prepare(sql.warnings.replace('$DOC', '?')).run(doc);
      })();
      db.close();
    },
    analyze() {
      const db = new Database(path);
      db.exec('ANALYZE');
      db.close();
    },
    async close() {
      await store.close();
      dir.remove();
    },
  };
}

async function openPostgres(): Promise<Target> {
  const schema = await createTestSchema();
  const store = await openPostgresStore(schema.url);
  const sql = seedSql({
    series: `generate_series($FROM::bigint, $N::bigint) AS s(n)`,
    pad: (expr, width) => `lpad((${expr})::text, ${width}, '0')`,
    iso: (secs) => `to_char(to_timestamp(${secs}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
  });
  return {
    name: 'PostgreSQL',
    store,
    async seed(doc) {
      const client = new pg.Client({ connectionString: schema.url });
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query(sql.agents);
        await client.query(sql.events);
        await client.query(sql.warnings.replace('$DOC', '$1'), [doc]);
        await client.query('COMMIT');
        await client.query('ANALYZE');
      } finally {
        await client.end();
      }
    },
    async close() {
      await store.close();
      await schema.drop();
    },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function time(run: () => Promise<unknown[]>): Promise<{ p50: number; p99: number; rows: number }> {
  const took: number[] = [];
  let rows = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    rows = (await run()).length;
    took.push(performance.now() - start);
  }
  took.sort((a, b) => a - b);
  return { p50: percentile(took, 50), p99: percentile(took, 99), rows };
}

async function measure(target: Target) {
  const { store } = target;
  // A real warning's document (title, labels, sample), copied into every seeded row.
  await seedWarnings(store, 1);
  const [model] = await store.warnings.listWarnings({ limit: 1 });
  const { doc } = { doc: JSON.stringify(model) };
  const seedStart = performance.now();
  await target.seed(doc);
  const seedSeconds = (performance.now() - seedStart) / 1000;

  const events = (filter: Omit<EventFilter, 'limit'>) => () =>
    store.listEvents({ ...filter, limit: PAGE + 1 });
  const warnings = (filter: Omit<WarningFilter, 'limit'>) => () =>
    store.warnings.listWarnings({ ...filter, limit: PAGE + 1 });
  /** The sort key of the row `depth` down a list, as the cursor of the page before it would carry. */
  async function eventAt(filter: Omit<EventFilter, 'limit'>, depth: number) {
    let after: EventFilter['after'];
    for (let read = 0; read < depth; read += 1000) {
      const page = await store.listEvents({ ...filter, after, limit: Math.min(1000, depth - read) });
      const last = page.at(-1)!;
      after = { ts: last.ts, id: last.id };
    }
    return after!;
  }
  async function warningAt(filter: Omit<WarningFilter, 'limit'>, depth: number) {
    const [row] = await store.warnings.listWarnings({ ...filter, limit: 1, offset: depth - 1 });
    return { lastSeen: row!.lastSeen, id: row!.id };
  }

  const deep = Math.floor(EVENTS / 2);
  const deepEvent = await eventAt({}, deep);
  const filter = { type: 'net.wireless.present', units: ['unit-3'] };
  const deepFiltered = await eventAt(filter, Math.floor(EVENTS / 6 / UNITS / 2));
  const deepWarnings = Math.floor(WARNINGS / 2);
  const deepWarning = await warningAt({}, deepWarnings);
  const open = { states: ['discovered', 'identified', 'handling'] as const };
  const deepOpen = await warningAt({ states: [...open.states] }, Math.floor(WARNINGS / 5 / 2));

  const cases: [string, () => Promise<unknown[]>][] = [
    ['events: first page', events({})],
    [`events: page ${deep.toLocaleString('en-US')} rows down (cursor)`, events({ after: deepEvent })],
    ['events: type + unit, deep (cursor)', events({ ...filter, after: deepFiltered })],
    ['events: old since= at the deep time', events({ since: deepEvent.ts })],
    ['warnings: first page', warnings({})],
    [`warnings: ${deepWarnings.toLocaleString('en-US')} down (cursor)`, warnings({ after: deepWarning })],
    [
      `warnings: ${deepWarnings.toLocaleString('en-US')} down (old offset)`,
      warnings({ offset: deepWarnings }),
    ],
    ['warnings: open, deep (cursor)', warnings({ states: [...open.states], after: deepOpen })],
  ];
  const results: Record<string, { p50: number; p99: number; rows: number }> = {};
  for (const [label, run] of cases) results[label] = await time(run);
  if (target.analyze) {
    target.analyze();
    for (const [label, run] of cases) results[`${label} [after ANALYZE]`] = await time(run);
  }
  return { seedSeconds, results };
}

const measured: Record<string, Awaited<ReturnType<typeof measure>>> = {};
/** `--only sqlite` or `--only postgres` measures one store. */
const only = process.argv[process.argv.indexOf('--only') + 1];
const targets: (() => Promise<Target>)[] = [];
if (only !== 'postgres') targets.push(async () => openSqlite());
if (only !== 'sqlite' && (await postgresAvailable())) targets.push(openPostgres);
for (const open of targets) {
  const target = await open();
  try {
    console.log(
      `${target.name}: seeding ${EVENTS.toLocaleString('en-US')} events, ${WARNINGS.toLocaleString('en-US')} warnings…`,
    );
    measured[target.name] = await measure(target);
    console.log(`${target.name}: seeded in ${measured[target.name]!.seedSeconds.toFixed(1)} s`);
  } finally {
    await target.close();
  }
}

const names = Object.keys(measured);
const labels = [...new Set(names.flatMap((name) => Object.keys(measured[name]!.results)))];
console.log(`\nA page of ${PAGE} (read as ${PAGE + 1}), ${ROUNDS} rounds each, ms:`);
printTable(
  labels.map((label) => {
    const row: Record<string, string | number> = { query: label };
    for (const name of names) {
      const r = measured[name]!.results[label];
      row[`${name} p50`] = r ? Number(r.p50.toFixed(2)) : '';
      row[`${name} p99`] = r ? Number(r.p99.toFixed(2)) : '';
      row[`${name} rows`] = r ? r.rows : '';
    }
    return row;
  }),
);
reportFigures({
  yearOfData: {
    events: EVENTS,
    warnings: WARNINGS,
    rounds: ROUNDS,
    page: PAGE,
    stores: Object.fromEntries(
      names.map((name) => [
        name,
        {
          seedSeconds: measured[name]!.seedSeconds,
          p50ms: Object.fromEntries(Object.entries(measured[name]!.results).map(([l, r]) => [l, r.p50])),
          p99ms: Object.fromEntries(Object.entries(measured[name]!.results).map(([l, r]) => [l, r.p99])),
        },
      ]),
    ),
  },
});
