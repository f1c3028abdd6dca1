//! `rollcoach run PROTOCOL`: one guided session.
//!
//! In a terminal it is a full-screen session ([`tui`]); when stdin is not a
//! terminal it reads a script of events ([`script`]) and prints one line per
//! engine output ([`render`]). Both go through the same [`driver`]: it owns
//! the clock and writes the entries the engine's `Runner` hands it to the
//! store's event log before the runner applies them. [`voice`] speaks the cues through espeak-ng.

pub mod driver;
pub mod render;
pub mod script;
pub mod tui;
pub mod voice;

use std::io::{IsTerminal, Read, Write};

use anyhow::Context;
use rollcoach_engine::speech::Planner;
use rollcoach_engine::{
    EndRecord, Input, Options, OptionsError, Outcome, Output, RefusalReason, Session, Time,
};
use rollcoach_protocol::Protocol;
use rollcoach_store::{
    NewSession, RecordTime, SessionEnd, SessionId, SessionLog, SessionOptions, SessionOutcome,
};

use crate::{Global, UsageError, db};
use driver::{Clock, Driver, Log, NoLog, Speed};
use voice::{Voice, VoiceMode};

/// `rollcoach run` options.
#[derive(Debug, clap::Args)]
#[command(after_help = RUN_HELP)]
pub struct Args {
    /// Protocol id (see `rollcoach protocols list`) or path to a protocol file.
    pub protocol: String,
    /// Reps (one rep is out and back); within the protocol's range [default: the protocol's].
    #[arg(long, value_name = "N")]
    pub reps: Option<u32>,
    /// Seconds per direction; within the protocol's range [default: the protocol's].
    #[arg(long, value_name = "SECONDS")]
    pub tempo: Option<f64>,
    /// Instrument id, e.g. lacrosse-ball [default: the protocol's].
    #[arg(long, value_name = "ID")]
    pub instrument: Option<String>,
    /// A reason that brought you (an indication id, e.g. soreness); repeat for several.
    /// Its rating is asked before and after. In a terminal, asked on screen when not given.
    #[arg(long = "reason", value_name = "ID")]
    pub reasons: Vec<String>,
    /// Speak the cues through espeak-ng: auto (in a terminal, when installed), on, off.
    #[arg(long, value_enum, default_value_t = VoiceMode::Auto)]
    pub voice: VoiceMode,
    /// Speech rate, a factor of espeak-ng's default 175 words a minute (0.5 to 2).
    #[arg(long, value_name = "FACTOR", default_value = "1", value_parser = voice::parse_rate)]
    pub voice_rate: f64,
    /// Session clock speed: a factor of real time, or `max` (no waiting at all).
    #[arg(long, value_name = "FACTOR|max", default_value = "1")]
    pub speed: Speed,
    /// Script mode: print JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
}

const RUN_HELP: &str = "\
When stdin is not a terminal, events are read from it, one per line:
  yes | no | ready | rate N | skip | pause | resume | discomfort N |
  pain | pain spine | pain pop | pain sharp | noise | switch | stop
`#` starts a comment. `@SECONDS event` happens at that session time; a line
without @ answers the next prompt (or happens right after the previous line).

Exit codes: 0 completed, 3 stopped, 4 refused by screening, 2 usage error, 1 other.";

/// Runs `rollcoach run`.
pub fn run(args: Args, global: &Global) -> anyhow::Result<u8> {
    let protocol = crate::protocols::resolve(global, &args.protocol)?;
    let tty = std::io::stdin().is_terminal();
    let voice_program = voice::decide(args.voice, tty).map_err(UsageError)?;
    let options = Options {
        instrument: args.instrument.clone(),
        reps: args.reps,
        tempo_seconds: args.tempo,
        reasons: args.reasons.clone(),
        pairing: None,
    };
    // Check the options before anything is shown or recorded, by the
    // engine's rule (the problem is the engine's words, which give the range).
    let options = SessionOptions::parse(&protocol, options)
        .map_err(|e| UsageError(e.problem().to_owned()))?
        .into_options();
    // Nor is a session recorded that its own import would refuse: a clock
    // before 2000 is not set.
    let now = db::now(global)?;
    RecordTime::parse(now, now).map_err(|e| {
        let e = e.with_fix("set this computer's clock right and run the session again");
        UsageError(format!("this computer's clock: {e}"))
    })?;

    if tty {
        tui::run(tui::Setup {
            protocol,
            options,
            speed: args.speed,
            voice: voice_program,
            voice_rate: args.voice_rate,
            global: global.clone(),
        })
    } else {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("could not read the script from stdin")?;
        run_script(&protocol, options, &text, &args, voice_program, global)
    }
}

