import type pg from 'pg';
import { APPROVAL_COLUMNS, toApproval, type ApprovalRow } from './approval-rows.js';
import { REQUEST_AGAIN, type AgentApprovalStore, type ApprovalRecord } from './approval-store.js';

/** Migration 7 on PostgreSQL: the twin of SQLite's APPROVAL_MIGRATION_SQL. */
export const POSTGRES_APPROVAL_MIGRATION_SQL = `
  CREATE TABLE agent_approvals (
    agent_id     TEXT PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    requested_at TEXT COLLATE "C" NOT NULL,
    decided_at   TEXT COLLATE "C",
    decided_by   TEXT
  );
  CREATE INDEX agent_approvals_decided ON agent_approvals (decided_at);
`;

/**
 * Manual enrollment approval on PostgreSQL. Each method is one statement; a decision changes only
 * a row still pending, so two collectors (or an admin on each) deciding at once decide once.
 */
export class PostgresApprovalStore implements AgentApprovalStore {
  constructor(private readonly pool: pg.Pool) {}

  async requestApproval(agentId: string, at: string, options: { again?: boolean } = {}): Promise<void> {
    await this.pool.query(
      `INSERT INTO agent_approvals (agent_id, state, requested_at) VALUES ($1, 'pending', $2)
       ${options.again ? REQUEST_AGAIN : 'ON CONFLICT (agent_id) DO NOTHING'}`,
      [agentId, at],
    );
  }

  async withdrawRequest(agentId: string): Promise<void> {
    await this.pool.query(`DELETE FROM agent_approvals WHERE agent_id = $1 AND state = 'pending'`, [agentId]);
  }

  async isApproved(agentId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ state: string }>(
      'SELECT state FROM agent_approvals WHERE agent_id = $1',
      [agentId],
    );
    return rows[0] === undefined || rows[0].state === 'approved';
  }

  async get(agentId: string): Promise<ApprovalRecord | undefined> {
    const { rows } = await this.pool.query<ApprovalRow>(
      `SELECT ${APPROVAL_COLUMNS} FROM agent_approvals WHERE agent_id = $1`,
      [agentId],
    );
    return rows[0] && toApproval(rows[0]);
  }

  async listPending(): Promise<ApprovalRecord[]> {
    // Only enrolled agents: a request whose enrollment never completed is no one to approve.
    const { rows } = await this.pool.query<ApprovalRow>(
      `SELECT ${APPROVAL_COLUMNS} FROM agent_approvals
       WHERE state = 'pending' AND agent_id IN (SELECT id FROM agents)
       ORDER BY requested_at, agent_id COLLATE "C"`,
    );
    return rows.map(toApproval);
  }

  async decide(agentId: string, decision: 'approved' | 'rejected', by: string, at: string): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE agent_approvals SET state = $1, decided_at = $2, decided_by = $3
       WHERE agent_id = $4 AND state = 'pending'`,
      [decision, at, by, agentId],
    );
    return result.rowCount === 1;
  }

  async listDecidedSince(since: string): Promise<ApprovalRecord[]> {
    const { rows } = await this.pool.query<ApprovalRow>(
      `SELECT ${APPROVAL_COLUMNS} FROM agent_approvals WHERE decided_at >= $1 ORDER BY decided_at`,
      [since],
    );
    return rows.map(toApproval);
  }

  async listUnapproved(): Promise<string[]> {
    const { rows } = await this.pool.query<{ agent_id: string }>(
      `SELECT agent_id FROM agent_approvals WHERE state <> 'approved' ORDER BY agent_id COLLATE "C"`,
    );
    return rows.map((row) => row.agent_id);
  }
}
