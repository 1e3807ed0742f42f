import { z } from 'zod';
import { canonicalBytes } from './canonical-json.js';
import { SIGNATURE_ALGS, type Signer, type Verifier } from './crypto/suite.js';
import { EVENT_DATA_SCHEMAS, EVENT_TYPE_PATTERN, isKnownEventType } from './events.js';
import { AGENT_ID_PATTERN } from './identity.js';
import { sessionUsersSchema } from './inventory.js';
import { severitySchema } from './levels.js';

/**
 * The signed messages of SPEC §5. Unknown top-level fields are kept (not stripped) because the
 * signature covers them; verification always runs on the object as received.
 */
export const ENVELOPE_VERSION = 1;
/** Larger payloads are refused before parsing: an event is a few hundred bytes. */
export const MAX_ENVELOPE_BYTES = 64 * 1024;

const isoTimestamp = z.iso.datetime({ offset: true });
const agentId = z.string().regex(AGENT_ID_PATTERN, 'expected an agent id: ag- and 20 base32 characters');
const signature = {
  alg: z.enum(SIGNATURE_ALGS),
  sig: z.string().min(1).max(512),
};

export const eventEnvelopeSchema = z.looseObject({
  v: z.literal(ENVELOPE_VERSION),
  agent: agentId,
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  ts: isoTimestamp,
  type: z.string().regex(EVENT_TYPE_PATTERN, 'expected an event type such as net.wireless.present'),
  state: z.enum(['raised', 'cleared']),
  key: z.string().min(1).max(1024),
  severity: severitySchema,
  data: z.record(z.string(), z.unknown()),
  /** Who was logged in when the event happened (shared/inventory.ts); signed with the rest. */
  users: sessionUsersSchema.optional(),
  ...signature,
});
export type EventEnvelope = z.infer<typeof eventEnvelopeSchema>;
export type UnsignedEvent = Omit<EventEnvelope, 'sig'>;

/**
 * Several events sent as one message when an agent drains a backlog: `events` holds each event's
 * envelope text exactly as signed on its own, and `sig` (over the JCS form without `sig`, as for
 * every message) covers those texts. The collector checks one signature for the whole batch;
 * every event it stores keeps its own signature, so each stays verifiable alone.
 */
export const EVENT_BATCH_TYPE = 'agent.batch';
/** Events per batch: enough to share one verification widely, small enough to stay far under MAX_ENVELOPE_BYTES. */
export const MAX_BATCH_EVENTS = 64;
export const eventBatchSchema = z.looseObject({
  v: z.literal(ENVELOPE_VERSION),
  agent: agentId,
  type: z.literal(EVENT_BATCH_TYPE),
  events: z.array(z.string().min(2)).min(1).max(MAX_BATCH_EVENTS),
  ...signature,
});
export type EventBatch = z.infer<typeof eventBatchSchema>;

/** True when a message on the events topic is a batch rather than one event (no `seq`, a batch type). */
export function isEventBatch(message: unknown): boolean {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as Record<string, unknown>).type === EVENT_BATCH_TYPE &&
    !('seq' in message)
  );
}

export function signEventBatch(
  batch: { agent: string; alg: EventBatch['alg']; events: string[] },
  sign: Signer,
): EventBatch {
  return signMessage(
    { v: ENVELOPE_VERSION, agent: batch.agent, type: EVENT_BATCH_TYPE, events: batch.events, alg: batch.alg },
    sign,
  );
}

/** Heartbeats are signed but take no `seq`: they carry the last one sent, so gaps show. */
export const heartbeatSchema = z.looseObject({
  v: z.literal(ENVELOPE_VERSION),
  agent: agentId,
  ts: isoTimestamp,
  type: z.literal('agent.heartbeat'),
  lastSeq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  ...signature,
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;

/** The collector's signed statement: every event of `agent` up to `ack` is stored. */
export const ackSchema = z.looseObject({
  v: z.literal(ENVELOPE_VERSION),
  agent: agentId,
  ack: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  ts: isoTimestamp,
  collector: z.string().min(1),
  ...signature,
});
export type Ack = z.infer<typeof ackSchema>;

/**
 * The collector's pushed policy for `agent`, on the retained `policy` topic. `policy` is checked
 * against the policy schema only after the signature, by the agent that applies it.
 */
export const policyMessageSchema = z.looseObject({
  v: z.literal(ENVELOPE_VERSION),
  agent: z.string(),
  ts: isoTimestamp,
  collector: z.string().min(1),
  policy: z.unknown(),
  alg: z.enum(SIGNATURE_ALGS),
  sig: z.string().min(1),
});
export type PolicyMessage = z.infer<typeof policyMessageSchema>;

/** Who must have signed a collector message, and for whom: what the agent learned at enrollment. */
export interface CollectorMessageExpectation {
  agentId: string;
  collectorId: string;
  collectorAlg: string;
  verify: Verifier;
}

export type CollectorMessageCheck<T> = { ok: true; message: T } | { ok: false; reason: string };

/**
 * Checks a collector-signed message (ack, pushed policy) received by an agent: bounded, JSON,
 * shaped like `schema` (else `not <what>`), for this agent, from our collector, and signed.
 */
export function checkCollectorMessage<T extends { agent: string; collector: string; alg: string }>(
  payload: string | Buffer,
  schema: z.ZodType<T>,
  what: string,
  expected: CollectorMessageExpectation,
): CollectorMessageCheck<T> {
  if (payload.length > MAX_ENVELOPE_BYTES) return { ok: false, reason: 'too large' };
  let message: unknown;
  try {
    message = JSON.parse(payload.toString());
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = schema.safeParse(message);
  if (!parsed.success) return { ok: false, reason: `not ${what}` };
  const { agent, collector, alg } = parsed.data;
  if (agent !== expected.agentId) return { ok: false, reason: `for another agent (${agent})` };
  if (collector !== expected.collectorId || alg !== expected.collectorAlg) {
    return { ok: false, reason: `not from our collector (${collector})` };
  }
  // Verify the object as received: unknown fields are covered by the signature too.
  if (!verifyMessage(message as Record<string, unknown>, expected.verify)) {
    return { ok: false, reason: 'bad signature' };
  }
  return { ok: true, message: parsed.data };
}

/** Checks an event's `data` against the catalogue; unknown types pass (a newer agent). */
export function checkEventData(type: string, data: unknown): z.ZodError | undefined {
  if (!isKnownEventType(type)) return undefined;
  const result = EVENT_DATA_SCHEMAS[type].safeParse(data);
  return result.success ? undefined : result.error;
}

/** The bytes a signature covers: the JCS form of the object without `sig`. */
export function signingBytes(message: Record<string, unknown>): Buffer {
  const { sig: _sig, ...unsigned } = message;
  return canonicalBytes(unsigned);
}

export function signMessage<T extends Record<string, unknown>>(
  unsigned: T,
  sign: Signer,
): T & { sig: string } {
  return { ...unsigned, sig: sign(signingBytes(unsigned)) };
}

export function verifyMessage(message: Record<string, unknown>, verify: Verifier): boolean {
  return typeof message.sig === 'string' && verify(signingBytes(message), message.sig);
}
