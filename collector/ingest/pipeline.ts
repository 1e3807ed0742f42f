import { skewMs, type Clock } from '../../shared/clock.js';
import {
  eventBatchSchema,
  eventEnvelopeSchema,
  heartbeatSchema,
  isEventBatch,
  type EventEnvelope,
} from '../../shared/envelope.js';
import type { Logger } from '../../shared/log.js';
import { agentTopic, parseAgentTopic } from '../../shared/topics.js';
import type { CollectorMetrics } from '../metrics.js';
import { QUARANTINE_PAYLOAD_BYTES, type Store } from '../store/store.js';
import type { AckPublisher } from './ack-publisher.js';
import { checkTopicAgent, resolveAgent, SignatureCheck } from './authenticate.js';
import { checkCatalogue } from './catalogue.js';
import { checkSchema, checkSize, parseJson } from './decode.js';
import { EventWriter } from './event-writer.js';
import { HeartbeatWriter } from './heartbeat-writer.js';
import { isSkewed, persistEvent } from './persist.js';
import { Rejection, type RejectReason } from './rejection.js';
import type { VerifyPool } from './verify-pool.js';

/**
 * Ingest (SPEC §5): every message an agent publishes passes the stages in order — size, JSON,
 * schema, topic, agent, signature, catalogue, store — and each stage has one job. A stage
 * refuses by throwing a Rejection; this class counts it, quarantines the message and moves on.
 * `handle` never throws: no input may crash or stall the collector.
 */
export type IngestOutcome =
  | { kind: 'event'; agentId: string; seq: number; skewed: boolean }
  | { kind: 'duplicate'; agentId: string; seq: number }
  /** A batch of events in one signed message: each event's own outcome, with its envelope text. */
  | { kind: 'batch'; agentId: string; events: { outcome: EventOutcome; payload: Buffer }[] }
  | { kind: 'heartbeat'; agentId: string }
  | { kind: 'status'; agentId: string; online: boolean }
  /** Nothing to do: e.g. an empty retained message that clears a topic. */
  | { kind: 'ignored' }
  | { kind: 'rejected'; reason: RejectReason; detail: string };

/** What became of one event (alone, or one of a batch). */
export type EventOutcome = Extract<IngestOutcome, { kind: 'event' | 'duplicate' | 'rejected' }>;

/**
 * Calls `visit` with each outcome a message had and the payload it was about: once for a single
 * message, once per event for a batch. Observers of ingest (liveness, the live feed, the rules
 * nudge) see a batch's events as if they had come one by one.
 */
export function eachOutcome(
  outcome: IngestOutcome,
  payload: Buffer,
  visit: (outcome: Exclude<IngestOutcome, { kind: 'batch' }>, payload: Buffer) => void,
): void {
  if (outcome.kind !== 'batch') return visit(outcome, payload);
  for (const event of outcome.events) visit(event.outcome, event.payload);
}

/** A message's place in its agent's queue: wait for `ahead`, then `pass` to let the next go. */
interface Turn {
  ahead: Promise<void>;
  pass(): void;
}

export interface IngestOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  metrics: CollectorMetrics;
  acks: AckPublisher;
  maxSkewMs: number;
  /** Verifies signatures on worker threads; without it, on the event loop. */
  verifyPool?: VerifyPool;
}

export class IngestPipeline {
  private readonly signatures: SignatureCheck;
  /** Events handled at the same time are written in one batch. */
  private readonly events: EventWriter;
  /** Heartbeats handled at the same time are recorded in one batch. */
  private readonly heartbeats: HeartbeatWriter;
  private readonly log: Logger;
  /**
   * Per agent, the turn of its latest message: one agent's events enter the writer in the order
   * they arrived (the rules read stored events in insertion order), while their checks and
   * signatures run side by side with everything else.
   */
  private readonly turns = new Map<string, Promise<void>>();

