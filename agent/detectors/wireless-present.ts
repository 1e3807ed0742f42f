import { severityForLevel } from '../../shared/levels.js';
import { isApproved } from '../../shared/policy.js';
import type { Detector, Finding } from './finding.js';

/**
 * `net.wireless.present` (第35条 ¶2): a wireless NIC exists and policy does not approve it. It
 * counts even when down or rfkill-blocked, because one command brings it up; the NIC being
 * fitted is the violation. Wireless is an allowlist (names or MACs), never a flat ban.
 */
export const wirelessPresentDetector: Detector = {
  name: 'wireless-present',
  types: ['net.wireless.present'],
  needs: ['interfaces'],
  detect(observations, policy) {
    const findings: Finding[] = [];
    for (const iface of observations.interfaces ?? []) {
      if (iface.wirelessEvidence.length === 0) continue;
      if (isApproved(policy.wireless.approved, iface.name, iface.mac)) continue;
      const data: Record<string, unknown> = { iface: iface.name };
      if (iface.mac !== undefined) data.mac = iface.mac;
      if (iface.driver !== undefined) data.driver = iface.driver;
      if (iface.bus !== undefined) data.bus = iface.bus;
      findings.push({
        type: 'net.wireless.present',
        key: `net.wireless.present:${iface.name}`,
        severity: severityForLevel('high', policy.level),
        data,
      });
    }
    return findings;
  },
};
