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
  collect(paths: HostPaths): Promise<Partial<Omit<Observations, 'at'>>>;
}
