import { severityForLevel } from '../../shared/levels.js';
import { isApproved } from '../../shared/policy.js';
import type { Detector, Finding } from './finding.js';
import { usbLabel } from './usb-naming.js';

/** bInterfaceClass e0 (wireless controller), subclass 01 (RF), protocol 01 (Bluetooth). */
const isBluetoothInterface = (i: { class: string; subclass: string; protocol: string }) =>
  i.class === 'e0' && i.subclass === '01' && i.protocol === '01';

/**
 * `net.bluetooth.present` (第35条 ¶2): a Bluetooth radio exists and policy.bluetooth.approved
 * (adapter names or addresses) does not list it. Three sources, so that unloading btusb or
 * blocking the radio does not hide it:
 * - an hci adapter in /sys/class/bluetooth;
 * - a USB Bluetooth interface (class e0/01/01) with no hci adapter, i.e. its driver is absent;
 * - an rfkill switch of type bluetooth when neither of the above found any radio (a platform
 *   switch such as tpacpi_bluetooth_sw is registered for fitted hardware). When an adapter is
 *   found, switches are taken to be its switches and not reported twice.
 */
export const bluetoothPresentDetector: Detector = {
  name: 'bluetooth-present',
  types: ['net.bluetooth.present'],
  needs: ['bluetooth', 'rfkill', 'usb'],
  detect(observations, policy) {
    const approved = policy.bluetooth.approved;
    const severity = severityForLevel('high', policy.level);
    const findings: Finding[] = [];
    let radios = 0;
    const add = (keyName: string, adapter: string, address?: string) => {
      radios++;
      if (isApproved(approved, adapter, address) || isApproved(approved, keyName)) return;
      const data: Record<string, unknown> = { adapter };
      if (address !== undefined) data.address = address;
      findings.push({
        type: 'net.bluetooth.present',
        key: `net.bluetooth.present:${keyName}`,
        severity,
        data,
      });
    };

    const adapters = observations.bluetooth ?? [];
    const portsWithAdapter = new Set(adapters.flatMap((a) => (a.usbPort === undefined ? [] : [a.usbPort])));
    for (const adapter of adapters) add(adapter.name, adapter.name, adapter.address);

    for (const device of observations.usb ?? []) {
      if (portsWithAdapter.has(device.port)) continue;
      const bt = device.interfaces.filter(isBluetoothInterface);
      if (bt.length === 0 || bt.some((i) => i.bluetooth.length > 0)) continue;
      add(`usb-${device.port}`, usbLabel(device));
    }

    if (radios === 0) {
      for (const radio of observations.rfkill ?? []) {
        if (radio.type !== 'bluetooth') continue;
        add(`rfkill:${radio.label}`, radio.label);
      }
    }
    return findings;
  },
};
