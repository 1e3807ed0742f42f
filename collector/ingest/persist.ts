import { skewMs } from '../../shared/clock.js';
import { signingBytes, type EventEnvelope } from '../../shared/envelope.js';
import type { Store } from '../store/store.js';
import { Rejection } from './rejection.js';

/**
 * Stores a verified event once. (agent, seq) is unique: the same signed event again is a resend
 * (the agent had no ack yet) and is dropped; a different event under a stored seq is refused
 * and kept as evidence, because seq reuse means a broken or tampered agent.
 */
/**
 * The clock rule of ingest (SPEC §5): a message dated further from the collector's clock than
 * ingest.maxSkew. An event so dated is kept and flagged; a heartbeat is refused (pipeline.ts).
 */
export function isSkewed(ts: string, receivedAt: Date, maxSkewMs: number): boolean {
  return skewMs(ts, receivedAt) > maxSkewMs;
}

export type PersistOutcome = { kind: 'stored'; id: number; skewed: boolean } | { kind: 'duplicate' };

export async function persistEvent(
  store: Pick<Store, 'insertEvent'>,
  event: { envelope: EventEnvelope; signed: Record<string, unknown>; text: string },
  options: { receivedAt: Date; maxSkewMs: number },
): Promise<PersistOutcome> {
  const { envelope } = event;
  const ts = new Date(envelope.ts);
  // Kept and flagged rather than refused: a wrong agent clock must not lose a violation.
  const skewed = isSkewed(envelope.ts, options.receivedAt, options.maxSkewMs);
  const result = await store.insertEvent({
    agentId: envelope.agent,
    seq: envelope.seq,
    ts: ts.toISOString(),
    receivedAt: options.receivedAt.toISOString(),
    type: envelope.type,
    state: envelope.state,
    key: envelope.key,
    severity: envelope.severity,
    data: envelope.data,
    envelope: event.text,
    skewed,
  });
  if (result.outcome === 'inserted') return { kind: 'stored', id: result.id, skewed };
  if (sameSignedContent(result.envelope, event.signed)) return { kind: 'duplicate' };
  throw new Rejection(
    'seq-conflict',
    `${envelope.agent} seq ${envelope.seq} is already stored with other content`,
  );
}

/**
 * Compares what the signatures cover, not the bytes: a resend may be re-serialised, and SM2
 * signatures are randomised, so equal content can carry a different `sig`.
 */
function sameSignedContent(storedText: string, incoming: Record<string, unknown>): boolean {
  try {
    const stored = JSON.parse(storedText) as Record<string, unknown>;
    return signingBytes(stored).equals(signingBytes(incoming));
  } catch {
    return false;
  }
}
