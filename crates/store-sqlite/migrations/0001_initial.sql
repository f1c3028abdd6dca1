-- rollcoach store, schema version 1.
-- Times are milliseconds since the Unix epoch (UTC) unless the column says
-- otherwise. JSON columns hold serde_json of the engine/protocol types.

CREATE TABLE sessions (
    id               INTEGER PRIMARY KEY,
    -- Globally unique id: import refuses a session whose uid is already here.
    uid              TEXT    NOT NULL UNIQUE,
    protocol_id      TEXT    NOT NULL,
    protocol_version INTEGER NOT NULL,
    -- Snapshot of the protocol as run, so the session replays even if the file changes.
    protocol_json    TEXT    NOT NULL,
    area             TEXT    NOT NULL,
    options_json     TEXT    NOT NULL,
    facts_json       TEXT    NOT NULL,
    -- The `now` given to the engine's Session::new; event times are relative to it.
    started_at       INTEGER NOT NULL,
    ended_at         INTEGER,
    -- NULL while the session is live.
    outcome          TEXT CHECK (outcome IN ('completed', 'stopped', 'refused', 'interrupted')),
    -- Short reason id: a stop reason (`pain-with-pop`, ...) or refusal (`recent-injury`, `answer:<question>`).
    reason           TEXT,
    -- The full engine Outcome as JSON (refusals carry times).
    outcome_json     TEXT,
    message          TEXT,
    reps_done        INTEGER,
    reps_target      INTEGER NOT NULL,
    active_ms        INTEGER,
    -- The breathing pairing the session started with (NULL until known).
    pairing          TEXT,
    -- The engine Summary as JSON (discomfort, noises, pairings, ratings).
    summary_json     TEXT,
    -- Process that drives the live session; recover_interrupted checks it.
    owner_pid        INTEGER,
    -- That process's start time (Linux /proc/PID/stat field 22), against pid reuse.
    owner_started    TEXT
);

CREATE INDEX sessions_by_protocol ON sessions (protocol_id, started_at);
CREATE INDEX sessions_live ON sessions (outcome) WHERE outcome IS NULL;

-- Append-only: every input, written before the engine applies it.
CREATE TABLE events (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    -- Milliseconds since the session's started_at.
    at_ms      INTEGER NOT NULL,
    input_json TEXT    NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;

CREATE TABLE ratings (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    rating_id  TEXT    NOT NULL,
    moment     TEXT    NOT NULL CHECK (moment IN ('before', 'after')),
    value      INTEGER NOT NULL CHECK (value BETWEEN 0 AND 10),
    PRIMARY KEY (session_id, rating_id, moment)
) WITHOUT ROWID;

CREATE TABLE injuries (
    id         INTEGER PRIMARY KEY,
    area       TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    note       TEXT,
    created_at INTEGER NOT NULL,
    cleared_at INTEGER
);

CREATE INDEX injuries_by_area ON injuries (area, at);
