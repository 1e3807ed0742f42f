import { z } from 'zod';
import { SEVERITIES } from '../levels.js';
import { actor, isoTime, listOf } from './common.js';

/** Which warnings a silence mutes: every given field must match. */
export const silenceMatcher = z.strictObject({
  rule: z.string().max(64).optional(),
  severity: z.enum(SEVERITIES).optional(),
  agent: z.string().max(64).optional(),
  unit: z.string().max(200).optional(),
  key: z.string().max(1000).optional(),
  data: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .meta({ maxProperties: 16 }),
});

const actorAt = z.object({ ...actor.shape, at: isoTime }).partial();

/** A silence: it mutes notifications, never a warning nor a legal clock. */
export const silence = z.object({
  id: z.string(),
  matcher: silenceMatcher,
  startsAt: isoTime,
  endsAt: isoTime,
  author: actor,
  reason: z.string(),
  createdAt: isoTime,
  approvedBy: actorAt.nullable().meta({
    description: 'the second person; needed before it mutes a critical warning of a 绝密 host',
  }),
  expiredBy: actorAt.nullable().optional(),
  active: z.boolean().optional(),
});
export type Silence = z.infer<typeof silence>;

export const silenceList = listOf(silence);

export const silenceQuery = z.object({
  active: z.boolean().optional(),
  limit: z.int().min(1).max(1000).default(100),
});

export const newSilenceBody = z.strictObject({
  matcher: silenceMatcher,
  startsAt: isoTime.optional().meta({ description: 'default now' }),
  endsAt: isoTime,
  reason: z.string().max(20_000),
});
