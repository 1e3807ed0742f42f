import { CLOCKS_POSTGRES_MIGRATION_SQL } from './postgres-clock-store.js';
import { POSTGRES_HIERARCHY_MIGRATION_SQL } from './postgres-hierarchy-store.js';
import { POSTGRES_SESSIONS_MIGRATION_SQL } from './postgres-session-store.js';
import { POSTGRES_TRANSPORT_MIGRATION_SQL } from './postgres-transport-store.js';
import { POSTGRES_WARNINGS_MIGRATION_SQL } from './postgres-warning-store.js';
import type { Migration } from './sqlite-migrations.js';

/**
 * The PostgreSQL schema as numbered migrations, the twin of SQLITE_MIGRATIONS: the same tables,
 * columns and constraints, so both stores pass one contract suite. Applied in order at open under
 * an advisory lock (several collectors may start at once) and recorded in `schema_migrations`.
 * Never edit a released migration: add the next number instead. Times stay ISO 8601 UTC text, as
 * in SQLite, with byte-order collation so they compare the same way in both; ids and seqs are BIGINT.
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'agents, events, quarantine, credentials',
    sql: `
      CREATE TABLE enrollment_tokens (
        token_hash TEXT PRIMARY KEY,
        unit       TEXT NOT NULL,
        created_at TEXT COLLATE "C" NOT NULL,
        expires_at TEXT COLLATE "C" NOT NULL,
        used_at    TEXT COLLATE "C",
        used_by    TEXT
      );

      CREATE TABLE agents (
        id                 TEXT PRIMARY KEY,
        unit               TEXT NOT NULL,
        alg                TEXT NOT NULL,
        public_key         TEXT NOT NULL UNIQUE,
        hostname           TEXT,
        version            TEXT,
        enrolled_at        TEXT COLLATE "C" NOT NULL,
        reenrolled_at      TEXT COLLATE "C",
        last_seen          TEXT COLLATE "C",
        online             BOOLEAN NOT NULL DEFAULT FALSE,
        broker_secret_hash TEXT NOT NULL,
        revoked_at         TEXT COLLATE "C",
        acked_seq          BIGINT NOT NULL DEFAULT 0,
        reported_seq       BIGINT NOT NULL DEFAULT 0
      );
      CREATE INDEX agents_unit ON agents (unit);

      CREATE TABLE events (
        id          BIGSERIAL PRIMARY KEY,
        agent_id    TEXT NOT NULL REFERENCES agents (id),
        seq         BIGINT NOT NULL,
        ts          TEXT COLLATE "C" NOT NULL,
        received_at TEXT COLLATE "C" NOT NULL,
        type        TEXT NOT NULL,
        state       TEXT NOT NULL,
        key         TEXT NOT NULL,
        severity    TEXT NOT NULL,
        data        TEXT NOT NULL,
        envelope    TEXT NOT NULL,
        skewed      BOOLEAN NOT NULL DEFAULT FALSE,
        UNIQUE (agent_id, seq)
      );
      CREATE INDEX events_ts ON events (ts);
      CREATE INDEX events_type_ts ON events (type, ts);

      CREATE TABLE quarantine (
        id               BIGSERIAL PRIMARY KEY,
        received_at      TEXT COLLATE "C" NOT NULL,
        topic            TEXT NOT NULL,
        reason           TEXT NOT NULL,
        detail           TEXT NOT NULL,
        claimed_agent_id TEXT,
        payload          BYTEA NOT NULL,
        payload_bytes    INTEGER NOT NULL
      );
      CREATE INDEX quarantine_received_at ON quarantine (received_at);

      CREATE TABLE api_keys (
        key_hash   TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        role       TEXT NOT NULL CHECK (role IN ('admin', 'officer', 'viewer')),
        unit       TEXT,
        created_at TEXT COLLATE "C" NOT NULL,
        revoked_at TEXT COLLATE "C"
      );

      CREATE TABLE users (
        name          TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('admin', 'officer', 'viewer')),
        unit          TEXT,
        created_at    TEXT COLLATE "C" NOT NULL,
        disabled_at   TEXT COLLATE "C"
      );
    `,
  },
  {
    version: 2,
    name: '第64条 warnings: rule state, warnings, evidence, transitions, silences, notices, notifications',
    sql: POSTGRES_WARNINGS_MIGRATION_SQL,
  },
  {
    version: 3,
    name: 'legal clocks: systems register, assessments, incidents, reports, deadline rows, fires, runs',
    sql: CLOCKS_POSTGRES_MIGRATION_SQL,
  },
  {
    version: 4,
    name: 'transport: agent liveness, declared outbox drops, key history, Mosquitto password hashes',
    sql: POSTGRES_TRANSPORT_MIGRATION_SQL,
  },
  {
    version: 5,
    name: 'dashboard: sessions, audit log, login failures',
    sql: POSTGRES_SESSIONS_MIGRATION_SQL,
  },
  {
    version: 6,
    name: 'collector hierarchy: parent, subordinates, upward outbox, received reports, notices and answers',
    sql: POSTGRES_HIERARCHY_MIGRATION_SQL,
  },
  {
    version: 7,
    name: 'enrollment approval: agents waiting for an admin under enroll.approval manual',
    sql: `
  CREATE TABLE agent_approvals (
    agent_id     TEXT PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    requested_at TEXT COLLATE "C" NOT NULL,
    decided_at   TEXT COLLATE "C",
    decided_by   TEXT
  );
  CREATE INDEX agent_approvals_decided ON agent_approvals (decided_at);
`,
  },
  {
    version: 8,
    name: 'enrollment tokens say what they enroll: agent or collector (tokens made before enroll agents)',
    sql: `
      ALTER TABLE enrollment_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'agent'
        CHECK (kind IN ('agent', 'collector'));
      `,
  },
  {
    version: 9,
    name: 'rules: an open warning counts its raised conditions; which ones are the exact (condition, slot) pairs',
    sql: `
      DELETE FROM rule_conditions p
        WHERE NOT EXISTS (SELECT 1 FROM rule_open o
                          WHERE o.slot = p.slot AND (o.row::jsonb -> 'raised') @> to_jsonb(p.cond))
          AND NOT EXISTS (SELECT 1 FROM rule_windows w, jsonb_array_elements(w.row::jsonb -> 'hits') h
                          WHERE w.slot = p.slot AND h ->> 'cond' = p.cond)
          AND NOT EXISTS (SELECT 1 FROM rule_correlations c, jsonb_array_elements(c.row::jsonb -> 'hosts') h
                          WHERE c.slot = p.slot AND h ->> 'cond' = p.cond);
      UPDATE rule_open
        SET row = ((row::jsonb - 'raised') || jsonb_build_object('raisedCount', jsonb_array_length(row::jsonb -> 'raised')))::text
        WHERE jsonb_typeof(row::jsonb -> 'raised') = 'array';
      CREATE INDEX rule_conditions_slot ON rule_conditions (slot);
    `,
  },
  {
    version: 10,
    name: 'keyset pages: events by (ts, id) overall, per type and per agent; warnings by last seen then id',
    // A B-tree index here does not end in the row id as SQLite's does: id is spelled out, and the
    // (ts) and (type, ts) indexes it supersedes go.
    sql: `
      CREATE INDEX events_ts_id ON events (ts, id);
      CREATE INDEX events_type_ts_id ON events (type, ts, id);
      CREATE INDEX events_agent_ts_id ON events (agent_id, ts, id);
      DROP INDEX events_ts;
      DROP INDEX events_type_ts;
      CREATE INDEX warnings_last_seen_id ON warnings (last_seen DESC, id);
    `,
  },
];
