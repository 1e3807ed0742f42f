/**
 * For the clocks' integration tests: a real collector (startCollector, SQLite in a temp dir) on a
 * ManualClock, a sink that records what the clocks report, and a small JSON client for the API.
 */
import { createApiKey } from '../../collector/auth/api-keys.js';
import type { Role } from '../../collector/auth/roles.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import type { CollectorCondition, ConditionSink } from '../../collector/warnings/conditions.js';
import type { ManualClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';
import { testCollectorConfig } from '../support/collector-harness.js';

/** Records conditions as the warnings stage would receive them. */
export class RecordingSink implements ConditionSink {
  readonly conditions: CollectorCondition[] = [];
  async report(condition: CollectorCondition): Promise<void> {
    this.conditions.push(condition);
  }
  take(): CollectorCondition[] {
    return this.conditions.splice(0);
  }
}

export async function startClockCollector(
  dir: string,
  clock: ManualClock,
  sink: ConditionSink,
  overrides: Record<string, unknown> = {},
): Promise<RunningCollector> {
  const config = testCollectorConfig(dir, { unit: '一处', level: 'unit', ...overrides });
  return startCollector(config, { clock, logger: createLogger('test', 'silent'), conditionSink: sink });
}

/** Replies are checked with expect(), not by the type system. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface ApiReply<T = Json> {
  status: number;
  body: T;
}

export function apiClient(collector: RunningCollector) {
  return async function call<T = Json>(
    method: string,
    path: string,
    key?: string,
    body?: unknown,
  ): Promise<ApiReply<T>> {
    const headers: Record<string, string> = {};
    if (key) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${collector.httpUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
}

export async function keyFor(collector: RunningCollector, role: Role, unit?: string): Promise<string> {
  return createApiKey(collector.store, { name: `${role}-${unit ?? 'all'}`, role, unit });
}
