import { z } from 'zod';
import { loadConfig } from '../shared/config/load.js';
import { byteSizeSchema } from '../shared/byte-size.js';
import { MAX_BATCH_EVENTS } from '../shared/envelope.js';
import { durationSchema } from '../shared/duration.js';
import { policySchema } from '../shared/policy.js';
import { MIN_OUTBOX_BYTES, OVERFLOW_POLICIES } from './outbox.js';

const OUTBOX_DEFAULTS = {
  maxBytes: 64 * 1024 * 1024,
  overflow: 'drop-lowest-severity' as const,
  drainRate: 50,
  drainJitter: 10_000,
  batch: 32,
};

/** Agent configuration (SPEC §4). Every default is safe: no probe targets, nothing approved. */
export const agentConfigSchema = z.strictObject({
  collector: z
    .strictObject({
      url: z.url().default('http://127.0.0.1:8080'),
      /** A PEM CA file: https:// and mqtts:// servers must verify against it (else the system's CAs). */
      ca: z.string().min(1).optional(),
    })
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
  /**
   * Change notices that trigger a scan at once (agent/watch): rtnetlink via `ip monitor`, kernel
   * uevents via `udevadm monitor`; `quiet` gathers a burst of notices into one scan. `sockets`:
   * how often the socket tables are read for new prohibited peers (no kernel notice exists); 0 = off.
   */
  watch: z
    .strictObject({
      netlink: z.boolean().default(true),
      uevent: z.boolean().default(true),
      quiet: durationSchema.default(30),
      sockets: durationSchema.default(500),
    })
    .default({ netlink: true, uevent: true, quiet: 30, sockets: 500 }),
  /**
   * The durable outbox: at most `maxBytes` of unacknowledged events; when full, `overflow` picks
   * what to drop (always reported as agent.queue.overflow). A backlog drains at `drainRate`
   * events/s, starting after a random delay up to `drainJitter`, so agents returning together
   * after an outage do not all arrive at once. A backlog goes out in signed batches of up to
   * `batch` events (1: each alone), so the collector checks one signature per batch.
   */
  outbox: z
    .strictObject({
      maxBytes: byteSizeSchema
        .default(OUTBOX_DEFAULTS.maxBytes)
        .refine((n) => n >= MIN_OUTBOX_BYTES, `expected at least ${MIN_OUTBOX_BYTES / 1024}KiB`),
      overflow: z.enum(OVERFLOW_POLICIES).default(OUTBOX_DEFAULTS.overflow),
      drainRate: z.number().positive().default(OUTBOX_DEFAULTS.drainRate),
      drainJitter: durationSchema.default(OUTBOX_DEFAULTS.drainJitter),
      batch: z.number().int().min(1).max(MAX_BATCH_EVENTS).default(OUTBOX_DEFAULTS.batch),
    })
    .default(OUTBOX_DEFAULTS),
  /**
   * The host trees the agent reads: `etc` for os-release (the inventory), `run` for who is logged
   * in (logind's `systemd/sessions`, else `utmp`). Fixture trees and containers point them elsewhere.
   */
  paths: z
    .strictObject({
      sysfs: z.string().default('/sys'),
      procfs: z.string().default('/proc'),
      devfs: z.string().default('/dev'),
      etc: z.string().default('/etc'),
      run: z.string().default('/run'),
    })
    .default({ sysfs: '/sys', procfs: '/proc', devfs: '/dev', etc: '/etc', run: '/run' }),
  /**
   * The host inventory for the terminal register (host.inventory, host.hardware.changed): taken
   * at start and every `interval`; only a change is sent again.
   */
  inventory: z.strictObject({ interval: durationSchema.default(3_600_000) }).default({ interval: 3_600_000 }),
  policy: policySchema.default(policySchema.parse({})),
});
export type AgentConfig = z.infer<typeof agentConfigSchema>;

export function loadAgentConfig(file?: string, env?: NodeJS.ProcessEnv): AgentConfig {
  return loadConfig(agentConfigSchema, { file, env, what: 'agent' }).config;
}
