//! `rollcoach-load cues`: breath-cue start lateness in the terminal.
//!
//! For each tempo, one whole `upper-back` session of 5 reps at `--speed 1` in
//! the full-screen terminal (`script` from util-linux gives it a
//! pseudo-terminal), with a stand-in `espeak-ng` first on PATH. The stand-in
//! accepts both `espeak-ng -- TEXT` and `espeak-ng -s WPM -- TEXT`, logs the
//! start (wall clock, ms) and text of each utterance, sleeps as long as the
//! voice would (the model of `rollcoach_protocol::speech::estimate_ms` at the
//! rate `-s` gives, 175 wpm by default, computed in awk and checked against
//! the Rust model here), and logs its end; one that is killed logs no end.
//! Old and new binaries thus face the same voice.
//!
//! The session is driven like a person answering by ear: each prompt
//! (screening `n`, rating `5` before and `4` after, Enter for each setup
//! step, however many there are) is answered 300 ms after the next
//! utterance starts (a voice that queues prompts is heard out first), or
//! 20 s after the prompt is shown if nothing new is said by then.
//! What is asked is read from the session's event log, replayed through the
//! engine, in a consistent copy of the database (the binary under test may
//! use an older schema: only the copy is migrated).
//!
//! Per tempo it reports, for the phases of the stored log (their start and
//! deadline from the replay): the lateness of each phase's breath cue (its
//! first utterance in one of the phase's cue wordings, or the cue text the
//! engine gave with the phase, started within the phase), how many phases
//! had no breath cue started in them (dropped), and how many breath cues
//! were killed before their end (cut).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rollcoach_engine::{Breath, Direction, Output, Prompt, Session, Time, When};
use rollcoach_protocol::speech::estimate_ms;
use rollcoach_store::{PersonId, Records, SessionRecord};
use rollcoach_store_sqlite::SqliteRecords;
use serde_json::json;

use crate::server;
use crate::stats::{self, Summary};

/// `rollcoach-load cues` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The `rollcoach` binary to measure [default: the one beside this tool].
    #[arg(long)]
    pub bin: Option<PathBuf>,
    /// Tempos (seconds per direction), comma-separated; one session each.
    #[arg(long, value_delimiter = ',', default_value = "2,4,6")]
    pub tempo: Vec<u32>,
    /// Reps per session.
    #[arg(long, default_value_t = 5)]
    pub reps: u32,
    /// Keep the working directories (database, utterance log) here.
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Speak with the real espeak-ng (found on PATH), to a file: the
    /// stand-in has it write each utterance to a WAV file, then takes as
    /// long as that file plays (the lengths are then espeak-ng's own, not
    /// the model's).
    #[arg(long)]
    pub espeak: bool,
}

/// What one utterance did, from the stand-in's log.
#[derive(Debug, Clone, PartialEq)]
pub struct Said {
    /// Its text.
    pub text: String,
    /// When it started (wall clock, ms since the epoch).
    pub start: u64,
    /// How long the stand-in meant to take (ms).
    pub expected: u64,
    /// The rate factor it was given (`-s` over 175).
    pub rate: f64,
    /// When it ended; `None` when it was killed.
    pub end: Option<u64>,
}

/// Parses the stand-in's log: `start\tMS\tEXPECTED\tWPM\tTEXT` and
/// `end\tMS\tTEXT` lines (an end belongs to the latest unended start of
/// its text).
pub fn parse_said(log: &str) -> anyhow::Result<Vec<Said>> {
    let mut all: Vec<Said> = Vec::new();
    for line in log.lines() {
        let f: Vec<&str> = line.splitn(5, '\t').collect();
        match f.as_slice() {
            ["start", ms, expected, wpm, text] => all.push(Said {
                text: (*text).to_string(),
                start: ms.parse().context("start time")?,
                expected: expected.parse().context("expected length")?,
                rate: wpm.parse::<f64>().context("rate")? / 175.0,
                end: None,
            }),
            ["end", ms, ..] => {
                let text = f[2..].join("\t");
                let s = all
                    .iter_mut()
                    .rev()
                    .find(|s| s.text == text && s.end.is_none())
                    .with_context(|| format!("an end of something never started: {text}"))?;
                s.end = Some(ms.parse().context("end time")?);
            }
            _ => bail!("a line the stand-in does not write: {line:?}"),
        }
    }
    Ok(all)
}

