import { z } from 'zod';
import { durationSchema } from '../../shared/duration.js';
import { severitySchema } from '../../shared/levels.js';

/**
 * The default bound on a batch's body at the parent (`http.maxReportBody`), which reads it before
 * any signature can be checked; a child keeps its batches under it. One record with its 100
 * envelopes of evidence at the 64 KiB ingest limit each still fits alone.
 */
export const MAX_BATCH_BYTES = 8 * 1024 * 1024;

/** `parent.*`: where this collector reports (SPEC §4 `parent.url`) and how its link behaves. */
export const parentConfigSchema = z
  .strictObject({
    /** The parent collector's HTTP URL; overrides the one recorded by `smew collector enroll`. */
    url: z.url().optional(),
    /** Warnings at or above this severity are reported to the parent. */
    minSeverity: severitySchema.default('high'),
    /** How often the link sends and pulls notices when there is nothing new. */
    interval: durationSchema.default(5_000),
    /** After failures the link waits up to this long between tries (exponential, with full jitter). */
    retryMax: durationSchema.default(300_000),
    /** How often warnings, incidents, overdue assessments and agent health are looked at for reporting. */
    scanInterval: durationSchema.default(30_000),
    /** Per-request timeout, so a half-open link cannot hang the sender. */
    timeout: durationSchema.default(30_000),
  })
  .default({
    minSeverity: 'high',
    interval: 5_000,
    retryMax: 300_000,
    scanInterval: 30_000,
    timeout: 30_000,
  });
export type ParentConfig = z.infer<typeof parentConfigSchema>;
