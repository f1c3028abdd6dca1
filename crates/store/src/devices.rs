//! Devices that may use `rollcoach serve`, and the one-time links that pair
//! them (issue 13). Plain rows, so any backend can keep them: the store
//! never sees a secret, only its hash (the server hashes; see
//! `rollcoach_server::lan`).

use rollcoach_engine::Time;
use serde::{Deserialize, Serialize};

use crate::PersonId;

/// A device that was let in: a phone that opened a pairing link, or a
/// browser on the server's computer that opened the link `serve` printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Its public id (random, short), for `rollcoach devices revoke ID`.
    pub id: String,
    /// Whose device it is: every request it makes is answered from this
    /// person's records.
    pub person: PersonId,
    /// A name for people: the kind of browser it paired with.
    pub name: String,
    /// How it was let in: `pairing link from the terminal`, `pairing link
    /// from device ID`, `serve's link on this computer`.
    pub via: String,
    /// When it was paired.
    pub created_at: Time,
    /// When it was last let in (kept to within a few minutes), if ever.
    pub last_seen_at: Option<Time>,
    /// When it was revoked: from then on it is refused.
    pub revoked_at: Option<Time>,
}

/// What [`crate::Records::add_device`] records.
#[derive(Debug, Clone, Copy)]
pub struct NewDevice<'a> {
    /// Its public id.
    pub id: &'a str,
    /// A name for people.
    pub name: &'a str,
    /// How it was let in.
    pub via: &'a str,
    /// The hash of the secret its cookie holds (never the secret).
    pub secret_hash: &'a str,
    /// Now.
    pub created_at: Time,
}

/// A one-time pairing link waiting to be opened, as
/// [`crate::Records::add_pairing_token`] records it.
#[derive(Debug, Clone, Copy)]
pub struct NewPairingToken<'a> {
    /// The hash of the token in the link (never the token).
    pub token_hash: &'a str,
    /// Who made it: `terminal`, or `device ID`.
    pub created_by: &'a str,
    /// Now.
    pub created_at: Time,
    /// After this the link no longer pairs.
    pub expires_at: Time,
}
