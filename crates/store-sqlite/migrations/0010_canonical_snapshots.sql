-- Protocol snapshots in one form (issue 24): a session run in the terminal
-- stored its protocol's JSON in the order of the protocol's fields, an
-- imported or pushed one in the order of its keys, sorted, so the same
-- protocol got two rows. Every writer now stores the sorted form; this
-- step (in Rust, `canonical_snapshots` in src/schema.rs, as SQLite cannot
-- reorder a JSON object's keys) rewrites each stored snapshot in it and
-- merges rows that were the same protocol, moving their sessions to the
-- one kept.
SELECT 1;
