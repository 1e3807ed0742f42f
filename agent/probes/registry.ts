import { beaconProbe } from './beacon.js';
import { bluetoothProbe } from './bluetooth.js';
import { markedFilesProbe } from './marked-files.js';
import { netdevProbe } from './netdev.js';
import { rfkillProbe } from './rfkill.js';
import { routesProbe } from './routes.js';
import { socketsProbe } from './sockets.js';
import { usbProbe } from './usb.js';
import { wirelessLinkProbe } from './wireless-link.js';
import { wwanProbe } from './wwan.js';
import type { Probe } from './probe.js';

/** Every probe. Add one file per host source under agent/probes/ and list it here. */
export const PROBES: readonly Probe[] = [
  netdevProbe,
  wirelessLinkProbe,
  rfkillProbe,
  bluetoothProbe,
  wwanProbe,
  usbProbe,
  routesProbe,
  socketsProbe,
  markedFilesProbe,
  beaconProbe,
];
