import { migrationsFor, type SchemaMigration } from './ddl.js';

/**
 * The notification outbox as it stands since SQLite 9 (PostgreSQL 2): one row per warning, channel
 * and occasion, so each goes out once. Both the PostgreSQL table and SQLite's rebuild are made from it.
 */
const NOTIFICATIONS_COLUMNS = `
    id              {id},
    warning_id      TEXT NOT NULL REFERENCES warnings (id),
    channel         TEXT NOT NULL,
    occasion        TEXT NOT NULL DEFAULT 'opened',
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT{bytewise} NOT NULL,
    last_error      TEXT,
    created_at      TEXT{bytewise} NOT NULL,
    done_at         TEXT{bytewise},
    muted_by        TEXT,
    UNIQUE (warning_id, channel, occasion)
  `;

/**
 * The clock's deadline rows and their fires as SQLite rebuilds them in 18, when a rectification
 * became a clock subject (the columns of 3, the subject CHECK widened).
 */
const CLOCK_DEADLINES_COLUMNS = `
    id            {id},
    subject_type  TEXT NOT NULL CHECK (subject_type IN ('system', 'incident', 'rectification')),
    subject_id    TEXT NOT NULL,
    target        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    for_due       TEXT{bytewise} NOT NULL,
    due_at        TEXT{bytewise} NOT NULL,
    repeats       {bool} NOT NULL,
    escalates_to  TEXT,
    created_at    TEXT{bytewise} NOT NULL,
    fired_count   INTEGER NOT NULL DEFAULT 0,
    last_fired_at TEXT{bytewise},
    done_at       TEXT{bytewise},
    superseded    {bool} NOT NULL DEFAULT {false},
    claimed_by    TEXT,
    claimed_until TEXT{bytewise},
    UNIQUE (subject_type, subject_id, target, kind, for_due)
  `;
const CLOCK_FIRES_COLUMNS = `
    id           {id},
    deadline_id  {bigint} NOT NULL REFERENCES clock_deadlines (id),
    due_at       TEXT{bytewise} NOT NULL,
    fired_at     TEXT{bytewise} NOT NULL,
    late         {bool} NOT NULL,
    late_by_ms   {bigint} NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('fired', 'stale', 'cleared')),
    condition    TEXT,
    delivered_at TEXT{bytewise},
    UNIQUE (deadline_id, due_at, outcome)
  `;

/**
 * The schema of both databases, in order (see SchemaMigration and the tokens in ddl.ts). Times are
 * ISO 8601 UTC text, compared byte by byte in both; booleans are 0/1 in SQLite. A new column is one
 * step here, with the next number for both. The PostgreSQL steps run under an advisory lock, since
 * several collectors may start at once on one database.
 */
