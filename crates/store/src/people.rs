//! Who a server knows (issue 20): its owner, coaches, and each coach's
//! clients, with the invites that let a client in and the failed sign-ins
//! that the rate limit counts. Beside [`crate::Records`], not inside it:
//! the records are a person's own, these are the server's list of people.
//!
//! Plain rows, so any backend can keep them: the store never sees a
//! password or a token, only their hashes (the server hashes). Failed
//! sign-ins are kept here, not in a server's memory, so that two servers on
//! one database count them alike.

use rollcoach_engine::Time;
use serde::{Deserialize, Serialize};

use crate::{Device, NewDevice, PersonId, Result};

/// How long a failed sign-in counts: [`People::note_sign_in_failure`]
/// answers the failures of the last 15 minutes.
pub const SIGN_IN_WINDOW_MS: u64 = 15 * 60_000;

/// The longest coach's or client's name.
pub const MAX_NAME_LEN: usize = 80;

/// What a person is to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The server's owner: the one person of a server without coaches,
    /// let in on loopback without a login ([`PersonId::owner`]).
    Owner,
    /// A coach: signs in with a password, invites clients.
    Coach,
    /// A coach's client: joined through an invite, belongs to that coach.
    Client,
}

impl Role {
    /// The role as a word (`owner`, `coach`, `client`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Coach => "coach",
            Role::Client => "client",
        }
    }
}

/// A person the server knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonInfo {
    /// Their id: every record of theirs is kept under it.
    pub id: PersonId,
    /// Owner, coach or client.
    pub role: Role,
    /// Their name, for people (a coach signs in with it; a client's may be
    /// empty, when the invite named nobody).
    pub name: String,
    /// A client's coach (`None` for the owner and coaches).
    pub coach: Option<PersonId>,
    /// When they were added (the owner: `Time(0)`).
    pub created_at: Time,
}

impl PersonInfo {
    /// The owner, whom every server knows without a row.
    pub fn owner() -> PersonInfo {
        PersonInfo {
            id: PersonId::owner(),
            role: Role::Owner,
            name: "owner".to_owned(),
            coach: None,
            created_at: Time(0),
        }
    }
}

/// A one-time invite waiting to be opened, as [`People::add_invite`]
/// records it.
#[derive(Debug, Clone, Copy)]
pub struct NewInvite<'a> {
    /// The hash of the token in the link (never the token).
    pub token_hash: &'a str,
    /// The client's name, if the coach gave one.
    pub name: Option<&'a str>,
    /// Now.
    pub created_at: Time,
    /// After this the invite no longer lets anyone in.
    pub expires_at: Time,
}

/// The people a server knows. `Send + Sync`, blocking like
/// [`crate::Records`] (an async caller runs it off its reactor).
///
/// The owner exists without a row: [`People::person`] answers it on any
/// store. Coaches and clients are rows; a client belongs to one coach, and
/// [`People::client_of`] is how a coach's request checks a client id (a
/// client of another coach is [`crate::NotFound::Person`], not a refusal,
/// so that ids of others cannot be probed).
pub trait People: Send + Sync {
    /// Adds a coach named `name` (trimmed, 1 to [`MAX_NAME_LEN`]
    /// characters) with a new, short, random id. Names are unique among
    /// coaches, case-insensitively ([`crate::Conflict::CoachName`]).
    fn add_coach(&self, name: &str, now: Time) -> Result<PersonInfo>;

    /// Every coach, in the order they were added.
    fn coaches(&self) -> Result<Vec<PersonInfo>>;

    /// Adds a coach or a client as another database knows them (their id,
    /// name, coach, time added and, for a coach, password hash): moving a
    /// server (`rollcoach migrate`). A client's coach must be there first.
    /// `false`, nothing written, if the same person is there already;
    /// [`crate::Conflict::Constraint`] if the id is taken by someone else
    /// (or the coach's name is another coach's).
    fn add_person(&self, person: &PersonInfo, password_hash: Option<&str>) -> Result<bool>;

    /// A coach's password hash, if they have set one (see
    /// [`People::add_person`]).
    fn password_hash(&self, coach: &PersonId) -> Result<Option<String>>;

    /// The person with this id: the owner always, a coach or client if
    /// there is one.
    fn person(&self, id: &PersonId) -> Result<Option<PersonInfo>>;

    /// The coach with this name (case-insensitively), with the hash of
    /// their password if they have set one.
    fn coach_by_name(&self, name: &str) -> Result<Option<(PersonInfo, Option<String>)>>;

    /// Sets (or replaces) a coach's password hash.
    /// [`crate::NotFound::Person`] if `coach` is not a coach.
    fn set_password_hash(&self, coach: &PersonId, hash: &str) -> Result<()>;

    /// A coach's clients, in the order they joined (none for anyone else).
    fn clients(&self, coach: &PersonId) -> Result<Vec<PersonInfo>>;

    /// The client `client` of `coach`: [`crate::NotFound::Person`] unless
    /// that client is that coach's.
    fn client_of(&self, coach: &PersonId, client: &PersonId) -> Result<PersonInfo>;

    /// Records a one-time invite of `coach` (by its token's hash), and
    /// forgets the invites that have expired. [`crate::NotFound::Person`]
    /// if `coach` is not a coach.
    fn add_invite(&self, coach: &PersonId, invite: &NewInvite<'_>) -> Result<()>;

    /// Spends the invite whose token has this hash, if it is waiting and
    /// has not expired at `now`; in the same transaction adds the client
    /// `client` of the invite's coach (named as the invite named them) and
    /// records `device` as theirs. `None`, nothing written, for an invite
    /// that is unknown, spent or expired.
    fn redeem_invite(
        &self,
        token_hash: &str,
        now: Time,
        client: &PersonId,
        device: &NewDevice<'_>,
    ) -> Result<Option<(PersonInfo, Device)>>;

    /// Notes a failed sign-in for `key` (a name, an address) at `now`, and
    /// answers how many failures `key` has had in the last
    /// [`SIGN_IN_WINDOW_MS`], this one included. Older ones are forgotten.
    fn note_sign_in_failure(&self, key: &str, now: Time) -> Result<u32>;

    /// How many failures `key` has had in the [`SIGN_IN_WINDOW_MS`] before
    /// `now`, without noting one.
    fn sign_in_failures(&self, key: &str, now: Time) -> Result<u32>;

    /// Forgets the failed sign-ins of `key` (after a sign-in succeeds).
    fn clear_sign_in_failures(&self, key: &str) -> Result<()>;
}

/// A coach's or client's name, trimmed: 1 to [`MAX_NAME_LEN`] characters,
/// no control characters.
pub fn check_name(name: &str) -> std::result::Result<&str, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("a name is empty: give 1 to 80 characters".to_owned());
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!(
            "the name {:?}... is longer than 80 characters: give a shorter one",
            name.chars().take(20).collect::<String>()
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(format!(
            "the name {name:?} holds a control character (a tab, a line break, ...): give plain text"
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_empty_long_or_control_names_refused() {
        assert_eq!(check_name("  Ana  ").unwrap(), "Ana");
        assert!(check_name("   ").unwrap_err().contains("empty"));
        assert!(check_name(&"a".repeat(81)).unwrap_err().contains("longer"));
        assert!(check_name("a\nb").unwrap_err().contains("control"));
        assert!(check_name(&"é".repeat(80)).is_ok());
    }

    #[test]
    fn roles_are_lowercase_words() {
        assert_eq!(serde_json::to_string(&Role::Coach).unwrap(), "\"coach\"");
        assert_eq!(Role::Client.as_str(), "client");
    }
}
