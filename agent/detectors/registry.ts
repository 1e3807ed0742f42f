import type { Detector } from './finding.js';
import { wirelessPresentDetector } from './wireless-present.js';

/** Every detector, by name. Add one file per detector under agent/detectors/ and list it here. */
export const DETECTORS: readonly Detector[] = [wirelessPresentDetector];
