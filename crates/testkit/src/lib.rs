//! rollcoach's test kit: one protocol and clock fixture, and one simulated
//! person, for every crate's tests (a dev-dependency only).
//!
//! - Fixtures ([`fixtures`], re-exported here): the built-in protocols by id
//!   ([`protocol`]), one start time ([`T0`]) and the durations tests count in
//!   ([`SECOND`], [`MINUTE`], [`HOUR`], [`DAY`]).
//! - [`Autopilot`]: a person on a virtual clock who goes through a session
//!   as a [`Plan`] says, always through the engine's
//!   [`Runner`](rollcoach_engine::Runner) (log before apply, deadlines caught
//!   up, outputs stamped with their times), never [`Session::handle`]
//!   directly. It answers the screening (safely, or with a refusing answer),
//!   rates the reasons before and after, readies each setup step, lets the
//!   rolling run by its deadlines, and puts scripted events at chosen points
//!   ([`Point`], [`Act`]): pain at rep 3, discomfort, noise, a switch, a
//!   pause, a stop, a page that closes, or a crash that stops driving and
//!   hands back the log. Every batch of log entries goes to a sink the test
//!   supplies *before* it is committed, so a store test persists them
//!   exactly as a driver does. The result is a [`Run`]: the outputs, the log,
//!   the end record and the runner as it was left.
//!
//! [`Session::handle`]: rollcoach_engine::Session::handle
//!
//! # A session, persisted as a driver does
//!
//! ```
//! use rollcoach_engine::{Input, LogEntry, Outcome, PainKind, StopReason};
//! use rollcoach_testkit::{Act, Autopilot, Plan, Point, T0, protocol};
//!
//! // A person who rates 6 before, and reports pain with a pop at rep 3.
//! let plan = Plan::reasons(["soreness"])
//!     .rating(Some(6))
//!     .at(Point::Rep(3), Input::Pain { kind: PainKind::Pop });
//! let mut store: Vec<LogEntry> = Vec::new(); // a store's event log
//! let run = Autopilot::start(protocol("upper-back"), plan, T0)?
//!     .sink(|entries| store.extend_from_slice(entries))
//!     .run()?;
//!
//! assert_eq!(
//!     run.outcome(),
//!     Some(&Outcome::Stopped { reason: StopReason::PainWithPop })
//! );
//! assert_eq!(run.end.as_ref().unwrap().summary.reps_done, 2);
//! assert_eq!(store, run.log, "every entry went to the sink");
//!
//! // A crash at rep 2: no end, and the log recovers the runner.
//! let plan = Plan::default().at(Point::Rep(2), Act::Crash);
//! let crashed = Autopilot::start(protocol("upper-back"), plan, T0)?
//!     .run()?;
//! assert!(crashed.end.is_none());
//! assert_eq!(crashed.recover()?.runner, crashed.runner);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod autopilot;
pub mod fixtures;

pub use autopilot::{
    Act, Autopilot, AutopilotError, Plan, Point, Rate, Rejected, Run, Screening, SinkError,
};
pub use fixtures::{DAY, HOUR, MINUTE, SECOND, T0, builtins, protocol, protocol_arc};
