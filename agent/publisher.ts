import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Clock } from '../shared/clock.js';
import type { SignatureAlg, Signer } from '../shared/crypto/suite.js';
import {
  ENVELOPE_VERSION,
  MAX_BATCH_EVENTS,
  signEventBatch,
  signMessage,
  type Heartbeat,
} from '../shared/envelope.js';
import type { Logger } from '../shared/log.js';
import { agentTopic } from '../shared/topics.js';
import { certificateRefusal, explainCertificateRefusal } from '../shared/tls.js';
import type { AckOutcome, Outbox, OutboxRow } from './outbox.js';

/**
 * Carries the outbox to the broker (SPEC §5): persistent session under the agent's id, QoS 1,
 * `online`/`offline` (Last Will) retained on the status topic, signed heartbeats, and the
 * collector's acks and policies in. It never decides what is delivered — only the collector's
 * signed ack removes an event from the outbox — so anything lost in flight is simply sent again.
 */
export interface PublisherOptions {
  agentId: string;
  alg: SignatureAlg;
  sign: Signer;
  /**
   * The brokers to use (enrollment's `broker.urls`): the agent starts at a random one, so a site's
   * agents spread over its nodes, and moves to the next when a connection fails or drops.
   */
  brokerUrls: readonly string[];
  username: string;
  password: string;
  outbox: Outbox;
  clock: Clock;
  logger: Logger;
  /** Unacknowledged events are sent again after this long. */
  ackTimeoutMs: number;
  heartbeatIntervalMs: number;
  backoff?: BackoffPolicy;
  /** How fast a backlog goes out; unlimited when absent. */
  drain?: DrainPolicy;
  /**
   * At most this many due events go in one signed batch message (outbox.batch); 1 sends each
   * alone. A single due event always goes alone, so batching only shapes a backlog.
   */
  batchEvents?: number;
  /** A message arrived on our policy topic (not yet checked). */
  onPolicyMessage?(payload: Buffer): void;
  onAck?(outcome: AckOutcome): void;
  /** Defaults to Math.random; tests pin the jitter. */
  random?: () => number;
  /** collector.ca for an mqtts:// broker: its PEM bytes and file (else the system's CAs). */
  trust?: { ca: Buffer; caFile: string };
}

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export interface DrainPolicy {
  /** Events per second, averaged; bursts up to one second's worth. */
  ratePerSec: number;
  /** After a (re)connect with a backlog, sending starts after a random delay up to this. */
  jitterMs: number;
}

/**
 * A token bucket: `ratePerSec` tokens a second, holding at most one second's worth, so a
 * returning agent sends its backlog at a steady rate instead of all at once.
 */
export class DrainBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly ratePerSec: number,
    nowMs: number,
  ) {
    this.tokens = this.capacity;
    this.refilledAt = nowMs;
  }

  get capacity(): number {
    return Math.max(1, this.ratePerSec);
  }

  /** Whole tokens available now. */
  available(nowMs: number): number {
    this.tokens = Math.min(this.capacity, this.tokens + ((nowMs - this.refilledAt) / 1000) * this.ratePerSec);
    this.refilledAt = nowMs;
    return Math.floor(this.tokens);
  }

  take(count: number): void {
    this.tokens -= count;
  }

  /** Milliseconds until `count` whole tokens are available (at most the capacity). */
  msUntil(count: number): number {
    const wanted = Math.min(count, Math.floor(this.capacity)) - this.tokens;
    return Math.max(1, Math.ceil((wanted / this.ratePerSec) * 1000));
  }
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000 };
/** A connection that lasted this long was a real one: the next failure starts the backoff afresh. */
const STABLE_CONNECTION_MS = 10_000;
/** Events handed to the MQTT client and not yet PUBACKed, so a long backlog does not all sit in memory. */
const MAX_IN_FLIGHT = 100;
/** Escaped event text per batch message: under MAX_ENVELOPE_BYTES (64 KiB) with room for the batch's own fields. */
const BATCH_BYTES = 60 * 1024;

/**
 * Exponential backoff with "equal jitter": half the window fixed, half random. Many agents that
 * lost one broker then come back spread out instead of knocking at the same instant. With several
 * brokers, `attempt` counts whole rounds over the list: the first try at each other node comes
 * after the shortest window, so losing one node costs well under a second.
 */
export function reconnectDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const window = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(window / 2 + random() * (window / 2));
}

