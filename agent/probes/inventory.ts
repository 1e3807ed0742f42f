import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostInventorySchema, type HostInventory } from '../../shared/inventory.js';
import { cidrContains, parseCidr, parseIp } from '../../shared/net/cidr.js';
import { readNetInterfaces } from './netdev.js';
import type { HostPaths } from './probe.js';
import { parseIfInet6, parseIpv4Routes } from './routes.js';
import { readText, realpathOrUndefined, usbPortOf } from './sysfs-files.js';

/**
 * The host inventory for the terminal register (issue 17): OS and version, kernel, hostname, IPs
 * and MACs, CPU, memory, disks with model and serial, board and BIOS, the system UUID.
 *
 * Every value is read from a file under `paths.sysfs`, `paths.procfs` or `paths.etc`, so fixture
 * trees work, and nothing is executed: no shell, no program. The issue proposed the
 * `systeminformation` package; each of its Linux calls for these values was read in its source
 * (5.33) and none is used here — `osInfo`, `cpu`, `system`, `bios`, `baseboard`, `uuid`,
 * `blockDevices`, `diskLayout` and `networkInterfaces` run programs through `/bin/sh -c`
 * (`cat /etc/*-release`, `lscpu`, `dmidecode`, `lsblk`, `smartctl`), the last three with device or
 * interface names pasted into the command line after its own sanitising (the CVE class it has
 * had); `mem` only reads /proc/meminfo, safely, but from a fixed path that ignores
 * `paths.procfs`. docs/inventory.md has the table. The tests use `systeminformation` as an
 * independent oracle for this machine instead.
 *
 * Every string is whatever the hardware, its firmware or an administrator wrote (a USB-SATA
 * bridge reports any model it likes), so each is cut to the shape's bound and carried as data.
 */
export type InventoryPaths = Pick<HostPaths, 'sysfs' | 'procfs'> & { etc: string };

/** Mirrors the bounds of shared/inventory.ts. */
const MAX_TEXT = 256;
const MAX_ITEMS = 256;
const MAX_ADDRESSES = 64;

export async function readHostInventory(paths: InventoryPaths): Promise<HostInventory> {
  const [hostname, osRelease, kernel, arch, cpu, memoryBytes, interfaces, disks, dmi] = await Promise.all([
    readText(join(paths.procfs, 'sys', 'kernel', 'hostname')),
    readOsRelease(paths.etc),
    readText(join(paths.procfs, 'sys', 'kernel', 'osrelease')),
    readText(join(paths.procfs, 'sys', 'kernel', 'arch')),
    readCpu(paths.procfs),
    readMemoryBytes(paths.procfs),
    readInterfaces(paths),
    readDisks(paths.sysfs),
    readDmi(paths.sysfs),
  ]);
  return hostInventorySchema.parse({
    hostname: bounded(hostname) ?? '',
    os: defined({
      distro: bounded(osRelease.PRETTY_NAME ?? osRelease.NAME),
      release: bounded(osRelease.VERSION_ID ?? osRelease.VERSION),
      kernel: bounded(kernel),
      arch: bounded(arch),
    }),
    cpu: defined({ model: bounded(cpu.model), cores: cpu.cores }),
    ...(memoryBytes !== undefined ? { memoryBytes } : {}),
    interfaces,
    disks,
    board: defined({ vendor: dmi.board_vendor, model: dmi.board_name, serial: dmi.board_serial }),
    bios: defined({ vendor: dmi.bios_vendor, version: dmi.bios_version, date: dmi.bios_date }),
    ...(dmi.product_uuid !== undefined ? { systemUuid: dmi.product_uuid.toLowerCase() } : {}),
  });
}

/**
 * The text as the shape carries it: NULs and surrounding blanks dropped (sysfs pads models with
 * spaces), at most MAX_TEXT UTF-16 units without splitting a character; empty counts as absent.
 */
export function bounded(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let value = text.replaceAll('\0', '').trim();
  if (value.length > MAX_TEXT) {
    value = value.slice(0, MAX_TEXT);
    // A high surrogate cut from its pair at the end.
    if (/[\ud800-\udbff]$/.test(value)) value = value.slice(0, -1);
  }
  return value === '' ? undefined : value;
}

