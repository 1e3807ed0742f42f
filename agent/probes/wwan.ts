import { join } from 'node:path';
import type { WwanDevice } from './observations.js';
import type { Probe } from './probe.js';
import { listNames, realpathOrUndefined, usbPortOf } from './sysfs-files.js';

/**
 * Mobile-broadband control devices: the WWAN subsystem (/sys/class/wwan: wwan0 and its ports
 * wwan0at0, wwan0mbim0, wwan0qmi0…, used by PCIe/MHI and newer USB modems), cdc-wdm nodes
 * (/sys/class/usbmisc/cdc-wdm*, the QMI/MBIM control channel of qmi_wwan and cdc_mbim), and the
 * same nodes in /dev, which remain visible where a container sees /dev but not the host's /sys.
 */
export const wwanProbe: Probe = {
  name: 'wwan',
  provides: ['wwan'],
  async collect(paths) {
    return { wwan: await readWwanDevices(paths.sysfs, paths.devfs) };
  },
};

const DEV_NODE = /^(cdc-wdm\d+|wwan\d+[a-z]*\d*)$/;

export async function readWwanDevices(sysfs: string, devfs: string): Promise<WwanDevice[]> {
  const devices: WwanDevice[] = [];
  const fromClass = async (cls: string, source: WwanDevice['source'], only?: RegExp) => {
    const classDir = join(sysfs, 'class', cls);
    for (const name of await listNames(classDir)) {
      if (only !== undefined && !only.test(name)) continue;
      const resolved = await realpathOrUndefined(join(classDir, name));
      const device: WwanDevice = { name, source };
      const usbPort = resolved === undefined ? undefined : usbPortOf(resolved);
      if (usbPort !== undefined) device.usbPort = usbPort;
      devices.push(device);
    }
  };
  await fromClass('wwan', 'class-wwan');
  // usbmisc also holds unrelated nodes (hiddev, legousbtower…); only cdc-wdm is a modem channel.
  await fromClass('usbmisc', 'usbmisc', /^cdc-wdm\d+$/);
  const seen = new Set(devices.map((d) => d.name));
  for (const name of await listNames(devfs)) {
    if (DEV_NODE.test(name) && !seen.has(name)) devices.push({ name, source: 'devfs' });
  }
  return devices;
}
