import { severityForLevel } from '../../shared/levels.js';
import type { NetInterface } from '../probes/observations.js';
import type { Detector, Finding } from './finding.js';
import { isActive, isInterfaceApproved, isLoopbackInterface } from './interface-approval.js';

/**
 * `net.link.unapproved` (第41条): an interface that is up (enabled, with carrier; see isActive) and
 * not in policy.interfaces.approved or policy.wireless.approved, by name or MAC.
 *
 * Only loopback and virtual bridges are left out. A bridge (docker0, virbr0) is a switch inside
 * the host: what joins it to a network is a port, and ports are reported themselves. Everything
 * else counts, virtual or not: a veth into a namespace or container, a tun/WireGuard tunnel or a
 * VLAN is a path to another network all the same. On a host that runs containers, list their
 * veths or expect a finding per container.
 */
export const linkUnapprovedDetector: Detector = {
  name: 'link-unapproved',
  types: ['net.link.unapproved'],
  needs: ['interfaces'],
  detect(observations, policy) {
    const findings: Finding[] = [];
    for (const iface of observations.interfaces ?? []) {
      if (isLoopbackInterface(iface)) continue;
      if (iface.virtual && iface.devtype === 'bridge') continue;
      if (!isActive(iface)) continue;
      if (isInterfaceApproved(policy, iface.name, iface.mac)) continue;
      const data: Record<string, unknown> = { iface: iface.name };
      if (iface.mac !== undefined) data.mac = iface.mac;
      data.kind = linkKind(iface);
      findings.push({
        type: 'net.link.unapproved',
        key: `net.link.unapproved:${iface.name}`,
        severity: severityForLevel('medium', policy.level),
        data,
      });
    }
    return findings;
  },
};

/** ARPHRD numbers that mean a tunnel: none (tun, WireGuard), ipip, sit, ip6tnl, gre, ip6gre. */
const TUNNEL_ARP_TYPES = new Set([65534, 768, 769, 776, 778, 823]);

/**
 * What sort of link it is, for the officer reading the event: wireless, wwan, ppp, tunnel, the
 * kernel's DEVTYPE (vlan, bond…), virtual (veth and friends) or ethernet.
 */
export function linkKind(iface: NetInterface): string {
  if (iface.wirelessEvidence.length > 0) return 'wireless';
  if (iface.devtype === 'wwan') return 'wwan';
  if (iface.arpType === 512) return 'ppp';
  if (TUNNEL_ARP_TYPES.has(iface.arpType)) return 'tunnel';
  if (iface.devtype !== undefined) return iface.devtype;
  if (iface.virtual) return 'virtual';
  return iface.arpType === 1 ? 'ethernet' : `arphrd-${iface.arpType}`;
}
