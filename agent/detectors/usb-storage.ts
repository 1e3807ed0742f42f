import { severityForLevel } from '../../shared/levels.js';
import { registersMedium, type Policy } from '../../shared/policy.js';
import type { UsbDevice } from '../probes/observations.js';
import type { Detector, Finding } from './finding.js';
import { USB_CLASS } from './usb-naming.js';

/**
 * `usb.storage.attached` (第27条: classified media are numbered and registered): a USB device with a
 * mass-storage interface (class 08), whether or not a disk appeared under it — a card reader
 * without a card or a stick whose driver is blocked is still storage in the port. The removable
 * flag is not used: USB SSDs report 0 and are as portable as any stick.
 *
 * Registered media (policy.usb.approved, matched by registersMedium in shared/policy.ts: one
 * registration names one medium, an entry without a serial only a device that has none) are
 * reported with registered: true at info, as a record of use. Anything else is high.
 *
 * One finding per device, keyed by ids and serial (or the port when there is no serial), so the
 * same stick keeps its key across ports when it has a serial. /dev/disk/by-id/usb-* links whose
 * disk is under no USB device seen in sysfs (a container without /sys/bus/usb) are reported too.
 */
export const usbStorageDetector: Detector = {
  name: 'usb-storage',
  types: ['usb.storage.attached'],
  needs: ['usb'],
  detect(observations, policy) {
    const findings: Finding[] = [];
    const knownDisks = new Set<string>();
    for (const device of observations.usb ?? []) {
      const storage = device.interfaces.filter((i) => i.class === USB_CLASS.massStorage);
      if (storage.length === 0) continue;
      storage.forEach((i) => i.blocks.forEach((b) => knownDisks.add(b.name)));
      const registered = isRegistered(policy, device);
      const data: Record<string, unknown> = { vendor: device.vendor, product: device.product };
      if (device.serial !== undefined) data.serial = device.serial;
      data.registered = registered;
      findings.push({
        type: 'usb.storage.attached',
        key: `usb.storage.attached:${device.vendor}:${device.product}:${device.serial ?? `usb-${device.port}`}`,
        severity: registered ? 'info' : severityForLevel('high', policy.level),
        data,
      });
    }
    for (const { link, target } of observations.usbDiskLinks ?? []) {
      // Partition links (…-part1 → sdb1) repeat their disk's.
      if (/-part\d+$/.test(link) || knownDisks.has(target)) continue;
      findings.push({
        type: 'usb.storage.attached',
        key: `usb.storage.attached:by-id:${link}`,
        severity: severityForLevel('high', policy.level),
        data: { registered: false },
      });
    }
    return findings;
  },
};

function isRegistered(policy: Policy, device: UsbDevice): boolean {
  return policy.usb.approved.some((medium) => registersMedium(medium, device));
}