/** The object without its undefined members, so the stored JSON and its diff stay stable. */
function defined<T extends Record<string, unknown>>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** os-release(5): KEY=value lines, values optionally quoted with shell-style escapes. */
export function parseOsRelease(text: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    let value = match[2]!;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\([\\"$`])/g, '$1');
    }
    entries[match[1]!] = value;
  }
  return entries;
}

/** /etc/os-release, else /usr/lib/os-release (its fallback, os-release(5)) beside that /etc. */
async function readOsRelease(etc: string): Promise<Record<string, string>> {
  const text =
    (await readText(join(etc, 'os-release'))) ??
    (await readText(join(etc, '..', 'usr', 'lib', 'os-release')));
  return text === undefined ? {} : parseOsRelease(text);
}

/**
 * /proc/cpuinfo: `model name` on x86, `Hardware` or `cpu model` on some ARM and MIPS kernels (a
 * Phytium or Kunpeng may print neither); cores are its `processor` entries (online logical CPUs).
 */
export function parseCpuinfo(text: string): { model?: string; cores?: number } {
  const fields = new Map<string, string>();
  let cores = 0;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (key === 'processor') cores += 1;
    if (!fields.has(key)) fields.set(key, line.slice(colon + 1).trim());
  }
  const model = fields.get('model name') ?? fields.get('hardware') ?? fields.get('cpu model');
  return { ...(model ? { model } : {}), ...(cores > 0 ? { cores } : {}) };
}

async function readCpu(procfs: string): Promise<{ model?: string; cores?: number }> {
  const text = await readText(join(procfs, 'cpuinfo'));
  return text === undefined ? {} : parseCpuinfo(text);
}

/** MemTotal of /proc/meminfo, in bytes. */
export function parseMemTotal(text: string): number | undefined {
  const match = /^MemTotal:\s+(\d+)\s*kB/m.exec(text);
  return match ? Number(match[1]) * 1024 : undefined;
}

async function readMemoryBytes(procfs: string): Promise<number | undefined> {
  const text = await readText(join(procfs, 'meminfo'));
  return text === undefined ? undefined : parseMemTotal(text);
}

/**
 * The host's physical NICs (not under /sys/devices/virtual: no loopback, bridge, veth or tunnel,
 * which come and go with containers and VPNs) with their MAC and addresses. IPv6 addresses come
 * from /proc/net/if_inet6. IPv4 addresses are not listed per interface in procfs: the local
 * addresses of /proc/net/fib_trie are placed on the interface whose connected route holds them.
 */
async function readInterfaces(paths: InventoryPaths): Promise<HostInventory['interfaces']> {
  const [nics, routes, inet6, fibTrie] = await Promise.all([
    readNetInterfaces(paths).catch(absentAsNone),
    readText(join(paths.procfs, 'net', 'route')),
    readText(join(paths.procfs, 'net', 'if_inet6')),
    readText(join(paths.procfs, 'net', 'fib_trie')),
  ]);
  const connected = parseIpv4Routes(routes ?? '').filter((route) => route.gateway === undefined);
  const ip4 = new Map<string, string[]>();
  for (const address of parseFibTrieLocal(fibTrie ?? '')) {
    const ip = parseIp(address);
    const route = connected.find((r) => {
      const cidr = parseCidr(r.dest);
      return ip !== undefined && cidr !== undefined && r.prefix > 0 && cidrContains(cidr, ip);
    });
    if (route) ip4.set(route.iface, [...(ip4.get(route.iface) ?? []), address]);
  }
  const ip6 = new Map<string, string[]>();
  for (const a of parseIfInet6(inet6 ?? '')) ip6.set(a.iface, [...(ip6.get(a.iface) ?? []), a.address]);
  return nics
    .filter((nic) => !nic.virtual)
    .slice(0, MAX_ITEMS)
    .map((nic) => ({
      iface: bounded(nic.name) ?? '?',
      ...(nic.mac !== undefined ? { mac: bounded(nic.mac) } : {}),
      ip4: [...new Set(ip4.get(nic.name) ?? [])].sort().slice(0, MAX_ADDRESSES),
      ip6: [...new Set(ip6.get(nic.name) ?? [])].sort().slice(0, MAX_ADDRESSES),
    }));
}

/**
 * The host's own IPv4 addresses from /proc/net/fib_trie: each leaf `|-- ADDRESS` followed by a
 * `/32 host LOCAL` line. The trie is printed once per table (Main, Local); each address once.
 */