  constructor(private readonly options: IngestOptions) {
    this.log = options.logger.child({ component: 'ingest' });
    this.signatures = new SignatureCheck(options.verifyPool);
    this.events = new EventWriter(options.store);
    this.heartbeats = new HeartbeatWriter(options.store);
  }

  async handle(topic: string, payload: Buffer): Promise<IngestOutcome> {
    const receivedAt = this.options.clock.now();
    const turn = this.takeTurn(topic);
    try {
      return await this.route(topic, payload, receivedAt, turn);
    } catch (err) {
      turn.pass();
      const rejection =
        err instanceof Rejection
          ? err
          : new Rejection('internal-error', (err as Error)?.message ?? String(err));
      if (rejection.reason === 'internal-error') this.log.error({ err, topic }, 'ingest failed');
      await this.quarantine(topic, payload, receivedAt, rejection);
      return { kind: 'rejected', reason: rejection.reason, detail: rejection.detail };
    } finally {
      turn.pass();
    }
  }

  /**
   * Taken synchronously as the message arrives, so turns follow arrival order. A message that
   * passes its turn before the one ahead did still lets the next go only after both have.
   */
  private takeTurn(topic: string): Turn {
    const key = parseAgentTopic(topic)?.agentId ?? '';
    const ahead = this.turns.get(key) ?? Promise.resolve();
    let pass!: () => void;
    const passed = new Promise<void>((resolve) => (pass = resolve));
    const mine = Promise.all([ahead, passed]).then(() => {
      if (this.turns.get(key) === mine) this.turns.delete(key);
    });
    this.turns.set(key, mine);
    return { ahead, pass };
  }

  private async route(topic: string, payload: Buffer, receivedAt: Date, turn: Turn): Promise<IngestOutcome> {
    const parsed = parseAgentTopic(topic);
    if (!parsed) throw new Rejection('bad-topic', `not a smew agent topic`);
    switch (parsed.channel) {
      case 'events':
        return this.handleEvent(parsed.agentId, payload, receivedAt, turn);
      case 'heartbeat':
        return this.handleHeartbeat(parsed.agentId, payload, receivedAt);
      case 'status':
        return this.handleStatus(parsed.agentId, payload, receivedAt);
      default:
        throw new Rejection('bad-topic', `the collector does not read ${parsed.channel} topics`);
    }
  }

  /** The events topic carries single events and, from an agent draining a backlog, batches of them. */
  private async handleEvent(
    topicAgentId: string,
    payload: Buffer,
    receivedAt: Date,
    turn: Turn,
  ): Promise<IngestOutcome> {
    checkSize(payload);
    const signed = parseJson(payload) as Record<string, unknown>;
    if (isEventBatch(signed)) return this.handleBatch(topicAgentId, payload, signed, receivedAt, turn);
    const envelope = checkSchema(eventEnvelopeSchema, signed);
    checkTopicAgent(topicAgentId, envelope.agent);
    const agent = await resolveAgent(this.options.store, envelope.agent);
    const text = payload.toString('utf8');
    await this.signatures.verify(
      agent,
      signed as Record<string, unknown> & { alg: typeof envelope.alg },
      text,
    );
    checkCatalogue(envelope);
    await turn.ahead;
    // persistEvent hands the row to the writer before its first await: the next event may follow.
    const persisted = this.persist({ envelope, signed, text }, receivedAt);
    turn.pass();
    const outcome = await persisted;
    if (outcome.kind === 'rejected') throw new Rejection(outcome.reason, outcome.detail);
    // A resend means the agent has not seen an ack covering it: answer both cases.
    this.options.acks.schedule(agent.id);
    return outcome;
  }

