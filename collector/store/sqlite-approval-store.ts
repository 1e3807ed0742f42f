import type Database from 'better-sqlite3';
import {
  REQUEST_AGAIN,
  type AgentApprovalStore,
  type ApprovalRecord,
  type ApprovalState,
} from './approval-store.js';
import { APPROVAL_COLUMNS as COLUMNS, toApproval as toRecord, type ApprovalRow } from './approval-rows.js';

/**
 * Migration 7: the approval of agents enrolled under `enroll.approval: manual`. No foreign key
 * to agents: the pending row is written before the agent row, in its own step.
 */
export const APPROVAL_MIGRATION_SQL = `
  CREATE TABLE agent_approvals (
    agent_id     TEXT PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    requested_at TEXT NOT NULL,
    decided_at   TEXT,
    decided_by   TEXT
  );
  CREATE INDEX agent_approvals_decided ON agent_approvals (decided_at);
`;

export class SqliteApprovalStore implements AgentApprovalStore {
  constructor(private readonly db: Database.Database) {}

  async requestApproval(agentId: string, at: string, options: { again?: boolean } = {}): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO agent_approvals (agent_id, state, requested_at) VALUES (?, 'pending', ?)
         ${options.again ? REQUEST_AGAIN : 'ON CONFLICT (agent_id) DO NOTHING'}`,
      )
      .run(agentId, at);
  }

  async withdrawRequest(agentId: string): Promise<void> {
    this.db.prepare(`DELETE FROM agent_approvals WHERE agent_id = ? AND state = 'pending'`).run(agentId);
  }

  async isApproved(agentId: string): Promise<boolean> {
    const row = this.db.prepare('SELECT state FROM agent_approvals WHERE agent_id = ?').get(agentId) as
      { state: ApprovalState } | undefined;
    return row === undefined || row.state === 'approved';
  }

  async get(agentId: string): Promise<ApprovalRecord | undefined> {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM agent_approvals WHERE agent_id = ?`).get(agentId) as
      ApprovalRow | undefined;
    return row && toRecord(row);
  }

  async listPending(): Promise<ApprovalRecord[]> {
    // Only enrolled agents: a request whose enrollment never completed is no one to approve.
    const rows = this.db
      .prepare(
        `SELECT ${COLUMNS} FROM agent_approvals
         WHERE state = 'pending' AND agent_id IN (SELECT id FROM agents) ORDER BY requested_at, agent_id`,
      )
      .all() as ApprovalRow[];
    return rows.map(toRecord);
  }

  async decide(agentId: string, decision: 'approved' | 'rejected', by: string, at: string): Promise<boolean> {
    const result = this.db
      .prepare(
        `UPDATE agent_approvals SET state = ?, decided_at = ?, decided_by = ?
         WHERE agent_id = ? AND state = 'pending'`,
      )
      .run(decision, at, by, agentId);
    return result.changes === 1;
  }

  async listDecidedSince(since: string): Promise<ApprovalRecord[]> {
    const rows = this.db
      .prepare(`SELECT ${COLUMNS} FROM agent_approvals WHERE decided_at >= ? ORDER BY decided_at`)
      .all(since) as ApprovalRow[];
    return rows.map(toRecord);
  }

  async listUnapproved(): Promise<string[]> {
    const rows = this.db
      .prepare(`SELECT agent_id FROM agent_approvals WHERE state <> 'approved' ORDER BY agent_id`)
      .all() as { agent_id: string }[];
    return rows.map((row) => row.agent_id);
  }
}
