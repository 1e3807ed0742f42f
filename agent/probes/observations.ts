/**
 * Everything the probes read from the host in one pass, as plain data. Each probe fills its own
 * part; a part a probe could not read is left undefined, and the detectors that need it are
 * skipped for that pass, so the differ neither raises nor clears what they would report.
 */
export interface NetInterface {
  name: string;
  /** lowercase colon MAC, when the interface has one (all-zero addresses, as on lo, count as none) */
  mac?: string;
  /** /sys/class/net/X/operstate: up, down, dormant, unknown…; "unknown" when unreadable too */
  operstate: string;
  /** IFF_UP from /sys/class/net/X/flags */
  adminUp: boolean;
  /** /sys/class/net/X/carrier === 1 (undefined when unreadable, e.g. admin down) */
  carrier?: boolean;
  /** ARPHRD type number from /sys/class/net/X/type (1 ether, 772 loopback, 801 ieee80211…); -1 when unreadable */
  arpType: number;
  /** DEVTYPE from uevent: wlan, wwan, bridge, vlan… */
  devtype?: string;
  /** basename of /sys/class/net/X/device/driver */
  driver?: string;
  /** bus the device hangs off (usb, pci, sdio, virtio…) from its subsystem; undefined for virtual */
  bus?: string;
  /** true when the device path lies under /sys/devices/virtual */
  virtual: boolean;
  /**
   * Evidence that this is a wireless NIC: "phy80211", "wireless", "devtype=wlan",
   * "proc-net-wireless", "arptype=80x". Several sources, because each can be missing on some kernels.
   */
  wirelessEvidence: string[];
  /** phy name (phy0) when /sys/class/net/X/phy80211 exists */
  phy?: string;
  /** ifalias: free text any local administrator can set, so never trusted or interpreted */
  alias?: string;
}

export interface Observations {
  /** When the probes ran (ISO 8601). */
  at: string;
  interfaces?: NetInterface[];
  /** /sys/class/rfkill switches (rfkill probe) */
  rfkill?: RfkillSwitch[];
  /** /sys/class/bluetooth hci adapters (bluetooth probe) */
  bluetooth?: BluetoothAdapter[];
  /** /proc/net/wireless lines: wireless interfaces with link statistics (wireless-link probe) */
  wirelessLinks?: WirelessLink[];
  /** /sys/class/wwan, /sys/class/usbmisc cdc-wdm and /dev modem control nodes (wwan probe) */
  wwan?: WwanDevice[];
  /** /sys/bus/usb/devices with their interfaces and what hangs below them (usb probe) */
  usb?: UsbDevice[];
  /** /dev/disk/by-id/usb-* links (usb probe) */
  usbDiskLinks?: UsbDiskLink[];
  /** /proc/net/route and /proc/net/ipv6_route (routes probe) */
  routes?: Route[];
  /** /proc/net/if_inet6 (routes probe); IPv4 addresses show as connected routes instead */
  addresses?: InterfaceAddress[];
  /** /proc/net/{tcp,tcp6,udp,udp6} sockets with a peer, and their owners (sockets probe) */
  sockets?: SocketEntry[];
  /** files bearing a classification marking in the policy's watched directories (marked-files probe) */
  markedFiles?: MarkedFile[];
  /** beacon probes to the policy's targets, this pass (beacon probe) */
  beaconProbes?: BeaconProbeResult[];
}

export interface BeaconProbeResult {
  method: 'tcp' | 'http' | 'dns';
  target: string;
  reached: boolean;
  /** the receiver's reply, an HTTP status or an error code; for logs, not for keys */
  detail: string;
}

/** A file whose content bears a 国家秘密标志; the highest marking in it decides. */
export interface MarkedFile {
  /** as found under the watched directory: any bytes a user chose, carried as data */
  path: string;
  level: '绝密' | '机密' | '秘密';
  /** the marking as written, e.g. 机密★10年 */
  marking: string;
  /** 保密期限, when the marking states one */
  term?: string;
  format: 'utf-8' | 'utf-16le' | 'utf-16be' | 'gb18030' | 'ooxml';
}

