import { skewMs, type Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { CollectorIdentity } from '../identity.js';
import type { DeliveredEntry, HierarchyStore, ParentState } from '../store/hierarchy/hierarchy-store.js';
import { retryDelay } from './backoff.js';
import type { HierarchyMetrics } from './hierarchy-metrics.js';
import { MAX_BATCH_BYTES, type ParentConfig } from './hierarchy-config.js';
import {
  HIERARCHY_VERSION,
  MAX_BATCH_RECORDS,
  pullReplySchema,
  LINK_MAX_SKEW_MS,
  receiptSchema,
  sign,
  verifiedBy,
  type CollectorLevel,
  type RelayedNotice,
} from './messages.js';
import { ownReport } from './reports.js';

/**
 * The child's side of the link: the outbox goes up in signed batches over HTTPS POST, the
 * parent's signed receipt marks each record delivered with the parent's receipt time, then the
 * child pulls the notices it has not acknowledged. Every step is driven by the store, so a
 * crash or a parent away for days loses nothing: the next try sends what has no receipt yet.
 */
export interface ParentLinkDeps {
  store: HierarchyStore;
  identity: CollectorIdentity;
  clock: Clock;
  logger: Logger;
  unit: string;
  level: CollectorLevel;
  config: ParentConfig;
  /** Hook: records the parent has confirmed (e.g. a 第61条 hop closes with the receipt time). */
  onDelivered?: (entries: DeliveredEntry[], parent: ParentState) => Promise<void>;
  /** Hook: a notice or policy update newly received from the parent. */
  onNotice?: (notice: RelayedNotice) => Promise<void>;
  random?: () => number;
  metrics?: HierarchyMetrics;
}

export class LinkError extends Error {
  override readonly name = 'LinkError';
}

export interface LinkRound {
  sent: number;
  delivered: number;
  rejected: number;
  notices: number;
  /** A full batch went: send again without waiting. */
  more: boolean;
}

const BATCH = MAX_BATCH_RECORDS;
/** Room in a batch's body for its head and signature, beside the records. */
const BATCH_HEAD_BYTES = 4096;

/** The first entries whose records fit in `budget` bytes of JSON; always at least one. */
export function withinBytes<T extends { record: unknown }>(entries: T[], budget: number): T[] {
  let used = 0;
  const kept: T[] = [];
  for (const entry of entries) {
    used += Buffer.byteLength(JSON.stringify(entry.record)) + 1;
    if (kept.length > 0 && used > budget) break;
    kept.push(entry);
  }
  return kept;
}

export class ParentLink {
  private failures = 0;
  private stopped = false;
  private running: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pendingWake = false;

  constructor(private readonly deps: ParentLinkDeps) {}

  start(): void {
    this.running ??= this.loop();
  }

  /** Sends now instead of at the next interval (new reports are queued). */
  wake(): void {
    this.pendingWake = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { config, logger } = this.deps;
    while (!this.stopped) {
      let delay = config.interval;
      try {
        const round = await this.runOnce();
        // A receipt records the contact itself; a round of pulls alone records it here.
        if (round.sent === 0)
          await this.deps.store.recordParentContact(this.deps.clock.now().toISOString(), null);
        if (this.failures > 0) logger.info({ after: this.failures }, 'parent collector reachable again');
        this.failures = 0;
        if (round.more) delay = 0;
      } catch (err) {
        this.failures += 1;
        this.deps.metrics?.linkFailures.inc();
        delay = retryDelay(
          this.failures,
          { baseMs: Math.min(1000, config.interval), maxMs: config.retryMax },
          this.deps.random,
        );
        const message = (err as Error).message;
        await this.deps.store
          .recordParentContact(this.deps.clock.now().toISOString(), message)
          .catch(() => undefined);
        const log =
          this.failures === 1 || this.failures % 20 === 0
            ? logger.warn.bind(logger)
            : logger.debug.bind(logger);
        log(
          { failures: this.failures, retryInMs: delay, err: message },
          'cannot reach the parent collector; will retry',
        );
      }
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.pendingWake && this.failures === 0) {
      this.pendingWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(this.timer);
        this.wakeUp = undefined;
        this.pendingWake = false;
        resolve();
      };
      this.wakeUp = () => {
        // While the parent is failing, a wake does not cut the backoff short.
        if (this.stopped || this.failures === 0) done();
      };
      this.timer = setTimeout(done, ms);
    });
  }

  /** One round: send a batch, pull notices. Throws LinkError when the parent cannot be reached or answers wrongly. */
  async runOnce(): Promise<LinkRound> {
    const parent = await this.deps.store.getParent();
    if (!parent) return { sent: 0, delivered: 0, rejected: 0, notices: 0, more: false };
    const url = (this.deps.config.url ?? parent.url).replace(/\/+$/, '');
    const pushed = await this.push(url, parent);
    const notices = await this.pull(url, parent);
    return { ...pushed, notices, more: pushed.more || notices > 0 };
  }

  private async post(url: string, body: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.deps.config.timeout),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new LinkError(`POST ${url}: ${cause ?? (err as Error).message}`);
    }
    const text = await response.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new LinkError(`POST ${url}: ${response.status}, not JSON`);
    }
    if (response.status !== 200) {
      const error = (parsed as { error?: unknown }).error;
      throw new LinkError(`POST ${url}: ${response.status} ${typeof error === 'string' ? error : ''}`.trim());
    }
    return parsed;
  }

  /**
   * The parent's answer, if it is for this link, signed by the parent's recorded key, dated now
   * (within 15 min) and, for a receipt, about the batch just sent; otherwise a LinkError (the
   * round fails, the records stay queued) counted by reason. A forged, re-keyed or replayed
   * answer changes nothing here.
   */
  private trusted<T extends { child: string; parent: string; ts: string; alg: string; sig: string }>(
    schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } },
    answer: unknown,
    parent: ParentState,
    what: 'receipt' | 'notice list',
    batchSig?: string,
  ): T {
    const refuse = (reason: string, message: string): never => {
      this.deps.metrics?.parentAnswersRefused.inc({ reason });
      throw new LinkError(message);
    };
    const parsed = schema.safeParse(answer);
    if (!parsed.success)
      return refuse('malformed', `the parent answered with something that is not a ${what}`);
    const message = parsed.data;
    if (message.child !== this.deps.identity.id || message.parent !== parent.id)
      return refuse('wrong-link', `the ${what} is for another link (${message.parent} → ${message.child})`);
    if (!verifiedBy(message, parent.alg, parent.publicKey)) {
      return refuse(
        'bad-signature',
        `the ${what} does not verify with the key of parent ${parent.id}; was the parent re-keyed?`,
      );
    }
    const now = this.deps.clock.now();
    if (skewMs(message.ts, now) > LINK_MAX_SKEW_MS) {
      return refuse(
        'stale',
        `the ${what} is dated ${message.ts}, too far from this clock (${now.toISOString()})`,
      );
    }
    // An older parent sends no `batch`; a receipt that names one must name the batch just sent.
    const about = (message as { batch?: unknown }).batch;
    if (batchSig !== undefined && about !== undefined && about !== batchSig)
      return refuse('other-batch', `the ${what} answers another batch`);
    return message;
  }

  private async push(url: string, parent: ParentState): Promise<Omit<LinkRound, 'notices'>> {
    const { store, identity, clock } = this.deps;
    const pending = await store.pendingOutbox(BATCH);
    if (pending.length === 0) return { sent: 0, delivered: 0, rejected: 0, more: false };
    const entries = withinBytes(pending, MAX_BATCH_BYTES - BATCH_HEAD_BYTES);
    const now = clock.now().toISOString();
    await store.markAttempt(
      entries.map((e) => e.linkSeq),
      now,
    );
    const batch = sign(
      {
        v: HIERARCHY_VERSION,
        kind: 'smew.hierarchy.batch' as const,
        child: identity.id,
        parent: parent.id,
        ts: now,
        records: entries.map((e) => e.record),
      },
      identity,
    );
    this.deps.metrics?.sent.inc(entries.length);
    this.deps.metrics?.batches.inc();
    const answer = await this.post(`${url}/api/v1/hierarchy/reports`, batch);
    const receipt = this.trusted(receiptSchema, answer, parent, 'receipt', batch.sig);
    const sent = new Set(entries.map((e) => e.linkSeq));
    const refused = receipt.rejected.filter((r) => sent.has(r.linkSeq));
    const delivered = await store.applyReceipt(
      receipt.accepted.filter((a) => sent.has(a.linkSeq)),
      refused,
      clock.now().toISOString(),
    );
    this.deps.metrics?.delivered.inc(delivered.length);
    this.deps.metrics?.refusedByParent.inc(refused.length);
    for (const r of receipt.rejected) {
      this.deps.logger.error(
        { linkSeq: r.linkSeq, reason: r.reason },
        'the parent collector refused a report',
      );
    }
    if (delivered.length > 0 && this.deps.onDelivered) {
      await this.deps
        .onDelivered(delivered, parent)
        .catch((err: unknown) => this.deps.logger.error({ err }, 'a receipt hook failed'));
    }
    return {
      sent: entries.length,
      delivered: delivered.length,
      rejected: receipt.rejected.length,
      more: pending.length === BATCH || entries.length < pending.length,
    };
  }

  private async pull(url: string, parent: ParentState): Promise<number> {
    const { store, identity, clock, logger } = this.deps;
    const request = sign(
      {
        v: HIERARCHY_VERSION,
        kind: 'smew.hierarchy.pull' as const,
        child: identity.id,
        parent: parent.id,
        ts: clock.now().toISOString(),
      },
      identity,
    );
    const answer = await this.post(`${url}/api/v1/hierarchy/pull`, request);
    const reply = this.trusted(pullReplySchema, answer, parent, 'notice list');
    let added = 0;
    for (const relayed of reply.notices) {
      const { notice } = relayed;
      // The parent vouches for the issuer's key by signing the list; the notice must verify with it.
      if (!verifiedBy(notice, relayed.issuerAlg, relayed.issuerPublicKey)) {
        logger.error(
          { notice: notice.id, issuer: notice.issuer },
          'a notice from the parent does not verify; not acknowledged',
        );
        continue;
      }
      const at = clock.now().toISOString();
      const isNew = await store.addNotice(relayed, 'received', at, (seq) =>
        ownReport(this.deps, seq, at, 'notice.ack', `notice:${notice.id}`, {
          notice: notice.id,
          ackedAt: at,
        }),
      );
      if (isNew) {
        added += 1;
        logger.info(
          { notice: notice.id, type: notice.type, issuer: notice.issuerUnit },
          'received a notice from above',
        );
        await this.deps
          .onNotice?.(relayed)
          .catch((err: unknown) => logger.error({ err }, 'a notice hook failed'));
      }
    }
    return added;
  }
}
