import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { UsbBlock, UsbDevice, UsbDiskLink, UsbInterface } from './observations.js';
import type { Probe } from './probe.js';
import { isUsbDeviceName, linkBasename, listNames, readText, realpathOrUndefined } from './sysfs-files.js';

/**
 * USB devices from /sys/bus/usb/devices: ids and strings of each device, the class and driver of
 * each interface, and the class devices below each interface (block disks, netdevs, ttys, cdc-wdm
 * nodes, wwan ports, hci adapters). That one tree serves the storage, modem and Bluetooth
 * detectors, and lets them tie a netdev or tty back to the physical device it belongs to.
 * Plus /dev/disk/by-id/usb-* links, which udev keeps for USB disks even where /sys/bus is hidden.
 */
export const usbProbe: Probe = {
  name: 'usb',
  provides: ['usb', 'usbDiskLinks'],
  async collect(paths) {
    const [usb, usbDiskLinks] = await Promise.all([
      readUsbDevices(paths.sysfs),
      readUsbDiskLinks(paths.devfs),
    ]);
    return { usb, usbDiskLinks };
  },
};

/** Class directories whose children are the devices we want to know about. */
const CHILD_CLASSES = ['block', 'net', 'tty', 'usbmisc', 'wwan', 'bluetooth'] as const;
type ChildClass = (typeof CHILD_CLASSES)[number];
/** Deep enough for block/sdb under host6/target6:0:0/6:0:0:0, shallow enough to stay cheap. */
const MAX_DEPTH = 6;

export async function readUsbDevices(sysfs: string): Promise<UsbDevice[]> {
  const root = join(sysfs, 'bus', 'usb', 'devices');
  const names = await listNames(root);
  const devices: UsbDevice[] = [];
  for (const port of names.filter(isUsbDeviceName)) {
    const dir = join(root, port);
    const [vendor, product, manufacturer, productName, serial] = await Promise.all(
      ['idVendor', 'idProduct', 'manufacturer', 'product', 'serial'].map((attr) => readText(join(dir, attr))),
    );
    if (vendor === undefined || product === undefined) continue;
    const device: UsbDevice = {
      port,
      vendor: vendor.toLowerCase(),
      product: product.toLowerCase(),
      interfaces: await Promise.all(
        names.filter((name) => name.startsWith(`${port}:`)).map((name) => readInterface(root, name)),
      ),
    };
    if (manufacturer !== undefined) device.manufacturer = manufacturer;
    if (productName !== undefined) device.productName = productName;
    if (serial !== undefined) device.serial = serial;
    devices.push(device);
  }
  return devices;
}

async function readInterface(root: string, name: string): Promise<UsbInterface> {
  const dir = join(root, name);
  const [cls, subclass, protocol, driver, resolved] = await Promise.all([
    readText(join(dir, 'bInterfaceClass')),
    readText(join(dir, 'bInterfaceSubClass')),
    readText(join(dir, 'bInterfaceProtocol')),
    linkBasename(join(dir, 'driver')),
    realpathOrUndefined(dir),
  ]);
  const iface: UsbInterface = {
    name,
    class: (cls ?? '').toLowerCase(),
    subclass: (subclass ?? '').toLowerCase(),
    protocol: (protocol ?? '').toLowerCase(),
    blocks: [],
    nets: [],
    ttys: [],
    usbmisc: [],
    wwan: [],
    bluetooth: [],
  };
  if (driver !== undefined) iface.driver = driver;
  if (resolved !== undefined) await collectChildren(resolved, iface, 0);
  return iface;
}

/** Walks real directories only: sysfs symlinks (device, driver, subsystem) lead back up and loop. */
async function collectChildren(dir: string, iface: UsbInterface, depth: number): Promise<void> {
  if (depth > MAX_DEPTH) return;
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  const parentName = basename(dir);
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if ((CHILD_CLASSES as readonly string[]).includes(parentName)) {
      await record(parentName as ChildClass, entry.name, path, iface);
      continue;
    }
    await collectChildren(path, iface, depth + 1);
  }
}

async function record(cls: ChildClass, name: string, path: string, iface: UsbInterface): Promise<void> {
  switch (cls) {
    case 'block': {
      const [removable, size] = await Promise.all([
        readText(join(path, 'removable')),
        readText(join(path, 'size')),
      ]);
      const block: UsbBlock = { name };
      if (removable === '0' || removable === '1') block.removable = removable === '1';
      if (size !== undefined && /^\d+$/.test(size)) block.sectors = Number(size);
      iface.blocks.push(block);
      return;
    }
    case 'net':
      iface.nets.push(name);
      return;
    case 'tty':
      iface.ttys.push(name);
      return;
    case 'usbmisc':
      iface.usbmisc.push(name);
      return;
    case 'wwan':
      iface.wwan.push(name);
      return;
    case 'bluetooth':
      if (/^hci\d+$/.test(name)) iface.bluetooth.push(name);
      return;
  }
}

export async function readUsbDiskLinks(devfs: string): Promise<UsbDiskLink[]> {
  const dir = join(devfs, 'disk', 'by-id');
  const links: UsbDiskLink[] = [];
  for (const link of await listNames(dir)) {
    if (!link.startsWith('usb-')) continue;
    const target = await linkBasename(join(dir, link));
    if (target !== undefined) links.push({ link, target });
  }
  return links;
}
