//! A virtual-clock driver of the [`Session`] itself, shared by the engine's
//! tests of it: it records every input (rejected ones too) and output with
//! its session-relative time, so a scenario reads as a transcript and its
//! input log can be replayed. Tests of a whole session through the runner
//! use the test kit's autopilot instead; the fixtures (`T0`, `protocol`) are
//! the kit's.
#![allow(dead_code, unused_imports)]

use std::fmt::Write as _;

use rollcoach_engine::{Facts, Input, InputError, Options, Output, Session, Time};
use rollcoach_protocol::Protocol;

pub use rollcoach_testkit::{HOUR, T0, protocol};

/// A session on a virtual clock, with its transcript and input log.
pub struct Driver {
    pub session: Session,
    pub now: Time,
    pub outputs: Vec<Output>,
    pub log: Vec<(u64, Input)>,
    pub transcript: String,
}

impl Driver {
    pub fn new(protocol: &Protocol, options: Options, facts: Facts) -> Driver {
        let session = Session::new(protocol, options, facts, T0).expect("options fit");
        let mut d = Driver {
            session,
            now: T0,
            outputs: Vec::new(),
            log: Vec::new(),
            transcript: String::new(),
        };
        d.drain();
        d
    }

    /// Milliseconds since the start.
    pub fn t(&self) -> u64 {
        self.now.since(T0)
    }

    fn drain(&mut self) {
        while let Some(o) = self.session.poll_output() {
            let json = serde_json::to_string(&o).expect("outputs serialize");
            writeln!(self.transcript, "{:>7}  < {json}", self.t()).unwrap();
            self.outputs.push(o);
        }
    }

    /// Feeds an input now; logs it, like the store does, before applying it.
    pub fn input(&mut self, input: Input) -> Result<(), InputError> {
        self.log.push((self.t(), input));
        let json = serde_json::to_string(&input).expect("inputs serialize");
        writeln!(self.transcript, "{:>7}  > {json}", self.t()).unwrap();
        let r = self.session.handle(input, self.now);
        if let Err(e) = &r {
            writeln!(self.transcript, "{:>7}  ! {e}", self.t()).unwrap();
        }
        self.drain();
        r
    }

    /// Feeds an input that must fit.
    pub fn ok(&mut self, input: Input) {
        self.input(input)
            .unwrap_or_else(|e| panic!("{input:?} should fit: {e}"));
    }

    /// Moves the clock forward.
    pub fn wait(&mut self, ms: u64) {
        self.now = self.now.plus_ms(ms);
    }

    /// Jumps to the next deadline and handles the timeout. False if there is none.
    pub fn progress(&mut self) -> bool {
        match self.session.next_deadline() {
            Some(d) => {
                self.now = self.now.max(d);
                self.ok(Input::Timeout);
                true
            }
            None => false,
        }
    }

    /// Progresses through `n` deadlines.
    pub fn progress_n(&mut self, n: usize) {
        for _ in 0..n {
            assert!(self.progress(), "expected a deadline");
        }
    }

    /// Progresses until there is no deadline left.
    pub fn progress_all(&mut self) {
        while self.progress() {}
    }

    /// Answers every screening question with its accepting answer, skips or
    /// gives the before-ratings, and says ready to every setup step.
    pub fn start_rolling(&mut self, protocol: &Protocol, before: Option<u8>) {
        for q in &protocol.screening.questions {
            let answer = match q.refuse_on {
                rollcoach_protocol::Answer::Yes => rollcoach_protocol::Answer::No,
                rollcoach_protocol::Answer::No => rollcoach_protocol::Answer::Yes,
            };
            self.ok(Input::Answer { answer });
        }
        while self.session.stage() == rollcoach_engine::Stage::RatingsBefore {
            self.ok(Input::Rating { value: before });
        }
        for _ in &protocol.setup {
            self.ok(Input::Ready);
        }
        assert_eq!(self.session.stage(), rollcoach_engine::Stage::Rolling);
    }

    /// The last output.
    pub fn last(&self) -> &Output {
        self.outputs.last().expect("some output")
    }
}
