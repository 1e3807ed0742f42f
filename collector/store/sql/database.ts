import { resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import type { Dialect, Query } from './query.js';

/**
 * One connection-shaped surface over better-sqlite3 and node-postgres, so a domain store writes
 * each query once. What is truly one database's own (bulk UNNEST, the synchronous hot insert) uses
 * `SqliteDatabase.handle` or `PostgresDatabase.pool` in a per-dialect file beside its twin.
 */
export interface Database {
  readonly dialect: Dialect;
  all<Row>(query: Query): Promise<Row[]>;
  get<Row>(query: Query): Promise<Row | undefined>;
  /** A statement without rows; `changes` counts the rows it wrote. */
  run(query: Query): Promise<{ changes: number }>;
  /**
   * `work` in one transaction, rolled back when it throws: BEGIN IMMEDIATE on SQLite (the write lock
   * first, so two processes never deadlock upgrading), one pooled connection on PostgreSQL. Inside,
   * use only `tx`; a transaction begun on `tx` joins the outer one.
   */
  transaction<T>(work: (tx: Database) => Promise<T>): Promise<T>;
  /** Statements without values, e.g. a migration's DDL. */
  exec(script: string): Promise<void>;
  /** Statements without rows, in order: on SQLite in one synchronous step, not a promise each. */
  runEach(queries: readonly Query[]): Promise<void>;
}

/** Booleans as SQLite stores them (0/1), undefined as NULL: better-sqlite3 binds neither. */
function sqliteValue(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value === undefined ? null : value;
}

/** PostgreSQL text cannot hold NUL, which hostile input may carry: it is kept as the visible escape `\u0000`. */
export function stripNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\\u0000') : text;
}

function postgresValue(value: unknown): unknown {
  if (typeof value === 'string') return stripNul(value);
  if (Array.isArray(value)) return value.map((item) => (typeof item === 'string' ? stripNul(item) : item));
  return value === undefined ? null : value;
}

/**
 * The asynchronous transaction open on each database file in this process. Handles on one file
 * (two stores in a test, as two collectors would be) take turns: a second BEGIN IMMEDIATE would
 * wait out the busy timeout synchronously, blocking the event loop the first one needs to commit.
 */
const openTransactions = new Map<unknown, Promise<void>>();

/** Prepared statements kept per SQL text; dynamic texts (IN lists) are bounded by clearing. */
const STATEMENT_CACHE_LIMIT = 2000;

export class SqliteDatabase implements Database {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  /** Where this handle's open transaction is kept: its file, or the handle itself when in memory. */
  private readonly file: unknown;

  constructor(readonly handle: BetterSqlite3.Database) {
    this.file = handle.memory ? this : resolve(handle.name);
  }

  /** The prepared statement for this text, prepared once per handle (preparing costs more than running). */
  prepare(text: string): BetterSqlite3.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) this.statements.clear();
      statement = this.handle.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private bind(query: Query): { statement: BetterSqlite3.Statement; values: unknown[] } {
    const { text, values } = query.render('sqlite');
    return { statement: this.prepare(text), values: values.map(sqliteValue) };
  }

  /**
   * Runs `action` once no asynchronous transaction holds the file, with no turn of the event loop
   * between the last check and the action (else two callers could both see the file free).
   */
  private async whenIdle<T>(action: () => T): Promise<T> {
    for (let open = openTransactions.get(this.file); open; open = openTransactions.get(this.file)) await open;
    return action();
  }

  async all<Row>(query: Query): Promise<Row[]> {
    return this.whenIdle(() => this.allNow<Row>(query));
  }

  async get<Row>(query: Query): Promise<Row | undefined> {
    return this.whenIdle(() => this.getNow<Row>(query));
  }

  async run(query: Query): Promise<{ changes: number }> {
    return this.whenIdle(() => this.runNow(query));
  }

  async exec(script: string): Promise<void> {
    await this.whenIdle(() => this.handle.exec(script));
  }

  async runEach(queries: readonly Query[]): Promise<void> {
    await this.whenIdle(() => this.runEachNow(queries));
  }

  /** @internal */
  runEachNow(queries: readonly Query[]): void {
    for (const query of queries) this.runNow(query);
  }

  /** @internal the statements of the transaction holding the connection. */
  allNow<Row>(query: Query): Row[] {
    const { statement, values } = this.bind(query);
    return statement.all(...values) as Row[];
  }

  /** @internal */
  getNow<Row>(query: Query): Row | undefined {
    const { statement, values } = this.bind(query);
    return statement.get(...values) as Row | undefined;
  }

  /** @internal */
  runNow(query: Query): { changes: number } {
    const { statement, values } = this.bind(query);
    return { changes: statement.run(...values).changes };
  }

  async transaction<T>(work: (tx: Database) => Promise<T>): Promise<T> {
    const release = await this.whenIdle(() => {
      this.prepare('BEGIN IMMEDIATE').run();
      let settle!: () => void;
      openTransactions.set(this.file, new Promise((done) => (settle = done)));
      return settle;
    });
    try {
      const result = await work(new SqliteTransaction(this));
      this.prepare('COMMIT').run();
      return result;
    } catch (err) {
      if (this.handle.inTransaction) this.prepare('ROLLBACK').run();
      throw err;
    } finally {
      openTransactions.delete(this.file);
      release();
    }
  }

  /**
   * Synchronous work in one IMMEDIATE transaction, for the hot paths (an event batch): no await
   * inside, so nothing else interleaves, and no promise per statement.
   */
  async syncTransaction<T>(work: () => T): Promise<T> {
    return this.whenIdle(() => this.handle.transaction(work).immediate());
  }

  async close(): Promise<void> {
    await this.whenIdle(() => this.handle.close());
  }
}

