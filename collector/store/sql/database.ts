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

/** Who holds a SQLite file's connection for an asynchronous transaction: settles when it ends. */
interface FileLock {
  openTransaction: Promise<void> | undefined;
  handles: number;
}

/**
 * One lock per file for every handle this process has on it (tests, and a command beside its
 * collector, open two): another handle's BEGIN IMMEDIATE would block this thread in its busy
 * timeout while the transaction it waits for cannot take its next step on the same thread.
 */
const fileLocks = new Map<string, FileLock>();

function lockFor(handle: BetterSqlite3.Database): FileLock {
  if (handle.memory) return { openTransaction: undefined, handles: 1 };
  let lock = fileLocks.get(handle.name);
  if (!lock) fileLocks.set(handle.name, (lock = { openTransaction: undefined, handles: 0 }));
  lock.handles += 1;
  return lock;
}

/** Prepared statements kept per SQL text; dynamic texts (IN lists) are bounded by clearing. */
const STATEMENT_CACHE_LIMIT = 2000;

export class SqliteDatabase implements Database {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  /** The open asynchronous transaction on this file, if any; statements outside it wait for it. */
  private readonly lock: FileLock;

  constructor(readonly handle: BetterSqlite3.Database) {
    this.lock = lockFor(handle);
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
   * `now` once no asynchronous transaction holds the file, checked in the same tick as `now` runs
   * (an await between the two would let a transaction begin in between).
   */
  private async whenIdle<T>(now: () => T): Promise<T> {
    while (this.lock.openTransaction) await this.lock.openTransaction;
    return now();
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
    return this.whenIdle(() => this.holdFor(work));
  }

  /** Takes the connection at once (the caller saw it free in this tick) for `work`'s transaction. */
  private async holdFor<T>(work: (tx: Database) => Promise<T>): Promise<T> {
    let release!: () => void;
    this.lock.openTransaction = new Promise((resolve) => (release = resolve));
    try {
      this.handle.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(new SqliteTransaction(this));
        this.handle.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.handle.inTransaction) this.handle.exec('ROLLBACK');
        throw err;
      }
    } finally {
      this.lock.openTransaction = undefined;
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
    await this.whenIdle(() => {
      if (!this.handle.open) return;
      this.handle.close();
      this.lock.handles -= 1;
      if (this.lock.handles === 0 && fileLocks.get(this.handle.name) === this.lock)
        fileLocks.delete(this.handle.name);
    });
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
