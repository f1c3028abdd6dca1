-- Schema 4 (issue 14): the compact history (`Store::history_rows`,
-- `GET /api/history?all=1`) reads every session's list columns from this
-- covering index, newest first, without reading the session rows (about
-- 1.7 KB each, mostly JSON): ten years in a few milliseconds.
CREATE INDEX sessions_history ON sessions
    (started_at, id, uid, protocol_id, ended_at, outcome, reason, reps_done, reps_target);
