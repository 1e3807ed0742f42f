/**
 * Manual enrollment approval (issue 4, `enroll.approval: manual`): an agent enrolled while the
 * collector asks for approval waits as `pending` until an admin approves it (it may then connect
 * and deliver what its outbox held) or rejects it (it is revoked). An agent without an approval
 * row was enrolled under `auto`, or before approval existed, and counts as approved.
 */
export type ApprovalState = 'pending' | 'approved' | 'rejected';

export interface ApprovalRecord {
  agentId: string;
  state: ApprovalState;
  requestedAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
}

export interface AgentApprovalStore {
  /**
   * Marks a not yet enrolled agent pending (done before enrollment, so no crash leaves it approved).
   * `again`: a re-enrolled agent's new credentials wait for approval too (an approved row turns pending).
   */
  requestApproval(agentId: string, at: string, options?: { again?: boolean }): Promise<void>;
  /** Drops a pending row whose enrollment was refused. */
  withdrawRequest(agentId: string): Promise<void>;
  /** True unless the agent has a pending or rejected row. */
  isApproved(agentId: string): Promise<boolean>;
  get(agentId: string): Promise<ApprovalRecord | undefined>;
  listPending(): Promise<ApprovalRecord[]>;
  /** pending → approved or rejected; false when the agent is not pending. */
  decide(agentId: string, decision: 'approved' | 'rejected', by: string, at: string): Promise<boolean>;
  /** Decisions made at or after `since`, for a running collector to enforce (e.g. Mosquitto's files). */
  listDecidedSince(since: string): Promise<ApprovalRecord[]>;
  /** Agents that may not use the broker yet (pending or rejected). */
  listUnapproved(): Promise<string[]>;
}

/** The conflict clause of a repeated request: an approved agent waits again; a rejected one stays rejected. */
export const REQUEST_AGAIN = `ON CONFLICT (agent_id) DO UPDATE SET state = 'pending',
  requested_at = excluded.requested_at, decided_at = NULL, decided_by = NULL
  WHERE agent_approvals.state = 'approved'`;
