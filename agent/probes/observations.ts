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
}

/** The parts of Observations a probe can fill, which detectors name as their inputs. */
export type ObservationPart = Exclude<keyof Observations, 'at'>;
