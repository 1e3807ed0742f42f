import { WARNING_STATE_NAMES as STATE_NAMES, type Names } from '../../shared/terms.js';
import type { Warning, WarningState } from '../store/warnings/records.js';

/** The warning records live with the store that keeps them; the pipeline decides on them. */
export {
  WARNING_STATES,
  type Actor,
  type EvidenceRef,
  type TransitionRecord,
  type Warning,
  type WarningState,
} from '../store/warnings/records.js';

/** 发现、识别、处置, then 关闭, or 误报, in the officers' words (shared/terms.ts). */
export const WARNING_STATE_NAMES: Record<WarningState, Names> = STATE_NAMES;

export function isTerminalState(state: WarningState): boolean {
  return state === 'closed' || state === 'false-positive';
}

/** The incidents this warning opened, oldest first. */
export function incidentsOf(warning: Warning): string[] {
  return warning.history.flatMap((h) => (h.action === 'open-incident' && h.incidentId ? [h.incidentId] : []));
}
