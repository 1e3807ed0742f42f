import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import type { BrokerAccess } from './broker/broker-access.js';
import type { EmbeddedBroker } from './broker/embedded-broker.js';
import type { Store } from './store/store.js';
import type { CollectorContext, Subsystem } from './subsystem.js';

/**
 * Revoking an agent (issue 4): the store marks it revoked (its later messages are quarantined
 * with reason `revoked`, its broker credentials stop working, no enrollment token revives it),
 * and a running collector disconnects it from the embedded broker at once. Revocation from the
 * API does that in-process; `smew agents revoke` writes the store directly (it works with the
 * collector stopped), and a running collector's RevocationWatcher finds it within `intervalMs`.
 */
export type RevokeOutcome = 'revoked' | 'already-revoked' | 'unknown';

export async function revokeAgent(store: Store, agentId: string, at: string): Promise<RevokeOutcome> {
  if (await store.revokeAgent(agentId, at)) return 'revoked';
  return (await store.getAgent(agentId)) ? 'already-revoked' : 'unknown';
}

export interface RevocationWatcherOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Drops any cached credential and live connection of the agent. */
  enforce(agentId: string): void;
  /** An admin approved a pending agent (enroll.approval: manual), maybe from another process. */
  onApproved?(agentId: string): void;
  intervalMs: number;
}

export class RevocationWatcher {
  private timer: NodeJS.Timeout | undefined;
  private since: string;
  private approvalsSince: string;
  /** Decisions at exactly approvalsSince already handled (the store lists "at or after"). */
  private approvalsSeen = new Set<string>();
  private polling: Promise<void> = Promise.resolve();

  constructor(private readonly options: RevocationWatcherOptions) {
    this.since = options.clock.now().toISOString();
    this.approvalsSince = this.since;
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }

  /** Enforces every revocation and approval made since the last poll (by any process sharing the store). */
  poll(): Promise<void> {
    this.polling = this.polling.then(async () => {
      try {
        const revoked = await this.options.store.transport.listRevokedSince(this.since);
        for (const { agentId, revokedAt } of revoked) {
          this.options.enforce(agentId);
          if (revokedAt > this.since) this.since = revokedAt;
        }
        const approvals = this.options.onApproved ? this.options.store.approvals : undefined;
        for (const decision of (await approvals?.listDecidedSince(this.approvalsSince)) ?? []) {
          const at = decision.decidedAt!;
          if (at === this.approvalsSince && this.approvalsSeen.has(decision.agentId)) continue;
          if (at > this.approvalsSince) {
            this.approvalsSince = at;
            this.approvalsSeen = new Set();
          }
          this.approvalsSeen.add(decision.agentId);
          if (decision.state === 'approved') this.options.onApproved!(decision.agentId);
        }
      } catch (err) {
        this.options.logger.error({ err }, 'could not read revocations; retrying at the next poll');
      }
    });
    return this.polling;
  }
}

/** How a revocation or an approval reaches the broker at once. */
export interface RevocationEnforcement {
  watcher: RevocationWatcher;
  /** Cuts the agent off the embedded broker and takes it out of an external broker's files. */
  revoked(agentId: string): void;
  /** An approved agent gets its Mosquitto login (the embedded broker never cached the pending one). */
  approved(agentId: string): void;
}

/**
 * Revocations and approvals from the API, and from other processes through the watcher, whose
 * polls start once the HTTP API listens.
 */
export function revocationSubsystem(
  context: CollectorContext,
  options: { intervalMs: number; embedded: EmbeddedBroker | undefined; access: BrokerAccess },
): Subsystem<RevocationEnforcement> {
  const { embedded, access } = options;
  return {
    name: 'revocation',
    start() {
      const revoked = (agentId: string) => {
        embedded?.disconnect(agentId);
        access.resync();
      };
      const approved = () => access.resync();
      const watcher = new RevocationWatcher({
        ...context,
        enforce: revoked,
        onApproved: approved,
        intervalMs: options.intervalMs,
      });
      return { watcher, revoked, approved };
    },
  };
}
