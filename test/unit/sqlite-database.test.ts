/**
 * SqliteDatabase's asynchronous transactions: callers that start one at the same moment take
 * turns, on one handle and on two handles of one file (two collectors' stores in one process).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, expect, it } from 'vitest';
import { SqliteDatabase } from '../../collector/store/sql/database.js';
import { sql } from '../../collector/store/sql/query.js';
import { tempDir } from '../support/collector-harness.js';

const dir = tempDir('smew-sqlite-database-');
const opened: SqliteDatabase[] = [];
afterEach(async () => {
  for (const db of opened.splice(0)) await db.close();
});
afterAll(() => dir.remove());

function open(file: string): SqliteDatabase {
  const handle = new Database(join(dir.path, file));
  handle.pragma('busy_timeout = 200');
  handle.pragma('journal_mode = WAL');
  const db = new SqliteDatabase(handle);
  opened.push(db);
  return db;
}

/** Reads the counter, yields, writes it back one higher: lost updates show if two interleave. */
function bump(db: SqliteDatabase): Promise<void> {
  return db.transaction(async (tx) => {
    const row = await tx.get<{ n: number }>(sql`SELECT n FROM counter`);
    await tx.run(sql`UPDATE counter SET n = ${row!.n + 1}`);
  });
}

it('runs transactions begun at once on one handle one after another', async () => {
  const db = open('one.db');
  await db.exec('CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0)');
  await Promise.all(Array.from({ length: 10 }, () => bump(db)));
  expect(await db.get(sql`SELECT n FROM counter`)).toEqual({ n: 10 });
});

it('runs transactions of two handles on one file one after another, without waiting out the busy timeout', async () => {
  const first = open('two.db');
  const second = open('two.db');
  await first.exec('CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0)');
  await Promise.all(Array.from({ length: 10 }, (_, i) => bump(i % 2 === 0 ? first : second)));
  expect(await second.get(sql`SELECT n FROM counter`)).toEqual({ n: 10 });
});
