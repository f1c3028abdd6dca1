-- Accounts (issue 20): the people a server knows besides its owner (who
-- has no row: `People::person` answers it on any file), one-time invites
-- that let a coach's client in, and failed sign-ins, which the rate limit
-- counts (kept here, not in a server's memory, so that two servers on one
-- database count them alike). Passwords and tokens are never stored, only
-- their hashes (argon2id PHC strings; SHA-256 hex).

CREATE TABLE people (
    -- The person's id: every record of theirs carries it (`person`).
    id            TEXT    PRIMARY KEY,
    role          TEXT    NOT NULL CHECK (role IN ('coach', 'client')),
    name          TEXT    NOT NULL,
    -- A client's coach; NULL for a coach.
    coach         TEXT    REFERENCES people (id),
    -- A coach's password (argon2id, PHC string), once they have set one.
    password_hash TEXT,
    created_at    INTEGER NOT NULL,
    CHECK ((role = 'client') = (coach IS NOT NULL))
);
-- Coach names are unique, case-insensitively (what a coach signs in with).
CREATE UNIQUE INDEX coaches_by_name ON people (lower(name)) WHERE role = 'coach';
CREATE INDEX clients_by_coach ON people (coach, created_at) WHERE coach IS NOT NULL;

CREATE TABLE invites (
    -- SHA-256 (hex) of the one-time token in the link.
    token_hash TEXT    PRIMARY KEY,
    coach      TEXT    NOT NULL REFERENCES people (id),
    -- The client's name, if the coach gave one.
    name       TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE sign_in_failures (
    -- What failed: `name:...` or `addr:...` (the server's keys).
    key TEXT    NOT NULL,
    at  INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_by_key ON sign_in_failures (key, at);