/** The connection while a transaction holds it: statements run at once, nested transactions join. */
class SqliteTransaction implements Database {
  readonly dialect = 'sqlite' as const;
  constructor(private readonly db: SqliteDatabase) {}
  async all<Row>(query: Query): Promise<Row[]> {
    return this.db.allNow<Row>(query);
  }
  async get<Row>(query: Query): Promise<Row | undefined> {
    return this.db.getNow<Row>(query);
  }
  async run(query: Query): Promise<{ changes: number }> {
    return this.db.runNow(query);
  }
  async exec(script: string): Promise<void> {
    this.db.handle.exec(script);
  }
  async runEach(queries: readonly Query[]): Promise<void> {
    this.db.runEachNow(queries);
  }
  async transaction<T>(work: (tx: Database) => Promise<T>): Promise<T> {
    return work(this);
  }
}

type Queryable = pg.Pool | pg.PoolClient;

abstract class PostgresQueries implements Database {
  readonly dialect = 'postgres' as const;
  protected abstract readonly connection: Queryable;

  async all<Row>(query: Query): Promise<Row[]> {
    const { text, values } = query.render('postgres');
    const result = await this.connection.query(text, values.map(postgresValue));
    return result.rows as Row[];
  }

  async get<Row>(query: Query): Promise<Row | undefined> {
    return (await this.all<Row>(query))[0];
  }

  async run(query: Query): Promise<{ changes: number }> {
    const { text, values } = query.render('postgres');
    const result = await this.connection.query(text, values.map(postgresValue));
    return { changes: result.rowCount ?? 0 };
  }

  async exec(script: string): Promise<void> {
    await this.connection.query(script);
  }

  async runEach(queries: readonly Query[]): Promise<void> {
    for (const query of queries) await this.run(query);
  }

  abstract transaction<T>(work: (tx: Database) => Promise<T>): Promise<T>;
}

export class PostgresDatabase extends PostgresQueries {
  constructor(readonly pool: pg.Pool) {
    super();
  }

  protected get connection(): Queryable {
    return this.pool;
  }

  async transaction<T>(work: (tx: Database) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(new PostgresTransaction(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** One pooled connection inside BEGIN … COMMIT; `client` for what only node-postgres does. */
export class PostgresTransaction extends PostgresQueries {
  constructor(readonly client: pg.PoolClient) {
    super();
  }

  protected get connection(): Queryable {
    return this.client;
  }

  async transaction<T>(work: (tx: Database) => Promise<T>): Promise<T> {
    return work(this);
  }
}

/** A flag read back from either database (SQLite stores 0/1, PostgreSQL a boolean). */
export function flag(value: unknown): boolean {
  return value === true || value === 1 || value === '1';
}
