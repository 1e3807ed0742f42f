import { z } from 'zod';
import { durationSchema } from '../../shared/duration.js';

/** `ingest:` in the collector config: checking, acknowledging and sharing the agents' messages. */
export const ingestConfigSchema = z
  .strictObject({
    maxSkew: durationSchema.default(300_000),
    /** Events are acknowledged in small batches: one signed ack per agent per this delay. */
    ackDelay: durationSchema.default(50),
    /**
     * Several collectors on one external broker and one PostgreSQL: each subscribes as
     * $share/<sharedGroup>/… and the broker splits the agents' messages among them. They must
     * share identity.dir's key, since agents accept acks from the collector they enrolled with.
     */
    sharedGroup: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a name of letters, digits, - and _')
      .optional(),
    /** Messages handled at once; beyond it the collector stops reading from the broker. */
    maxInFlight: z.int().min(1).max(100_000).default(1000),
    /** Signature-checking threads; 0 checks on the main thread. Default: one per core. */
    verifyWorkers: z.int().min(0).max(64).optional(),
  })
  .default({ maxSkew: 300_000, ackDelay: 50, maxInFlight: 1000 });
export type IngestConfig = z.infer<typeof ingestConfigSchema>;