/// One rolling phase, from the replayed log.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseSpan {
    /// Start (session clock = wall clock at `--speed 1`, ms since the epoch).
    pub start: u64,
    /// Deadline.
    pub end: u64,
    /// The wordings that count as its breath cue.
    pub forms: Vec<String>,
}

/// What happened to the breath cues of a session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CueReport {
    /// Phases in the log.
    pub phases: usize,
    /// Lateness of each breath cue started in its phase (ms; negative when
    /// it started up to 20 ms before the logged phase start).
    pub lateness: Vec<f64>,
    /// Phases whose breath cue never started in the phase.
    pub dropped: usize,
    /// Breath cues killed before their end.
    pub cut: usize,
    /// Breath cues said whole but ending more than 150 ms after their phase.
    pub past_end: usize,
    /// Each phase's lateness (ms), `None` when its cue was dropped.
    pub per_phase: Vec<Option<f64>>,
}

/// Matches each phase to its breath cue among the utterances.
pub fn assess(phases: &[PhaseSpan], said: &[Said]) -> CueReport {
    let mut r = CueReport {
        phases: phases.len(),
        ..CueReport::default()
    };
    for p in phases {
        let cue = said
            .iter()
            .find(|s| s.start + 20 >= p.start && s.start < p.end && p.forms.contains(&s.text));
        r.per_phase
            .push(cue.map(|c| c.start as f64 - p.start as f64));
        match cue {
            None => r.dropped += 1,
            Some(c) => {
                r.lateness.push(c.start as f64 - p.start as f64);
                match c.end {
                    None => r.cut += 1,
                    Some(e) if e > p.end + 150 => r.past_end += 1,
                    Some(_) => {}
                }
            }
        }
    }
    r
}

/// The stand-in espeak-ng (a shell script) in `dir/bin`, logging to `log`.
/// With `espeak`, the real espeak-ng renders each utterance
/// to a WAV file (22,050 Hz, 16-bit mono) and the stand-in takes as long as
/// it plays, logging its start once rendered.
fn stand_in_with(dir: &Path, log: &Path, espeak: Option<&Path>) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin)?;
    let prog = bin.join("espeak-ng");
    let length = match espeak {
        None => String::new(),
        Some(real) => format!(
            r#"wav="$(mktemp --suffix=.wav)"
'{real}' -s "$wpm" -w "$wav" -- "$text" 2> /dev/null
ms=$(( ($(stat -c %s "$wav") - 44) * 1000 / 44100 ))
rm -f "$wav"
start=$(date +%s%3N)
"#,
            real = real.display()
        ),
    };
    std::fs::write(
        &prog,
        format!(
            r#"#!/bin/sh
start=$(date +%s%3N)
wpm=175
while [ $# -gt 0 ]; do
  case "$1" in
    -s) wpm=$2; shift 2 ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;
  esac
done
text=$1
ms=$(printf '%s' "$text" | awk -v wpm="$wpm" '{{
  n = split($0, c, "")
  for (i = 1; i <= n; i++) {{
    ch = c[i]
    if (ch ~ /[0-9]/) d++
    else if (ch ~ /[A-Za-z]/) l++
    else if (ch ~ /[ \t]/) g++
    else if (ch ~ /[,;:()]/) k++
    else if (ch ~ /[.!?]/ && (i == n || c[i+1] ~ /[ \t]/)) e++
  }}
  ms = 400 + 53*l + 180*d + 16*g + 260*k + 370*e
  printf "%d", ms / (wpm / 175) + 0.5
}}')
{length}printf 'start\t%s\t%s\t%s\t%s\n' "$start" "$ms" "$wpm" "$text" >> '{log}'
sleep $(awk -v ms="$ms" 'BEGIN {{ printf "%.3f", ms / 1000 }}')
printf 'end\t%s\t%s\n' "$(date +%s%3N)" "$text" >> '{log}'
"#,
            log = log.display()
        ),
    )?;
    std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755))?;
    Ok(bin)
}

