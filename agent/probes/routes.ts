import { endianness } from 'node:os';
import { join } from 'node:path';
import { formatIp, ipv4FromBytes, ipv6FromBytes } from '../../shared/net/cidr.js';
import type { InterfaceAddress, Route } from './observations.js';
import type { Probe } from './probe.js';
import { readText } from './sysfs-files.js';

/**
 * The routing table and IPv6 addresses from procfs (the main table, as the kernel prints it;
 * policy routing tables are not in /proc and would need netlink). IPv4 addresses are not in
 * procfs per interface; each one brings a connected route on its interface, which the routes show.
 * /proc/net is the reader's network namespace, so the agent sees the namespace it runs in.
 */
export const routesProbe: Probe = {
  name: 'routes',
  provides: ['routes', 'addresses'],
  async collect(paths) {
    const [ipv4, ipv6, addresses] = await Promise.all([
      readText(join(paths.procfs, 'net', 'route')),
      readText(join(paths.procfs, 'net', 'ipv6_route')),
      readText(join(paths.procfs, 'net', 'if_inet6')),
    ]);
    return {
      routes: [...parseIpv4Routes(ipv4 ?? ''), ...parseIpv6Routes(ipv6 ?? '')],
      addresses: parseIfInet6(addresses ?? ''),
    };
  },
};

export const RTF_UP = 0x1;
export const RTF_GATEWAY = 0x2;
export const RTF_REJECT = 0x200;
export const RTF_CACHE = 0x01000000;
export const RTF_LOCAL = 0x80000000;

/**
 * /proc/net/route: a header, then tab-separated Iface, Destination, Gateway, Flags, RefCnt, Use,
 * Metric, Mask… with addresses as 32-bit hex words in host byte order (little-endian on x86/arm64).
 */
export function parseIpv4Routes(text: string, byteOrder: 'LE' | 'BE' = endianness()): Route[] {
  const routes: Route[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const [iface, destHex, gatewayHex, flagsHex, , , metric, maskHex] = fields as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const dest = hostWord(destHex, byteOrder);
    const gateway = hostWord(gatewayHex, byteOrder);
    const mask = hostWord(maskHex, byteOrder);
    if (dest === undefined || gateway === undefined || mask === undefined) continue;
    const prefix = popcount(mask);
    const flags = Number.parseInt(flagsHex, 16) || 0;
    const route: Route = {
      family: 4,
      iface,
      dest: `${formatIp(ipv4FromBytes(dest))}/${prefix}`,
      prefix,
      flags,
      metric: Number(metric) || 0,
    };
    if (flags & RTF_GATEWAY && gateway.some((b) => b !== 0)) route.gateway = formatIp(ipv4FromBytes(gateway));
    routes.push(route);
  }
  return routes;
}

/**
 * /proc/net/ipv6_route: dest, dest prefix, src, src prefix, next hop, metric, refcnt, use, flags,
 * device; addresses as 32 hex digits in network order, numbers in hex.
 */
export function parseIpv6Routes(text: string): Route[] {
  const routes: Route[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [destHex, prefixHex, , , nextHopHex, metricHex, , , flagsHex, iface] = fields as string[];
    const dest = hexBytes(destHex!, 16);
    const nextHop = hexBytes(nextHopHex!, 16);
    if (dest === undefined || nextHop === undefined) continue;
    const prefix = Number.parseInt(prefixHex!, 16);
    const flags = Number.parseInt(flagsHex!, 16) >>> 0;
    const route: Route = {
      family: 6,
      iface: iface!,
      dest: `${formatIp(ipv6FromBytes(dest))}/${prefix}`,
      prefix,
      flags,
      metric: Number.parseInt(metricHex!, 16) >>> 0,
    };
    if (nextHop.some((b) => b !== 0)) route.gateway = formatIp(ipv6FromBytes(nextHop));
    routes.push(route);
  }
  return routes;
}

const SCOPES: Record<number, InterfaceAddress['scope']> = {
  0x00: 'global',
  0x10: 'host',
  0x20: 'link',
  0x40: 'site',
};
const IFA_F_DADFAILED = 0x08;

/** /proc/net/if_inet6: address, ifindex, prefix, scope, flags, name; all hex. */
export function parseIfInet6(text: string): InterfaceAddress[] {
  const addresses: InterfaceAddress[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6) continue;
    const [addressHex, , prefixHex, scopeHex, flagsHex, iface] = fields as string[];
    const bytes = hexBytes(addressHex!, 16);
    if (bytes === undefined) continue;
    // An address whose duplicate-address detection failed is not usable.
    if (Number.parseInt(flagsHex!, 16) & IFA_F_DADFAILED) continue;
    addresses.push({
      iface: iface!,
      address: formatIp(ipv6FromBytes(bytes)),
      prefix: Number.parseInt(prefixHex!, 16),
      scope: SCOPES[Number.parseInt(scopeHex!, 16)] ?? 'other',
    });
  }
  return addresses;
}

/** A 32-bit word printed in host byte order, as 4 bytes in network order. */
export function hostWord(hex: string, byteOrder: 'LE' | 'BE'): number[] | undefined {
  const bytes = hexBytes(hex, 4);
  return bytes === undefined ? undefined : byteOrder === 'LE' ? bytes.reverse() : bytes;
}

export function hexBytes(hex: string, length: number): number[] | undefined {
  if (hex.length !== length * 2 || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < hex.length; i += 2) bytes.push(Number.parseInt(hex.slice(i, i + 2), 16));
  return bytes;
}

function popcount(bytes: number[]): number {
  return bytes.reduce((count, b) => count + b.toString(2).replaceAll('0', '').length, 0);
}
