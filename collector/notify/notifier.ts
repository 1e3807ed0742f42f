import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { NotificationRecord } from '../store/warnings/records.js';
import type { Store } from '../store/store.js';
import { silenceStatus } from '../warnings/silences.js';
import { renderWarning } from '../warnings/templates.js';
import { parseOccasionKey } from './occasion.js';
import { warningTerminal } from '../register/terminal-naming.js';
import type { NotifyConfig } from './config.js';
import type { Sender } from './sender.js';

/**
 * Delivers the notification outbox (the `notifications` rows the rules stage writes with each
 * new warning). The row stays pending until a channel confirms it, so a restart resumes what was
 * not delivered; retries back off exponentially. Silences are checked at delivery time and
 * mute the notification only: the warning and every legal clock go on regardless.
 */
export interface NotifierOptions {
  store: Store;
  senders: ReadonlyMap<string, Sender>;
  retry: NotifyConfig['retry'];
  clock: Clock;
  logger: Logger;
  /** The dashboard's page of a warning, when the collector knows its public URL. */
  link?: (warningId: string) => string;
  /** The collector's `level`: the e-mails cite 第34条 at a unit, 第64条 from a city up. */
  level?: string;
}

const BATCH = 32;

/** Names one notification across resends; a new warning keeps the key it had before occasions existed. */
function idempotencyKey(notification: NotificationRecord): string {
  const base = `smew-${notification.warningId}-${notification.channel}`;
  // Only atext, so it also makes a valid Message-ID: reraised:2026-…T07:00:00Z → reraised-2026-…T07-00-00Z.
  return notification.occasion === 'opened'
    ? base
    : `${base}-${notification.occasion.replace(/[^A-Za-z0-9.-]/g, '-')}`;
}

export class Notifier {
  private readonly log: Logger;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Aborted on stop, so a hanging receiver does not hold the collector up; the row stays pending. */
  private readonly abort = new AbortController();

  constructor(private readonly options: NotifierOptions) {
    this.log = options.logger.child({ component: 'notify' });
  }

  start(): void {
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort(new Error('collector stopping'));
    await this.running;
    for (const sender of this.options.senders.values()) sender.close?.();
  }

  /** Delivers what is due now; runs coalesce. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        for (;;) {
          if (this.stopped) return;
          const due = await this.options.store.warnings.dueNotifications(
            this.options.clock.now().toISOString(),
            BATCH,
          );
          await Promise.all(due.map((n) => this.deliver(n)));
          if (due.length < BATCH) break;
        }
      } catch (err) {
        this.log.error({ err }, 'notification pass failed');
      }
    } while (this.again && !this.stopped);
    // A failure here (the store out of connections) must not end the process: look again soon.
    await this.scheduleNext().catch((err: unknown) => {
      this.log.error({ err }, 'could not schedule the next notification; trying again in 5 s');
      if (this.stopped) return;
      this.timer = setTimeout(() => this.kick(), 5_000);
      this.timer.unref();
    });
  }

  private async scheduleNext(): Promise<void> {
    if (this.stopped) return;
    const next = await this.options.store.warnings.nextNotificationDue();
    if (this.timer) clearTimeout(this.timer);
    if (next === undefined) return;
    const delay = Math.max(0, Math.min(Date.parse(next) - this.options.clock.now().getTime(), 60_000));
    this.timer = setTimeout(() => this.kick(), delay);
    this.timer.unref();
  }

  private async deliver(notification: NotificationRecord): Promise<void> {
    const { store, senders, clock, retry } = this.options;
    const warnings = store.warnings;
    const now = clock.now();
    const warning = await warnings.getWarning(notification.warningId);
    const sender = senders.get(notification.channel);
    if (!warning || !sender) {
      const error = !warning
        ? 'the warning is gone'
        : `no channel ${notification.channel} in notify.channels`;
      await warnings.finishNotification(notification.id, {
        state: 'retry',
        error,
        nextAttemptAt: null,
        at: now.toISOString(),
      });
      this.log.warn({ notification: notification.id, error }, 'notification given up');
      return;
    }
    const silences = await warnings.listSilences({ activeAt: now.toISOString(), limit: 1000 });
    const { mutedBy, awaitingApproval } = silenceStatus(warning, silences, now);
    if (mutedBy) {
      await warnings.finishNotification(notification.id, {
        state: 'muted',
        silenceId: mutedBy.id,
        at: now.toISOString(),
      });
      return;
    }
    if (awaitingApproval.length > 0) {
      this.log.info(
        { warning: warning.id, silences: awaitingApproval.map((s) => s.id) },
        'a silence matches but needs a second approver for this warning: notifying',
      );
    }
    const rendered = renderWarning(warning, {
      terminal: await warningTerminal(this.options.store, warning),
      channel: sender.channel,
      lang: sender.lang,
      occasion: parseOccasionKey(notification.occasion),
      ...(this.options.level && { collectorLevel: this.options.level }),
      ...(this.options.link && { link: this.options.link(warning.id) }),
    });
    try {
      await sender.send({ rendered, idempotencyKey: idempotencyKey(notification) }, this.abort.signal);
      await warnings.finishNotification(notification.id, { state: 'sent', at: clock.now().toISOString() });
    } catch (err) {
      if (this.stopped) return; // Still pending: the next start sends it.
      const attempts = notification.attempts + 1;
      const delay = Math.min(retry.maxDelay, retry.initialDelay * 2 ** (attempts - 1));
      const giveUp = attempts >= retry.maxAttempts;
      const error = (err as Error).message ?? String(err);
      await warnings.finishNotification(notification.id, {
        state: 'retry',
        error,
        nextAttemptAt: giveUp ? null : new Date(clock.now().getTime() + delay).toISOString(),
        at: clock.now().toISOString(),
      });
      this.log.warn(
        { warning: warning.id, channel: notification.channel, attempts, error, giveUp },
        giveUp ? 'notification failed for good' : 'notification failed; will retry',
      );
    }
  }
}
