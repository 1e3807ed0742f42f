import type { Logger } from '../../shared/log.js';
import type { Policy } from '../../shared/policy.js';
import type { Observations } from '../probes/observations.js';
import type { Detector, Finding } from './finding.js';
import { DETECTORS } from './registry.js';

export interface DetectorPass {
  /** Every finding, sorted by key so output and events come in a stable order. */
  findings: Finding[];
  /** Event types whose detector could not run this pass: their open conditions are unknown, not gone. */
  unobservedTypes: Set<string>;
}

/** Runs every detector whose inputs were observed; a failing detector is logged and skipped. */
export function runDetectors(
  observations: Observations,
  policy: Policy,
  options: { logger?: Logger; detectors?: readonly Detector[] } = {},
): DetectorPass {
  const findings: Finding[] = [];
  const unobservedTypes = new Set<string>();
  for (const detector of options.detectors ?? DETECTORS) {
    const missing = detector.needs.filter((part) => observations[part] === undefined);
    if (missing.length > 0) {
      detector.types.forEach((type) => unobservedTypes.add(type));
      continue;
    }
    try {
      findings.push(...detector.detect(observations, policy));
    } catch (err) {
      options.logger?.error(
        { err, detector: detector.name },
        'detector failed; its conditions stay as they were',
      );
      detector.types.forEach((type) => unobservedTypes.add(type));
    }
  }
  findings.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { findings, unobservedTypes };
}
