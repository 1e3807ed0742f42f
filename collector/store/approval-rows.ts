import type { ApprovalRecord, ApprovalState } from './approval-store.js';

/** The agent_approvals row, the same in SQLite and PostgreSQL, and its record. */
export interface ApprovalRow {
  agent_id: string;
  state: ApprovalState;
  requested_at: string;
  decided_at: string | null;
  decided_by: string | null;
}

export const APPROVAL_COLUMNS = 'agent_id, state, requested_at, decided_at, decided_by';

export function toApproval(row: ApprovalRow): ApprovalRecord {
  return {
    agentId: row.agent_id,
    state: row.state,
    requestedAt: row.requested_at,
    decidedAt: row.decided_at,
    decidedBy: row.decided_by,
  };
}