  /**
   * One signature for the whole batch, which covers every event's text as the agent signed it
   * alone; then each event passes the remaining stages on its own, its own signature included,
   * and one refused event (bad shape or signature, seq conflict) is quarantined without holding
   * back the others.
   */
  private async handleBatch(
    topicAgentId: string,
    payload: Buffer,
    signed: Record<string, unknown>,
    receivedAt: Date,
    turn: Turn,
  ): Promise<IngestOutcome> {
    const batch = checkSchema(eventBatchSchema, signed);
    checkTopicAgent(topicAgentId, batch.agent);
    const agent = await resolveAgent(this.options.store, batch.agent);
    await this.signatures.verify(
      agent,
      signed as Record<string, unknown> & { alg: typeof batch.alg },
      payload.toString('utf8'),
    );
    this.options.metrics.batchesAccepted.inc();
    const shaped = batch.events.map((text) => {
      const eventPayload = Buffer.from(text, 'utf8');
      try {
        const eventSigned = parseJson(eventPayload) as Record<string, unknown>;
        const envelope = checkSchema(eventEnvelopeSchema, eventSigned);
        if (envelope.agent !== batch.agent) {
          throw new Rejection(
            'topic-mismatch',
            `batch of ${batch.agent} holds an event of ${envelope.agent}`,
          );
        }
        if (envelope.alg !== batch.alg) {
          throw new Rejection(
            'bad-signature',
            `batch signed with ${batch.alg} holds an event signed with ${envelope.alg}`,
          );
        }
        checkCatalogue(envelope);
        return { payload: eventPayload, event: { envelope, signed: eventSigned, text } };
      } catch (err) {
        if (!(err instanceof Rejection)) throw err;
        return { payload: eventPayload, rejection: err };
      }
    });
    // Every stored event must verify alone (SPEC §5): the batch signature vouches for the batch,
    // not for a signature the agent put inside it. All checks go to the pool together.
    const checked = await Promise.all(
      shaped.map(async (c) => {
        if (!c.event) return c;
        try {
          await this.signatures.verify(
            agent,
            c.event.signed as typeof c.event.signed & { alg: typeof batch.alg },
            c.event.text,
          );
          return c;
        } catch (err) {
          if (!(err instanceof Rejection)) throw err;
          return { payload: c.payload, rejection: err };
        }
      }),
    );
    await turn.ahead;
    const persisted = checked.map((c) => (c.event ? this.persist(c.event, receivedAt) : undefined));
    turn.pass();
    // Every store settles before any failure is raised, so none is left unhandled.
    const settled = await Promise.allSettled(persisted);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const events: { outcome: EventOutcome; payload: Buffer }[] = [];
    for (const [i, c] of checked.entries()) {
      const result = settled[i] as PromiseFulfilledResult<EventOutcome | undefined>;
      const outcome = c.rejection ? rejectedOutcome(c.rejection) : result.value!;
      if (outcome.kind === 'rejected') {
        const rejection = new Rejection(outcome.reason, outcome.detail);
        await this.quarantine(agentTopic(batch.agent, 'events'), c.payload, receivedAt, rejection);
      }
      events.push({ outcome, payload: c.payload });
    }
    this.options.acks.schedule(agent.id);
    return { kind: 'batch', agentId: agent.id, events };
  }

  /** Stores one verified event and counts it; a seq conflict comes back as a rejected outcome. */
  private async persist(
    event: { envelope: EventEnvelope; signed: Record<string, unknown>; text: string },
    receivedAt: Date,
  ): Promise<EventOutcome> {
    const { metrics, maxSkewMs } = this.options;
    const { envelope } = event;
    let outcome: Awaited<ReturnType<typeof persistEvent>>;
    try {
      outcome = await persistEvent(this.events, event, { receivedAt, maxSkewMs });
    } catch (err) {
      if (err instanceof Rejection) return rejectedOutcome(err);
      throw err;
    }
    if (outcome.kind === 'duplicate') {
      metrics.duplicates.inc();
      return { kind: 'duplicate', agentId: envelope.agent, seq: envelope.seq };
    }
    metrics.eventsAccepted.inc();
    if (outcome.skewed) {
      metrics.skewed.inc();
      this.log.info(
        { agent: envelope.agent, seq: envelope.seq, ts: envelope.ts },
        'stored an event with a skewed clock',
      );
    }
    return { kind: 'event', agentId: envelope.agent, seq: envelope.seq, skewed: outcome.skewed };
  }

