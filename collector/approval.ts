import { UserError } from '../shared/errors.js';
import { revokeAgent } from './revocation.js';
import type { AgentApprovalStore } from './store/approval-store.js';
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

/** The store's approval domain, or a UserError when it has none (PostgreSQL, for now). */
export function approvalStore(store: Store, why = 'enroll.approval: manual'): AgentApprovalStore {
  if (!store.approvals) {
    throw new UserError(
      `${why}: this store has no enrollment approvals yet; use a sqlite: store.url or approval auto`,
    );
  }
  return store.approvals;
}

export async function decideApproval(
  store: Store,
  agentId: string,
  decision: ApprovalDecision,
  by: string,
  at: string,
): Promise<DecisionOutcome> {
  const approvals = approvalStore(store, `agents ${decision}`);
  if (!(await store.getAgent(agentId))) return 'unknown';
  const state = decision === 'approve' ? 'approved' : 'rejected';
  if (!(await approvals.decide(agentId, state, by, at))) return 'not-pending';
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
