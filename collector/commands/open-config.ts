import { optionalString, type ParsedArgs } from '../../shared/cli.js';
import { loadCollectorConfig, type CollectorConfig } from '../config.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';

/**
 * What the data commands (`token`, `apikey`, `user`) share: the collector's `--config`, and its
 * store opened directly, so they work whether or not the collector is running.
 */
export function readConfig(args: ParsedArgs): CollectorConfig {
  return loadCollectorConfig(optionalString(args, 'config'));
}

export async function withStore<T>(config: CollectorConfig, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(config.store.url);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

export const CONFIG_OPTION = { config: { type: 'string' } } as const;
