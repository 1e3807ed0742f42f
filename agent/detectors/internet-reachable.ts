import { severityForLevel } from '../../shared/levels.js';
import type { Detector, Finding } from './finding.js';

/**
 * `net.internet.reachable` (违规外联, 第41条): a beacon probe to a policy target got through. The
 * host was meant to be isolated, so reaching the organisation's beacon on the internet side is
 * the violation itself: critical on a 秘密 host (the scale tops out above), high on 非密.
 * The beacon receiver keeps its own record of the same probe, which the host cannot erase.
 */
export const internetReachableDetector: Detector = {
  name: 'internet-reachable',
  types: ['net.internet.reachable'],
  needs: ['beaconProbes'],
  detect(observations, policy) {
    const findings: Finding[] = [];
    for (const probe of observations.beaconProbes ?? []) {
      if (!probe.reached) continue;
      findings.push({
        type: 'net.internet.reachable',
        key: `net.internet.reachable:${probe.method}:${probe.target}`,
        severity: severityForLevel('critical', policy.level),
        data: { target: probe.target, method: probe.method },
      });
    }
    return findings;
  },
};
