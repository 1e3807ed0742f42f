/**
 * The collector's HTTP API on its own (no broker, no ingest) over a real SQLite store and
 * collector identity under `dir`, for tests of its routes through `inject` or a loopback socket.
 */
import { join } from 'node:path';
import { buildApi, type ApiDeps } from '../../collector/api/app.js';
import { loadOrCreateCollectorIdentity } from '../../collector/identity.js';
import { CollectorMetrics } from '../../collector/metrics.js';
import { openSqliteStore, type SqliteStore } from '../../collector/store/sqlite-store.js';
import type { Clock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';

export type TestApi = Awaited<ReturnType<typeof buildApi>>;

export interface ApiFixtureOptions extends Pick<ApiDeps, 'live' | 'dashboardDir'> {
  /** Enrollment's clock (token expiry, login throttle). */
  clock: Clock;
  /** The broker address enrollment replies with. */
  brokerUrl?: string;
  onCredentialsChanged?: (agentId: string) => void;
  /** Serve the 第64条 warning routes too, on this store and clock. */
  warnings?: boolean;
}

export async function openApiFixture(
  dir: string,
  options: ApiFixtureOptions,
): Promise<{ store: SqliteStore; api: TestApi }> {
  const store = openSqliteStore(join(dir, 'smew.db'));
  const identity = loadOrCreateCollectorIdentity(join(dir, 'identity'));
  const metrics = new CollectorMetrics(store);
  const logger = createLogger('test', 'silent');
  const api = await buildApi({
    store,
    metrics,
    logger,
    collectorId: identity.id,
    live: options.live,
    dashboardDir: options.dashboardDir,
    ...(options.warnings && { warnings: { store, clock: options.clock } }),
    enrollment: {
      store,
      identity,
      clock: options.clock,
      metrics,
      logger,
      brokerUrls: [options.brokerUrl ?? 'mqtt://x:1883'],
      maxSkewMs: 300_000,
      onCredentialsChanged: options.onCredentialsChanged ?? (() => {}),
    },
  });
  return { store, api };
}
