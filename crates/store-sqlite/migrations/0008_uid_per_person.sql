-- Schema 8 (issue 20): a uid is its person's. A session's uid was unique
-- in the whole file (`uid TEXT NOT NULL UNIQUE`, since schema 1), an
-- injury's too (`injuries_uid`, schema 5): a person pushing or importing a
-- session whose uid another person of the server has was refused with a
-- broken constraint. Both are now unique per person.
--
-- SQLite cannot drop a column's UNIQUE, so `sessions` is rebuilt as its
-- documentation says (https://www.sqlite.org/lang_altertable.html,
-- "Making Other Kinds Of Table Schema Changes"): a new table of the same
-- columns in the same order, every row copied with its id (the events' and
-- ratings' `session_id` still point at them), the old one dropped, the new
-- one renamed, then its indexes and triggers made again as schemas 2, 3, 4
-- and 7 left them. `SqliteStore::migrate` runs migrations with foreign keys
-- off (dropping `sessions` with them on would delete every event and rating
-- by `ON DELETE CASCADE`) and checks them before committing.

CREATE TABLE sessions_by_person (
    id               INTEGER PRIMARY KEY,
    -- Unique per person (`sessions_uid`): import skips a session whose uid
    -- the person has, sync compares it with the one stored.
    uid              TEXT    NOT NULL,
    protocol_id      TEXT    NOT NULL,
    protocol_version INTEGER NOT NULL,
    -- Written by inserts, moved to protocol_snapshots at once (trigger
    -- sessions_share_snapshot): '' in every row.
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
    owner_started    TEXT,
    -- The protocol as run (schema 2).
    snapshot_id      INTEGER REFERENCES protocol_snapshots (id),
    -- Whose session it is (schema 7).
    person           TEXT    NOT NULL DEFAULT 'owner'
);

INSERT INTO sessions_by_person (id, uid, protocol_id, protocol_version, protocol_json, area,
        options_json, facts_json, started_at, ended_at, outcome, reason, outcome_json, message,
        reps_done, reps_target, active_ms, pairing, summary_json, owner_pid, owner_started,
        snapshot_id, person)
    SELECT id, uid, protocol_id, protocol_version, protocol_json, area,
        options_json, facts_json, started_at, ended_at, outcome, reason, outcome_json, message,
        reps_done, reps_target, active_ms, pairing, summary_json, owner_pid, owner_started,
        snapshot_id, person
      FROM sessions ORDER BY id;

-- Its indexes and triggers go with it.
DROP TABLE sessions;
ALTER TABLE sessions_by_person RENAME TO sessions;

CREATE UNIQUE INDEX sessions_uid ON sessions (person, uid);
CREATE INDEX sessions_live ON sessions (outcome) WHERE outcome IS NULL;
CREATE INDEX sessions_with_pairing ON sessions (person, protocol_id, started_at, id)
    WHERE pairing IS NOT NULL;
CREATE INDEX sessions_by_start_outcome ON sessions (person, started_at, id, outcome);
CREATE INDEX sessions_history ON sessions
    (person, started_at, id, uid, protocol_id, ended_at, outcome, reason, reps_done, reps_target);

CREATE TRIGGER sessions_share_snapshot AFTER INSERT ON sessions
WHEN NEW.protocol_json <> ''
BEGIN
    INSERT OR IGNORE INTO protocol_snapshots (protocol_json) VALUES (NEW.protocol_json);
    UPDATE sessions
       SET snapshot_id = (SELECT p.id FROM protocol_snapshots p WHERE p.protocol_json = NEW.protocol_json),
           protocol_json = ''
     WHERE id = NEW.id;
END;
CREATE TRIGGER sessions_change_stored AFTER INSERT ON sessions
WHEN NEW.outcome IS NOT NULL
BEGIN
    INSERT INTO changes (person, kind, uid) VALUES (NEW.person, 'session', NEW.uid);
END;
CREATE TRIGGER sessions_change_ended AFTER UPDATE OF outcome ON sessions
WHEN OLD.outcome IS NULL AND NEW.outcome IS NOT NULL
BEGIN
    INSERT INTO changes (person, kind, uid) VALUES (NEW.person, 'session', NEW.uid);
END;
CREATE TRIGGER sessions_change_removed AFTER DELETE ON sessions
BEGIN
    DELETE FROM changes WHERE person = OLD.person AND kind = 'session' AND uid = OLD.uid;
END;

-- An index, not a constraint: replaced in place.
DROP INDEX injuries_uid;
CREATE UNIQUE INDEX injuries_uid ON injuries (person, uid);

-- A change's number is its person's (issue 20): the cursor a device keeps
-- (`c` and the number) was the file's change sequence, which every
-- person's changes move on, so a person reading their own changes saw how
-- much everyone else did. Each person now has a counter of their own
-- (`change_counters`), and a change gets the next number of its person's
-- (the trigger below), never one given before (an undone import's changes
-- are removed, their numbers are not reused). Changes already here keep
-- their sequence as their number, and every person's counter starts past
-- the highest sequence given out, so a cursor a device holds stays good.
ALTER TABLE changes ADD COLUMN number INTEGER NOT NULL DEFAULT 0;
UPDATE changes SET number = seq;

CREATE TABLE change_counters (
    person TEXT    PRIMARY KEY,
    last   INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO change_counters (person, last)
    SELECT person, (SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'changes')
      FROM (SELECT person FROM sessions UNION SELECT person FROM injuries
            UNION SELECT person FROM devices UNION SELECT person FROM pairing_tokens
            UNION SELECT person FROM changes);

CREATE TRIGGER changes_number AFTER INSERT ON changes
BEGIN
    INSERT OR IGNORE INTO change_counters (person, last) VALUES (NEW.person, 0);
    UPDATE change_counters SET last = last + 1 WHERE person = NEW.person;
    UPDATE changes SET number = (SELECT last FROM change_counters WHERE person = NEW.person)
     WHERE seq = NEW.seq;
END;

DROP INDEX changes_by_person;
CREATE INDEX changes_by_person ON changes (person, number);