/// `rollcoach run ...` in a pseudo-terminal, its screen drained as it comes.
struct Pty {
    script: Child,
    keys: Option<ChildStdin>,
    reader: Option<JoinHandle<()>>,
}

impl Pty {
    fn keys(&mut self, keys: &[u8]) -> anyhow::Result<()> {
        let k = self.keys.as_mut().context("the terminal is closed")?;
        k.write_all(keys)?;
        k.flush()?;
        Ok(())
    }

    fn ended(&mut self) -> bool {
        self.script.try_wait().ok().flatten().is_some()
    }
}

/// The processes whose parent is `pid` (from `/proc`).
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let child: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).ok()?;
        let ppid: u32 = stat
            .rsplit(')')
            .next()?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        (ppid == pid).then_some(child)
    })
    .collect()
}

impl Drop for Pty {
    fn drop(&mut self) {
        self.keys.take();
        // rollcoach runs in its own session under `script`: a binary that
        // does not end when its terminal closes (the old one spins) is
        // killed by its id.
        // (Only while `script` runs: once reaped, its id may be another's.)
        let left = if matches!(self.script.try_wait(), Ok(None)) {
            children_of(self.script.id())
        } else {
            Vec::new()
        };
        let _ = self.script.kill();
        for pid in left {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = self.script.wait();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// A consistent copy of the database (the file and its WAL, read until two
/// reads agree), opened (and migrated) as the current store.
fn snapshot(db: &Path, copy: &Path) -> Option<SqliteRecords> {
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    let read = || -> Option<(Vec<u8>, Vec<u8>)> {
        Some((
            std::fs::read(db).ok()?,
            std::fs::read(&wal).unwrap_or_default(),
        ))
    };
    let mut last = read()?;
    let mut agreed = false;
    for _ in 0..20 {
        let now = read()?;
        if now == last {
            agreed = true;
            break;
        }
        last = now;
    }
    if !agreed {
        return None;
    }
    let copy_wal = PathBuf::from(format!("{}-wal", copy.display()));
    let copy_shm = PathBuf::from(format!("{}-shm", copy.display()));
    let _ = std::fs::remove_file(&copy_shm);
    let _ = std::fs::remove_file(&copy_wal);
    std::fs::write(copy, &last.0).ok()?;
    if !last.1.is_empty() {
        std::fs::write(&copy_wal, &last.1).ok()?;
    }
    SqliteRecords::open(copy).ok()
}

/// The session's record and its outputs replayed through the engine, each
/// with its session time.
fn replay(store: &SqliteRecords) -> Option<Replay> {
    let owner = PersonId::owner();
    let record = store
        .history_page(&owner, 1, None)
        .ok()?
        .into_iter()
        .next()?;
    let protocol = snapshot_of(store, &record).ok()?;
    let mut session = Session::new(
        &protocol,
        record.options.clone(),
        record.facts.clone(),
        record.started_at,
    )
    .ok()?;
    let mut outs = Vec::new();
    let take = |s: &mut Session, t: Time, outs: &mut Vec<(Time, Output)>| {
        while let Some(o) = s.poll_output() {
            outs.push((t, o));
        }
    };
    take(&mut session, record.started_at, &mut outs);
    for e in store.events(&owner, &record.uid).ok()? {
        let t = record.started_at.plus_ms(e.at_ms);
        // A refused input changed nothing live either.
        let _ = session.handle(e.input, t);
        take(&mut session, t, &mut outs);
    }
    Some((record, outs))
}

/// A session's record and its outputs, replayed.
type Replay = (SessionRecord, Vec<(Time, Output)>);

/// What the session waits for now.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Waiting {
    Key(&'static [u8]),
    Rolling,
    Ended,
}

fn waiting(outs: &[(Time, Output)]) -> Waiting {
    let mut asked = None;
    for (_, o) in outs {
        match o {
            Output::Prompt(p) => asked = Some(p.clone()),
            Output::Phase { .. } => asked = None,
            Output::End { .. } => return Waiting::Ended,
            _ => {}
        }
    }
    match asked {
        Some(Prompt::Screening { .. }) => Waiting::Key(b"n"),
        Some(Prompt::Rating {
            when: When::Before, ..
        }) => Waiting::Key(b"5"),
        Some(Prompt::Rating { .. }) => Waiting::Key(b"4"),
        Some(Prompt::Ready { .. }) => Waiting::Key(b"\r"),
        None => Waiting::Rolling,
    }
}

/// How many inputs the session's log holds.
fn logged(store: &SqliteRecords, record: &SessionRecord) -> usize {
    store
        .events(&PersonId::owner(), &record.uid)
        .map_or(0, |e| e.len())
}

/// The protocol the session ran, as stored with it.
fn snapshot_of(
    store: &SqliteRecords,
    record: &SessionRecord,
) -> anyhow::Result<rollcoach_protocol::Protocol> {
    let json = store.protocol_json(&PersonId::owner(), &record.uid)?;
    Ok(serde_json::from_str(&json)?)
}

/// One run's figures.
#[derive(Debug, Clone)]
pub struct Run {
    /// Seconds per direction.
    pub tempo: u32,
    /// The breath cues.
    pub report: CueReport,
    /// Utterances in all.
    pub utterances: usize,
    /// Utterances whose stand-in length disagreed with `estimate_ms`.
    pub model_mismatches: usize,
    /// The session's outcome, as stored.
    pub outcome: String,
    /// One-minute load average: mean and max of samples during the run.
    pub load: (f64, f64),
    /// Wall seconds the run took.
    pub secs: f64,
}

fn loadavg() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn one_session(
    bin: &Path,
    dir: &Path,
    tempo: u32,
    reps: u32,
    espeak: Option<&Path>,
) -> anyhow::Result<Run> {
    let began = Instant::now();
    let log = dir.join("said.log");
    let speech_bin = stand_in_with(dir, &log, espeak)?;
    let db = dir.join("rollcoach.db");
    let copy = dir.join("copy.db");
    let protocols = dir.join("protocols");
    std::fs::create_dir_all(&protocols)?;
    let command = format!(
        // A size, or nothing is drawn (script's terminal has none).
        "stty cols 100 rows 30; '{}' --db '{}' run upper-back --protocols-dir '{}' \
         --reason soreness --voice on --speed 1 --tempo {tempo} --reps {reps}",
        bin.display(),
        db.display(),
        protocols.display()
    );
    let real = std::env::var_os("PATH").unwrap_or_default();
    let mut path = vec![speech_bin];
    path.extend(std::env::split_paths(&real));
    let mut script = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::join_paths(path)?)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("TERM", "xterm")
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("`script` (util-linux) runs the session in a pseudo-terminal")?;
    let keys = script.stdin.take();
    let mut out = script.stdout.take().context("no screen")?;
    let screen = Arc::new(Mutex::new(0usize));
    let shown = Arc::clone(&screen);
    // Drain the screen all along: a full pipe would hold the session up.
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            *shown.lock().unwrap_or_else(|e| e.into_inner()) += n;
        }
    });
    let mut pty = Pty {
        script,
        keys,
        reader: Some(reader),
    };
    let said_now = || parse_said(&std::fs::read_to_string(&log).unwrap_or_default());
    let mut loads = Vec::new();
    let state = |limit: Duration,
                 what: &str,
                 ok: &dyn Fn(&SqliteRecords, &Replay) -> bool|
     -> anyhow::Result<(Waiting, usize)> {
        let start = Instant::now();
        loop {
            if let Some(store) = snapshot(&db, &copy)
                && let Some(r) = replay(&store)
                && ok(&store, &r)
            {
                return Ok((waiting(&r.1), logged(&store, &r.0)));
            }
            if start.elapsed() > limit {
                bail!("timed out waiting for {what} (tempo {tempo})");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let (mut now, mut inputs) = state(Duration::from_secs(30), "the session to start", &|_, _| {
        true
    })?;
    let mut heard = 0;
    let session_limit = Duration::from_secs(u64::from(60 + 4 * reps * tempo + 240));
    loop {
        loads.extend(loadavg());
        if began.elapsed() > session_limit {
            bail!("the session at tempo {tempo} did not end in {session_limit:?}");
        }
        match now {
            Waiting::Ended => break,
            Waiting::Rolling => {
                std::thread::sleep(Duration::from_millis(250));
                (now, inputs) = state(Duration::from_secs(30), "the log", &|_, _| true)?;
            }
            Waiting::Key(k) => {
                // Answered 300 ms after it starts being said (or 20 s after
                // it is shown, when nothing new is said by then).
                let shown_at = Instant::now();
                while said_now()?.len() <= heard && shown_at.elapsed() < Duration::from_secs(20) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                std::thread::sleep(Duration::from_millis(300));
                heard = said_now()?.len();
                pty.keys(k)?;
                let before = inputs;
                (now, inputs) = state(
                    Duration::from_secs(20),
                    "the answer to be logged",
                    &|s, r| logged(s, &r.0) > before,
                )?;
            }
        }
    }
    // Leave; the end message is said first.
    std::thread::sleep(Duration::from_millis(300));
    pty.keys(b"x")?;
    let start = Instant::now();
    while !pty.ended() {
        if start.elapsed() > Duration::from_secs(60) {
            bail!("rollcoach did not exit after the session at tempo {tempo}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    loads.extend(loadavg());
    drop(pty);
    // Let killed or finishing stand-ins write their last lines.
    std::thread::sleep(Duration::from_millis(200));

    let store = snapshot(&db, &copy).context("could not read the database")?;
    let (record, outs) = replay(&store).context("no session in the database")?;
    let protocol = snapshot_of(&store, &record)?;
    let mut phases = Vec::new();
    for (i, (t, o)) in outs.iter().enumerate() {
        if let Output::Phase {
            breath,
            direction,
            deadline,
            ..
        } = o
        {
            let mut forms = protocol
                .movement
                .cue_forms(*direction == Direction::Out, *breath == Breath::Inhale);
            // The cue text the engine gave with the phase (the old driver
            // said that).
            forms.extend(
                outs[i + 1..]
                    .iter()
                    .take_while(|(u, _)| u == t)
                    .filter_map(|(_, o)| match o {
                        Output::Cue { say, .. } => Some(say.clone()),
                        _ => None,
                    }),
            );
            phases.push(PhaseSpan {
                start: t.0,
                end: deadline.0,
                forms,
            });
        }
    }
    let said = said_now()?;
    let model_mismatches = said
        .iter()
        .filter(|s| s.expected != estimate_ms(&s.text, s.rate))
        .count();
    let n = loads.len().max(1) as f64;
    Ok(Run {
        tempo,
        report: assess(&phases, &said),
        utterances: said.len(),
        model_mismatches,
        outcome: format!("{:?}", record.outcome),
        load: (
            loads.iter().sum::<f64>() / n,
            loads.iter().copied().fold(0.0, f64::max),
        ),
        secs: began.elapsed().as_secs_f64(),
    })
}

/// The real espeak-ng on PATH.
fn which_espeak() -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("espeak-ng"))
        .find(|p| p.is_file())
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let bin = server::rollcoach_bin(args.bin.as_deref())?;
    let bin = bin.canonicalize().unwrap_or(bin);
    if args.tempo.is_empty() || args.tempo.iter().any(|t| *t == 0 || *t > 30) {
        bail!("--tempo: seconds per direction, 1 to 30, comma-separated");
    }
    if !(1..=20).contains(&args.reps) {
        bail!("--reps: 1 to 20");
    }
    let espeak =
        match args.espeak {
            false => None,
            true => Some(which_espeak().context(
                "--espeak: espeak-ng is not on PATH (Debian: apt-get install espeak-ng)",
            )?),
        };
    let tmp = tempfile::tempdir()?;
    let mut runs = Vec::new();
    for &tempo in &args.tempo {
        let dir = match &args.keep {
            Some(k) => k.join(format!("tempo-{tempo}")),
            None => tmp.path().join(format!("tempo-{tempo}")),
        };
        if dir.exists() {
            bail!("{} exists: give --keep an empty directory", dir.display());
        }
        std::fs::create_dir_all(&dir)?;
        // Absolute: the session runs in it.
        let dir = dir.canonicalize()?;
        let run = one_session(&bin, &dir, tempo, args.reps, espeak.as_deref())?;
        if !args.json {
            print_run(&run);
        }
        runs.push(run);
    }
    if args.json {
        let all: Vec<_> = runs
            .iter()
            .map(|r| {
                json!({
                    "tempo": r.tempo,
                    "phases": r.report.phases,
                    "lateness_ms": Summary::of(&r.report.lateness).map(Summary::to_json),
                    "dropped": r.report.dropped,
                    "cut": r.report.cut,
                    "past_end": r.report.past_end,
                    "per_phase_ms": r.report.per_phase,
                    "utterances": r.utterances,
                    "model_mismatches": r.model_mismatches,
                    "outcome": r.outcome,
                    "load_mean": r.load.0,
                    "load_max": r.load.1,
                    "secs": r.secs,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "bin": bin, "runs": all }))?
        );
    }
    Ok(())
}

fn print_run(r: &Run) {
    println!(
        "tempo {} s: {} phases, breath-cue start lateness (ms) {}",
        r.tempo,
        r.report.phases,
        stats::line(&r.report.lateness)
    );
    println!(
        "  dropped {}  cut {}  ran past the phase {}  ({} utterances, {} off the model; {}; load avg 1 min mean {:.2} max {:.2}; {:.0} s)",
        r.report.dropped,
        r.report.cut,
        r.report.past_end,
        r.utterances,
        r.model_mismatches,
        r.outcome,
        r.load.0,
        r.load.1,
        r.secs
    );
    let each: Vec<String> = r
        .report
        .per_phase
        .iter()
        .map(|l| l.map_or_else(|| "dropped".to_string(), |l| format!("{l:.0}")))
        .collect();
    println!("  per phase (ms late): {}", each.join(" "));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(text: &str, start: u64, end: Option<u64>) -> Said {
        Said {
            text: text.into(),
            start,
            expected: 0,
            rate: 1.0,
            end,
        }
    }

    #[test]
    fn the_log_pairs_each_end_with_its_start_and_a_killed_one_has_none() {
        let log = "start\t100\t900\t175\ta, b\nstart\t300\t500\t210\tc\nend\t800\tc\n";
        let s = parse_said(log).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].start, s[0].expected, s[0].end), (100, 900, None));
        assert_eq!((s[1].end, s[1].rate), (Some(800), 1.2));
        assert!(parse_said("end\t1\tnever\n").is_err());
    }

    #[test]
    fn lateness_dropped_and_cut_per_phase() {
        let phases = vec![
            PhaseSpan {
                start: 1000,
                end: 3000,
                forms: vec!["in".into()],
            },
            PhaseSpan {
                start: 3000,
                end: 5000,
                forms: vec!["out".into()],
            },
            PhaseSpan {
                start: 5000,
                end: 7000,
                forms: vec!["in".into()],
            },
        ];
        let said = vec![
            said("a note", 900, Some(2000)),
            // Phase 1's cue, whole.
            said("in", 1040, Some(1800)),
            // Phase 2's cue starts after its phase: dropped.
            said("out", 5100, Some(5500)),
            // Phase 3's cue, killed.
            said("in", 5010, None),
        ];
        let r = assess(&phases, &said);
        assert_eq!(r.phases, 3);
        assert_eq!(r.lateness, vec![40.0, 10.0]);
        assert_eq!((r.dropped, r.cut, r.past_end), (1, 1, 0));
    }

    #[test]
    fn the_stand_in_takes_as_long_as_the_speech_model_with_either_argument_form() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("said.log");
        let bin = stand_in_with(dir.path(), &log, None).unwrap();
        let say = |args: &[&str]| {
            let ok = Command::new(bin.join("espeak-ng"))
                .args(args)
                .status()
                .unwrap()
                .success();
            assert!(ok);
        };
        say(&["--", "in, to 2 necks. Ok"]);
        say(&["-s", "262", "--", "out"]);
        let said = parse_said(&std::fs::read_to_string(&log).unwrap()).unwrap();
        assert_eq!(said.len(), 2);
        for s in &said {
            assert_eq!(s.expected, estimate_ms(&s.text, s.rate), "{}", s.text);
            let took = s.end.unwrap() - s.start;
            assert!(took + 50 >= s.expected, "{s:?}");
        }
        assert_eq!(said[1].rate, 262.0 / 175.0);
    }
}
