import type { EventType } from '../../shared/events.js';
import type { Severity } from '../../shared/levels.js';
import type { Policy } from '../../shared/policy.js';
import type { ObservationPart, Observations } from '../probes/observations.js';

/**
 * What a detector reports: a condition that holds now. The differ turns the appearance of a
 * finding into a `raised` event and its disappearance into a `cleared` one, matched by `key`.
 */
export interface Finding {
  type: EventType;
  /** Names the condition, e.g. `net.wireless.present:wlp2s0`; stable while the condition lasts. */
  key: string;
  severity: Severity;
  /** Only values that stay put while the condition lasts: a change is reported as a new `raised`. */
  data: Record<string, unknown>;
}

/**
 * A detector is a pure function of the host observations and the policy. It never reads the host
 * itself (probes do), so it is tested with plain objects.
 */
export interface Detector {
  /** The detector's name, for logs and listings. */
  name: string;
  /** The event types it produces: when it cannot run, open conditions of these types stay open. */
  types: readonly EventType[];
  /** The observation parts it reads; when one is missing (its probe failed) it is skipped. */
  needs: readonly ObservationPart[];
  detect(observations: Observations, policy: Policy): Finding[];
}
