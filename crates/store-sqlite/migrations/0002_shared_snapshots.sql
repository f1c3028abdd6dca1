-- rollcoach store, schema version 2.
-- Every session row used to carry its own ~9 KB protocol snapshot, which
-- every history read had to walk past (117 ms for ten years of daily
-- sessions, BENCHMARKS.md). Each distinct snapshot is now kept once, and
-- history reads in start order through an index.

CREATE TABLE protocol_snapshots (
    id            INTEGER PRIMARY KEY,
    protocol_json TEXT    NOT NULL UNIQUE
);

ALTER TABLE sessions ADD COLUMN snapshot_id INTEGER REFERENCES protocol_snapshots (id);

INSERT OR IGNORE INTO protocol_snapshots (protocol_json)
    SELECT protocol_json FROM sessions WHERE protocol_json <> '' ORDER BY id;

-- Right-hand sides see the row's old values.
UPDATE sessions
   SET snapshot_id = (SELECT p.id FROM protocol_snapshots p WHERE p.protocol_json = sessions.protocol_json),
       protocol_json = ''
 WHERE protocol_json <> '';

-- Writers keep inserting the snapshot into sessions.protocol_json; this moves
-- it to its shared row, so no code path can leave a copy behind.
CREATE TRIGGER sessions_share_snapshot AFTER INSERT ON sessions
WHEN NEW.protocol_json <> ''
BEGIN
    INSERT OR IGNORE INTO protocol_snapshots (protocol_json) VALUES (NEW.protocol_json);
    UPDATE sessions
       SET snapshot_id = (SELECT p.id FROM protocol_snapshots p WHERE p.protocol_json = NEW.protocol_json),
           protocol_json = ''
     WHERE id = NEW.id;
END;

CREATE INDEX sessions_by_start ON sessions (started_at, id);
