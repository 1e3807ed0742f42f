import { isIP } from 'node:net';

/**
 * IP addresses and CIDR ranges as numbers, for matching remote addresses against the policy's
 * allowed ranges. IPv4-mapped IPv6 (::ffff:a.b.c.d, what a dual-stack socket shows for an IPv4
 * peer) is folded to IPv4 on both sides, so `10.0.0.0/8` covers `::ffff:10.1.2.3` too.
 */
export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

export interface Cidr {
  family: 4 | 6;
  network: bigint;
  prefix: number;
}

const MAPPED_PREFIX = 0xffffn << 32n;

export function parseIp(text: string): IpAddress | undefined {
  // Zone ids (fe80::1%eth0) name a link, not part of the address.
  const bare = text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
  const family = isIP(bare);
  if (family === 4) return { family: 4, value: ipv4Value(bare) };
  if (family === 6) return foldMapped({ family: 6, value: ipv6Value(bare) });
  return undefined;
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128). Undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text.trim() : text.slice(0, slash).trim();
  const prefixText = slash < 0 ? undefined : text.slice(slash + 1).trim();
  const family = isIP(addressText);
  if (family !== 4 && family !== 6) return undefined;
  const bits = family === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return undefined;
  const value = family === 4 ? ipv4Value(addressText) : ipv6Value(addressText);
  if (family === 6 && prefix >= 96 && value >> 32n === 0xffffn) {
    // ::ffff:10.0.0.0/104 is 10.0.0.0/8 spelt the IPv6 way.
    return { family: 4, network: value & mask(32, prefix - 96), prefix: prefix - 96 };
  }
  return { family, network: value & mask(bits, prefix), prefix };
}

export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  if (cidr.family !== address.family) return false;
  const bits = cidr.family === 4 ? 32 : 128;
  return (address.value & mask(bits, cidr.prefix)) === cidr.network;
}

/** 127.0.0.0/8 and ::1: the host talking to itself, never a prohibited connection. */
export function isLoopback(address: IpAddress): boolean {
  return address.family === 4 ? address.value >> 24n === 127n : address.value === 1n;
}

/** Unspecified (0.0.0.0, ::): no peer at all, as on a listening or unconnected socket. */
export function isUnspecified(address: IpAddress): boolean {
  return address.value === 0n;
}

export function formatIp(address: IpAddress): string {
  if (address.family === 4) {
    const v = Number(address.value);
    return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].join('.');
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((address.value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return compressIpv6(groups);
}

/** From 4 bytes in network order. */
export function ipv4FromBytes(bytes: readonly number[]): IpAddress {
  return { family: 4, value: bytes.reduce((acc, b) => (acc << 8n) | BigInt(b & 0xff), 0n) };
}

/** From 16 bytes in network order; IPv4-mapped addresses come back as IPv4. */
export function ipv6FromBytes(bytes: readonly number[]): IpAddress {
  return foldMapped({ family: 6, value: bytes.reduce((acc, b) => (acc << 8n) | BigInt(b & 0xff), 0n) });
}

function foldMapped(address: IpAddress): IpAddress {
  if (address.family === 6 && address.value >> 32n === 0xffffn) {
    return { family: 4, value: address.value - MAPPED_PREFIX };
  }
  return address;
}

function mask(bits: number, prefix: number): bigint {
  if (prefix === 0) return 0n;
  const all = (1n << BigInt(bits)) - 1n;
  return (all >> BigInt(bits - prefix)) << BigInt(bits - prefix);
}

function ipv4Value(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Value(text: string): bigint {
  let head = text;
  let tailV4: bigint | undefined;
  // A dotted quad may end an IPv6 address (::ffff:1.2.3.4); it fills the last two groups.
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = ipv4Value(text.slice(lastColon + 1));
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const leftGroups = left ? left.split(':') : [];
  const rightGroups = right ? right.split(':') : [];
  const missing = 8 - leftGroups.length - rightGroups.length;
  const groups = [
    ...leftGroups,
    ...Array<string>(right === undefined ? 0 : missing).fill('0'),
    ...rightGroups,
  ];
  let value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (tailV4 !== undefined) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

/** RFC 5952: the longest run of two or more zero groups becomes `::`. */
function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}
