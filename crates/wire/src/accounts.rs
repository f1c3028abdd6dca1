//! Accounts (issue 20): who is signed in, coaches' sign-in and password,
//! the owner's coaches, and a coach's invites, clients and their devices.
//!
//! - `GET /api/account`: [`Account`], who the caller is.
//! - `POST /api/sign-in` [`SignIn`]: a coach signs in; [`Account`].
//! - `POST /api/account/password` [`NewPassword`]: a coach sets theirs.
//! - `GET /api/coaches`, `POST /api/coaches` [`NewCoach`]: the owner's
//!   [`CoachList`], [`CoachCreated`].
//! - `POST /api/coach/invites` [`NewInvite`]: [`Invite`].
//! - `GET /api/coach/clients`: [`ClientList`]; a client's devices are a
//!   [`crate::DeviceList`].

use rollcoach_engine::Time;
use serde::{Deserialize, Serialize};

/// What a person is to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The server's owner (the terminal's token, or a device of theirs).
    Owner,
    /// A coach.
    Coach,
    /// A coach's client.
    Client,
}

impl From<rollcoach_store::Role> for Role {
    fn from(r: rollcoach_store::Role) -> Role {
        match r {
            rollcoach_store::Role::Owner => Role::Owner,
            rollcoach_store::Role::Coach => Role::Coach,
            rollcoach_store::Role::Client => Role::Client,
        }
    }
}

/// Who the caller is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Account {
    /// Their person id.
    pub id: String,
    /// Owner, coach or client.
    pub role: Role,
    /// Their name (a client's may be empty).
    pub name: String,
    /// A coach: whether they have set a password (they sign in with it on
    /// other browsers). False for everyone else.
    pub has_password: bool,
}

/// `POST /api/sign-in`: a coach's name and password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The coach's name (any case).
    pub name: String,
    /// Their password.
    pub password: String,
}

/// `POST /api/account/password`: a coach's new password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// At least 10 characters.
    pub password: String,
}

/// `POST /api/coaches`: a new coach's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCoach {
    /// 1 to 80 characters, unique among coaches whatever the case.
    pub name: String,
}

/// A coach, as the owner sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Coach {
    /// Their person id.
    pub id: String,
    /// Their name.
    pub name: String,
    /// When they were added (ms since the Unix epoch).
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub created_at: Time,
}

/// `GET /api/coaches`: in the order they were added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CoachList {
    /// The coaches.
    pub coaches: Vec<Coach>,
}

/// `POST /api/coaches`: the coach, and their one-time sign-in link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CoachCreated {
    /// Their person id.
    pub id: String,
    /// Their name.
    pub name: String,
    /// A one-time link (on the address the request came to) that pairs the
    /// browser that opens it as the coach's, within an hour; there the coach
    /// sets a password.
    pub sign_in_link: String,
}

/// `POST /api/coach/invites`: whom the invite is for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewInvite {
    /// The client's name, if any (1 to 80 characters).
    #[serde(default)]
    pub name: Option<String>,
}

/// A one-time invite: opening it on a phone makes that phone a device of a
/// new client of the coach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Invite {
    /// The link on the address the request came to (`.../join?token=...`).
    pub link: String,
    /// Its path (`/join?token=...`).
    pub path: String,
    /// When it stops working, used or not (ms since the Unix epoch): 7 days.
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub expires_at: Time,
    /// The link as a QR code, an SVG image (null if too long for one).
    pub qr_svg: Option<String>,
}

/// A coach's client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Client {
    /// Their person id: `/api/coach/clients/{id}/...`.
    pub id: String,
    /// Their name, as the invite named them (may be empty).
    pub name: String,
    /// When they joined (ms since the Unix epoch).
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub created_at: Time,
}

/// `GET /api/coach/clients`: in the order they joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ClientList {
    /// The clients.
    pub clients: Vec<Client>,
}
