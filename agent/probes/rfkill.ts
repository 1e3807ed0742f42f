import { basename, dirname, join } from 'node:path';
import type { RfkillSwitch } from './observations.js';
import type { Probe } from './probe.js';
import { listNames, readText, realpathOrUndefined, usbPortOf } from './sysfs-files.js';

/**
 * Radio kill switches from /sys/class/rfkill. A switch tells that a radio exists even when its
 * driver keeps no interface up, and a blocked radio is one `rfkill unblock` away from working,
 * so blocked switches are reported like any other.
 */
export const rfkillProbe: Probe = {
  name: 'rfkill',
  provides: ['rfkill'],
  async collect(paths) {
    return { rfkill: await readRfkill(paths.sysfs) };
  },
};

export async function readRfkill(sysfs: string): Promise<RfkillSwitch[]> {
  const classDir = join(sysfs, 'class', 'rfkill');
  const switches: RfkillSwitch[] = [];
  for (const id of await listNames(classDir)) {
    if (!/^rfkill\d+$/.test(id)) continue;
    const dir = join(classDir, id);
    const [type, label, soft, hard, resolved] = await Promise.all([
      readText(join(dir, 'type')),
      readText(join(dir, 'name')),
      readText(join(dir, 'soft')),
      readText(join(dir, 'hard')),
      realpathOrUndefined(dir),
    ]);
    if (type === undefined) continue;
    const entry: RfkillSwitch = {
      id,
      type,
      label: label ?? id,
      soft: soft === '1',
      hard: hard === '1',
    };
    if (resolved !== undefined) {
      // A switch sits directly under its class-device parent (phy0, hci0), or in an `rfkill`
      // glue directory under a plain device (platform/thinkpad_acpi/rfkill/rfkill2).
      let parentDir = dirname(resolved);
      if (basename(parentDir) === 'rfkill') parentDir = dirname(parentDir);
      entry.parent = basename(parentDir);
      const usbPort = usbPortOf(resolved);
      if (usbPort !== undefined) entry.usbPort = usbPort;
    }
    switches.push(entry);
  }
  return switches;
}