/// An options error is the user's: exit 2.
pub fn options_error(e: OptionsError) -> anyhow::Error {
    UsageError(format!("{e}")).into()
}

/// The store's event log of one session.
pub struct StoreLog<'a> {
    store: &'a dyn SessionLog,
    id: SessionId,
    seq: u32,
}

impl<'a> StoreLog<'a> {
    /// Records the start of a session and returns its log.
    pub fn begin(
        store: &'a dyn SessionLog,
        protocol: &Protocol,
        options: &Options,
        facts: &rollcoach_engine::Facts,
        started_at: Time,
    ) -> anyhow::Result<StoreLog<'a>> {
        let id = store
            .begin_session(&NewSession {
                protocol,
                options,
                facts,
                started_at,
            })
            .context("could not record the start of the session")?;
        Ok(StoreLog { store, id, seq: 0 })
    }
}

impl Log for StoreLog<'_> {
    fn append(&mut self, at_ms: u64, input: &Input) -> anyhow::Result<()> {
        self.store
            .append_event(self.id, self.seq, at_ms, input)
            .context("could not record the input")?;
        self.seq += 1;
        Ok(())
    }

    fn finish(&mut self, end: &EndRecord) -> anyhow::Result<()> {
        match (&end.outcome, &end.message) {
            (Some(outcome), Some(message)) => self
                .store
                .finish_session(self.id, end.ended_at, outcome, message, &end.summary)
                .context("could not record the end of the session"),
            // Interrupted: the runner worked out what the session did.
            _ => self
                .store
                .end_session(
                    self.id,
                    &SessionEnd {
                        ended_at: end.ended_at,
                        outcome: &SessionOutcome::Interrupted,
                        message: None,
                        summary: Some(&end.summary),
                    },
                )
                .context("could not record the interrupted session"),
        }
    }
}

