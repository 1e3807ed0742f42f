import type { CollectorContext, Subsystem } from '../subsystem.js';
import type { ConditionSink } from '../warnings/conditions.js';
import { clockOptionsFromConfig, type ClockConfig } from './clock-config.js';
import { ClockScheduler } from './scheduler.js';

/**
 * The legal clocks' scheduler (第35条, 第61条). Made early, since the hierarchy and the API
 * record through it; its passes start once the HTTP API listens (StartedSubsystems.run).
 */
export function clocksSubsystem(
  context: CollectorContext,
  config: ClockConfig,
  sink: ConditionSink,
): Subsystem<{ scheduler: ClockScheduler }> {
  return {
    name: 'clocks',
    start: () => ({
      scheduler: new ClockScheduler({
        store: context.store.clocks,
        rectifications: context.store.rectifications,
        clock: context.clock,
        logger: context.logger,
        sink,
        options: clockOptionsFromConfig(config),
        lateAfterMs: config.lateAfter,
        leaseMs: config.lease,
      }),
    }),
  };
}
