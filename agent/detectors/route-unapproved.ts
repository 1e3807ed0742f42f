import { severityForLevel } from '../../shared/levels.js';
import { RTF_CACHE, RTF_LOCAL, RTF_REJECT, RTF_UP } from '../probes/routes.js';
import type { Route } from '../probes/observations.js';
import type { Detector, Finding } from './finding.js';
import { isInterfaceApproved, isLoopbackInterface } from './interface-approval.js';

/**
 * `net.route.unapproved` (第41条): a route through an interface that policy does not approve
 * (policy.interfaces.approved or policy.wireless.approved, by name or the interface's MAC). A
 * default route is high: all outside traffic leaves that way. Any other route is medium.
 *
 * Left out, as the kernel adds them by itself and they lead nowhere new: loopback, local,
 * rejected (unreachable/prohibit) and cached routes, multicast (ff00::/8), link-local networks
 * without a gateway (fe80::/64 on every IPv6 link, 169.254/16), and the connected network of a
 * virtual bridge (docker0's 172.17/16 reaches only the host's own containers; a gateway route or
 * default through a bridge still counts, since a bridge may carry a physical port).
 */
export const routeUnapprovedDetector: Detector = {
  name: 'route-unapproved',
  types: ['net.route.unapproved'],
  needs: ['routes', 'interfaces'],
  detect(observations, policy) {
    const interfaces = new Map((observations.interfaces ?? []).map((iface) => [iface.name, iface]));
    const findings = new Map<string, Finding>();
    for (const route of observations.routes ?? []) {
      if (!isRelevant(route)) continue;
      const iface = interfaces.get(route.iface);
      if (iface !== undefined && isLoopbackInterface(iface)) continue;
      if (iface?.virtual && iface.devtype === 'bridge' && route.gateway === undefined && route.prefix > 0)
        continue;
      if (isInterfaceApproved(policy, route.iface, iface?.mac)) continue;
      const key = `net.route.unapproved:${route.iface}:${route.dest}${route.gateway ? `@${route.gateway}` : ''}`;
      const data: Record<string, unknown> = { iface: route.iface };
      if (route.gateway !== undefined) data.gateway = route.gateway;
      data.dest = route.dest;
      findings.set(key, {
        type: 'net.route.unapproved',
        key,
        severity: severityForLevel(route.prefix === 0 ? 'high' : 'medium', policy.level),
        data,
      });
    }
    return [...findings.values()];
  },
};

function isRelevant(route: Route): boolean {
  if (route.iface === 'lo') return false;
  if (route.family === 4 && !(route.flags & RTF_UP)) return false;
  if (route.flags & (RTF_REJECT | RTF_LOCAL | RTF_CACHE)) return false;
  if (route.family === 6 && route.dest.startsWith('ff') && route.prefix >= 8) return false;
  if (route.gateway === undefined && (route.dest.startsWith('fe80:') || route.dest.startsWith('169.254.')))
    return false;
  return true;
}
