import { z } from 'zod';

/** `GET /healthz`: the process answers and its store can be read. */
export const healthy = z.object({ status: z.literal('ok'), collector: z.string() });
export const unhealthy = z.object({ status: z.literal('unavailable'), error: z.string() });
