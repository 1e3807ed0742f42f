import type { Policy } from '../../shared/policy.js';
import type { BeaconSigner } from '../beacon/message.js';
import type { ObservationPart, Observations } from './observations.js';

/** Where the host's trees are mounted (SPEC §4 `paths.*`), so fixtures and containers work alike. */
export interface HostPaths {
  sysfs: string;
  procfs: string;
  devfs: string;
}

/**
 * A probe reads one host source and nothing else: no policy, no judgement. It throws only when
 * its whole source is unreadable; then the parts it `provides` stay undefined for that pass.
 */
export interface Probe {
  name: string;
  provides: readonly ObservationPart[];
  collect(paths: HostPaths, context?: ProbeContext): Promise<Partial<Omit<Observations, 'at'>>>;
}

/**
 * What a few probes need beyond the host paths: the policy names where to look (watched
 * directories) and what to probe (beacon targets). Probes still judge nothing.
 */
export interface ProbeContext {
  policy: Policy;
  /** the agent's key, to sign the beacon each reachability probe carries */
  beacon?: BeaconSigner;
}
