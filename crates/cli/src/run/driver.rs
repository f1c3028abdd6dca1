//! The driver: owns the clock, writes the entries the engine's [`Runner`]
//! hands it to the event log before the runner applies them, and hands the
//! outputs to a front-end.
//!
//! Time is the session's: `start + elapsed * speed` on a real clock, or a
//! virtual clock that jumps to the next deadline (`--speed max`). Deadlines
//! are the engine's absolute times, and a timeout is handled at its deadline,
//! never "now", so a slow frame or a late wake-up never shifts the pacer.

use std::time::{Duration, Instant};

use rollcoach_engine::{Batch, EndRecord, Input, InputError, Output, Runner, Session, Time};

/// How fast session time runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// Real time multiplied by this factor (1.0 is real time).
    Factor(f64),
    /// A virtual clock: no waiting at all.
    Max,
}

impl std::str::FromStr for Speed {
    type Err = String;
    fn from_str(s: &str) -> Result<Speed, String> {
        if s.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max);
        }
        // The factor is the one speed rule (`serve` and `web export` take
        // it too); `max` is the terminal's own, on top.
        s.parse::<rollcoach_store::Speed>()
            .map(|f| Speed::Factor(f.get()))
            .map_err(|e| format!("{e}, or `max` for no waiting at all"))
    }
}

/// The session clock.
#[derive(Debug, Clone)]
pub struct Clock {
    start: Time,
    wall_start: Instant,
    speed: Speed,
    /// Virtual clock position (and, for a real clock, the latest time waited for).
    virtual_now: Time,
}

impl Clock {
    /// A clock whose session time starts at `start`.
    pub fn new(start: Time, speed: Speed) -> Clock {
        Clock {
            start,
            wall_start: Instant::now(),
            speed,
            virtual_now: start,
        }
    }

    /// A virtual clock (for dry runs).
    pub fn virtual_at(start: Time) -> Clock {
        Clock::new(start, Speed::Max)
    }

    /// Whether this clock never waits.
    pub fn is_virtual(&self) -> bool {
        self.speed == Speed::Max
    }

    /// Session time now.
    pub fn now(&self) -> Time {
        match self.speed {
            Speed::Max => self.virtual_now,
            Speed::Factor(f) => {
                let elapsed = self.wall_start.elapsed().as_secs_f64() * 1000.0 * f;
                self.start.plus_ms(elapsed as u64).max(self.virtual_now)
            }
        }
    }

    /// Wall-clock time until session time reaches `t` (zero for a virtual clock).
    pub fn wall_until(&self, t: Time) -> Duration {
        match self.speed {
            Speed::Max => Duration::ZERO,
            Speed::Factor(f) => {
                let ms = t.since(self.now()) as f64 / f;
                Duration::from_secs_f64(ms / 1000.0)
            }
        }
    }

    /// Blocks until session time reaches `t` (a virtual clock jumps there).
    pub fn wait_until(&mut self, t: Time) {
        loop {
            let d = self.wall_until(t);
            if d.is_zero() {
                break;
            }
            std::thread::sleep(d);
        }
        self.virtual_now = self.virtual_now.max(t);
    }

    /// Moves a virtual clock forward to `t` without waiting (no-op backwards).
    pub fn advance_to(&mut self, t: Time) {
        self.virtual_now = self.virtual_now.max(t);
    }
}

/// Where inputs and the end go: the store's event log, or nowhere for a dry run.
pub trait Log {
    /// Appends an input with its session-relative time. Called before the
    /// engine applies the input; an error means it is not applied.
    fn append(&mut self, at_ms: u64, input: &Input) -> anyhow::Result<()>;
    /// Records the end of the session.
    fn finish(&mut self, end: &EndRecord) -> anyhow::Result<()>;
}

/// A log that keeps nothing (dry runs).
pub struct NoLog;

impl Log for NoLog {
    fn append(&mut self, _at_ms: u64, _input: &Input) -> anyhow::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _end: &EndRecord) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Why an input was not applied.
#[derive(Debug)]
pub enum ApplyError {
    /// The engine rejected it; nothing was logged or changed.
    Rejected(InputError),
    /// Writing the log failed; the input was not applied.
    Log(anyhow::Error),
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplyError::Rejected(e) => e.fmt(f),
            ApplyError::Log(e) => write!(f, "could not record the input: {e:#}"),
        }
    }
}

impl std::error::Error for ApplyError {}

