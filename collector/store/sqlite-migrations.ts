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
];