export function parseFibTrieLocal(text: string): string[] {
  const addresses = new Set<string>();
  let leaf: string | undefined;
  for (const line of text.split('\n')) {
    const leafMatch = /^\s*\|-- (\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (leafMatch) {
      leaf = leafMatch[1];
      continue;
    }
    if (leaf !== undefined && /^\s*\/32 host LOCAL\b/.test(line) && !leaf.startsWith('127.')) {
      addresses.add(leaf);
    }
  }
  return [...addresses].sort();
}

/**
 * A tree that does not exist has none of its parts (a container, a fixture); one that cannot be
 * read fails the inventory, which the next round retries: an unreadable /sys/block must not read
 * as every disk removed.
 */
function absentAsNone(err: unknown): never[] {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
  throw err;
}

/** Block devices that are not disks of this host: loop, RAM, compressed RAM, device-mapper, md, optical. */
const NOT_A_DISK = /^(loop|ram|zram|dm-|md|sr|nbd|fd)\d*/;

/**
 * The host's fixed disks: /sys/block entries backed by a device, less USB-attached ones (a USB
 * disk is removable media for usb-storage, not part of the terminal) and boot or RPMB areas of an
 * eMMC. Model: device/model (SCSI, SATA, NVMe), device/name (MMC). Serial: serial (virtio),
 * device/serial (NVMe, MMC), else SCSI inquiry page 0x80 (device/vpd_pg80, SATA and SAS).
 */
async function readDisks(sysfs: string): Promise<HostInventory['disks']> {
  const block = join(sysfs, 'block');
  const names = (await readdir(block).catch(absentAsNone))
    .sort()
    .filter((n) => !NOT_A_DISK.test(n) && !/(boot\d+|rpmb)$/.test(n));
  const disks = await Promise.all(names.map((name) => readDisk(join(block, name), name)));
  return disks.filter((d): d is NonNullable<typeof d> => d !== undefined).slice(0, MAX_ITEMS);
}

async function readDisk(dir: string, name: string): Promise<HostInventory['disks'][number] | undefined> {
  const device = await realpathOrUndefined(join(dir, 'device'));
  if (device === undefined || usbPortOf(device) !== undefined) return undefined;
  const [model, mmcName, serial, deviceSerial, vpd, sectors] = await Promise.all([
    readText(join(dir, 'device', 'model')),
    readText(join(dir, 'device', 'name')),
    readText(join(dir, 'serial')),
    readText(join(dir, 'device', 'serial')),
    readVpdSerial(join(dir, 'device', 'vpd_pg80')),
    readText(join(dir, 'size')),
  ]);
  const sizeBytes = sectors !== undefined && /^\d+$/.test(sectors) ? Number(sectors) * 512 : undefined;
  return {
    device: bounded(name) ?? '?',
    ...defined({ model: bounded(model ?? mmcName), serial: bounded(serial ?? deviceSerial ?? vpd) }),
    ...(sizeBytes !== undefined ? { sizeBytes } : {}),
  };
}

/**
 * SCSI VPD page 0x80 (unit serial number): a 4-byte header whose byte 3 is the length, then the
 * serial in ASCII, often padded with blanks.
 */
export function parseVpdSerial(page: Buffer): string | undefined {
  if (page.length < 4 || page[1] !== 0x80) return undefined;
  const serial = page.subarray(4, 4 + page[3]!).toString('latin1');
  return bounded(serial);
}

async function readVpdSerial(path: string): Promise<string | undefined> {
  try {
    return parseVpdSerial(await readFile(path));
  } catch {
    return undefined;
  }
}

const DMI_FIELDS = [
  'board_vendor',
  'board_name',
  'board_serial',
  'bios_vendor',
  'bios_version',
  'bios_date',
  'product_uuid',
] as const;

/**
 * SMBIOS strings the kernel exports under /sys/class/dmi/id. board_serial and product_uuid are
 * readable by root only (mode 0400): an agent running unprivileged reports them absent.
 */
async function readDmi(sysfs: string): Promise<Partial<Record<(typeof DMI_FIELDS)[number], string>>> {
  const dir = join(sysfs, 'class', 'dmi', 'id');
  const values = await Promise.all(DMI_FIELDS.map(async (f) => bounded(await readText(join(dir, f)))));
  return defined(Object.fromEntries(DMI_FIELDS.map((f, i) => [f, values[i]])));
}
