-- rollcoach store, schema version 3: two indexes for lookups that read
-- rows they did not need.
-- The last-pairing lookup (`Store::last_pairing`, run before every session
-- starts) walked back through sessions_by_protocol past every session whose
-- pairing is not known yet: a live session gets its pairing when it ends, so
-- a server creating 10,000 sessions read 10,000 rows per creation (39-74 s
-- for all of them, BENCHMARKS.md). The index below holds only the sessions that
-- have a pairing, newest last.

CREATE INDEX sessions_with_pairing ON sessions (protocol_id, started_at, id)
    WHERE pairing IS NOT NULL;

-- That lookup was the only reader of this one; dropping it also saves a
-- write per session.
DROP INDEX sessions_by_protocol;

-- History summaries read every session's start and outcome
-- (`Store::history_points`): with the outcome in the start index they read
-- the index alone instead of every session row (~1 KB each).
CREATE INDEX sessions_by_start_outcome ON sessions (started_at, id, outcome);
DROP INDEX sessions_by_start;
