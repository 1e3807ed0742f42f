import { severityForLevel } from '../../shared/levels.js';
import { isApproved } from '../../shared/policy.js';
import type { NetInterface, UsbDevice } from '../probes/observations.js';
import type { Detector, Finding } from './finding.js';
import { USB_CLASS, usbLabel } from './usb-naming.js';

type Kind = 'wwan' | 'usb-tether' | 'serial';

/** usbnet drivers a phone uses to share its mobile data over the cable. */
const TETHER_DRIVERS = new Set(['rndis_host', 'cdc_ether', 'cdc_ncm', 'ipheth']);
/** USB serial drivers written for cellular modems (not plain adapters such as ftdi_sio or pl2303). */
const SERIAL_MODEM_DRIVERS = new Set(['option', 'qcserial', 'sierra', 'hso']);
/**
 * Vendors whose USB devices are, in practice, cellular modems or phones: Huawei, ZTE, Sierra,
 * Quectel, Novatel, Option, Telit, Fibocom, Alcatel/TCL, Longcheer, Qualcomm, SIMCom, MeiG, Unisoc.
 */
const MODEM_VENDORS = new Set([
  '12d1',
  '19d2',
  '1199',
  '2c7c',
  '1410',
  '0af0',
  '1bc7',
  '2cb7',
  '1bbb',
  '1c9e',
  '05c6',
  '1e0e',
  '2dee',
  '1782',
]);
const KIND_RANK: Record<Kind, number> = { wwan: 0, 'usb-tether': 1, serial: 2 };

interface Evidence {
  kind: Kind;
  iface?: NetInterface;
  device?: string;
}

/**
 * `net.modem.present` (第35条 ¶2, 第41条): a mobile-broadband modem or a tethered phone, either of
 * which puts the host on a public network around every wired control. One finding per physical
 * device: the netdev, cdc-wdm node, WWAN ports and AT ttys of one modem share its USB port (or, off
 * USB, the wwanN name), and the strongest kind wins (wwan, then usb-tether, then serial).
 *
 * Evidence:
 * - a netdev with DEVTYPE=wwan (qmi_wwan, cdc_mbim, mhi_net…) → wwan;
 * - a netdev driven by rndis_host, cdc_ether, cdc_ncm or ipheth → usb-tether (a USB Ethernet
 *   adapter on cdc_ether is told apart by approving it in policy.interfaces.approved);
 * - /sys/class/wwan, cdc-wdm control nodes (sysfs or /dev) → wwan;
 * - a tty on a CDC communications interface (class 02: ttyACM) or on a modem serial driver
 *   (option, qcserial, sierra, hso: ttyUSB) → serial. Other CDC-ACM gadgets (some boards) show up
 *   here too; on a classified host an unknown AT-capable serial device deserves the look;
 * - a dongle still in its "ZeroCD" install mode, before usb_modeswitch: a device from a known modem
 *   vendor whose interfaces are mass storage with a CD-ROM (subclass 02 or an sr* disk) or only mass
 *   storage, or, from any vendor, a CD-ROM interface next to vendor-specific (class ff) ones → wwan;
 * - an rfkill switch of type wwan when nothing else was found (the card is fitted, its driver absent).
 *
 * Approval: a member name (or the netdev's MAC) in policy.wireless.approved; a usb-tether netdev
 * also in policy.interfaces.approved.
 */
