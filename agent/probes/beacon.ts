import { createBeacon } from '../beacon/message.js';
import { parseDnsTarget, sendBeacon } from '../beacon/send.js';
import type { BeaconProbeResult } from './observations.js';
import type { Probe } from './probe.js';

/** How long one probe may take: on an isolated network an outside SYN is usually never answered. */
export const BEACON_TIMEOUT_MS = 1000;

/**
 * Active reachability probes (net.internet.reachable), only to the targets policy.beacon.targets
 * names (none by default: the agent never probes an address its configuration does not name),
 * each carrying a fresh beacon signed with the agent's key. Targets are probed in parallel.
 */
export const beaconProbe: Probe = {
  name: 'beacon',
  provides: ['beaconProbes'],
  async collect(_paths, context) {
    const targets = context?.policy.beacon.targets ?? [];
    if (targets.length === 0) return { beaconProbes: [] };
    const signer = context?.beacon;
    // Unsigned probes would be evidence nobody can attribute; the detector reports "not checked".
    if (signer === undefined)
      throw new Error('beacon targets are set but this agent has no key to sign beacons');
    const results = await Promise.all(
      targets.map(async ({ method, target }): Promise<BeaconProbeResult> => {
        // A DNS beacon names the zone it is for; the server part only says whom to ask.
        const dns = method === 'dns' ? parseDnsTarget(target) : undefined;
        const beacon = createBeacon(signer, method, dns?.zone ?? target);
        const { reached, detail } = await sendBeacon(beacon, BEACON_TIMEOUT_MS, dns?.server);
        return { method, target, reached, detail };
      }),
    );
    return { beaconProbes: results };
  },
};
