//! rollcoach's HTTP wire: the request body and the answer of every route of
//! `rollcoach serve`, as serde types, in one place.
//!
//! The server answers with these types, the static app (`rollcoach web
//! export`) writes its files with them, and the page's WebAssembly module
//! builds its injury block with them, so each shape is built once. With the
//! `schema` feature (the server's), every type has a JSON schema
//! (schemars), from which the server's OpenAPI document is generated; the
//! wasm module leaves it off to stay small.
//!
//! No answer holds a row id or a process id: records are named by their
//! uid, which is the same in every copy (a phone, a terminal, an export).
//! Types of the protocol, engine and store crates appear as they serialize
//! (a protocol, options, facts, an outcome, a summary); their schemas here
//! are described objects ([`schema`]).
#![deny(missing_docs)]

mod accounts;
mod config;
mod devices;
mod error;
mod history;
mod injuries;
mod protocols;
mod sync;

#[cfg(feature = "schema")]
pub mod schema;

pub use accounts::{
    Account, Client, ClientList, Coach, CoachCreated, CoachList, Invite, NewCoach, NewInvite,
    NewPassword, Role, SignIn,
};
pub use config::PageConfig;
pub use devices::{Device, DeviceList, PairingLink};
pub use error::ErrorBody;
pub use history::{
    HistoryAnswer, HistoryItem, HistoryPage, HistoryQuery, HistoryRows, Rating, RatingSeries,
    SeriesPoint,
};
pub use injuries::{Injury, InjuryBlocks, InjuryItem, InjuryList, NewInjury};
pub use protocols::{Block, ProtocolBrief, ProtocolDetail, RepRange, Rules, Warning};
pub use sync::{Change, Changes, ChangesQuery, InjuryPush, SessionPush, SyncStatus, SyncWord};
#[cfg(feature = "schema")]
pub use sync::{DocSessionShape, EventShape, ExportDocumentShape, InjuryShape, SessionShape};
