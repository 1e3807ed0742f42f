import { z } from 'zod';
import { ROLES } from './access.js';
import { isoTime } from './common.js';

/** Who is calling: a dashboard user or an API key, with role and unit. */
export const sessionUser = z.object({
  name: z.string(),
  role: z.enum(ROLES),
  unit: z.string().nullable().meta({ description: 'null: every unit' }),
  kind: z.enum(['user', 'api-key']),
  permissions: z
    .array(z.string())
    .meta({ description: 'what this role may do (the table of collector/auth/permissions.ts)' }),
});
export type SessionUser = z.infer<typeof sessionUser>;

/** `GET /api/v1/session`; the token and expiry only for a dashboard session. */
export const sessionReply = z.object({
  user: sessionUser,
  csrfToken: z.string().optional().meta({ description: 'send in x-csrf-token on POST, PATCH, DELETE' }),
  expiresAt: isoTime.optional(),
});
export type SessionReply = z.infer<typeof sessionReply>;

/** `POST /api/v1/session`: logging in. */
export const loginBody = z.strictObject({
  name: z.string().min(1).max(128),
  password: z.string().min(1).max(1024),
});

export const loginReply = z.object({ user: sessionUser, csrfToken: z.string(), expiresAt: isoTime });
export type LoginReply = z.infer<typeof loginReply>;
