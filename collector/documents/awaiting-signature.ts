import { CLOCK_CONDITION_TYPES } from '../clocks/clock-records.js';
import type { BatchConditionSink } from '../clocks/scheduler.js';
import type { DocumentStore } from '../store/documents/document-store.js';
import type { CollectorCondition, ConditionSink } from '../warnings/conditions.js';
import { awaitingSignature } from './sign-off.js';

/**
 * The 第61条 clock runs whether or not the report is signed off (签发); its reminders say what
 * waits. Wrapped around the clocks' sink, this adds `awaitingSignature` (待签发) to a reminder or a
 * missed deadline of the unit's own hop while its 泄密事件报告 is not drafted or not signed off.
 */
const SIGNED_TYPES: readonly string[] = [
  CLOCK_CONDITION_TYPES.reportReminder,
  CLOCK_CONDITION_TYPES.reportLate,
];

export function withAwaitingSignature(
  sink: ConditionSink | BatchConditionSink,
  documents: DocumentStore,
): ConditionSink | BatchConditionSink {
  const annotate = async (condition: CollectorCondition): Promise<CollectorCondition> => {
    const { data } = condition;
    if (condition.state !== 'raised' || !SIGNED_TYPES.includes(condition.type)) return condition;
    if (data.from !== 'unit' || typeof data.incidentId !== 'string') return condition;
    const waiting = await awaitingSignature(documents, data.incidentId);
    return waiting ? { ...condition, data: { ...data, awaitingSignature: waiting } } : condition;
  };
  const report = async (condition: CollectorCondition) => sink.report(await annotate(condition));
  if (!('reportAll' in sink)) return { report };
  return {
    report,
    reportAll: async (conditions) => sink.reportAll(await Promise.all(conditions.map(annotate))),
  };
}
