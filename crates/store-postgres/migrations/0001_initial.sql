-- rollcoach on PostgreSQL, schema version 1: the records of SQLite's schema
-- 7 (crates/store-sqlite/migrations), every person-owned row carrying its
-- person, and row-level security by person on every such table.
--
-- Times are milliseconds since the Unix epoch (UTC) unless the column says
-- otherwise; JSON columns hold serde_json of the engine and protocol types
-- as text (kept byte for byte: a pushed session is compared with what is
-- stored). Text compared or sorted uses the "C" collation: byte order, as
-- SQLite sorts.

-- The role the store queries as (`SET ROLE rollcoach_app` on every pooled
-- connection). It owns nothing, so row-level security always applies to
-- it. Roles belong to the whole cluster: another database of rollcoach may
-- have made it already.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rollcoach_app') THEN
        BEGIN
            CREATE ROLE rollcoach_app NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
    IF NOT pg_has_role(current_user, 'rollcoach_app', 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT rollcoach_app TO %I', current_user);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
END $$;

-- Each distinct protocol snapshot once, by the SHA-256 of its JSON, shared
-- by every session that ran it (as SQLite's protocol_snapshots). Not a
-- person's: it holds a protocol, nothing about whoever ran it.
CREATE TABLE protocol_snapshots (
    id            bigserial PRIMARY KEY,
    hash          bytea     NOT NULL UNIQUE,
    protocol_json text      NOT NULL
);

CREATE TABLE sessions (
    id               bigserial PRIMARY KEY,
    person           text COLLATE "C" NOT NULL,
    -- Unique per person: another person's session of the same uid is theirs.
    uid              text COLLATE "C" NOT NULL,
    protocol_id      text COLLATE "C" NOT NULL,
    protocol_version bigint NOT NULL,
    snapshot_id      bigint NOT NULL REFERENCES protocol_snapshots (id),
    area             text   NOT NULL,
    options_json     text   NOT NULL,
    facts_json       text   NOT NULL,
    started_at       bigint NOT NULL,
    ended_at         bigint,
    outcome          text CHECK (outcome IN ('completed', 'stopped', 'refused', 'interrupted')),
    reason           text,
    outcome_json     text,
    message          text,
    reps_done        bigint,
    reps_target      bigint NOT NULL,
    active_ms        bigint,
    pairing          text,
    summary_json     text,
    UNIQUE (person, uid)
);

-- One person's history is one range: newest first, with what the compact
-- history and the summaries read, so they read the index alone.
CREATE INDEX sessions_history ON sessions (person, started_at, id)
    INCLUDE (uid, protocol_id, ended_at, outcome, reason, reps_done, reps_target);
-- The last pairing of a protocol (the facts of a new session).
CREATE INDEX sessions_with_pairing ON sessions (person, protocol_id, started_at, id)
    WHERE pairing IS NOT NULL;

-- A session's event log, whole, as one JSON array of its events in order
-- (SQLite keeps a row per event, which its terminal log appends one at a
-- time; this store only ever writes a whole session, pushed or imported,
-- and reads a whole log: one row is a twentieth of the index work).
CREATE TABLE event_logs (
    session_id  bigint PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    person      text COLLATE "C" NOT NULL,
    events_json text   NOT NULL
);

CREATE TABLE ratings (
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    person     text COLLATE "C" NOT NULL,
    rating_id  text COLLATE "C" NOT NULL,
    moment     text COLLATE "C" NOT NULL CHECK (moment IN ('before', 'after')),
    value      smallint NOT NULL CHECK (value BETWEEN 0 AND 10),
    PRIMARY KEY (session_id, rating_id, moment)
);
CREATE INDEX ratings_by_person ON ratings (person, session_id);

CREATE TABLE injuries (
    id         bigserial PRIMARY KEY,
    person     text COLLATE "C" NOT NULL,
    uid        text COLLATE "C" NOT NULL,
    -- Its number in its person's log (1, 2, 3, ... as they were logged).
    number     bigint NOT NULL,
    area       text   NOT NULL,
    at         bigint NOT NULL,
    note       text,
    created_at bigint NOT NULL,
    cleared_at bigint,
    UNIQUE (person, uid),
    UNIQUE (person, number)
);
CREATE INDEX injuries_by_person ON injuries (person, at, id);

-- Devices and one-time pairing links: only SHA-256 hashes (hex) of secrets
-- and tokens are stored.
CREATE TABLE devices (
    id           text COLLATE "C" PRIMARY KEY,
    person       text COLLATE "C" NOT NULL,
    name         text   NOT NULL,
    via          text   NOT NULL,
    secret_hash  text COLLATE "C" NOT NULL UNIQUE,
    created_at   bigint NOT NULL,
    last_seen_at bigint,
    revoked_at   bigint
);
CREATE INDEX devices_by_person ON devices (person, created_at);

CREATE TABLE pairing_tokens (
    token_hash text COLLATE "C" PRIMARY KEY,
    person     text COLLATE "C" NOT NULL,
    created_by text   NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX pairing_tokens_by_person ON pairing_tokens (person, expires_at);

-- What changed, in order, per person (sync's `changes_since` reads a
-- person's rows after a cursor, its `seq`), kept by the triggers below so
-- no write path can forget it.
CREATE TABLE changes (
    seq    bigserial PRIMARY KEY,
    person text COLLATE "C" NOT NULL,
    kind   text COLLATE "C" NOT NULL CHECK (kind IN ('session', 'injury')),
    uid    text COLLATE "C" NOT NULL
);
CREATE INDEX changes_by_person ON changes (person, seq);

-- A change is numbered under a lock of its person held to the end of the
-- transaction: one person's changes then commit in the order of their
-- numbers, so a reader that has seen number n never sees a smaller one
-- commit later (a cursor skips nothing, with any number of servers).
-- Other people's changes do not wait.
CREATE FUNCTION rollcoach_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM changes WHERE person = OLD.person AND kind = TG_ARGV[0] AND uid = OLD.uid;
        RETURN OLD;
    END IF;
    PERFORM pg_advisory_xact_lock(1919, hashtext(NEW.person));
    INSERT INTO changes (person, kind, uid) VALUES (NEW.person, TG_ARGV[0], NEW.uid);
    RETURN NEW;
END $$;

CREATE TRIGGER sessions_change_stored AFTER INSERT ON sessions
    FOR EACH ROW WHEN (NEW.outcome IS NOT NULL) EXECUTE FUNCTION rollcoach_change('session');
CREATE TRIGGER sessions_change_ended AFTER UPDATE OF outcome ON sessions
    FOR EACH ROW WHEN (OLD.outcome IS NULL AND NEW.outcome IS NOT NULL)
    EXECUTE FUNCTION rollcoach_change('session');
CREATE TRIGGER sessions_change_removed AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION rollcoach_change('session');
CREATE TRIGGER injuries_change_logged AFTER INSERT ON injuries
    FOR EACH ROW EXECUTE FUNCTION rollcoach_change('injury');
CREATE TRIGGER injuries_change_cleared AFTER UPDATE OF cleared_at ON injuries
    FOR EACH ROW WHEN (OLD.cleared_at IS NULL AND NEW.cleared_at IS NOT NULL)
    EXECUTE FUNCTION rollcoach_change('injury');
CREATE TRIGGER injuries_change_removed AFTER DELETE ON injuries
    FOR EACH ROW EXECUTE FUNCTION rollcoach_change('injury');

-- Row-level security: a row is seen and written only by a transaction that
-- set `rollcoach.person` to its person (`set_config(.., true)`, the
-- transaction's own). FORCE applies it to the tables' owner too; only a
-- superuser or a BYPASSRLS role skips it, and the store queries as
-- rollcoach_app, which is neither.
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY by_person ON sessions
    USING (person = current_setting('rollcoach.person', true))
    WITH CHECK (person = current_setting('rollcoach.person', true));
ALTER TABLE event_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY by_person ON event_logs
    USING (person = current_setting('rollcoach.person', true))
    WITH CHECK (person = current_setting('rollcoach.person', true));
ALTER TABLE ratings ENABLE ROW LEVEL SECURITY;
ALTER TABLE ratings FORCE ROW LEVEL SECURITY;
CREATE POLICY by_person ON ratings
    USING (person = current_setting('rollcoach.person', true))
    WITH CHECK (person = current_setting('rollcoach.person', true));
ALTER TABLE injuries ENABLE ROW LEVEL SECURITY;
ALTER TABLE injuries FORCE ROW LEVEL SECURITY;
CREATE POLICY by_person ON injuries
    USING (person = current_setting('rollcoach.person', true))
    WITH CHECK (person = current_setting('rollcoach.person', true));
ALTER TABLE changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE changes FORCE ROW LEVEL SECURITY;
CREATE POLICY by_person ON changes
    USING (person = current_setting('rollcoach.person', true))
    WITH CHECK (person = current_setting('rollcoach.person', true));
ALTER TABLE devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE devices FORCE ROW LEVEL SECURITY;
CREATE POLICY by_person ON devices
    USING (person = current_setting('rollcoach.person', true))
    WITH CHECK (person = current_setting('rollcoach.person', true));
-- The one unscoped read (`device_by_secret`: who is calling) sees the one
-- row whose secret hash the transaction names, nothing else.
CREATE POLICY by_secret ON devices FOR SELECT
    USING (secret_hash = current_setting('rollcoach.device_secret', true));
ALTER TABLE pairing_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE pairing_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY by_person ON pairing_tokens
    USING (person = current_setting('rollcoach.person', true))
    WITH CHECK (person = current_setting('rollcoach.person', true));
-- Redeeming a link (`redeem_pairing_token`) sees and spends the one link
-- whose token hash the transaction names.
CREATE POLICY by_token ON pairing_tokens FOR SELECT
    USING (token_hash = current_setting('rollcoach.pairing_token', true));
CREATE POLICY spend_by_token ON pairing_tokens FOR DELETE
    USING (token_hash = current_setting('rollcoach.pairing_token', true));

GRANT SELECT, INSERT, UPDATE, DELETE
    ON sessions, event_logs, ratings, injuries, devices, pairing_tokens, changes TO rollcoach_app;
GRANT SELECT, INSERT ON protocol_snapshots TO rollcoach_app;
GRANT USAGE ON SEQUENCE protocol_snapshots_id_seq, sessions_id_seq, injuries_id_seq, changes_seq_seq
    TO rollcoach_app;
