import { checkEventData, type EventEnvelope } from '../../shared/envelope.js';
import { Rejection } from './rejection.js';

/** Checks an event's `data` against the catalogue of SPEC §6 (unknown types pass: a newer agent). */
export function checkCatalogue(envelope: EventEnvelope): void {
  const error = checkEventData(envelope.type, envelope.data);
  if (error) {
    const issue = error.issues[0]!;
    throw new Rejection('schema', `data.${issue.path.join('.')} of ${envelope.type}: ${issue.message}`);
  }
}
