import { revokeAgent } from './revocation.js';
import type { Store } from './store/store.js';

/**
 * Manual enrollment approval (issue 4, `enroll.approval: manual`). A pending agent holds valid
 * broker credentials but the broker refuses it (embedded: the credential check; Mosquitto: it is
 * left out of the password file), so its events stay in its durable outbox — held, not lost —
 * until an admin approves it; then it connects and delivers them. Rejecting revokes it.
 */
export const APPROVAL_MODES = ['auto', 'manual'] as const;
export type ApprovalMode = (typeof APPROVAL_MODES)[number];

export type ApprovalDecision = 'approve' | 'reject';
export type DecisionOutcome = 'approved' | 'rejected' | 'not-pending' | 'unknown';

export async function decideApproval(
  store: Store,
  agentId: string,
  decision: ApprovalDecision,
  by: string,
  at: string,
): Promise<DecisionOutcome> {
  if (!(await store.getAgent(agentId))) return 'unknown';
  const state = decision === 'approve' ? 'approved' : 'rejected';
  if (!(await store.approvals.decide(agentId, state, by, at))) return 'not-pending';
  // A rejected agent is revoked: no token revives its key, whatever it sends is quarantined.
  if (decision === 'reject') await revokeAgent(store, agentId, at);
  return state;
}

/** The sentence the CLI and the API give for an outcome that is not a success. */
export function decisionRefusal(agentId: string, outcome: DecisionOutcome): string | undefined {
  if (outcome === 'unknown') return `no agent ${agentId} is enrolled`;
  if (outcome === 'not-pending') return `agent ${agentId} is not waiting for approval`;
  return undefined;
}
