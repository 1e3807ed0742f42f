import { z } from 'zod';
import { loadConfig } from '../../shared/config/load.js';
import { durationSchema } from '../../shared/duration.js';
import { parseHostPort } from './send.js';

/**
 * `smew beacon` configuration. It runs on the internet side, where classified hosts must never
 * reach it; it listens only where told (no listener by default) and trusts only the agent keys
 * the collector exported (`agents`: the JSON of GET /api/v1/agents, or a list of
 * {id, alg, publicKey}), carried over on the same one-way media as its exports.
 */
const hostPort = z
  .string()
  .refine(
    (text) => parseHostPort(text) !== undefined,
    'host:port such as 203.0.113.10:7443 ([v6]:port for IPv6)',
  );

export const beaconConfigSchema = z.strictObject({
  /** Where to listen; at least one is needed to receive (exporting needs neither). */
  listen: z
    .strictObject({ tcp: hostPort.optional(), http: hostPort.optional(), dns: hostPort.optional() })
    .default({}),
  agents: z.string().min(1).default('./agents.json'),
  data: z.strictObject({ dir: z.string().default('./data/beacon') }).default({ dir: './data/beacon' }),
  /** Beacons stamped further than this from the receiver's clock are refused as stale or forged. */
  maxSkew: durationSchema.default(10 * 60_000),
});
export type BeaconConfig = z.infer<typeof beaconConfigSchema>;

export function loadBeaconConfig(file?: string, env?: NodeJS.ProcessEnv): BeaconConfig {
  return loadConfig(beaconConfigSchema, { file, env, what: 'beacon' }).config;
}
