import {
  AckPolicy,
  connect,
  DeliverPolicy,
  DiscardPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type Consumer,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import { UserError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { natsSubjectOfTopic, topicOfNatsSubject } from '../../shared/topics.js';
import type { NatsConfig } from '../broker/nats-access.js';
import type { IngestOutcome, IngestPipeline } from './pipeline.js';
import { INGEST_TOPICS, IngestFeed } from './subscription.js';

/**
 * Ingest from a NATS JetStream cluster (broker.kind: nats, docs/nats.md). The agents' MQTT
 * messages land, through each node's MQTT gateway, on subjects a work-queue stream keeps on
 * `replicas` nodes; every collector of the site pulls from the same durable consumer, so each
 * message goes to one collector, and one that dies before acknowledging has it redelivered to
 * another after `ackWait`. A message is acknowledged to JetStream only once handled — for an event,
 * once stored; a pipeline failure asks for redelivery at once.
 */
export const INGEST_SUBJECTS = INGEST_TOPICS.map(natsSubjectOfTopic);
const PULL_EXPIRES_MS = 2_000;

export interface NatsIngestOptions {
  config: NatsConfig;
  username?: string;
  password?: string;
  /** The client's name as the servers show it. */
  name: string;
  pipeline: IngestPipeline;
  logger: Logger;
  maxInFlight: number;
  /** How long to wait for the cluster and its JetStream at start; default 60 s. */
  readyTimeoutMs?: number;
}

export interface NatsIngest {
  connection: NatsConnection;
  close(): Promise<void>;
}

export async function consumeNatsIngest(options: NatsIngestOptions): Promise<NatsIngest> {
  const { config, logger, maxInFlight } = options;
  const log = logger.child({ component: 'nats' });
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: config.servers,
      name: options.name,
      ...(options.username ? { user: options.username, pass: options.password ?? '' } : {}),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 250,
      timeout: 10_000,
    });
  } catch (err) {
    throw new UserError(
      `broker.nats.servers: cannot connect to NATS at ${config.servers.join(', ')}: ${(err as Error).message}; ` +
        'check that the cluster runs and that broker.username and broker.password are its collector login',
    );
  }
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnect') {
        log.warn({ status: status.type, server: status.data }, 'NATS connection changed');
      }
    }
  })();
  try {
    await ensureStreamAndConsumer(await nc.jetstreamManager({ checkAPI: false }), options, log);
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw err;
  }

  const feed = new IngestFeed(options.pipeline, logger, maxInFlight);
  const slots = new Slots(maxInFlight);
  let closing = false;
  let stopCurrent: (() => void) | undefined;
  const loop = (async () => {
    let consumer: Consumer | undefined;
    while (!closing) {
      try {
        consumer ??= await nc.jetstream().consumers.get(config.stream, config.consumer);
        // One short pull at a time, for no more messages than the pipeline has room for: a message
        // is never held here unhandled (where its ack_wait would run out and JetStream deliver it
        // again, to a collector already behind), and no pull outlives a consumer leader that died
        // (consume() keeps counting on the requests it sent to the dead leader and stops pulling).
        const room = await slots.free();
        if (closing) break;
        const batch = await consumer.fetch({ max_messages: room, expires: PULL_EXPIRES_MS });
        stopCurrent = () => void batch.close();
        for await (const message of batch) {
          slots.take();
          void feed
            .take(topicOfNatsSubject(message.subject), Buffer.from(message.data), () => undefined)
            .then((outcome) => {
              settle(message, outcome);
              slots.release();
            });
          if (closing) break;
        }
      } catch (err) {
        if (closing) break;
        consumer = undefined;
        log.warn({ err: (err as Error).message }, 'NATS consumer interrupted; pulling again');
        await sleep(500);
      }
    }
  })();

  return {
    connection: nc,
    async close() {
      closing = true;
      stopCurrent?.();
      slots.close();
      await Promise.race([loop, sleep(2_000)]);
      // Drain flushes the acks of what was handled; unacknowledged messages go to another collector.
      await nc.drain().catch(() => nc.close());
    },
  };
}

/** Acknowledged once handled; a pipeline failure (the store down) is redelivered, to anyone. */
function settle(message: JsMsg, outcome: IngestOutcome | undefined): void {
  const failed =
    outcome === undefined || (outcome.kind === 'rejected' && outcome.reason === 'internal-error');
  if (failed) message.nak(1_000);
  else message.ack();
}

/**
 * The stream and the durable consumer, created by whichever collector comes first (the same
 * configuration from each is accepted). A cluster that is still electing its leaders answers
 * with timeouts for a few seconds: retried until `readyTimeoutMs`.
 */
async function ensureStreamAndConsumer(
  jsm: JetStreamManager,
  options: NatsIngestOptions,
  log: Logger,
): Promise<void> {
  const { config } = options;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    try {
      const stream = await jsm.streams.info(config.stream).catch((err: Error) => {
        if (/stream not found/i.test(err.message)) return undefined;
        throw err;
      });
      if (!stream) {
        await jsm.streams.add({
          name: config.stream,
          subjects: INGEST_SUBJECTS,
          retention: RetentionPolicy.Workqueue,
          storage: StorageType.File,
          num_replicas: config.replicas,
          discard: DiscardPolicy.Old,
        });
        log.info({ stream: config.stream, replicas: config.replicas }, 'created the JetStream stream');
      }
      await jsm.consumers.add(config.stream, {
        durable_name: config.consumer,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(config.ackWait),
        deliver_policy: DeliverPolicy.All,
        max_ack_pending: 20_000,
      });
      return;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new UserError(
          `broker.nats: JetStream on ${config.servers.join(', ')} did not provide stream ${config.stream} and ` +
            `consumer ${config.consumer}: ${(err as Error).message}; check that every node runs with JetStream ` +
            `and that at least ${Math.floor(config.replicas / 2) + 1} of the ${config.replicas} replicas are up`,
        );
      }
      log.debug({ err: (err as Error).message }, 'JetStream not ready yet; retrying');
      await sleep(500);
    }
  }
}

/**
 * How many messages the pipeline may take now. `free()` waits until a quarter of them at least
 * (one, for a small pipeline), so that a busy collector does not pull one message at a time.
 */
class Slots {
  private used = 0;
  private waiting: (() => void) | undefined;
  private closed = false;
  private readonly low: number;

  constructor(private readonly size: number) {
    this.low = size - Math.max(1, Math.floor(size / 4));
  }

  async free(): Promise<number> {
    while (!this.closed && this.used > this.low)
      await new Promise<void>((resolve) => (this.waiting = resolve));
    return this.size - this.used;
  }

  take(): void {
    this.used += 1;
  }

  release(): void {
    this.used -= 1;
    this.wake();
  }

  /** Lets a waiting `free()` go, now and from now on. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
