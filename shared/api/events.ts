import { z } from 'zod';
import { sessionUserSchema } from '../inventory.js';
import { isoTime, openObject, pageOf } from './common.js';
import { personName, terminalNameField } from './register.js';

/** A stored event with the envelope exactly as the agent signed it (`GET /api/v1/events`). */
export const storedEvent = z.object({
  id: z.int(),
  agent: z.string(),
  unit: z.string(),
  seq: z.int(),
  ts: isoTime.meta({ description: 'the agent’s time, in UTC' }),
  receivedAt: isoTime,
  type: z.string(),
  state: z.enum(['raised', 'cleared']),
  key: z.string(),
  severity: z.string(),
  data: openObject,
  skewed: z.boolean().meta({ description: 'ts was off the collector clock by more than ingest.maxSkew' }),
  envelope: openObject.meta({ description: 'the signed envelope as received' }),
  terminal: terminalNameField,
  users: z
    .array(sessionUserSchema.extend({ person: personName.nullable() }))
    .optional()
    .meta({ description: 'who was logged in (signed), each account mapped to a person of the register' }),
});
export type StoredEvent = z.infer<typeof storedEvent>;

export const eventPage = pageOf(storedEvent);