export class Publisher {
  private client: MqttClient | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private resendTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  /** Index into brokerUrls of the broker in use or tried next. */
  private brokerIndex: number;
  private connectedAt: number | undefined;
  /** Wall-clock ms of the broker's last PUBACK (or of the connection): see flush(). */
  private confirmedAt = 0;
  /** Wall-clock ms since when sent events wait for an ack that makes progress; undefined: none wait. */
  private waitingSince: number | undefined;
  /** Bumped per connection, so a late callback from a dead connection cannot touch the count. */
  private connection = 0;
  private inFlight = 0;
  private stopping = false;
  private readonly bucket: DrainBucket | undefined;
  /** Wall-clock ms before which a backlog is not sent (the jitter after a reconnect). */
  private drainNotBefore = 0;
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PublisherOptions) {
    if (options.brokerUrls.length === 0) throw new Error('Publisher needs at least one broker URL');
    const brokers = options.brokerUrls.length;
    this.brokerIndex = Math.min(brokers - 1, Math.floor((options.random ?? Math.random)() * brokers));
    if (options.drain) this.bucket = new DrainBucket(options.drain.ratePerSec, Date.now());
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** The broker in use (or tried next). */
  get brokerUrl(): string {
    return this.options.brokerUrls[this.brokerIndex]!;
  }

  start(): void {
    this.stopping = false;
    this.openConnection();
    const resendEvery = Math.max(100, Math.min(this.options.ackTimeoutMs / 4, 5_000));
    this.resendTimer = setInterval(() => this.flush(), resendEvery);
    this.heartbeatTimer = setInterval(() => this.sendHeartbeat(), this.options.heartbeatIntervalMs);
  }

  /** Hands every due outbox row (new, or unacknowledged past the timeout) to the broker client. */
  flush(): void {
    const client = this.client;
    if (client?.connected && this.inFlight > 0 && Date.now() - this.confirmedAt > this.options.ackTimeoutMs) {
      // A broker that takes messages but confirms none for a whole ack timeout (a cluster node
      // that lost its storage quorum) is as good as gone: try the next one.
      this.options.logger.warn(
        { broker: this.brokerUrl, unconfirmed: this.inFlight },
        'the broker confirmed nothing for ack.timeout; reconnecting',
      );
      client.stream?.destroy();
      return;
    }
    if (
      client?.connected &&
      this.waitingSince !== undefined &&
      Date.now() - Math.max(this.waitingSince, this.connectedAt ?? 0) > 3 * this.options.ackTimeoutMs
    ) {
      // Events resent for several ack timeouts and no ack at all: our ack subscription may have
      // died with a cluster node that held it while our connection lives on another. Subscribing
      // again on a fresh connection brings the retained ack back.
      this.options.logger.warn({ broker: this.brokerUrl }, 'no ack for three ack timeouts; reconnecting');
      client.stream?.destroy();
      return;
    }
    if (!client?.connected || this.inFlight >= MAX_IN_FLIGHT) return;
    // The rate limit runs on wall time (timers), the ack timeout on the agent's clock.
    const wallNow = Date.now();
    if (wallNow < this.drainNotBefore) return this.flushLater(this.drainNotBefore - wallNow);
    let window = MAX_IN_FLIGHT - this.inFlight;
    if (this.bucket) {
      window = Math.min(window, this.bucket.available(wallNow));
      if (window === 0) return this.flushLater(this.bucket.msUntil(this.drainChunk()));
    }
    const now = this.options.clock.now().getTime();
    const rows = this.options.outbox.dueForSending(now, this.options.ackTimeoutMs, window);
    if (rows.length === 0) return;
    this.bucket?.take(rows.length);
    const connection = this.connection;
    const topic = agentTopic(this.options.agentId, 'events');
    for (const message of this.messagesFor(rows)) {
      this.inFlight += message.events;
      client.publish(topic, message.payload, { qos: 1 }, (err) => {
        if (connection !== this.connection) return;
        this.inFlight -= message.events;
        if (!err) this.confirmedAt = Date.now();
        if (err) {
          this.options.logger.debug(
            { err, seq: message.firstSeq },
            'publish not confirmed; it will be sent again',
          );
        } else if (this.inFlight === 0) {
          // A backlog larger than one window goes out as soon as the window drains.
          this.flush();
        }
      });
    }
    this.options.outbox.markSent(
      rows.map((row) => row.seq),
      now,
    );
    this.waitingSince ??= wallNow;
    this.options.logger.debug({ from: rows[0]!.seq, to: rows.at(-1)!.seq }, 'sent events');
    // A rate-limited backlog goes on when a whole batch's worth of tokens is there, not token by
    // token: one signed message per batch instead of one per event.
    if (this.bucket && rows.length === window) this.flushLater(this.bucket.msUntil(this.drainChunk()));
  }

  /**
   * The messages that carry `rows`: each alone, or, for a backlog, signed batches of up to
   * `batchEvents` (SPEC §5 batches: the collector checks one signature per batch, and every event
   * keeps its own). A batch stays under BATCH_BYTES, well inside the collector's size limit.
   */
  private messagesFor(rows: readonly OutboxRow[]): { payload: string; events: number; firstSeq: number }[] {
    const most = this.drainChunk();
    if (rows.length < 2 || most < 2) {
      return rows.map((row) => ({ payload: row.payload, events: 1, firstSeq: row.seq }));
    }
    const groups: OutboxRow[][] = [];
    let bytes = 0;
    for (const row of rows) {
      // As it will travel: escaped inside the batch, in UTF-8.
      const size = Buffer.byteLength(JSON.stringify(row.payload)) + 1;
      const last = groups.at(-1);
      if (last && last.length < most && bytes + size <= BATCH_BYTES) {
        last.push(row);
        bytes += size;
      } else {
        groups.push([row]);
        bytes = size;
      }
    }
    const { agentId, alg, sign } = this.options;
    return groups.map((group) => ({
      payload:
        group.length === 1
          ? group[0]!.payload
          : JSON.stringify(
              signEventBatch({ agent: agentId, alg, events: group.map((r) => r.payload) }, sign),
            ),
      events: group.length,
      firstSeq: group[0]!.seq,
    }));
  }

  /** Events per message while draining a backlog. */
  private drainChunk(): number {
    return Math.max(1, Math.min(this.options.batchEvents ?? MAX_BATCH_EVENTS, MAX_BATCH_EVENTS));
  }

  /** One pending flush at a time; it runs when the rate limit or the jitter allows. */
  private flushLater(ms: number): void {
    if (this.drainTimer || this.stopping) return;
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined;
      this.flush();
    }, ms);
  }

  /**
   * Stops within about `graceMs`: sends what is due, waits for the broker to take it, marks the
   * agent offline and disconnects. Whatever did not make it stays in the outbox for next time.
   */
  async stop(graceMs = 2_000): Promise<void> {
    this.stopping = true;
    clearInterval(this.resendTimer);
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    this.drainNotBefore = 0;
    const client = this.client;
    if (!client) return;
    const statusTopic = agentTopic(this.options.agentId, 'status');
    const deadline = Date.now() + graceMs;
    if (client.connected) {
      this.flush();
      while (this.inFlight > 0 && client.connected && Date.now() < deadline) await sleep(20);
    }
    // The connection may have dropped while we waited; then the Last Will says offline instead.
    if (client.connected) {
      await withTimeout(
        new Promise<void>((resolve) => {
          try {
            client.publish(statusTopic, 'offline', { qos: 1, retain: true }, () => resolve());
          } catch {
            resolve();
          }
        }),
        Math.max(0, deadline - Date.now()),
      );
    }
    this.client = undefined;
    this.connection += 1;
    const ended = await withTimeout(
      client.endAsync(!client.connected).then(
        () => true,
        () => true,
      ),
      Math.max(100, deadline - Date.now()),
    );
    // A broker that never answered the DISCONNECT must not keep the process alive.
    if (ended !== true) client.stream?.destroy();
  }

  private openConnection(): void {
    const { agentId, username, password, logger } = this.options;
    const brokerUrl = this.brokerUrl;
    const statusTopic = agentTopic(agentId, 'status');
    const clientOptions: IClientOptions = {
      clientId: agentId,
      clean: false,
      username,
      password,
      protocolVersion: 4,
      keepalive: 30,
      connectTimeout: 10_000,
      // We reconnect ourselves, with backoff and jitter, through a fresh client each time.
      reconnectPeriod: 0,
      resubscribe: false,
      // mqtt-packet would otherwise build a cache of 65 536 two-byte Buffers (~7 MB of heap, kept
      // for the process's life) to save an allocation per packet id; the agent sends a few a minute.
      writeCache: false,
      will: { topic: statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
      // mqtts:// verifies the broker's certificate, never otherwise.
      rejectUnauthorized: true,
      ...(this.options.trust ? { ca: this.options.trust.ca } : {}),
    };
    const client = connect(brokerUrl, clientOptions);
    this.client = client;
    this.connection += 1;
    this.inFlight = 0;
    let closed = false;

    client.on('connect', (connack) => {
      this.connectedAt = Date.now();
      this.confirmedAt = this.connectedAt;
      logger.info({ broker: brokerUrl, sessionPresent: connack.sessionPresent }, 'connected to the broker');
      client.publish(statusTopic, 'online', { qos: 1, retain: true });
      client.subscribe(
        [agentTopic(agentId, 'ack'), agentTopic(agentId, 'policy')],
        { qos: 1 },
        (err, granted) => {
          const refused = err !== null || (granted ?? []).some((g) => g.qos === 128);
          if (!refused || this.client !== client) return;
          // Without our ack topic the outbox never drains: drop this connection and try the next broker
          // (a cluster node may refuse while it elects the leader of its session store).
          logger.warn(
            { err: err?.message, broker: brokerUrl },
            'could not subscribe to our ack and policy topics; reconnecting',
          );
          client.stream?.destroy();
        },
      );
      // Anything in flight before may have died with the old connection or the broker's queue.
      this.options.outbox.markAllUnsent();
      // A backlog larger than one second's worth waits a random while first, so agents that
      // come back together after an outage spread out.
      const drain = this.options.drain;
      if (drain && this.bucket && this.options.outbox.pendingCount() > this.bucket.capacity) {
        this.drainNotBefore =
          Date.now() + Math.round((this.options.random ?? Math.random)() * drain.jitterMs);
      }
      this.flush();
      this.sendHeartbeat();
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => {
      const refusal = certificateRefusal(err);
      if (refusal) {
        // Not a passing network fault: nothing will be sent until the CA or the certificate is fixed.
        logger.error(
          { code: refusal, broker: brokerUrl },
          explainCertificateRefusal(`broker ${brokerUrl}`, refusal, {
            key: 'collector.ca',
            file: this.options.trust?.caFile,
          }),
        );
        return;
      }
      logger.warn({ err: err.message, broker: brokerUrl }, 'broker connection error');
    });
    client.on('close', () => {
      if (closed || this.client !== client) return;
      closed = true;
      client.end(true);
      if (this.stopping) return;
      if (this.connectedAt !== undefined && Date.now() - this.connectedAt >= STABLE_CONNECTION_MS)
        this.attempt = 0;
      this.connectedAt = undefined;
      // Next broker in the list: a dead node is not tried again until the others have been.
      const brokers = this.options.brokerUrls.length;
      this.brokerIndex = (this.brokerIndex + 1) % brokers;
      const delay = reconnectDelay(
        Math.floor(this.attempt / brokers),
        this.options.backoff ?? DEFAULT_BACKOFF,
        this.options.random,
      );
      this.attempt += 1;
      logger.info(
        { broker: brokerUrl, next: this.brokerUrl, inMs: delay, attempt: this.attempt },
        'disconnected; reconnecting',
      );
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        if (!this.stopping) this.openConnection();
      }, delay);
    });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const { agentId, outbox, logger } = this.options;
    if (topic === agentTopic(agentId, 'ack')) {
      const outcome = outbox.acceptAck(payload);
      if (outcome.accepted && outcome.removed > 0) {
        this.waitingSince = outbox.pendingCount() > 0 ? Date.now() : undefined;
      }
      if (!outcome.accepted) {
        logger.warn({ reason: outcome.reason }, 'ignored a message on our ack topic');
      } else if (outcome.advancedSeq) {
        logger.warn(
          { ack: outcome.ack },
          'the collector holds seqs beyond ours; numbering continues after them',
        );
      } else {
        logger.debug({ ack: outcome.ack, removed: outcome.removed }, 'acknowledged');
      }
      this.options.onAck?.(outcome);
    } else if (topic === agentTopic(agentId, 'policy')) {
      this.options.onPolicyMessage?.(payload);
    }
  }

  private sendHeartbeat(): void {
    const client = this.client;
    if (!client?.connected) return;
    const heartbeat: Heartbeat = signMessage(
      {
        v: ENVELOPE_VERSION,
        agent: this.options.agentId,
        ts: this.options.clock.now().toISOString(),
        type: 'agent.heartbeat' as const,
        lastSeq: this.options.outbox.lastSeq(),
        // The collector counts missed heartbeats against this (SPEC §5 liveness).
        intervalMs: this.options.heartbeatIntervalMs,
        alg: this.options.alg,
      },
      this.options.sign,
    );
    // QoS 0: a lost heartbeat is replaced by the next one; queuing stale ones helps nobody.
    client.publish(agentTopic(this.options.agentId, 'heartbeat'), JSON.stringify(heartbeat), { qos: 0 });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The promise's value, or undefined when it has not settled within `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