fn run_script(
    protocol: &Protocol,
    options: Options,
    text: &str,
    args: &Args,
    voice_program: Option<std::path::PathBuf>,
    global: &Global,
) -> anyhow::Result<u8> {
    let lines = script::parse(text).map_err(|errors| {
        let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
        UsageError(format!(
            "{}\nnothing was run or recorded",
            all.join("\nerror: ")
        ))
    })?;
    if lines.is_empty() {
        return Err(UsageError(
            "stdin is not a terminal and holds no events: run `rollcoach run` in a terminal \
             for the full-screen session, or give it a script (see `rollcoach run --help`)"
                .to_string(),
        )
        .into());
    }
    let store = db::open_store(global)?;
    let start = db::now(global)?;
    let facts = store
        .log()?
        .facts_for(protocol)
        .context("could not read the injury log")?;
    let session =
        Session::new(protocol, options.clone(), facts.clone(), start).map_err(options_error)?;

    // A dry run on a virtual clock: an out-of-place line is found before
    // anything is recorded or shown. The engine is deterministic and the
    // script's times do not depend on the clock, so the real run does the same.
    {
        let mut dry = Driver::new(session.clone(), NoLog);
        let mut clock = Clock::virtual_at(start);
        match script::play(&mut dry, &mut clock, &lines, &mut |d| {
            d.take_outputs();
        }) {
            Ok(_) => {}
            Err(script::PlayError::Line(e)) => {
                return Err(UsageError(format!("{e}\nnothing was run or recorded")).into());
            }
            Err(script::PlayError::Log(e)) => return Err(e),
        }
    }

    let log = StoreLog::begin(store.log()?, protocol, &options, &facts, start)?;
    let mut driver = Driver::new(session, log);
    let mut clock = Clock::new(start, args.speed);
    let voice = voice_program.map(|p| {
        Voice::start(
            p,
            std::sync::Arc::new(protocol.clone()),
            args.voice_rate,
            args.speed,
        )
        .background(clock.clone())
    });
    let stdout = std::io::stdout();
    let json = args.json;
    let mut print_err: Option<std::io::Error> = None;
    // A phase's cue is printed in the wording the voice says for it (the
    // speech planner's choice for the phase's length), not the engine's
    // full wording.
    let cue_words = Planner::new(
        std::sync::Arc::new(protocol.clone()),
        voice::planning_rate(
            args.voice_rate,
            match args.speed {
                Speed::Factor(f) => Some(f),
                Speed::Max => None,
            },
        ),
    );
    let mut last_phase = None;
    let mut sink = |d: &mut Driver<StoreLog<'_>>| {
        let outs = d.take_outputs();
        if let Some(v) = &voice {
            v.feed(&outs);
        }
        let mut w = stdout.lock();
        for (at, out) in &outs {
            let at_ms = at.since(start);
            let phase = std::mem::take(&mut last_phase);
            // Protocol text and notes are data: escaped for the terminal.
            let r = if json {
                writeln!(
                    w,
                    "{}",
                    crate::term::escape(&render::json(out, at_ms).to_string())
                )
            } else {
                let line = match (out, phase) {
                    (Output::Cue { .. }, Some((breath, direction, ms))) => {
                        format!("say: {}", cue_words.phase_cue(breath, direction, ms))
                    }
                    _ => render::text(protocol, out),
                };
                writeln!(
                    w,
                    "[{}] {}",
                    render::clock(at_ms),
                    crate::term::escape(&line)
                )
            };
            if let Output::Phase {
                breath,
                direction,
                duration_ms,
                ..
            } = out
            {
                last_phase = Some((*breath, *direction, *duration_ms));
            }
            if let Err(e) = r.and_then(|()| w.flush()) {
                print_err.get_or_insert(e);
            }
        }
    };
    let played = match script::play(&mut driver, &mut clock, &lines, &mut sink) {
        Ok(p) => p,
        Err(script::PlayError::Line(e)) => {
            // The dry run accepted it, so this is rollcoach's bug; record honestly.
            return Err(anyhow::anyhow!("{e} (the dry run accepted it)"));
        }
        Err(script::PlayError::Log(e)) => return Err(e),
    };
    if let Some(number) = played.unused_from {
        eprintln!(
            "note: the session ended before script line {number}; that line and the ones after it were not used"
        );
    }
    let mut waited = None;
    if let Some(what) = &played.waiting_for {
        // The person (the script) left: that is a stop by the person.
        let at = driver.cursor();
        driver
            .apply(Input::Stop, at)
            .map_err(|e| anyhow::anyhow!("could not stop the session: {e}"))?;
        sink(&mut driver);
        waited = Some(what.clone());
    }
    driver.finish()?;
    if let Some(v) = voice {
        v.finish();
    }
    // A closed pipe (`run ... | head -1`) is whoever reads the output going
    // away: the session was still recorded, and ends as it ended.
    if let Some(e) = print_err
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e).context("could not write the session's output");
    }
    if let Some(Output::End {
        outcome:
            Outcome::Refused {
                reason: RefusalReason::Answer { question },
            },
        ..
    }) = driver.end()
        && protocol
            .screening
            .questions
            .iter()
            .any(|q| q.injury_window && &q.id == question)
    {
        eprintln!(
            "note: the injury was not logged; leave this area alone until {} hours have passed \
             since it happened. To log it: rollcoach injury add --area {} --at \"yesterday\" \
             (or \"now\", \"2 days ago\", \"YYYY-MM-DD HH:MM\")",
            protocol.screening.injury_rule.window_hours, protocol.area
        );
    }
    if let Some(what) = waited {
        eprintln!(
            "error: the script ended while the session waits for {what}; \
             recorded as stopped by you"
        );
    }
    match driver.end() {
        Some(Output::End { outcome, .. }) => Ok(render::exit_code(outcome)),
        _ => Err(anyhow::anyhow!("the session did not end")),
    }
}