export const SCHEMA_MIGRATIONS: readonly SchemaMigration[] = [
  {
    version: 1,
    name: 'agents, events, quarantine, credentials',
    sql: `
      CREATE TABLE enrollment_tokens (
        token_hash TEXT PRIMARY KEY,
        unit       TEXT NOT NULL,
        created_at TEXT{bytewise} NOT NULL,
        expires_at TEXT{bytewise} NOT NULL,
        used_at    TEXT{bytewise},
        used_by    TEXT
      );

      CREATE TABLE agents (
        id                 TEXT PRIMARY KEY,
        unit               TEXT NOT NULL,
        alg                TEXT NOT NULL,
        public_key         TEXT NOT NULL UNIQUE,
        hostname           TEXT,
        version            TEXT,
        enrolled_at        TEXT{bytewise} NOT NULL,
        reenrolled_at      TEXT{bytewise},
        last_seen          TEXT{bytewise},
        online             {bool} NOT NULL DEFAULT {false},
        broker_secret_hash TEXT NOT NULL,
        revoked_at         TEXT{bytewise},
        acked_seq          {bigint} NOT NULL DEFAULT 0,
        reported_seq       {bigint} NOT NULL DEFAULT 0
      );
      CREATE INDEX agents_unit ON agents (unit);

      CREATE TABLE events (
        id          {id},
        agent_id    TEXT NOT NULL REFERENCES agents (id),
        seq         {bigint} NOT NULL,
        ts          TEXT{bytewise} NOT NULL,
        received_at TEXT{bytewise} NOT NULL,
        type        TEXT NOT NULL,
        state       TEXT NOT NULL,
        key         TEXT NOT NULL,
        severity    TEXT NOT NULL,
        data        TEXT NOT NULL,
        envelope    TEXT NOT NULL,
        skewed      {bool} NOT NULL DEFAULT {false},
        UNIQUE (agent_id, seq)
      );
      CREATE INDEX events_ts ON events (ts);
      CREATE INDEX events_type_ts ON events (type, ts);

      CREATE TABLE quarantine (
        id               {id},
        received_at      TEXT{bytewise} NOT NULL,
        topic            TEXT NOT NULL,
        reason           TEXT NOT NULL,
        detail           TEXT NOT NULL,
        claimed_agent_id TEXT,
        payload          {bytes} NOT NULL,
        payload_bytes    INTEGER NOT NULL
      );
      CREATE INDEX quarantine_received_at ON quarantine (received_at);

      CREATE TABLE api_keys (
        key_hash   TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        role       TEXT NOT NULL CHECK (role IN ('admin', 'officer', 'viewer')),
        unit       TEXT,
        created_at TEXT{bytewise} NOT NULL,
        revoked_at TEXT{bytewise}
      );

      CREATE TABLE users (
        name          TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('admin', 'officer', 'viewer')),
        unit          TEXT,
        created_at    TEXT{bytewise} NOT NULL,
        disabled_at   TEXT{bytewise}
      );
    `,
  },
  {
    version: 2,
    name: '第64条 warnings: rule state, warnings, evidence, transitions, silences, notices, notifications',
    sql: `
  CREATE TABLE warnings (
    id          TEXT{bytewise} PRIMARY KEY,
    rule        TEXT NOT NULL,
    slot        TEXT NOT NULL,
    unit        TEXT NOT NULL,
    agent       TEXT,
    state       TEXT NOT NULL,
    severity    TEXT NOT NULL,
    level       TEXT,
    count       INTEGER NOT NULL,
    first_seen  TEXT{bytewise} NOT NULL,
    last_seen   TEXT{bytewise} NOT NULL,
    created_at  TEXT{bytewise} NOT NULL,
    resolved_at TEXT{bytewise},
    updated_at  TEXT{bytewise} NOT NULL,
    doc         TEXT NOT NULL
  );
  CREATE INDEX warnings_unit_last_seen ON warnings (unit, last_seen);
  CREATE INDEX warnings_state ON warnings (state);

  CREATE TABLE warning_evidence (
    id           {id},
    warning_id   TEXT NOT NULL REFERENCES warnings (id),
    event_id     {bigint},
    condition_id {bigint},
    agent        TEXT NOT NULL,
    seq          {bigint} NOT NULL,
    ts           TEXT{bytewise} NOT NULL,
    state        TEXT NOT NULL,
    UNIQUE (warning_id, agent, seq)
  );

  CREATE TABLE warning_transitions (
    id         {id},
    warning_id TEXT NOT NULL REFERENCES warnings (id),
    action     TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    by_name    TEXT NOT NULL,
    by_role    TEXT NOT NULL,
    by_unit    TEXT,
    at         TEXT{bytewise} NOT NULL,
    note       TEXT NOT NULL
  );
  CREATE INDEX warning_transitions_warning ON warning_transitions (warning_id, id);

  CREATE TABLE rule_open (slot TEXT{bytewise} PRIMARY KEY, row TEXT NOT NULL);
  CREATE TABLE rule_windows (slot TEXT{bytewise} PRIMARY KEY, row TEXT NOT NULL);
  CREATE TABLE rule_correlations (slot TEXT{bytewise} PRIMARY KEY, row TEXT NOT NULL);
  CREATE TABLE rule_conditions (
    cond TEXT{bytewise} NOT NULL,
    slot TEXT{bytewise} NOT NULL,
    PRIMARY KEY (cond, slot)
  );
  -- The highest event id the rules have seen; moved in the same transaction as their effects.
  -- Its row lock also serialises every change to rule state across collectors.
  CREATE TABLE rule_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), event_id {bigint} NOT NULL);
  INSERT INTO rule_cursor (id, event_id) VALUES (1, 0);


  CREATE TABLE collector_conditions (
    id          {id},
    type        TEXT NOT NULL,
    state       TEXT NOT NULL,
    key         TEXT NOT NULL,
    unit        TEXT NOT NULL,
    agent       TEXT,
    severity    TEXT NOT NULL,
    data        TEXT NOT NULL,
    at          TEXT{bytewise} NOT NULL,
    received_at TEXT{bytewise} NOT NULL
  );

  CREATE TABLE silences (
    id          TEXT{bytewise} PRIMARY KEY,
    matcher     TEXT NOT NULL,
    starts_at   TEXT{bytewise} NOT NULL,
    ends_at     TEXT{bytewise} NOT NULL,
    author      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  TEXT{bytewise} NOT NULL,
    approved_by TEXT,
    expired_by  TEXT
  );
  CREATE INDEX silences_ends_at ON silences (ends_at);

  CREATE TABLE notices (
    id              TEXT{bytewise} PRIMARY KEY,
    title           TEXT NOT NULL,
    text            TEXT NOT NULL,
    required_action TEXT NOT NULL,
    deadline        TEXT{bytewise} NOT NULL,
    issuer_unit     TEXT,
    issued_by       TEXT NOT NULL,
    issued_at       TEXT{bytewise} NOT NULL,
    warning_id      TEXT
  );
  CREATE TABLE notice_recipients (
    notice_id       TEXT NOT NULL REFERENCES notices (id),
    unit            TEXT NOT NULL,
    acknowledged_at TEXT{bytewise},
    acknowledged_by TEXT,
    result          TEXT,
    result_at       TEXT{bytewise},
    result_by       TEXT,
    PRIMARY KEY (notice_id, unit)
  );
  CREATE INDEX notice_recipients_unit ON notice_recipients (unit);

`,
    sqlite: `
  -- The notification outbox: one row per warning and channel, so each goes out once (per occasion from 9).
  CREATE TABLE notifications (
    id              {id},
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
    postgres: `
  -- SQLite's rowid: recipients keep the order the notice named them in.
  ALTER TABLE notice_recipients ADD COLUMN position BIGSERIAL NOT NULL;
  -- SQLite gets the incident link and the occasion in its 9.
  ALTER TABLE warning_transitions ADD COLUMN incident_id TEXT;
  CREATE TABLE notifications (${NOTIFICATIONS_COLUMNS});
  CREATE INDEX notifications_due ON notifications (state, next_attempt_at);

  -- Taken before an insert draws event ids, held to its commit: see eventsAfterRulesCursor.
  CREATE FUNCTION smew_events_rules_horizon() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_advisory_xact_lock_shared(${0x736d6572}, hashtext(current_schema()));
    RETURN NULL;
  END $$;
  CREATE TRIGGER events_rules_horizon BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION smew_events_rules_horizon();
`,
  },
  {
    version: 3,
    name: 'legal clocks: systems register, assessments, incidents, reports, deadline rows, fires, runs',
    sql: `
  CREATE TABLE info_systems (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    level           TEXT NOT NULL CHECK (level IN ('绝密', '机密', '秘密')),
    unit            TEXT NOT NULL,
    scope           TEXT,
    environment     TEXT,
    commissioned_at TEXT{bytewise} NOT NULL,
    approval_ref    TEXT,
    approved_by     TEXT,
    approved_at     TEXT{bytewise},
    status          TEXT NOT NULL DEFAULT 'in-use' CHECK (status IN ('in-use', 'decommissioned')),
    filed_at        TEXT{bytewise},
    created_at      TEXT{bytewise} NOT NULL,
    created_by      TEXT NOT NULL,
    CHECK (status = 'in-use' OR filed_at IS NOT NULL)
  );
  CREATE INDEX info_systems_unit ON info_systems (unit);

  CREATE TABLE info_system_changes (
    id         {id},
    system_id  TEXT NOT NULL REFERENCES info_systems (id),
    kind       TEXT NOT NULL CHECK (kind IN ('level', 'scope', 'environment', 'status')),
    at         TEXT{bytewise} NOT NULL,
    from_value TEXT,
    to_value   TEXT,
    by         TEXT NOT NULL
  );
  CREATE INDEX info_system_changes_system ON info_system_changes (system_id);

  CREATE TABLE assessments (
    id           {id},
    system_id    TEXT NOT NULL REFERENCES info_systems (id),
    completed_at TEXT{bytewise} NOT NULL,
    assessor     TEXT NOT NULL,
    result       TEXT NOT NULL CHECK (result IN ('pass', 'pass-with-findings', 'fail')),
    note         TEXT,
    recorded_at  TEXT{bytewise} NOT NULL,
    recorded_by  TEXT NOT NULL
  );
  CREATE INDEX assessments_system ON assessments (system_id);

  CREATE TABLE incidents (
    id               TEXT PRIMARY KEY,
    title            TEXT NOT NULL,
    level            TEXT NOT NULL CHECK (level IN ('绝密', '机密', '秘密')),
    unit             TEXT NOT NULL,
    unit_level       TEXT NOT NULL,
    discovered_at    TEXT{bytewise} NOT NULL,
    discovery_source TEXT NOT NULL CHECK (discovery_source IN ('evidence', 'manual')),
    description      TEXT,
    measures         TEXT,
    evidence         TEXT NOT NULL,
    created_at       TEXT{bytewise} NOT NULL,
    created_by       TEXT NOT NULL
  );
  CREATE INDEX incidents_unit ON incidents (unit);

  CREATE TABLE incident_reports (
    id           {id},
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    from_level   TEXT NOT NULL,
    to_recipient TEXT NOT NULL,
    reported_at  TEXT{bytewise} NOT NULL,
    received_at  TEXT{bytewise},
    channel      TEXT NOT NULL CHECK (channel IN ('system', 'paper', 'phone', 'in-person')),
    by           TEXT NOT NULL,
    receipt      TEXT,
    recorded_at  TEXT{bytewise} NOT NULL,
    recorded_by  TEXT NOT NULL
  );
  CREATE INDEX incident_reports_incident ON incident_reports (incident_id);

  CREATE TABLE clock_deadlines (
    id            {id},
    subject_type  TEXT NOT NULL CHECK (subject_type IN ('system', 'incident')),
    subject_id    TEXT NOT NULL,
    target        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    for_due       TEXT{bytewise} NOT NULL,
    due_at        TEXT{bytewise} NOT NULL,
    repeats       {bool} NOT NULL,
    escalates_to  TEXT,
    created_at    TEXT{bytewise} NOT NULL,
    fired_count   INTEGER NOT NULL DEFAULT 0,
    last_fired_at TEXT{bytewise},
    done_at       TEXT{bytewise},
    superseded    {bool} NOT NULL DEFAULT {false},
    claimed_by    TEXT,
    claimed_until TEXT{bytewise},
    UNIQUE (subject_type, subject_id, target, kind, for_due)
  );
  CREATE INDEX clock_deadlines_subject ON clock_deadlines (subject_type, subject_id);

  CREATE TABLE clock_fires (
    id           {id},
    deadline_id  {bigint} NOT NULL REFERENCES clock_deadlines (id),
    due_at       TEXT{bytewise} NOT NULL,
    fired_at     TEXT{bytewise} NOT NULL,
    late         {bool} NOT NULL,
    late_by_ms   {bigint} NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('fired', 'stale', 'cleared')),
    condition    TEXT,
    delivered_at TEXT{bytewise},
    UNIQUE (deadline_id, due_at, outcome)
  );
  CREATE INDEX clock_fires_undelivered ON clock_fires (id) WHERE delivered_at IS NULL AND condition IS NOT NULL;

  CREATE TABLE clock_runs (
    id          {id},
    trigger     TEXT NOT NULL,
    owner       TEXT NOT NULL,
    started_at  TEXT{bytewise} NOT NULL,
    finished_at TEXT{bytewise},
    fired       INTEGER NOT NULL DEFAULT 0,
    late        INTEGER NOT NULL DEFAULT 0,
    stale       INTEGER NOT NULL DEFAULT 0,
    delivered   INTEGER NOT NULL DEFAULT 0,
    error       TEXT
  );
`,
    // The scheduler reads only pending rows, in (due time, id) order; done rows stay as history.
    // A SQLite index ends in the rowid (= id) by itself.
    sqlite: 'CREATE INDEX clock_deadlines_pending ON clock_deadlines (due_at) WHERE done_at IS NULL;',
    postgres: 'CREATE INDEX clock_deadlines_pending ON clock_deadlines (due_at, id) WHERE done_at IS NULL;',
  },
  {
    version: 4,
    name: 'transport: agent liveness, declared outbox drops, key history, Mosquitto password hashes',
    sql: `
  CREATE TABLE agent_liveness (
    agent_id          TEXT PRIMARY KEY REFERENCES agents (id),
    interval_ms       {bigint} NOT NULL,
    last_heartbeat_at TEXT{bytewise},
    will_at           TEXT{bytewise},
    reported_seq      {bigint} NOT NULL DEFAULT 0,
    offline_since     TEXT{bytewise},
    gap_since         TEXT{bytewise},
    gap_watermark     {bigint} NOT NULL DEFAULT 0,
    lost_since        TEXT{bytewise}
  );

  CREATE TABLE agent_declared_drops (
    agent_id        TEXT NOT NULL REFERENCES agents (id),
    from_seq        {bigint} NOT NULL,
    to_seq          {bigint} NOT NULL,
    declared_by_seq {bigint} NOT NULL,
    PRIMARY KEY (agent_id, from_seq, to_seq)
  );

  -- Keys an agent used before a rotation; the current key stays in agents.public_key.
  CREATE TABLE agent_keys (
    agent_id   TEXT NOT NULL REFERENCES agents (id),
    alg        TEXT NOT NULL,
    public_key TEXT NOT NULL,
    valid_from TEXT{bytewise} NOT NULL,
    valid_to   TEXT{bytewise} NOT NULL,
    PRIMARY KEY (agent_id, public_key)
  );

  ALTER TABLE agents ADD COLUMN broker_password_hash TEXT;
  ALTER TABLE agents ADD COLUMN key_rotated_at TEXT{bytewise};
`,
    postgres: 'CREATE INDEX agents_revoked_at ON agents (revoked_at) WHERE revoked_at IS NOT NULL;',
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
    created_at   TEXT{bytewise} NOT NULL,
    last_seen_at TEXT{bytewise} NOT NULL,
    expires_at   TEXT{bytewise} NOT NULL,
    ip           TEXT NOT NULL,
    user_agent   TEXT NOT NULL
  );
  CREATE INDEX sessions_expires_at ON sessions (expires_at);

  CREATE TABLE audit_log (
    id         {id},
    at         TEXT{bytewise} NOT NULL,
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
    id   {id},
    name TEXT NOT NULL,
    ip   TEXT NOT NULL,
    at   TEXT{bytewise} NOT NULL
  );
  CREATE INDEX login_failures_ip_at ON login_failures (ip, at);
`,
  },
  {
    version: 6,
    name: 'collector hierarchy: parent, subordinates, upward outbox, received reports, notices and answers',
    sql: `
  CREATE TABLE hierarchy_state (name TEXT PRIMARY KEY, value {bigint} NOT NULL);

  CREATE TABLE hierarchy_parent (
    one             INTEGER PRIMARY KEY CHECK (one = 1),
    url             TEXT NOT NULL,
    id              TEXT NOT NULL,
    alg             TEXT NOT NULL,
    public_key      TEXT NOT NULL,
    unit            TEXT NOT NULL,
    level           TEXT NOT NULL,
    cert            TEXT NOT NULL,
    enrolled_at     TEXT{bytewise} NOT NULL,
    last_contact_at TEXT{bytewise},
    last_error      TEXT
  );

  CREATE TABLE hierarchy_collectors (
    id           TEXT PRIMARY KEY,
    unit         TEXT NOT NULL,
    level        TEXT NOT NULL,
    alg          TEXT NOT NULL,
    public_key   TEXT NOT NULL UNIQUE,
    parent       TEXT NOT NULL,
    direct       {bool} NOT NULL,
    cert         TEXT NOT NULL,
    enrolled_at  TEXT{bytewise} NOT NULL,
    last_seen_at TEXT{bytewise},
    path_units   {texts} NOT NULL
  );

  CREATE TABLE hierarchy_outbox (
    link_seq      {id},
    origin        TEXT NOT NULL,
    origin_seq    {bigint} NOT NULL,
    type          TEXT NOT NULL,
    producer_key  TEXT UNIQUE,
    report        TEXT NOT NULL,
    chain         TEXT NOT NULL,
    created_at    TEXT{bytewise} NOT NULL,
    first_sent_at TEXT{bytewise},
    attempts      INTEGER NOT NULL DEFAULT 0,
    received_at   TEXT{bytewise},
    rejected      TEXT,
    done_at       TEXT{bytewise},
    UNIQUE (origin, origin_seq)
  );

  CREATE TABLE hierarchy_reports (
    id          {id},
    origin      TEXT NOT NULL,
    seq         {bigint} NOT NULL,
    unit        TEXT NOT NULL,
    level       TEXT NOT NULL,
    type        TEXT NOT NULL,
    key         TEXT NOT NULL,
    via         TEXT NOT NULL,
    path_units  {texts} NOT NULL,
    received_at TEXT{bytewise} NOT NULL,
    report      TEXT NOT NULL,
    chain       TEXT NOT NULL,
    UNIQUE (origin, seq)
  );
  CREATE INDEX hierarchy_reports_type ON hierarchy_reports (type, id);

  CREATE TABLE hierarchy_notices (
    n                 {id},
    id                TEXT NOT NULL UNIQUE,
    source            TEXT NOT NULL,
    notice            TEXT NOT NULL,
    issuer_alg        TEXT NOT NULL,
    issuer_public_key TEXT NOT NULL,
    received_at       TEXT{bytewise} NOT NULL,
    acked_at          TEXT{bytewise},
    result            TEXT,
    result_at         TEXT{bytewise}
  );

  CREATE TABLE hierarchy_notice_responses (
    notice_id TEXT NOT NULL,
    collector TEXT NOT NULL,
    unit      TEXT NOT NULL,
    level     TEXT NOT NULL,
    acked_at  TEXT{bytewise},
    result    TEXT,
    result_at TEXT{bytewise},
    PRIMARY KEY (notice_id, collector)
  );
`,
    sqlite: 'CREATE INDEX hierarchy_outbox_pending ON hierarchy_outbox (done_at, link_seq);',
    postgres: `
  CREATE INDEX hierarchy_outbox_pending ON hierarchy_outbox (link_seq) WHERE done_at IS NULL;
  CREATE INDEX hierarchy_outbox_delivered ON hierarchy_outbox (type, link_seq) WHERE received_at IS NOT NULL;
`,
  },
  {
    version: 7,
    name: 'manual enrollment approval: pending, approved and rejected agents',
    sql: `
  CREATE TABLE agent_approvals (
    agent_id     TEXT PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    requested_at TEXT{bytewise} NOT NULL,
    decided_at   TEXT{bytewise},
    decided_by   TEXT
  );
  CREATE INDEX agent_approvals_decided ON agent_approvals (decided_at);
`,
  },
  {
    version: { sqlite: 9 },
    name: '第64条: warnings link the incidents they open; notifications per occasion (opened, re-raised, state change)',
    // PostgreSQL has had both since its 2.
    sqlite: `
      ALTER TABLE warning_transitions ADD COLUMN incident_id TEXT;

      -- SQLite cannot change a UNIQUE constraint: the outbox is rebuilt with the occasion in it.
      CREATE TABLE notifications_v9 (${NOTIFICATIONS_COLUMNS});
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
    version: { sqlite: 10, postgres: 8 },
    name: 'enrollment tokens say what they enroll: agent or collector (tokens made before enroll agents)',
    sql: `
      ALTER TABLE enrollment_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'agent'
        CHECK (kind IN ('agent', 'collector'));
      `,
  },
  {
    version: { sqlite: 11, postgres: 9 },
    name: 'rules: an open warning counts its raised conditions; which ones are the exact (condition, slot) pairs',
    sql: 'CREATE INDEX rule_conditions_slot ON rule_conditions (slot);',
    // Pairs no row holds (a hit that left its window, a condition a host's newer hit replaced) go;
    // each database reads the JSON rows with its own functions.
    sqlite: `
      DELETE FROM rule_conditions
        WHERE NOT EXISTS (SELECT 1 FROM rule_open o, json_each(o.row, '$.raised') r
                          WHERE o.slot = rule_conditions.slot AND r.value = rule_conditions.cond)
          AND NOT EXISTS (SELECT 1 FROM rule_windows w, json_each(w.row, '$.hits') h
                          WHERE w.slot = rule_conditions.slot AND json_extract(h.value, '$.cond') = rule_conditions.cond)
          AND NOT EXISTS (SELECT 1 FROM rule_correlations c, json_each(c.row, '$.hosts') h
                          WHERE c.slot = rule_conditions.slot AND json_extract(h.value, '$.cond') = rule_conditions.cond);
      UPDATE rule_open SET row = json_set(json_remove(row, '$.raised'), '$.raisedCount', json_array_length(row, '$.raised'))
        WHERE json_type(row, '$.raised') = 'array';
    `,
    postgres: `
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
    `,
  },
  {
    version: { sqlite: 12, postgres: 10 },
    name: 'keyset pages: events of one agent by time, warnings by last seen then id',
    sql: 'CREATE INDEX warnings_last_seen_id ON warnings (last_seen DESC, id);',
    // A SQLite index ends in the rowid (= id), so events_ts and events_type_ts serve (ts, id) pages
    // already. A PostgreSQL B-tree does not: id is spelled out, and the indexes it supersedes go.
    sqlite: `
      CREATE INDEX events_agent_ts ON events (agent_id, ts);
      CREATE INDEX warnings_state_last_seen_id ON warnings (state, last_seen DESC, id);
    `,
    postgres: `
      CREATE INDEX events_ts_id ON events (ts, id);
      CREATE INDEX events_type_ts_id ON events (type, ts, id);
      CREATE INDEX events_agent_ts_id ON events (agent_id, ts, id);
      DROP INDEX events_ts;
      DROP INDEX events_type_ts;
    `,
  },
  {
    version: 13,
    name: '第35条: a change records whether it may bring new risk (new_risk; NULL before the question was asked) and the protective measures taken',
    sql: `
      ALTER TABLE info_system_changes ADD COLUMN new_risk {bool};
      ALTER TABLE info_system_changes ADD COLUMN measures TEXT;
    `,
  },
  {
    version: 14,
    name: '第61条: discovery from the warning’s 识别 time, with the evidence times kept beside it',
    // SQLite cannot change a CHECK constraint: incidents is rebuilt, and incident_reports with it,
    // since a parent table with child rows cannot be dropped under foreign_keys.
    sqlite: `
      CREATE TABLE incidents_v13 (
        id               TEXT PRIMARY KEY,
        title            TEXT NOT NULL,
        level            TEXT NOT NULL CHECK (level IN ('绝密', '机密', '秘密')),
        unit             TEXT NOT NULL,
        unit_level       TEXT NOT NULL,
        discovered_at    TEXT NOT NULL,
        discovery_source TEXT NOT NULL CHECK (discovery_source IN ('identified', 'manual', 'evidence')),
        description      TEXT,
        measures         TEXT,
        evidence         TEXT NOT NULL,
        created_at       TEXT NOT NULL,
        created_by       TEXT NOT NULL,
        identified_at    TEXT,
        evidence_from    TEXT,
        evidence_to      TEXT
      );
      INSERT INTO incidents_v13 (id, title, level, unit, unit_level, discovered_at, discovery_source, description,
          measures, evidence, created_at, created_by, evidence_from)
        SELECT id, title, level, unit, unit_level, discovered_at, discovery_source, description, measures, evidence,
          created_at, created_by, CASE WHEN discovery_source = 'evidence' THEN discovered_at END FROM incidents;
      CREATE TABLE incident_reports_v13 (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        incident_id  TEXT NOT NULL REFERENCES incidents_v13 (id),
        from_level   TEXT NOT NULL,
        to_recipient TEXT NOT NULL,
        reported_at  TEXT NOT NULL,
        received_at  TEXT,
        channel      TEXT NOT NULL CHECK (channel IN ('system', 'paper', 'phone', 'in-person')),
        by           TEXT NOT NULL,
        receipt      TEXT,
        recorded_at  TEXT NOT NULL,
        recorded_by  TEXT NOT NULL
      );
      INSERT INTO incident_reports_v13 SELECT * FROM incident_reports;
      DROP TABLE incident_reports;
      DROP TABLE incidents;
      ALTER TABLE incidents_v13 RENAME TO incidents;
      ALTER TABLE incident_reports_v13 RENAME TO incident_reports;
      CREATE INDEX incidents_unit ON incidents (unit);
      CREATE INDEX incident_reports_incident ON incident_reports (incident_id);
    `,
    postgres: `
      ALTER TABLE incidents DROP CONSTRAINT incidents_discovery_source_check;
      ALTER TABLE incidents ADD CONSTRAINT incidents_discovery_source_check
        CHECK (discovery_source IN ('identified', 'manual', 'evidence'));
      ALTER TABLE incidents ADD COLUMN identified_at TEXT{bytewise};
      ALTER TABLE incidents ADD COLUMN evidence_from TEXT{bytewise};
      ALTER TABLE incidents ADD COLUMN evidence_to TEXT{bytewise};
      UPDATE incidents SET evidence_from = discovered_at WHERE discovery_source = 'evidence';
    `,
  },
  {
    version: 15,
    name: '涉密计算机台账 (第31–35条, 第6条): persons, their OS accounts, and terminals with 编号, 密级, 责任人, 部门, 位置, 要害部门部位, system, use, state and inventory',
    sql: `
      CREATE TABLE register_persons (
        id            TEXT{bytewise} PRIMARY KEY,
        unit          TEXT NOT NULL,
        name          TEXT NOT NULL,
        department    TEXT,
        clearance     TEXT NOT NULL CHECK (clearance IN ('核心', '重要', '一般')),
        state         TEXT NOT NULL CHECK (state IN ('在岗', '离岗', '脱密期')),
        state_since   TEXT{bytewise},
        state_until   TEXT{bytewise},
        created_at    TEXT{bytewise} NOT NULL,
        updated_at    TEXT{bytewise} NOT NULL
      );
      CREATE INDEX register_persons_unit ON register_persons (unit, name);
      CREATE TABLE register_accounts (
        unit      TEXT NOT NULL,
        account   TEXT{bytewise} NOT NULL,
        person_id TEXT NOT NULL REFERENCES register_persons (id) ON DELETE CASCADE,
        PRIMARY KEY (unit, account)
      );
      CREATE INDEX register_accounts_person ON register_accounts (person_id);
      CREATE TABLE register_terminals (
        id           TEXT{bytewise} PRIMARY KEY,
        unit         TEXT NOT NULL,
        asset_no     TEXT,
        level        TEXT NOT NULL CHECK (level IN ('绝密', '机密', '秘密', '非密')),
        use          TEXT NOT NULL CHECK (use IN ('涉密', '非涉密')),
        owner_id     TEXT REFERENCES register_persons (id),
        department   TEXT,
        location     TEXT,
        key_part     TEXT,
        system_id    TEXT REFERENCES info_systems (id),
        state        TEXT NOT NULL CHECK (state IN ('在用', '停用', '维修', '报废')),
        state_since  TEXT{bytewise},
        agent_id     TEXT UNIQUE REFERENCES agents (id),
        hostname     TEXT,
        inventory    TEXT,
        inventory_at TEXT{bytewise},
        findings     TEXT NOT NULL DEFAULT '[]',
        created_at   TEXT{bytewise} NOT NULL,
        updated_at   TEXT{bytewise} NOT NULL,
        UNIQUE (unit, asset_no)
      );
      CREATE INDEX register_terminals_owner ON register_terminals (owner_id);
      CREATE INDEX register_terminals_system ON register_terminals (system_id);
      -- The register counts each terminal's open warnings by its agent.
      CREATE INDEX warnings_agent_state ON warnings (agent, state);
    `,
  },
  {
    version: 16,
    name: 'the audit log names what a change was made to (a terminal, a person), so a record’s history is read from it',
    sql: `
      ALTER TABLE audit_log ADD COLUMN subject TEXT;
      CREATE INDEX audit_log_subject ON audit_log (subject, id);
    `,
  },
  {
    version: 17,
    name: '第34条 三员: roles sysadmin, secadmin, auditor, viewer; the audit log chained by hash, its head signed',
    // The stated mapping: admin → sysadmin, officer → secadmin, viewer stays viewer. Audit entries
    // keep the role their actor had then. The chain columns stay NULL on entries written before:
    // the first append seals them in id order (collector/audit/audit-chain.ts), since SQL has no SHA-256.
    sql: `
      UPDATE sessions SET role = CASE role WHEN 'admin' THEN 'sysadmin' WHEN 'officer' THEN 'secadmin' ELSE role END;
      ALTER TABLE audit_log ADD COLUMN seq {bigint};
      ALTER TABLE audit_log ADD COLUMN prev_hash TEXT{bytewise};
      ALTER TABLE audit_log ADD COLUMN hash TEXT{bytewise};
      CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);
      CREATE INDEX audit_log_hash ON audit_log (hash);
      CREATE TABLE audit_heads (
        id         {id},
        seq        {bigint} NOT NULL,
        hash       TEXT{bytewise} NOT NULL,
        signed_at  TEXT{bytewise} NOT NULL,
        collector  TEXT NOT NULL,
        alg        TEXT NOT NULL,
        public_key TEXT NOT NULL,
        signature  TEXT NOT NULL
      );
      CREATE INDEX audit_heads_seq ON audit_heads (seq);
    `,
    // SQLite cannot change a CHECK constraint: both account tables are rebuilt.
    sqlite: `
      CREATE TABLE api_keys_v17 (
        key_hash   TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        role       TEXT NOT NULL CHECK (role IN ('sysadmin', 'secadmin', 'auditor', 'viewer')),
        unit       TEXT,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      );
      INSERT INTO api_keys_v17 SELECT key_hash, name,
          CASE role WHEN 'admin' THEN 'sysadmin' WHEN 'officer' THEN 'secadmin' ELSE role END,
          unit, created_at, revoked_at FROM api_keys;
      DROP TABLE api_keys;
      ALTER TABLE api_keys_v17 RENAME TO api_keys;
      CREATE TABLE users_v17 (
        name          TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('sysadmin', 'secadmin', 'auditor', 'viewer')),
        unit          TEXT,
        created_at    TEXT NOT NULL,
        disabled_at   TEXT
      );
      INSERT INTO users_v17 SELECT name, password_hash,
          CASE role WHEN 'admin' THEN 'sysadmin' WHEN 'officer' THEN 'secadmin' ELSE role END,
          unit, created_at, disabled_at FROM users;
      DROP TABLE users;
      ALTER TABLE users_v17 RENAME TO users;
    `,
    postgres: `
      ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
      UPDATE api_keys SET role = CASE role WHEN 'admin' THEN 'sysadmin' WHEN 'officer' THEN 'secadmin' ELSE role END;
      ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check
        CHECK (role IN ('sysadmin', 'secadmin', 'auditor', 'viewer'));
      ALTER TABLE users DROP CONSTRAINT users_role_check;
      UPDATE users SET role = CASE role WHEN 'admin' THEN 'sysadmin' WHEN 'officer' THEN 'secadmin' ELSE role END;
      ALTER TABLE users ADD CONSTRAINT users_role_check
        CHECK (role IN ('sysadmin', 'secadmin', 'auditor', 'viewer'));
    `,
  },
  {
    version: 18,
    name: '第59条 and 第35条: 整改 items (what, who, deadline) from a self-inspection, an assessment with risks found or by hand; their deadlines are clock rows',
    sql: `
      CREATE TABLE rectifications (
        id          TEXT PRIMARY KEY,
        unit        TEXT NOT NULL,
        what        TEXT NOT NULL,
        who         TEXT NOT NULL,
        deadline    TEXT{bytewise} NOT NULL,
        source_kind TEXT NOT NULL CHECK (source_kind IN ('self-inspection', 'assessment', 'manual')),
        source_id   TEXT,
        source_item TEXT,
        created_at  TEXT{bytewise} NOT NULL,
        created_by  TEXT NOT NULL,
        closed_at   TEXT{bytewise},
        closed_by   TEXT,
        close_note  TEXT
      );
      CREATE INDEX rectifications_unit ON rectifications (unit, deadline);
      CREATE INDEX rectifications_source ON rectifications (source_kind, source_id);
    `,
    // SQLite cannot change a CHECK constraint: the deadline rows are rebuilt, and their fires with
    // them, since a parent table with child rows cannot be dropped under foreign_keys.
    sqlite: `
      CREATE TABLE clock_deadlines_v18 (${CLOCK_DEADLINES_COLUMNS});
      INSERT INTO clock_deadlines_v18 SELECT * FROM clock_deadlines;
      CREATE TABLE clock_fires_v18 (${CLOCK_FIRES_COLUMNS.replace('clock_deadlines', 'clock_deadlines_v18')});
      INSERT INTO clock_fires_v18 SELECT * FROM clock_fires;
      DROP TABLE clock_fires;
      DROP TABLE clock_deadlines;
      ALTER TABLE clock_deadlines_v18 RENAME TO clock_deadlines;
      ALTER TABLE clock_fires_v18 RENAME TO clock_fires;
      CREATE INDEX clock_deadlines_subject ON clock_deadlines (subject_type, subject_id);
      CREATE INDEX clock_deadlines_pending ON clock_deadlines (due_at) WHERE done_at IS NULL;
      CREATE INDEX clock_fires_undelivered ON clock_fires (id) WHERE delivered_at IS NULL AND condition IS NOT NULL;
    `,
    postgres: `
      ALTER TABLE clock_deadlines DROP CONSTRAINT clock_deadlines_subject_type_check;
      ALTER TABLE clock_deadlines ADD CONSTRAINT clock_deadlines_subject_type_check
        CHECK (subject_type IN ('system', 'incident', 'rectification'));
    `,
  },
  {
    version: 19,
    name: '第58条: the yearly 保密自查自评, its checklist answers with evidence (a note, files, links to smew records) and the result',
    sql: `
      CREATE TABLE self_inspections (
        id           TEXT PRIMARY KEY,
        unit         TEXT NOT NULL,
        year         INTEGER NOT NULL,
        created_at   TEXT{bytewise} NOT NULL,
        created_by   TEXT NOT NULL,
        finalized_at TEXT{bytewise},
        finalized_by TEXT,
        result       TEXT CHECK (result IN ('compliant', 'findings')),
        summary      TEXT,
        figures      TEXT,
        UNIQUE (unit, year)
      );

      CREATE TABLE self_inspection_answers (
        inspection_id TEXT NOT NULL REFERENCES self_inspections (id),
        item          TEXT NOT NULL,
        answer        TEXT NOT NULL CHECK (answer IN ('compliant', 'partly', 'non-compliant', 'not-applicable')),
        note          TEXT,
        links         TEXT NOT NULL,
        answered_at   TEXT{bytewise} NOT NULL,
        answered_by   TEXT NOT NULL,
        PRIMARY KEY (inspection_id, item)
      );

      CREATE TABLE self_inspection_files (
        id            {id},
        inspection_id TEXT NOT NULL REFERENCES self_inspections (id),
        item          TEXT NOT NULL,
        name          TEXT NOT NULL,
        media_type    TEXT NOT NULL,
        size          INTEGER NOT NULL,
        sha256        TEXT NOT NULL,
        content       {bytes} NOT NULL,
        uploaded_at   TEXT{bytewise} NOT NULL,
        uploaded_by   TEXT NOT NULL
      );
      CREATE INDEX self_inspection_files_inspection ON self_inspection_files (inspection_id, item);
    `,
  },
  {
    version: 20,
    name: '签发: official documents (泄密事件报告, 预警通报 and its 排查 reply, 年度保密工作情况, 自查自评报告), draft → signed → sent',
    sql: `
      CREATE TABLE documents (
        id         TEXT{bytewise} PRIMARY KEY,
        kind       TEXT NOT NULL,
        subject    TEXT{bytewise} NOT NULL,
        unit       TEXT NOT NULL,
        title      TEXT NOT NULL,
        level      TEXT NOT NULL CHECK (level IN ('绝密', '机密', '秘密', '非密')),
        term       TEXT,
        urgency    TEXT,
        number     TEXT,
        fields     TEXT NOT NULL,
        state      TEXT NOT NULL CHECK (state IN ('draft', 'signed', 'sent')),
        created_at TEXT{bytewise} NOT NULL,
        created_by TEXT NOT NULL,
        signed_by  TEXT,
        signed_at  TEXT{bytewise},
        sent_at    TEXT{bytewise},
        UNIQUE (kind, subject)
      );
      CREATE INDEX documents_created ON documents (created_at, id);
    `,
  },
  {
    version: 21,
    name: '第61条 and 第60条: remedial measures as rows (what, by, at), closure with its 处理结果 and its written report; 第35条: what was done with a decommissioned system’s equipment',
    // The old free-text measures become one measure each, by whoever opened the incident, when.
    sql: `
      CREATE TABLE incident_measures (
        id          {id},
        incident_id TEXT NOT NULL REFERENCES incidents (id),
        what        TEXT NOT NULL,
        by          TEXT NOT NULL,
        at          TEXT{bytewise} NOT NULL,
        recorded_at TEXT{bytewise} NOT NULL,
        recorded_by TEXT NOT NULL
      );
      CREATE INDEX incident_measures_incident ON incident_measures (incident_id);
      INSERT INTO incident_measures (incident_id, what, by, at, recorded_at, recorded_by)
        SELECT id, measures, created_by, created_at, created_at, created_by FROM incidents
        WHERE measures IS NOT NULL AND measures <> '';
      ALTER TABLE incidents ADD COLUMN closed_at TEXT{bytewise};
      ALTER TABLE incidents ADD COLUMN outcome TEXT;
      ALTER TABLE incidents ADD COLUMN closed_by TEXT;
      ALTER TABLE incident_reports ADD COLUMN about TEXT NOT NULL DEFAULT 'leak' CHECK (about IN ('leak', 'closure'));
      ALTER TABLE info_systems ADD COLUMN disposal TEXT;
    `,
  },
  {
    version: 22,
    name: '第35条: assessment results in the words of SPEC §7 — pass, risks-found (发现风险隐患), major-risks (存在重大风险隐患)',
    // SQLite cannot change a CHECK constraint: the table is rebuilt with the results renamed.
    sqlite: `
      CREATE TABLE assessments_v22 (
        id           {id},
        system_id    TEXT NOT NULL REFERENCES info_systems (id),
        completed_at TEXT{bytewise} NOT NULL,
        assessor     TEXT NOT NULL,
        result       TEXT NOT NULL CHECK (result IN ('pass', 'risks-found', 'major-risks')),
        note         TEXT,
        recorded_at  TEXT{bytewise} NOT NULL,
        recorded_by  TEXT NOT NULL
      );
      INSERT INTO assessments_v22 (id, system_id, completed_at, assessor, result, note, recorded_at, recorded_by)
        SELECT id, system_id, completed_at, assessor,
               CASE result WHEN 'pass-with-findings' THEN 'risks-found' WHEN 'fail' THEN 'major-risks' ELSE result END,
               note, recorded_at, recorded_by
        FROM assessments;
      DROP TABLE assessments;
      ALTER TABLE assessments_v22 RENAME TO assessments;
      CREATE INDEX assessments_system ON assessments (system_id);
    `,
    postgres: `
      ALTER TABLE assessments DROP CONSTRAINT assessments_result_check;
      UPDATE assessments SET result =
        CASE result WHEN 'pass-with-findings' THEN 'risks-found' WHEN 'fail' THEN 'major-risks' ELSE result END;
      ALTER TABLE assessments ADD CONSTRAINT assessments_result_check
        CHECK (result IN ('pass', 'risks-found', 'major-risks'));
    `,
  },
];

export const SQLITE_MIGRATIONS = migrationsFor('sqlite', SCHEMA_MIGRATIONS);
export const POSTGRES_MIGRATIONS = migrationsFor('postgres', SCHEMA_MIGRATIONS);