export const modemPresentDetector: Detector = {
  name: 'modem-present',
  types: ['net.modem.present'],
  needs: ['interfaces', 'wwan', 'usb', 'rfkill'],
  detect(observations, policy) {
    const usb = observations.usb ?? [];
    const portOfNet = new Map<string, string>();
    for (const device of usb) {
      for (const i of device.interfaces) for (const net of i.nets) portOfNet.set(net, device.port);
    }
    const groups = new Map<string, Evidence[]>();
    const add = (anchor: string, evidence: Evidence) => {
      const list = groups.get(anchor) ?? [];
      list.push(evidence);
      groups.set(anchor, list);
    };
    const anchorOf = (port: string | undefined, name: string) => (port !== undefined ? `usb-${port}` : name);

    for (const iface of observations.interfaces ?? []) {
      const kind: Kind | undefined =
        iface.devtype === 'wwan' ? 'wwan' : TETHER_DRIVERS.has(iface.driver ?? '') ? 'usb-tether' : undefined;
      if (kind !== undefined) add(anchorOf(portOfNet.get(iface.name), iface.name), { kind, iface });
    }
    for (const node of observations.wwan ?? []) {
      // WWAN ports (wwan0at0, wwan0qmi0) belong with their wwanN device when off USB.
      const parent = /^wwan\d+/.exec(node.name)?.[0] ?? node.name;
      add(anchorOf(node.usbPort, parent), { kind: 'wwan', device: node.name });
    }
    for (const device of usb) {
      for (const i of device.interfaces) {
        const serial = i.class === USB_CLASS.communications || SERIAL_MODEM_DRIVERS.has(i.driver ?? '');
        if (serial) for (const tty of i.ttys) add(`usb-${device.port}`, { kind: 'serial', device: tty });
        for (const node of i.usbmisc) add(`usb-${device.port}`, { kind: 'wwan', device: node });
      }
      if (isModeswitchDongle(device)) add(`usb-${device.port}`, { kind: 'wwan', device: usbLabel(device) });
    }
    if (![...groups.values()].some((list) => list.some((e) => e.kind === 'wwan'))) {
      for (const radio of observations.rfkill ?? []) {
        if (radio.type === 'wwan') add(`rfkill:${radio.label}`, { kind: 'wwan', device: radio.label });
      }
    }

    const severity = severityForLevel('high', policy.level);
    const findings: Finding[] = [];
    for (const [anchor, evidence] of groups) {
      if (evidence.some((e) => isEvidenceApproved(e, policy.wireless.approved, policy.interfaces.approved)))
        continue;
      const kind = evidence.map((e) => e.kind).sort((a, b) => KIND_RANK[a] - KIND_RANK[b])[0]!;
      const iface =
        evidence.find((e) => e.iface !== undefined && e.kind === kind)?.iface ??
        evidence.find((e) => e.iface)?.iface;
      const device = evidence
        .map((e) => e.device)
        // The WWAN device often shares the netdev's name (wwan0); the next node says more.
        .filter((d): d is string => d !== undefined && d !== iface?.name)
        .sort(byDevicePreference)[0];
      const data: Record<string, unknown> = { kind };
      if (iface !== undefined) data.iface = iface.name;
      if (device !== undefined) data.device = device;
      findings.push({ type: 'net.modem.present', key: `net.modem.present:${anchor}`, severity, data });
    }
    return findings;
  },
};

function isEvidenceApproved(
  evidence: Evidence,
  wireless: readonly string[],
  wired: readonly string[],
): boolean {
  if (evidence.iface !== undefined) {
    const { name, mac } = evidence.iface;
    if (isApproved(wireless, name, mac)) return true;
    if (evidence.kind === 'usb-tether' && isApproved(wired, name, mac)) return true;
  }
  return evidence.device !== undefined && isApproved(wireless, evidence.device);
}

/** The control channel first (what ModemManager talks to), then AT ports, then the bare USB label. */
function byDevicePreference(a: string, b: string): number {
  const rank = (d: string) =>
    /^wwan\d+$/.test(d) ? 0 : /^cdc-wdm/.test(d) ? 1 : /^wwan/.test(d) ? 2 : /^tty/.test(d) ? 3 : 4;
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

function isModeswitchDongle(device: UsbDevice): boolean {
  const storage = device.interfaces.filter((i) => i.class === USB_CLASS.massStorage);
  if (storage.length === 0) return false;
  const cdrom = storage.some((i) => i.subclass === '02' || i.blocks.some((b) => /^sr\d+$/.test(b.name)));
  if (MODEM_VENDORS.has(device.vendor)) return cdrom || storage.length === device.interfaces.length;
  return cdrom && device.interfaces.some((i) => i.class === USB_CLASS.vendorSpecific);
}
