//! The rollcoach session engine: a deterministic, sans-IO state machine.
//!
//! It never reads a clock, never sleeps and never does I/O: the driver passes
//! `now` with every call, feeds inputs with [`Session::handle`], drains
//! [`Session::poll_output`], and calls back with [`Input::Timeout`] at
//! [`Session::next_deadline`].
#![deny(missing_docs)]

mod api;

pub use api::*;
use rollcoach_protocol::Protocol;

/// One guided session of a protocol.
#[derive(Debug, Clone)]
pub struct Session {
    _todo: (),
}

impl Session {
    /// Starts a session. Checks the options against the protocol.
    pub fn new(
        _protocol: &Protocol,
        _options: Options,
        _facts: Facts,
        _now: Time,
    ) -> Result<Session, OptionsError> {
        todo!("engine under construction")
    }

    /// Applies an input at `now`. An input that does not fit changes nothing.
    pub fn handle(&mut self, _input: Input, _now: Time) -> Result<(), InputError> {
        todo!("engine under construction")
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        todo!("engine under construction")
    }

    /// When the driver must call back with [`Input::Timeout`], if at all.
    pub fn next_deadline(&self) -> Option<Time> {
        todo!("engine under construction")
    }

    /// The current stage.
    pub fn stage(&self) -> Stage {
        todo!("engine under construction")
    }

    /// Outputs that bring a front-end that just (re)connected up to date at
    /// `now`: the stage, the open prompt or the current phase with its
    /// remaining time, whether it is paused, and the end if it has ended.
    pub fn current(&self, _now: Time) -> Vec<Output> {
        todo!("engine under construction")
    }

    /// When the session started (the `now` given to [`Session::new`]).
    pub fn started_at(&self) -> Time {
        todo!("engine under construction")
    }

    /// The outcome, once the session has ended.
    pub fn outcome(&self) -> Option<&Outcome> {
        todo!("engine under construction")
    }
}