  private async handleHeartbeat(
    topicAgentId: string,
    payload: Buffer,
    receivedAt: Date,
  ): Promise<IngestOutcome> {
    const { store, metrics } = this.options;
    checkSize(payload);
    const signed = parseJson(payload) as Record<string, unknown>;
    const heartbeat = checkSchema(heartbeatSchema, signed);
    checkTopicAgent(topicAgentId, heartbeat.agent);
    const agent = await resolveAgent(store, heartbeat.agent);
    await this.signatures.verify(
      agent,
      signed as Record<string, unknown> & { alg: typeof heartbeat.alg },
      payload.toString('utf8'),
    );
    // A heartbeat says "alive now": one dated otherwise (a replay, a wrong clock) proves nothing.
    if (isSkewed(heartbeat.ts, receivedAt, this.options.maxSkewMs)) {
      throw new Rejection(
        'skewed',
        `heartbeat dated ${heartbeat.ts}, ${Math.round(skewMs(heartbeat.ts, receivedAt) / 1000)} s from the collector clock (${receivedAt.toISOString()}); ingest.maxSkew allows ${this.options.maxSkewMs / 1000} s — a replay, or the agent's clock is wrong`,
      );
    }
    await this.heartbeats.record({
      agentId: agent.id,
      at: receivedAt.toISOString(),
      reportedSeq: heartbeat.lastSeq,
    });
    metrics.heartbeatsAccepted.inc();
    return { kind: 'heartbeat', agentId: agent.id };
  }

  /**
   * `online` / `offline` (the Last Will) are plain, unsigned words: the broker vouches for the
   * sender, since only the agent itself may publish on its status topic.
   */
  private async handleStatus(
    topicAgentId: string,
    payload: Buffer,
    receivedAt: Date,
  ): Promise<IngestOutcome> {
    const { store, metrics } = this.options;
    if (payload.length === 0) return { kind: 'ignored' };
    checkSize(payload);
    const word = payload.toString('utf8').trim();
    if (word !== 'online' && word !== 'offline') {
      throw new Rejection(
        'schema',
        `status must be "online" or "offline", found ${JSON.stringify(word.slice(0, 40))}`,
      );
    }
    const agent = await resolveAgent(store, topicAgentId);
    const online = word === 'online';
    await store.setAgentOnline(agent.id, online, receivedAt.toISOString());
    metrics.statusUpdates.inc({ status: word });
    return { kind: 'status', agentId: agent.id, online };
  }

  private async quarantine(
    topic: string,
    payload: Buffer,
    receivedAt: Date,
    rejection: Rejection,
  ): Promise<void> {
    this.options.metrics.rejected.inc({ reason: rejection.reason });
    this.log.info({ topic, reason: rejection.reason, detail: rejection.detail }, 'quarantined a message');
    try {
      await this.options.store.addQuarantine({
        receivedAt: receivedAt.toISOString(),
        topic: topic.slice(0, 512),
        reason: rejection.reason,
        detail: rejection.detail.slice(0, 1000),
        claimedAgentId: parseAgentTopic(topic)?.agentId.slice(0, 64) ?? null,
        payload: payload.subarray(0, QUARANTINE_PAYLOAD_BYTES),
        payloadBytes: payload.length,
      });
    } catch (err) {
      // Keep going: the count above still records the rejection.
      this.log.error({ err, topic, reason: rejection.reason }, 'could not write to the quarantine');
    }
  }
}

function rejectedOutcome(rejection: Rejection): EventOutcome {
  return { kind: 'rejected', reason: rejection.reason, detail: rejection.detail };
}
