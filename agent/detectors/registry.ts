import type { Detector } from './finding.js';
import { wirelessPresentDetector } from './wireless-present.js';
import { bluetoothPresentDetector } from './bluetooth-present.js';
import { connectionProhibitedDetector } from './connection-prohibited.js';
import { fileMarkedDetector } from './file-marked.js';
import { internetReachableDetector } from './internet-reachable.js';
import { linkUnapprovedDetector } from './link-unapproved.js';
import { modemPresentDetector } from './modem-present.js';
import { multihomedDetector } from './multihomed.js';
import { routeUnapprovedDetector } from './route-unapproved.js';
import { usbStorageDetector } from './usb-storage.js';
import { wirelessConnectedDetector } from './wireless-connected.js';

/** Every detector, by name. Add one file per detector under agent/detectors/ and list it here. */
export const DETECTORS: readonly Detector[] = [
  wirelessPresentDetector,
  wirelessConnectedDetector,
  bluetoothPresentDetector,
  modemPresentDetector,
  usbStorageDetector,
  linkUnapprovedDetector,
  multihomedDetector,
  routeUnapprovedDetector,
  connectionProhibitedDetector,
  fileMarkedDetector,
  internetReachableDetector,
];
