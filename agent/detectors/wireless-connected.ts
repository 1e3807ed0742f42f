import { severityForLevel } from '../../shared/levels.js';
import { isApproved } from '../../shared/policy.js';
import type { NetInterface, WirelessLink } from '../probes/observations.js';
import type { Detector, Finding } from './finding.js';

/**
 * `net.wireless.connected` (第35条 ¶2): an unapproved wireless NIC is associated with a network,
 * which is worse than its mere presence, hence critical on a 秘密 host.
 *
 * Associated means either a /proc/net/wireless line (cfg80211 prints one only with a current BSS)
 * on an interface that is not down, or a wireless interface with carrier and operstate up or
 * dormant (a station gets carrier on association; dormant is associated but still
 * authenticating). SSID and BSSID are reported when a probe could read them; sysfs and procfs
 * cannot, so today they are absent. An approved NIC (policy.wireless.approved) is not reported:
 * approval is per NIC because the SSID is not observable.
 */
export const wirelessConnectedDetector: Detector = {
  name: 'wireless-connected',
  types: ['net.wireless.connected'],
  needs: ['interfaces'],
  detect(observations, policy) {
    const links = new Map((observations.wirelessLinks ?? []).map((link) => [link.iface, link]));
    const findings: Finding[] = [];
    for (const iface of observations.interfaces ?? []) {
      const link = links.get(iface.name);
      if (iface.wirelessEvidence.length === 0 && link === undefined) continue;
      if (!isAssociated(iface, link)) continue;
      if (isApproved(policy.wireless.approved, iface.name, iface.mac)) continue;
      const data: Record<string, unknown> = { iface: iface.name };
      if (link?.ssid !== undefined) data.ssid = link.ssid;
      if (link?.bssid !== undefined) data.bssid = link.bssid;
      findings.push({
        type: 'net.wireless.connected',
        key: `net.wireless.connected:${iface.name}`,
        severity: severityForLevel('critical', policy.level),
        data,
      });
    }
    return findings;
  },
};

function isAssociated(iface: NetInterface, link: WirelessLink | undefined): boolean {
  if (!iface.adminUp || iface.carrier === false) return false;
  if (link !== undefined) return !['down', 'lowerlayerdown', 'notpresent'].includes(iface.operstate);
  return iface.carrier === true && ['up', 'dormant'].includes(iface.operstate);
}
