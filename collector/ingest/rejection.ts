/**
 * Why ingest refused a message. Each reason is a metric label and a quarantine reason, so the
 * set is closed: add a reason here, never an ad-hoc string at a call site.
 */
export const REJECT_REASONS = [
  'oversized',
  'malformed-json',
  'schema',
  'topic-mismatch',
  'unknown-agent',
  'revoked',
  'bad-signature',
  'seq-conflict',
  /** A heartbeat dated further from the collector clock than ingest.maxSkew (a replay, or a wrong clock). */
  'skewed',
  /** A message on a topic the collector does not read (only a misconfigured broker routes one). */
  'bad-topic',
  /** Our own failure (store down, bug); no ack covers the event, so the agent sends it again. */
  'internal-error',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Thrown by an ingest stage to refuse the message; the pipeline counts and quarantines it. */
export class Rejection extends Error {
  override readonly name = 'Rejection';
  constructor(
    readonly reason: RejectReason,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}
