import type { Database } from '../sql/database.js';
import { bytewise, raw, sql } from '../sql/query.js';

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
const REQUEST_AGAIN = sql`ON CONFLICT (agent_id) DO UPDATE SET state = 'pending',
  requested_at = excluded.requested_at, decided_at = NULL, decided_by = NULL
  WHERE agent_approvals.state = 'approved'`;

const COLUMNS = raw('agent_id, state, requested_at, decided_at, decided_by');

interface ApprovalRow {
  agent_id: string;
  state: ApprovalState;
  requested_at: string;
  decided_at: string | null;
  decided_by: string | null;
}

function toRecord(row: ApprovalRow): ApprovalRecord {
  return {
    agentId: row.agent_id,
    state: row.state,
    requestedAt: row.requested_at,
    decidedAt: row.decided_at,
    decidedBy: row.decided_by,
  };
}

/**
 * Approvals in either database. Each method is one statement; a decision changes only a row still
 * pending, so two collectors (or an admin on each) deciding at once decide once.
 */
export class SqlApprovalStore implements AgentApprovalStore {
  constructor(private readonly db: Database) {}

  async requestApproval(agentId: string, at: string, options: { again?: boolean } = {}): Promise<void> {
    await this.db.run(
      sql`INSERT INTO agent_approvals (agent_id, state, requested_at) VALUES (${agentId}, 'pending', ${at})
          ${options.again ? REQUEST_AGAIN : sql`ON CONFLICT (agent_id) DO NOTHING`}`,
    );
  }

  async withdrawRequest(agentId: string): Promise<void> {
    await this.db.run(sql`DELETE FROM agent_approvals WHERE agent_id = ${agentId} AND state = 'pending'`);
  }

  async isApproved(agentId: string): Promise<boolean> {
    const row = await this.db.get<{ state: ApprovalState }>(
      sql`SELECT state FROM agent_approvals WHERE agent_id = ${agentId}`,
    );
    return row === undefined || row.state === 'approved';
  }

  async get(agentId: string): Promise<ApprovalRecord | undefined> {
    const row = await this.db.get<ApprovalRow>(
      sql`SELECT ${COLUMNS} FROM agent_approvals WHERE agent_id = ${agentId}`,
    );
    return row && toRecord(row);
  }

  async listPending(): Promise<ApprovalRecord[]> {
    // Only enrolled agents: a request whose enrollment never completed is no one to approve.
    const rows = await this.db.all<ApprovalRow>(
      sql`SELECT ${COLUMNS} FROM agent_approvals
          WHERE state = 'pending' AND agent_id IN (SELECT id FROM agents)
          ORDER BY requested_at, agent_id${bytewise}`,
    );
    return rows.map(toRecord);
  }

  async decide(agentId: string, decision: 'approved' | 'rejected', by: string, at: string): Promise<boolean> {
    const { changes } = await this.db.run(
      sql`UPDATE agent_approvals SET state = ${decision}, decided_at = ${at}, decided_by = ${by}
          WHERE agent_id = ${agentId} AND state = 'pending'`,
    );
    return changes === 1;
  }

  async listDecidedSince(since: string): Promise<ApprovalRecord[]> {
    const rows = await this.db.all<ApprovalRow>(
      sql`SELECT ${COLUMNS} FROM agent_approvals WHERE decided_at >= ${since} ORDER BY decided_at`,
    );
    return rows.map(toRecord);
  }

  async listUnapproved(): Promise<string[]> {
    const rows = await this.db.all<{ agent_id: string }>(
      sql`SELECT agent_id FROM agent_approvals WHERE state <> 'approved' ORDER BY agent_id${bytewise}`,
    );
    return rows.map((row) => row.agent_id);
  }
}
