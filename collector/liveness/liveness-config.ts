import { z } from 'zod';
import { durationSchema } from '../../shared/duration.js';

const DEFAULTS = {
  missedHeartbeats: 3,
  defaultInterval: 30_000,
  lostGrace: 120_000,
  checkInterval: 5_000,
  revocationPoll: 2_000,
};

/**
 * `liveness`: an agent is offline after `missedHeartbeats` heartbeat intervals of silence (the
 * interval each agent announces; `defaultInterval` until it does) or its Last Will; a seq gap
 * that does not shrink for `lostGrace` raises agent.events.lost. Checked every `checkInterval`.
 * Revocations written by another process (`smew agents revoke`) are enforced within `revocationPoll`.
 */
export const livenessConfigSchema = z
  .strictObject({
    missedHeartbeats: z.int().min(1).max(100).default(DEFAULTS.missedHeartbeats),
    defaultInterval: durationSchema.default(DEFAULTS.defaultInterval),
    lostGrace: durationSchema.default(DEFAULTS.lostGrace),
    checkInterval: durationSchema.default(DEFAULTS.checkInterval),
    revocationPoll: durationSchema.default(DEFAULTS.revocationPoll),
  })
  .default(DEFAULTS);
export type LivenessConfig = z.infer<typeof livenessConfigSchema>;
