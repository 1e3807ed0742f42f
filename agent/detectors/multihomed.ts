import { severityForLevel } from '../../shared/levels.js';
import { RTF_REJECT } from '../probes/routes.js';
import type { NetInterface, Observations } from '../probes/observations.js';
import type { Detector, Finding } from './finding.js';
import { isActive, isLoopbackInterface } from './interface-approval.js';

/**
 * `net.multihomed` (一机两用, 第41条): the host is on two or more networks at once. An uplink is an
 * active interface (enabled, carrier, not down) that
 * - carries a default route (IPv4 or IPv6), or
 * - is not virtual and has an IPv4 network of its own (a connected route, which every IPv4 address
 *   brings; link-local 169.254/16 aside) or a global-scope IPv6 address.
 * Virtual interfaces (bridges, veths, tunnels) count only with a default route: a bridge for
 * containers is not a second network, but a VPN that takes the default route is.
 *
 * Approval does not silence it: two approved links are still two networks on one host, which is
 * the violation. The key names the set of uplinks, so a third one joining is a new event.
 */
export const multihomedDetector: Detector = {
  name: 'multihomed',
  types: ['net.multihomed'],
  needs: ['interfaces', 'routes', 'addresses'],
  detect(observations, policy) {
    const uplinks = (observations.interfaces ?? [])
      .filter((iface) => !isLoopbackInterface(iface) && isActive(iface) && isUplink(iface, observations))
      .map((iface) => iface.name)
      .sort();
    if (uplinks.length < 2) return [];
    return [
      {
        type: 'net.multihomed',
        key: `net.multihomed:${uplinks.join('+')}`,
        severity: severityForLevel('high', policy.level),
        data: { ifaces: uplinks },
      } satisfies Finding,
    ];
  },
};

function isUplink(iface: NetInterface, observations: Observations): boolean {
  const routes = (observations.routes ?? []).filter((r) => r.iface === iface.name && !(r.flags & RTF_REJECT));
  if (routes.some((r) => r.prefix === 0)) return true;
  if (iface.virtual) return false;
  const ipv4Network = routes.some(
    (r) => r.family === 4 && r.gateway === undefined && !r.dest.startsWith('169.254.'),
  );
  const globalIpv6 = (observations.addresses ?? []).some(
    (a) => a.iface === iface.name && a.scope === 'global',
  );
  return ipv4Network || globalIpv6;
}
