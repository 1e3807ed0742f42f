import { systemClock, type Clock } from '../shared/clock.js';
import { UserError, isUserError } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/log.js';
import type { AgentConfig } from './config.js';
import { enrollAgent } from './enroll.js';
import { loadIdentity } from './identity.js';

export interface FirstStartOptions {
  /** Resolves when the agent is asked to stop; waiting for the collector ends then. */
  stopped: Promise<unknown>;
  clock?: Clock;
  logger?: Logger;
  /** First wait after an unreachable collector, doubled up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

/**
 * Enrollment on first start, for hosts installed with a token in their config (the package's
 * preseed, `enroll.token`): an agent without an identity enrolls before it runs. A collector that
 * cannot be reached yet (network not up, collector installed later) is retried with backoff; a
 * refused token is a user's mistake and stops the agent with the collector's reason.
 *
 * Returns true when the agent is enrolled and may start, false when it was asked to stop first.
 */
export async function enrollOnFirstStart(config: AgentConfig, options: FirstStartOptions): Promise<boolean> {
  const dir = config.identity.dir;
  const token = config.enroll.token;
  try {
    loadIdentity(dir);
    return true;
  } catch (err) {
    // Without a token, "not enrolled" is the answer (it says to run smew agent enroll).
    if (!isUserError(err) || token === undefined) throw err;
  }
  const logger = options.logger ?? createLogger('agent');
  const clock = options.clock ?? systemClock;
  const maxRetryMs = options.maxRetryMs ?? 300_000;
  let delay = options.retryMs ?? 1_000;
  for (;;) {
    try {
      const { identity } = await enrollAgent({
        dir,
        collectorUrl: config.collector.url,
        token,
        clock,
        trust: { caFile: config.collector.ca },
      });
      logger.info(
        { agent: identity.agentId, unit: identity.unit, collector: identity.collectorUrl },
        'enrolled on first start with enroll.token',
      );
      return true;
    } catch (err) {
      if (!isTransient(err)) {
        throw new UserError(`enroll.token: first-start enrollment failed: ${(err as Error).message}`);
      }
      logger.warn({ reason: (err as Error).message, retryInMs: delay }, 'cannot enroll yet; will retry');
    }
    if (await stoppedWithin(delay, options.stopped)) return false;
    delay = Math.min(delay * 2, maxRetryMs);
  }
}

/** Unreachable or busy collector: worth waiting for. Anything else (a refused token) is not. */
function isTransient(err: unknown): boolean {
  return isUserError(err) && /^cannot reach the collector|\(HTTP (5\d\d|429)\)/.test(err.message);
}

function stoppedWithin(ms: number, stopped: Promise<unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void stopped.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
