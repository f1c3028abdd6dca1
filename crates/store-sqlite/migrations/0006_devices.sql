-- Devices that `rollcoach serve` lets in, and one-time pairing links
-- (issue 13). Secrets and tokens are never stored, only their SHA-256
-- hashes (hex): a copy of this file lets no one in.

CREATE TABLE devices (
    -- Public id (random hex), for `rollcoach devices revoke ID`.
    id           TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    -- How it was let in (a pairing link from the terminal or from another
    -- device, or serve's link on its own computer).
    via          TEXT    NOT NULL,
    -- SHA-256 (hex) of the secret in the device's cookie.
    secret_hash  TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER,
    -- Set when revoked: the device is refused from then on.
    revoked_at   INTEGER
);

CREATE TABLE pairing_tokens (
    -- SHA-256 (hex) of the one-time token in the link.
    token_hash TEXT    PRIMARY KEY,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