/// One session's [`Runner`], its log, and the outputs not yet taken by the
/// front-end. The runner owns the lifecycle (numbering, log before apply,
/// deadline catch-up, the end record); the driver writes what it hands over.
pub struct Driver<L: Log> {
    runner: Runner,
    log: L,
    /// Outputs with their times, in order.
    pending: Vec<(Time, Output)>,
    /// The end, once seen.
    end: Option<Output>,
    finished: bool,
}

impl<L: Log> Driver<L> {
    /// Wraps a new session; its first outputs are pending at its start time.
    pub fn new(session: Session, log: L) -> Driver<L> {
        let mut d = Driver {
            runner: Runner::new(session),
            log,
            pending: Vec::new(),
            end: None,
            finished: false,
        };
        d.collect();
        d
    }

    /// Takes the runner's outputs into `pending`, noting the end.
    fn collect(&mut self) {
        while let Some((at, out)) = self.runner.poll_output() {
            if matches!(out, Output::End { .. }) {
                self.end = Some(out.clone());
            }
            self.pending.push((at, out));
        }
    }

    /// The session (read-only).
    pub fn session(&self) -> &Session {
        self.runner.session()
    }

    /// The session's start.
    pub fn start(&self) -> Time {
        self.runner.started_at()
    }

    /// Session time of the latest input applied.
    pub fn cursor(&self) -> Time {
        self.runner.cursor()
    }

    /// The end output, once the session has ended.
    pub fn end(&self) -> Option<&Output> {
        self.end.as_ref()
    }

    /// Whether the session has ended.
    pub fn ended(&self) -> bool {
        self.end.is_some()
    }

    /// Takes the outputs produced so far, each with its session time.
    pub fn take_outputs(&mut self) -> Vec<(Time, Output)> {
        std::mem::take(&mut self.pending)
    }

    /// Applies an input at `now` (never before the cursor): the runner
    /// first catches up with any deadline up to `now`; a rejected input is
    /// neither logged nor applied; otherwise every entry is logged, then
    /// applied.
    pub fn apply(&mut self, input: Input, now: Time) -> Result<(), ApplyError> {
        let now = now.max(self.runner.cursor());
        let batch = self
            .runner
            .offer(input, now)
            .map_err(ApplyError::Rejected)?;
        self.write(batch)
    }

    /// Handles every deadline at or before `t`, each at its own deadline.
    pub fn run_deadlines_until(&mut self, t: Time) -> Result<(), ApplyError> {
        let batch = self.runner.advance(t);
        self.write(batch)
    }

    /// Logs a batch's entries, then has the runner apply them.
    fn write(&mut self, batch: Batch) -> Result<(), ApplyError> {
        if batch.is_empty() {
            return Ok(());
        }
        for e in batch.entries() {
            self.log
                .append(e.at_ms, &e.input)
                .map_err(ApplyError::Log)?;
        }
        self.runner
            .commit(batch)
            .map_err(|e| ApplyError::Log(anyhow::anyhow!("{e}")))?;
        self.collect();
        Ok(())
    }

    /// Ends a session that has not ended (a quit signal, a closed terminal):
    /// the runner works out what it did, and that end is recorded now.
    pub fn interrupt(&mut self) -> anyhow::Result<EndRecord> {
        let end = self.runner.interrupt(self.runner.cursor());
        if !self.finished {
            self.log.finish(&end)?;
            self.finished = true;
        }
        Ok(end)
    }

    /// Records the end in the log once (after the session has ended).
    pub fn finish(&mut self) -> anyhow::Result<()> {
        if self.finished {
            return Ok(());
        }
        if let Some(end) = self.runner.end_record() {
            self.log.finish(&end)?;
            self.finished = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_parses_factors_and_max() {
        assert_eq!("max".parse::<Speed>(), Ok(Speed::Max));
        assert_eq!("2.5".parse::<Speed>(), Ok(Speed::Factor(2.5)));
        assert!("0".parse::<Speed>().is_err());
        assert!("fast".parse::<Speed>().is_err());
        assert!("-1".parse::<Speed>().is_err());
    }

    #[test]
    fn a_virtual_clock_jumps_without_waiting() {
        let mut c = Clock::virtual_at(Time(1000));
        assert_eq!(c.now(), Time(1000));
        c.wait_until(Time(61_000));
        assert_eq!(c.now(), Time(61_000));
        c.wait_until(Time(5_000));
        assert_eq!(c.now(), Time(61_000), "never goes back");
    }
}
