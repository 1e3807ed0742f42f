import { netdevProbe } from './netdev.js';
import type { Probe } from './probe.js';

/** Every probe. Add one file per host source under agent/probes/ and list it here. */
export const PROBES: readonly Probe[] = [netdevProbe];