/** The parts of Observations a probe can fill, which detectors name as their inputs. */
export type ObservationPart = Exclude<keyof Observations, 'at'>;

/** One rfkill switch. A soft- or hard-blocked radio is still a radio that exists. */
export interface RfkillSwitch {
  /** rfkill0… */
  id: string;
  /** wlan, bluetooth, wwan, gps, fm, nfc, uwb, wimax… */
  type: string;
  /** the `name` attribute: phy0, hci0, or a platform switch such as tpacpi_bluetooth_sw */
  label: string;
  soft: boolean;
  hard: boolean;
  /** the device the switch belongs to (phy0, hci0, thinkpad_acpi…) from its sysfs path */
  parent?: string;
  /** the USB device (port path such as 1-10) it sits under, when it does */
  usbPort?: string;
}

export interface BluetoothAdapter {
  /** hci0… */
  name: string;
  /** BD address, only where the kernel exposes it without a management socket (see the probe) */
  address?: string;
  bus?: string;
  usbPort?: string;
}

export interface WirelessLink {
  iface: string;
  /** hex status word of /proc/net/wireless */
  status: string;
  /** link quality, signal level and noise as printed (a trailing `.` means "updated") */
  quality: number;
  level: number;
  noise: number;
  /** Not in /proc or sysfs; only an nl80211 (netlink) reader can fill these. */
  ssid?: string;
  bssid?: string;
}

export interface WwanDevice {
  /** wwan0, wwan0qmi0, cdc-wdm0… */
  name: string;
  /** class-wwan: /sys/class/wwan; usbmisc: a cdc-wdm control node in sysfs; devfs: a node in /dev only */
  source: 'class-wwan' | 'usbmisc' | 'devfs';
  usbPort?: string;
}

export interface UsbDevice {
  /** sysfs name = port path, e.g. 1-2 or 3-1.4 */
  port: string;
  /** lowercase 4-digit hex idVendor / idProduct */
  vendor: string;
  product: string;
  /** the device's own strings: attacker-controllable, carried as data */
  manufacturer?: string;
  productName?: string;
  serial?: string;
  interfaces: UsbInterface[];
}

export interface UsbInterface {
  /** 1-2:1.0 */
  name: string;
  /** lowercase 2-digit hex bInterfaceClass / SubClass / Protocol */
  class: string;
  subclass: string;
  protocol: string;
  driver?: string;
  /** class devices found below the interface */
  blocks: UsbBlock[];
  nets: string[];
  ttys: string[];
  usbmisc: string[];
  wwan: string[];
  bluetooth: string[];
}

export interface UsbBlock {
  /** sdb, sr0 */
  name: string;
  removable?: boolean;
  /** size in 512-byte sectors */
  sectors?: number;
}

export interface UsbDiskLink {
  /** usb-Kingston_DataTraveler_3.0_…-0:0 */
  link: string;
  /** block device it points at (sdb, sdb1) */
  target: string;
}

export interface Route {
  family: 4 | 6;
  iface: string;
  /** network/prefix, e.g. 0.0.0.0/0 or 2001:db8::/32 */
  dest: string;
  prefix: number;
  /** next hop, only when the route goes through a gateway */
  gateway?: string;
  flags: number;
  metric: number;
}

export interface InterfaceAddress {
  iface: string;
  address: string;
  prefix: number;
  /** kernel scope: global, link, host, site */
  scope: 'global' | 'link' | 'host' | 'site' | 'other';
}

export interface SocketEntry {
  proto: 'tcp' | 'udp';
  family: 4 | 6;
  local: string;
  localPort: number;
  /** IPv4-mapped IPv6 peers are shown as IPv4 */
  remote: string;
  remotePort: number;
  /** kernel TCP state name: established, syn-sent…; UDP sockets with a peer show "established" */
  state: string;
  inode: number;
  pid?: number;
  /** /proc/<pid>/comm: the process chooses it, so it is data, never trusted */
  process?: string;
}
