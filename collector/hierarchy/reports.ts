import {
  HIERARCHY_VERSION,
  sign,
  type CollectorLevel,
  type Report,
  type ReportType,
  type SigningKey,
} from './messages.js';

/** Who raises a report: this collector, with the unit and level it is enrolled for. */
export interface ReportOrigin {
  identity: SigningKey;
  unit: string;
  level: CollectorLevel;
}

export interface ReportEvidence {
  evidence?: Record<string, unknown>[];
  agents?: Report['agents'];
}

/** A report raised by this collector, signed with its key; `seq` comes from the store's transaction. */
export function ownReport(
  origin: ReportOrigin,
  seq: number,
  ts: string,
  type: ReportType,
  key: string,
  data: Record<string, unknown>,
  evidence: ReportEvidence = {},
): Report {
  return sign(
    {
      v: HIERARCHY_VERSION,
      kind: 'smew.hierarchy.report' as const,
      origin: origin.identity.id,
      unit: origin.unit,
      level: origin.level,
      seq,
      ts,
      type,
      key,
      data,
      ...(evidence.evidence && evidence.evidence.length > 0
        ? { evidence: evidence.evidence, agents: evidence.agents ?? [] }
        : {}),
    },
    origin.identity,
  );
}
