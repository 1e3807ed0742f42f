import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import { defaultPolicy, type Policy } from '../../shared/policy.js';
import type { Observations } from './observations.js';
import type { BeaconSigner } from '../beacon/message.js';
import type { HostPaths, Probe, ProbeContext } from './probe.js';
import { PROBES } from './registry.js';

/**
 * Runs every probe once and merges what they read. A probe that fails leaves its parts
 * undefined (and says so in the log) instead of failing the pass: the other sources still count.
 */
export async function collectObservations(
  paths: HostPaths,
  options: {
    clock: Clock;
    logger?: Logger;
    probes?: readonly Probe[];
    policy?: Policy;
    beacon?: BeaconSigner | undefined;
  },
): Promise<Observations> {
  const observations: Observations = { at: options.clock.now().toISOString() };
  const probes = options.probes ?? PROBES;
  const context: ProbeContext = { policy: options.policy ?? defaultPolicy };
  if (options.beacon !== undefined) context.beacon = options.beacon;
  const results = await Promise.allSettled(probes.map((probe) => probe.collect(paths, context)));
  results.forEach((result, i) => {
    const probe = probes[i]!;
    if (result.status === 'fulfilled') {
      for (const part of probe.provides) {
        // Only the parts a probe declares, so one probe cannot overwrite another's.
        if (result.value[part] !== undefined) Object.assign(observations, { [part]: result.value[part] });
      }
    } else {
      options.logger?.warn(
        { err: result.reason, probe: probe.name },
        'probe failed; its detectors skip this pass',
      );
    }
  });
  return observations;
}
