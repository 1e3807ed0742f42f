import type { Verifier } from '../../shared/crypto/suite.js';
import { isEventBatch, verifyMessage, type EventBatch, type EventEnvelope } from '../../shared/envelope.js';

/**
 * The events in one message an agent published on its events topic, as a stand-in collector
 * reads them: a single event, or a signed batch (a backlog) whose signature covers each event's
 * own signed text. Throws on anything that does not verify with the agent's key.
 */
export function eventsOf(payload: Buffer | string, verify: Verifier): EventEnvelope[] {
  const message = JSON.parse(payload.toString()) as Record<string, unknown>;
  if (!verifyMessage(message, verify)) throw new Error('unverifiable message on an events topic');
  if (!isEventBatch(message)) return [message as EventEnvelope];
  return (message as EventBatch).events.map((text) => {
    const event = JSON.parse(text) as EventEnvelope;
    if (!verifyMessage(event, verify)) throw new Error('unverifiable event in a batch');
    return event;
  });
}
