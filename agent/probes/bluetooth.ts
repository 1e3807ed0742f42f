import { basename, join } from 'node:path';
import type { BluetoothAdapter } from './observations.js';
import type { Probe } from './probe.js';
import { listNames, readText, realpathOrUndefined, usbPortOf } from './sysfs-files.js';

/**
 * Bluetooth adapters from /sys/class/bluetooth. Only hciN entries are adapters; the class also
 * lists connections (hci0:12) while a link is open.
 *
 * The BD address: kernels before 3.13 had an `address` attribute; later ones moved it to debugfs
 * (`kernel/debug/bluetooth/hciN/identity`, root only, when debugfs is mounted under sysfs) or the
 * management socket, which needs a netlink-like binding Node does not have. So the address is read
 * where a file offers it and left out otherwise.
 */
export const bluetoothProbe: Probe = {
  name: 'bluetooth',
  provides: ['bluetooth'],
  async collect(paths) {
    return { bluetooth: await readBluetoothAdapters(paths.sysfs) };
  },
};

const BD_ADDRESS = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export async function readBluetoothAdapters(sysfs: string): Promise<BluetoothAdapter[]> {
  const classDir = join(sysfs, 'class', 'bluetooth');
  const adapters: BluetoothAdapter[] = [];
  for (const name of await listNames(classDir)) {
    if (!/^hci\d+$/.test(name)) continue;
    const dir = join(classDir, name);
    const [legacyAddress, identity, resolved, subsystem] = await Promise.all([
      readText(join(dir, 'address')),
      readText(join(sysfs, 'kernel', 'debug', 'bluetooth', name, 'identity')),
      realpathOrUndefined(dir),
      realpathOrUndefined(join(dir, 'device', 'subsystem')),
    ]);
    const adapter: BluetoothAdapter = { name };
    const address = [legacyAddress, identity?.split(/\s+/)[0]]
      .map((candidate) => candidate?.trim().toLowerCase())
      .find(
        (candidate) =>
          candidate !== undefined && BD_ADDRESS.test(candidate) && candidate !== '00:00:00:00:00:00',
      );
    if (address !== undefined) adapter.address = address;
    const usbPort = resolved === undefined ? undefined : usbPortOf(resolved);
    if (usbPort !== undefined) adapter.usbPort = usbPort;
    const bus = subsystem !== undefined ? basename(subsystem) : usbPort !== undefined ? 'usb' : undefined;
    if (bus !== undefined) adapter.bus = bus;
    adapters.push(adapter);
  }
  return adapters;
}
