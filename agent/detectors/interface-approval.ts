import { isApproved, type Policy } from '../../shared/policy.js';
import type { NetInterface } from '../probes/observations.js';

/**
 * An interface is approved when policy lists it (by name or MAC) as an approved wired link or as
 * approved wireless (第35条 allows wireless that meets the national rules): either way it is meant
 * to be up and to carry routes.
 */
export function isInterfaceApproved(policy: Policy, name: string, mac?: string): boolean {
  return isApproved(policy.interfaces.approved, name, mac) || isApproved(policy.wireless.approved, name, mac);
}

/** ARPHRD_LOOPBACK */
export const ARPHRD_LOOPBACK = 772;

export function isLoopbackInterface(iface: Pick<NetInterface, 'name' | 'arpType'>): boolean {
  return iface.arpType === ARPHRD_LOOPBACK || iface.name === 'lo';
}

/**
 * Carrying traffic now: enabled (IFF_UP), a carrier (or none reported, as on tun devices) and an
 * operstate that is not down. A NIC enabled but unplugged is not "up" until a cable or peer appears,
 * which is the moment the host joins a network.
 */
export function isActive(iface: NetInterface): boolean {
  if (!iface.adminUp) return false;
  if (iface.carrier === false) return false;
  return !['down', 'lowerlayerdown', 'notpresent'].includes(iface.operstate);
}
