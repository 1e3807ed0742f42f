import { readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import type { NetInterface } from './observations.js';
import type { HostPaths, Probe } from './probe.js';

/**
 * Network interfaces straight from sysfs and procfs, the way node_exporter's netdev and wifi
 * collectors read them. Libraries that list interfaces through getifaddrs() or `ip` skip down
 * or address-less ones, and a down wireless NIC is exactly what we must see (第35条).
 */
export const netdevProbe: Probe = {
  name: 'netdev',
  provides: ['interfaces'],
  async collect(paths) {
    return { interfaces: await readNetInterfaces(paths) };
  },
};

const IFF_UP = 0x1;
/** ARPHRD_IEEE80211, _PRISM and _RADIOTAP: 802.11 frames, e.g. a monitor-mode interface. */
const WIRELESS_ARP_TYPES = new Set([801, 802, 803]);

export async function readNetInterfaces(paths: Pick<HostPaths, 'sysfs' | 'procfs'>): Promise<NetInterface[]> {
  const classNet = join(paths.sysfs, 'class', 'net');
  // Unreadable class/net means we know nothing: let it throw so the detectors skip this pass.
  const names = (await readdir(classNet)).sort();
  const [procWireless, virtualRoot] = await Promise.all([
    readProcNetWireless(paths.procfs),
    realpathOrUndefined(join(paths.sysfs, 'devices', 'virtual')),
  ]);
  const interfaces = await Promise.all(
    names.map((name) => readNetInterface(classNet, name, procWireless, virtualRoot)),
  );
  // An interface removed between readdir and reading it leaves nothing behind; drop it.
  return interfaces.filter((iface): iface is NetInterface => iface !== undefined);
}

async function readNetInterface(
  classNet: string,
  name: string,
  procWireless: ReadonlySet<string>,
  virtualRoot: string | undefined,
): Promise<NetInterface | undefined> {
  const dir = join(classNet, name);
  const resolved = await realpathOrUndefined(dir);
  if (resolved === undefined) return undefined;

  // Each attribute on its own: one unreadable file (carrier of a down link is EINVAL) must
  // not lose the interface.
  const [address, operstate, flags, carrier, type, alias, uevent, driver, subsystem, phy, hasWireless] =
    await Promise.all([
      readAttribute(dir, 'address'),
      readAttribute(dir, 'operstate'),
      readAttribute(dir, 'flags'),
      readAttribute(dir, 'carrier'),
      readAttribute(dir, 'type'),
      readAttribute(dir, 'ifalias'),
      readAttribute(dir, 'uevent'),
      linkBasename(join(dir, 'device', 'driver')),
      realpathOrUndefined(join(dir, 'device', 'subsystem')),
      linkBasename(join(dir, 'phy80211')),
      isDirectory(join(dir, 'wireless')),
    ]);

  const arpType = type !== undefined && /^\d+$/.test(type) ? Number(type) : -1;
  const devtype = uevent === undefined ? undefined : parseUevent(uevent).DEVTYPE;
  const virtual =
    virtualRoot !== undefined
      ? resolved.startsWith(virtualRoot + sep)
      : resolved.includes(`${sep}devices${sep}virtual${sep}`);

  const wirelessEvidence: string[] = [];
  if (phy !== undefined) wirelessEvidence.push('phy80211');
  if (hasWireless) wirelessEvidence.push('wireless');
  if (devtype === 'wlan') wirelessEvidence.push('devtype=wlan');
  if (procWireless.has(name)) wirelessEvidence.push('proc-net-wireless');
  if (WIRELESS_ARP_TYPES.has(arpType)) wirelessEvidence.push(`arptype=${arpType}`);

  const iface: NetInterface = {
    name,
    operstate: operstate || 'unknown',
    adminUp: flags !== undefined && (parseFlags(flags) & IFF_UP) !== 0,
    arpType,
    virtual,
    wirelessEvidence,
  };
  const mac = normaliseMac(address);
  if (mac !== undefined) iface.mac = mac;
  if (carrier === '0' || carrier === '1') iface.carrier = carrier === '1';
  if (devtype !== undefined) iface.devtype = devtype;
  if (driver !== undefined) iface.driver = driver;
  const bus = virtual ? undefined : (subsystem && basename(subsystem)) || busFromDevicePath(resolved);
  if (bus !== undefined) iface.bus = bus;
  if (phy !== undefined) iface.phy = phy;
  if (alias) iface.alias = alias;
  return iface;
}

/**
 * /proc/net/wireless: two header lines, then one "  wlan0: 0000 …" line per interface with
 * wireless extensions. Absent when the kernel has none (or no wireless at all): an empty set.
 */
export async function readProcNetWireless(procfs: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(join(procfs, 'net', 'wireless'), 'utf8');
  } catch {
    return new Set();
  }
  const names = new Set<string>();
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon > 0) names.add(line.slice(0, colon).trim());
  }
  return names;
}

/** KEY=VALUE lines of a sysfs uevent file. */
export function parseUevent(text: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) entries[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return entries;
}

function parseFlags(text: string): number {
  const value = Number.parseInt(text, 16);
  return Number.isNaN(value) ? 0 : value;
}

function normaliseMac(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const mac = address.toLowerCase();
  return /^[0:]+$/.test(mac) ? undefined : mac;
}

/** When the device has no subsystem link (old kernels, odd fixtures), the path still tells the bus. */
function busFromDevicePath(resolved: string): string | undefined {
  const parts = resolved.split(sep);
  if (parts.some((p) => /^usb\d+$/.test(p))) return 'usb';
  if (parts.some((p) => /^mmc\d+$/.test(p))) return 'sdio';
  if (parts.some((p) => /^pci[0-9a-f]{4}:[0-9a-f]{2}$/.test(p))) return 'pci';
  return undefined;
}

/**
 * One sysfs attribute without its trailing newline; undefined when it cannot be read. Only the
 * final newline goes, so text such as ifalias reaches the detectors exactly as the kernel holds it.
 */
async function readAttribute(dir: string, name: string): Promise<string | undefined> {
  try {
    const text = await readFile(join(dir, name), 'utf8');
    return text.endsWith('\n') ? text.slice(0, -1) : text;
  } catch {
    return undefined;
  }
}

async function linkBasename(path: string): Promise<string | undefined> {
  try {
    return basename(await readlink(path));
  } catch {
    return undefined;
  }
}

async function realpathOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch {
    return undefined;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
