import { CLOCKS_MIGRATION_SQL } from './sqlite-clock-store.js';
import { HIERARCHY_MIGRATION_SQL } from './sqlite-hierarchy-store.js';
import { TRANSPORT_MIGRATION_SQL } from './sqlite-transport-store.js';
/**
 * The SQLite schema as numbered migrations, applied in order at open and recorded in
 * `schema_migrations`. Never edit a released migration: add the next number instead.
 * Times are ISO 8601 UTC text; booleans are 0/1.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'agents, events, quarantine, credentials',
    sql: `
      CREATE TABLE enrollment_tokens (
        token_hash TEXT PRIMARY KEY,
        unit       TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at    TEXT,
        used_by    TEXT
      );

      CREATE TABLE agents (
        id                 TEXT PRIMARY KEY,
        unit               TEXT NOT NULL,
        alg                TEXT NOT NULL,
        public_key         TEXT NOT NULL UNIQUE,
        hostname           TEXT,
        version            TEXT,
        enrolled_at        TEXT NOT NULL,
        reenrolled_at      TEXT,
        last_seen          TEXT,
        online             INTEGER NOT NULL DEFAULT 0,
        broker_secret_hash TEXT NOT NULL,
        revoked_at         TEXT,
        acked_seq          INTEGER NOT NULL DEFAULT 0,
        reported_seq       INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX agents_unit ON agents (unit);

      CREATE TABLE events (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        agent_id    TEXT NOT NULL REFERENCES agents (id),
        seq         INTEGER NOT NULL,
        ts          TEXT NOT NULL,
        received_at TEXT NOT NULL,
        type        TEXT NOT NULL,
        state       TEXT NOT NULL,
        key         TEXT NOT NULL,
        severity    TEXT NOT NULL,
        data        TEXT NOT NULL,
        envelope    TEXT NOT NULL,
        skewed      INTEGER NOT NULL DEFAULT 0,
        UNIQUE (agent_id, seq)
      );
      CREATE INDEX events_ts ON events (ts);
      CREATE INDEX events_type_ts ON events (type, ts);

      CREATE TABLE quarantine (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at      TEXT NOT NULL,
        topic            TEXT NOT NULL,
        reason           TEXT NOT NULL,
        detail           TEXT NOT NULL,
        claimed_agent_id TEXT,
        payload          BLOB NOT NULL,
        payload_bytes    INTEGER NOT NULL
      );
      CREATE INDEX quarantine_received_at ON quarantine (received_at);

      CREATE TABLE api_keys (
        key_hash   TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        role       TEXT NOT NULL CHECK (role IN ('admin', 'officer', 'viewer')),
        unit       TEXT,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      );

      CREATE TABLE users (
        name          TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('admin', 'officer', 'viewer')),
        unit          TEXT,
        created_at    TEXT NOT NULL,
        disabled_at   TEXT
      );
    `,
  },
  {
    version: 2,
    name: '第64条 warnings: rule state, warnings, evidence, transitions, silences, notices, notifications',
    sql: `
      CREATE TABLE warnings (
        id          TEXT PRIMARY KEY,
        rule        TEXT NOT NULL,
        slot        TEXT NOT NULL,
        unit        TEXT NOT NULL,
        agent       TEXT,
        state       TEXT NOT NULL,
        severity    TEXT NOT NULL,
        level       TEXT,
        count       INTEGER NOT NULL,
        first_seen  TEXT NOT NULL,
        last_seen   TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        resolved_at TEXT,
        updated_at  TEXT NOT NULL,
        doc         TEXT NOT NULL
      );
      CREATE INDEX warnings_unit_last_seen ON warnings (unit, last_seen);
      CREATE INDEX warnings_state ON warnings (state);

      CREATE TABLE warning_evidence (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        warning_id   TEXT NOT NULL REFERENCES warnings (id),
        event_id     INTEGER,
        condition_id INTEGER,
        agent        TEXT NOT NULL,
        seq          INTEGER NOT NULL,
        ts           TEXT NOT NULL,
        state        TEXT NOT NULL,
        UNIQUE (warning_id, agent, seq)
      );

      CREATE TABLE warning_transitions (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        warning_id TEXT NOT NULL REFERENCES warnings (id),
        action     TEXT NOT NULL,
        from_state TEXT NOT NULL,
        to_state   TEXT NOT NULL,
        by_name    TEXT NOT NULL,
        by_role    TEXT NOT NULL,
        by_unit    TEXT,
        at         TEXT NOT NULL,
        note       TEXT NOT NULL
      );
      CREATE INDEX warning_transitions_warning ON warning_transitions (warning_id, id);

      CREATE TABLE rule_open (slot TEXT PRIMARY KEY, row TEXT NOT NULL);
      CREATE TABLE rule_windows (slot TEXT PRIMARY KEY, row TEXT NOT NULL);
      CREATE TABLE rule_correlations (slot TEXT PRIMARY KEY, row TEXT NOT NULL);
      CREATE TABLE rule_conditions (cond TEXT NOT NULL, slot TEXT NOT NULL, PRIMARY KEY (cond, slot));
      -- The highest event id the rules have seen; moved in the same transaction as their effects.
      CREATE TABLE rule_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), event_id INTEGER NOT NULL);
      INSERT INTO rule_cursor (id, event_id) VALUES (1, 0);

      CREATE TABLE collector_conditions (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        type        TEXT NOT NULL,
        state       TEXT NOT NULL,
        key         TEXT NOT NULL,
        unit        TEXT NOT NULL,
        agent       TEXT,
        severity    TEXT NOT NULL,
        data        TEXT NOT NULL,
        at          TEXT NOT NULL,
        received_at TEXT NOT NULL
      );

      CREATE TABLE silences (
        id          TEXT PRIMARY KEY,
        matcher     TEXT NOT NULL,
        starts_at   TEXT NOT NULL,
        ends_at     TEXT NOT NULL,
        author      TEXT NOT NULL,
        reason      TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        approved_by TEXT,
        expired_by  TEXT
      );
      CREATE INDEX silences_ends_at ON silences (ends_at);

      CREATE TABLE notices (
        id              TEXT PRIMARY KEY,
        title           TEXT NOT NULL,
        text            TEXT NOT NULL,
        required_action TEXT NOT NULL,
        deadline        TEXT NOT NULL,
        issuer_unit     TEXT,
        issued_by       TEXT NOT NULL,
        issued_at       TEXT NOT NULL,
        warning_id      TEXT
      );
      CREATE TABLE notice_recipients (
        notice_id       TEXT NOT NULL REFERENCES notices (id),
        unit            TEXT NOT NULL,
        acknowledged_at TEXT,
        acknowledged_by TEXT,
        result          TEXT,
        result_at       TEXT,
        result_by       TEXT,
        PRIMARY KEY (notice_id, unit)
      );
      CREATE INDEX notice_recipients_unit ON notice_recipients (unit);

      -- The notification outbox: one row per warning and channel, so each goes out once.
      CREATE TABLE notifications (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        warning_id      TEXT NOT NULL REFERENCES warnings (id),
        channel         TEXT NOT NULL,
        state           TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error      TEXT,
        created_at      TEXT NOT NULL,
        done_at         TEXT,
        muted_by        TEXT,
        UNIQUE (warning_id, channel)
      );
      CREATE INDEX notifications_due ON notifications (state, next_attempt_at);
    `,
  },
  {
    version: 3,
    name: 'legal clocks: systems register, assessments, incidents, reports, deadline rows, fires, runs',
    sql: CLOCKS_MIGRATION_SQL,
  },
  {
    version: 4,
    name: 'transport: agent liveness, declared outbox drops, key history, Mosquitto password hashes',
    sql: TRANSPORT_MIGRATION_SQL,
  },
  {
    version: 5,
    name: 'dashboard: sessions, audit log, login failures',
    sql: `
      CREATE TABLE sessions (
        id_hash      TEXT PRIMARY KEY,
        user_name    TEXT NOT NULL,
        role         TEXT NOT NULL,
        unit         TEXT,
        csrf_token   TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        expires_at   TEXT NOT NULL,
        ip           TEXT NOT NULL,
        user_agent   TEXT NOT NULL
      );
      CREATE INDEX sessions_expires_at ON sessions (expires_at);

      CREATE TABLE audit_log (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        at         TEXT NOT NULL,
        actor      TEXT NOT NULL,
        actor_kind TEXT NOT NULL,
        role       TEXT,
        unit       TEXT,
        action     TEXT NOT NULL,
        status     INTEGER,
        ip         TEXT NOT NULL,
        detail     TEXT NOT NULL
      );
      CREATE INDEX audit_log_actor ON audit_log (actor, id);

      CREATE TABLE login_failures (
        id   INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        ip   TEXT NOT NULL,
        at   TEXT NOT NULL
      );
      CREATE INDEX login_failures_ip_at ON login_failures (ip, at);
    `,
  },
  {
    version: 6,
    name: 'collector hierarchy: parent, subordinates, upward outbox, received reports, notices and answers',
    sql: HIERARCHY_MIGRATION_SQL,
  },
  {
    version: 7,
    name: 'manual enrollment approval: pending, approved and rejected agents',
    sql: `
  CREATE TABLE agent_approvals (
    agent_id     TEXT PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    requested_at TEXT NOT NULL,
    decided_at   TEXT,
    decided_by   TEXT
  );
  CREATE INDEX agent_approvals_decided ON agent_approvals (decided_at);
`,
  },
  {
    version: 9,
    name: '第64条: warnings link the incidents they open; notifications per occasion (opened, re-raised, state change)',
    sql: `
      ALTER TABLE warning_transitions ADD COLUMN incident_id TEXT;

      -- SQLite cannot change a UNIQUE constraint: the outbox is rebuilt with the occasion in it.
      CREATE TABLE notifications_v9 (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        warning_id      TEXT NOT NULL REFERENCES warnings (id),
        channel         TEXT NOT NULL,
        occasion        TEXT NOT NULL DEFAULT 'opened',
        state           TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error      TEXT,
        created_at      TEXT NOT NULL,
        done_at         TEXT,
        muted_by        TEXT,
        UNIQUE (warning_id, channel, occasion)
      );
      INSERT INTO notifications_v9 (id, warning_id, channel, occasion, state, attempts, next_attempt_at, last_error,
          created_at, done_at, muted_by)
        SELECT id, warning_id, channel, 'opened', state, attempts, next_attempt_at, last_error, created_at, done_at,
          muted_by FROM notifications;
      DROP TABLE notifications;
      ALTER TABLE notifications_v9 RENAME TO notifications;
      CREATE INDEX notifications_due ON notifications (state, next_attempt_at);
    `,
  },
  {
    version: 10,
    name: 'enrollment tokens say what they enroll: agent or collector (tokens made before enroll agents)',
    sql: `
      ALTER TABLE enrollment_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'agent'
        CHECK (kind IN ('agent', 'collector'));
      `,
  },
  {
    version: 11,
    name: 'rules: an open warning counts its raised conditions; which ones are the exact (condition, slot) pairs',
    sql: `
      -- Pairs no row holds (a hit that left its window, a condition a host's newer hit replaced).
      DELETE FROM rule_conditions
        WHERE NOT EXISTS (SELECT 1 FROM rule_open o, json_each(o.row, '$.raised') r
                          WHERE o.slot = rule_conditions.slot AND r.value = rule_conditions.cond)
          AND NOT EXISTS (SELECT 1 FROM rule_windows w, json_each(w.row, '$.hits') h
                          WHERE w.slot = rule_conditions.slot AND json_extract(h.value, '$.cond') = rule_conditions.cond)
          AND NOT EXISTS (SELECT 1 FROM rule_correlations c, json_each(c.row, '$.hosts') h
                          WHERE c.slot = rule_conditions.slot AND json_extract(h.value, '$.cond') = rule_conditions.cond);
      UPDATE rule_open SET row = json_set(json_remove(row, '$.raised'), '$.raisedCount', json_array_length(row, '$.raised'))
        WHERE json_type(row, '$.raised') = 'array';
      CREATE INDEX rule_conditions_slot ON rule_conditions (slot);
    `,
  },
  {
    version: 12,
    name: 'keyset pages: events of one agent by time, warnings by last seen then id',
    // events_ts and events_type_ts already end in the rowid (= id), so they serve (ts, id) pages.
    sql: `
      CREATE INDEX events_agent_ts ON events (agent_id, ts);
      CREATE INDEX warnings_last_seen_id ON warnings (last_seen DESC, id);
      CREATE INDEX warnings_state_last_seen_id ON warnings (state, last_seen DESC, id);
    `,
  },
];
