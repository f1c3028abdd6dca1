-- People (issue 19): every record belongs to one person, and every query
-- of the records store names the person (`WHERE person = ?`). Everything
-- written before is the owner's, the one person of a store nobody else
-- uses.

ALTER TABLE sessions ADD COLUMN person TEXT NOT NULL DEFAULT 'owner';
ALTER TABLE injuries ADD COLUMN person TEXT NOT NULL DEFAULT 'owner';
ALTER TABLE devices ADD COLUMN person TEXT NOT NULL DEFAULT 'owner';
ALTER TABLE pairing_tokens ADD COLUMN person TEXT NOT NULL DEFAULT 'owner';

-- An injury's number in its person's log (1, 2, 3, ... as they were
-- logged): what `rollcoach injury list` shows and `injury clear N` takes.
-- Until now that was the row id, which is what the owner has seen.
ALTER TABLE injuries ADD COLUMN number INTEGER NOT NULL DEFAULT 0;
UPDATE injuries SET number = id;

-- The history's indexes, with the person first: one person's history is
-- one range of each, however many people the file holds.
DROP INDEX sessions_with_pairing;
CREATE INDEX sessions_with_pairing ON sessions (person, protocol_id, started_at, id)
    WHERE pairing IS NOT NULL;
DROP INDEX sessions_by_start_outcome;
CREATE INDEX sessions_by_start_outcome ON sessions (person, started_at, id, outcome);
DROP INDEX sessions_history;
CREATE INDEX sessions_history ON sessions
    (person, started_at, id, uid, protocol_id, ended_at, outcome, reason, reps_done, reps_target);
CREATE INDEX injuries_by_person ON injuries (person, at, id);
CREATE INDEX devices_by_person ON devices (person, created_at);

-- What changed, in order, per person: the incremental pull of sync
-- (`changes_since`) reads a person's rows after a cursor (its `seq`). The
-- triggers keep it, so no write path can forget it: a session when it is
-- stored ended or when it ends, an injury when it is logged or cleared.
CREATE TABLE changes (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    person TEXT    NOT NULL,
    kind   TEXT    NOT NULL CHECK (kind IN ('session', 'injury')),
    uid    TEXT    NOT NULL
);
CREATE INDEX changes_by_person ON changes (person, seq);

INSERT INTO changes (person, kind, uid)
    SELECT person, 'session', uid FROM sessions WHERE outcome IS NOT NULL ORDER BY started_at, id;
INSERT INTO changes (person, kind, uid)
    SELECT person, 'injury', uid FROM injuries ORDER BY id;

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
CREATE TRIGGER injuries_change_logged AFTER INSERT ON injuries
BEGIN
    INSERT INTO changes (person, kind, uid) VALUES (NEW.person, 'injury', NEW.uid);
END;
CREATE TRIGGER injuries_change_cleared AFTER UPDATE OF cleared_at ON injuries
WHEN OLD.cleared_at IS NULL AND NEW.cleared_at IS NOT NULL
BEGIN
    INSERT INTO changes (person, kind, uid) VALUES (NEW.person, 'injury', NEW.uid);
END;
CREATE TRIGGER injuries_change_removed AFTER DELETE ON injuries
BEGIN
    DELETE FROM changes WHERE person = OLD.person AND kind = 'injury' AND uid = OLD.uid;
END;
