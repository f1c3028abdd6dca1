-- Accounts (issue 20), as SQLite's migration 0009: the people a server
-- knows besides its owner (who has no row: `People::person` answers it on
-- any database), the one-time invites that let a coach's client in, and
-- failed sign-ins, which the rate limit counts. They live here, not in a
-- server's memory, so two servers on one database answer alike. Passwords
-- and tokens are never stored, only their hashes (argon2id PHC strings;
-- SHA-256 hex).
--
-- These are the server's list of people, not any one person's records:
-- they carry no `person` column and no row-level security. A person's own
-- rows (sessions, injuries, devices, ...) stay behind their policies.

CREATE TABLE people (
    -- The person's id: every record of theirs carries it (`person`).
    id            text COLLATE "C" PRIMARY KEY,
    role          text   NOT NULL CHECK (role IN ('coach', 'client')),
    name          text   NOT NULL,
    -- A client's coach; NULL for a coach.
    coach         text COLLATE "C" REFERENCES people (id),
    -- A coach's password (argon2id, PHC string), once they have set one.
    password_hash text,
    created_at    bigint NOT NULL,
    CHECK ((role = 'client') = (coach IS NOT NULL))
);
-- Coach names are unique, case-insensitively (what a coach signs in with).
CREATE UNIQUE INDEX coaches_by_name ON people (lower(name)) WHERE role = 'coach';
CREATE INDEX clients_by_coach ON people (coach, created_at) WHERE coach IS NOT NULL;

CREATE TABLE invites (
    -- SHA-256 (hex) of the one-time token in the link.
    token_hash text COLLATE "C" PRIMARY KEY,
    coach      text COLLATE "C" NOT NULL REFERENCES people (id),
    -- The client's name, if the coach gave one.
    name       text,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX invites_by_expiry ON invites (expires_at);

CREATE TABLE sign_in_failures (
    -- What failed: `name:...` or `addr:...` (the server's keys).
    key text COLLATE "C" NOT NULL,
    at  bigint NOT NULL
);
CREATE INDEX sign_in_failures_by_key ON sign_in_failures (key, at);

GRANT SELECT, INSERT, UPDATE, DELETE ON people, invites, sign_in_failures TO rollcoach_app;
