import type { CollectorContext, Stoppable, Subsystem } from '../subsystem.js';
import type { NotifyConfig } from './config.js';
import { Notifier } from './notifier.js';
import { senderFor } from './sender.js';

/** Delivery of the notification outbox; its first round starts once the HTTP API listens. */
export function notifySubsystem(
  context: CollectorContext,
  config: NotifyConfig,
  level: string,
): Subsystem<{ notifier: Notifier } & Stoppable> {
  return {
    name: 'notify',
    start() {
      const notifier = new Notifier({
        store: context.store,
        senders: new Map(config.channels.map((channel) => [channel.name, senderFor(channel)])),
        retry: config.retry,
        clock: context.clock,
        logger: context.logger,
        level,
      });
      return { notifier, stop: () => notifier.stop() };
    },
  };
}
