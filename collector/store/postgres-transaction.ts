import type pg from 'pg';
import { PostgresDatabase, type PostgresTransaction } from './sql/database.js';

/** Runs `work` on one pooled connection inside BEGIN … COMMIT, rolling back when it throws. */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return new PostgresDatabase(pool).transaction((tx) => work((tx as PostgresTransaction).client));
}
