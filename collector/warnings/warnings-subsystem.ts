import type { Notifier } from '../notify/notifier.js';
import type { NotifyRoute } from '../notify/occasion.js';
import type { Rule } from '../rules/schema.js';
import type { CollectorContext, Stoppable, Subsystem } from '../subsystem.js';
import { WarningStage } from './stage.js';

/** The 第64条 rules stage; its startup pass and polls start once the HTTP API listens. */
export function warningsSubsystem(
  context: CollectorContext,
  options: { rules: readonly Rule[]; notify: NotifyRoute; notifier: Notifier },
): Subsystem<{ warnings: WarningStage } & Stoppable> {
  const { notifier } = options;
  return {
    name: 'warnings',
    start() {
      const warnings = new WarningStage({
        store: context.store,
        rules: options.rules,
        clock: context.clock,
        logger: context.logger,
        notify: options.notify,
        onChange: () => notifier.kick(),
      });
      return { warnings, stop: () => warnings.stop() };
    },
  };
}
