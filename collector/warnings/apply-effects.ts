import type { RuleEffect } from '../rules/evaluate.js';
import type { Warning } from './warning.js';

/**
 * What a rule effect does to the warning it names: the store's update, written once so the
 * store, the tests and any in-memory view agree. Effects carry absolute values, so applying one
 * twice (a retried transaction) gives the same warning. Evidence refs are the store's to append.
 */
export function applyRuleEffect(current: Warning | undefined, effect: RuleEffect): Warning | undefined {
  if (effect.kind === 'open') return current ?? effect.warning;
  if (!current || current.id !== effect.warningId) return current;
  if (effect.kind === 'bump') {
    return {
      ...current,
      count: Math.max(current.count, effect.count),
      lastSeen: effect.lastSeen > current.lastSeen ? effect.lastSeen : current.lastSeen,
      severity: effect.severity,
      level: effect.level,
      agents: current.agents.includes(effect.agent) ? current.agents : [...current.agents, effect.agent],
      resolvedAt: effect.reraised ? null : current.resolvedAt,
    };
  }
  return effect.resolvedAt === null ? current : { ...current, resolvedAt: effect.resolvedAt };
}
