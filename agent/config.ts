import { z } from 'zod';
import { loadConfig } from '../shared/config/load.js';
import { durationSchema } from '../shared/duration.js';
import { policySchema } from '../shared/policy.js';

/** Agent configuration (SPEC §4). Every default is safe: no probe targets, nothing approved. */
export const agentConfigSchema = z.strictObject({
  collector: z
    .strictObject({ url: z.url().default('http://127.0.0.1:8080') })
    .default({ url: 'http://127.0.0.1:8080' }),
  identity: z.strictObject({ dir: z.string().default('./data/agent') }).default({ dir: './data/agent' }),
  /** Overrides the broker URL the collector handed out at enrollment. */
  broker: z.strictObject({ url: z.string().optional() }).default({}),
  scan: z.strictObject({ interval: durationSchema.default(60_000) }).default({ interval: 60_000 }),
  heartbeat: z.strictObject({ interval: durationSchema.default(30_000) }).default({ interval: 30_000 }),
  ack: z.strictObject({ timeout: durationSchema.default(30_000) }).default({ timeout: 30_000 }),
  /** A one-time token (`smew token create`): an agent not yet enrolled enrolls with it on start. */
  enroll: z.strictObject({ token: z.string().min(1).optional() }).default({}),
  /**
   * Self-limits (agent/self-limits.ts): measured over `window`, above either one the agent scans
   * less often and reports agent.limits.exceeded, instead of slowing the workstation down.
   */
  limits: z
    .strictObject({
      maxRssMb: z.number().positive().default(200),
      maxCpuPercent: z.number().positive().default(10),
      window: durationSchema.default(60_000),
    })
    .default({ maxRssMb: 200, maxCpuPercent: 10, window: 60_000 }),
  paths: z
    .strictObject({
      sysfs: z.string().default('/sys'),
      procfs: z.string().default('/proc'),
      devfs: z.string().default('/dev'),
    })
    .default({ sysfs: '/sys', procfs: '/proc', devfs: '/dev' }),
  policy: policySchema.default(policySchema.parse({})),
});
export type AgentConfig = z.infer<typeof agentConfigSchema>;

export function loadAgentConfig(file?: string, env?: NodeJS.ProcessEnv): AgentConfig {
  return loadConfig(agentConfigSchema, { file, env, what: 'agent' }).config;
}
