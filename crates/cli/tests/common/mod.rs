//! The one test environment of the CLI tests, in the style of jj's
//! `TestEnvironment`: every test runs the real `rollcoach` binary in a
//! temporary directory, with an environment that belongs to the test and
//! nothing inherited from the person running the tests.
//!
//! Pinned for every command (see [`TestEnvironment::command`]):
//! - the database: `ROLLCOACH_DB` = `<dir>/rollcoach.db` ([`TestEnvironment::db`]);
//! - user protocols: `ROLLCOACH_PROTOCOLS` = `<dir>/protocols`, created empty;
//! - `HOME`, `XDG_CONFIG_HOME`, `XDG_DATA_HOME` inside the directory;
//! - "now": `ROLLCOACH_NOW` ([`DEFAULT_NOW`] unless [`TestEnvironment::with_now`]);
//! - local time: `TZ` ([`DEFAULT_TZ`] unless [`TestEnvironment::with_tz`]);
//! - no espeak-ng: `PATH` is an empty directory;
//! - `NO_COLOR=1`, and the working directory is the temporary directory.
//!
//! Outputs come back as a [`CommandOutput`] with the temporary directory
//! shown as `[DIR]`, so they snapshot the same on every machine.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

use rollcoach_store_sqlite::SqliteStore;

/// 2026-11-25T10:00:00Z, "now" unless a test says otherwise.
pub const DEFAULT_NOW: &str = "2026-11-25T10:00:00Z";
/// Local time unless a test says otherwise.
pub const DEFAULT_TZ: &str = "UTC";
/// How the temporary directory appears in a [`CommandOutput`].
pub const DIR: &str = "[DIR]";

/// A temporary directory and the pinned environment the binary runs in.
pub struct TestEnvironment {
    dir: tempfile::TempDir,
    now: String,
    tz: String,
}

impl Default for TestEnvironment {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEnvironment {
    /// A new, empty environment: no database yet, an empty protocols directory.
    pub fn new() -> TestEnvironment {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["protocols", "bin", "config", "data"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        TestEnvironment {
            dir,
            now: DEFAULT_NOW.to_owned(),
            tz: DEFAULT_TZ.to_owned(),
        }
    }

    /// The same environment with another pinned "now" (RFC 3339).
    pub fn with_now(mut self, now: &str) -> TestEnvironment {
        self.now = now.to_owned();
        self
    }

    /// The same environment with another local time zone (a `TZ` value).
    pub fn with_tz(mut self, tz: &str) -> TestEnvironment {
        self.tz = tz.to_owned();
        self
    }

    /// The temporary directory.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the temporary directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }

    /// The database every command uses.
    pub fn db(&self) -> PathBuf {
        self.path("rollcoach.db")
    }

    /// The user protocols directory.
    pub fn protocols_dir(&self) -> PathBuf {
        self.path("protocols")
    }

    /// The database, opened directly.
    pub fn store(&self) -> SqliteStore {
        SqliteStore::open(self.db()).unwrap()
    }

    /// Writes `content` to `name` in the temporary directory; returns its path.
    pub fn write_file(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// Writes a protocol file `name` into the user protocols directory; returns its path.
    pub fn write_protocol(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.protocols_dir().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// How `path` (inside the temporary directory) appears in a [`CommandOutput`].
    pub fn shown(&self, path: &Path) -> String {
        redact(&path.display().to_string(), self.root())
    }

    /// Puts the pinned environment on `cmd` (any program, e.g. one that runs
    /// rollcoach in a pseudo-terminal).
    pub fn pin(&self, cmd: &mut Command) {
        cmd.current_dir(self.root())
            .env_clear()
            .env("HOME", self.root())
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("PATH", self.path("bin"))
            .env("ROLLCOACH_DB", self.db())
            .env("ROLLCOACH_PROTOCOLS", self.protocols_dir())
            .env("ROLLCOACH_NOW", &self.now)
            .env("TZ", &self.tz)
            .env("NO_COLOR", "1");
    }

    /// `rollcoach ARGS` in the pinned environment, stdin, stdout and stderr
    /// piped, not started: for a test that adds to the environment or drives
    /// the process itself.
    pub fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollcoach"));
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.pin(&mut cmd);
        cmd
    }

    /// Runs `rollcoach ARGS` with nothing on stdin.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> CommandOutput {
        self.run_with_stdin(args, "")
    }

    /// Runs `rollcoach ARGS` with `stdin` (then end of input) on stdin.
    pub fn run_with_stdin<S: AsRef<OsStr>>(&self, args: &[S], stdin: &str) -> CommandOutput {
        self.run_command(self.command(args), stdin)
    }

    /// Runs `cmd` (from [`Self::command`]) with `stdin` on stdin and waits for it.
    pub fn run_command(&self, mut cmd: Command, stdin: &str) -> CommandOutput {
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = |b: Vec<u8>| redact(&String::from_utf8(b).unwrap(), self.root());
        CommandOutput {
            stdout: text(out.stdout),
            stderr: text(out.stderr),
            status: out.status,
        }
    }

    /// `rollcoach run upper-back --speed max ARGS` with `script` on stdin: a
    /// whole session on the virtual clock.
    pub fn run_session(&self, args: &[&str], script: &str) -> CommandOutput {
        let mut all = vec!["run", "upper-back", "--speed", "max"];
        all.extend_from_slice(args);
        self.run_with_stdin(&all, script)
    }

    /// Starts `rollcoach serve ARGS` and waits for the URL it prints first.
    pub fn spawn_serve(&self, args: &[&str]) -> Serve {
        let mut all = vec!["serve"];
        all.extend_from_slice(args);
        let mut child = self
            .command(&all)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Killed on every path from here, a failed assertion included.
        let mut serve = Serve {
            child,
            url: None,
            printed: None,
            output: None,
        };
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let printed = line
            .split_whitespace()
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_owned();
        // The base, without the loopback link's `?token=...`.
        let url = match printed.split_once('?') {
            Some((base, _)) => base.to_owned(),
            None => printed.clone(),
        };
        serve.url = Some(url);
        serve.printed = Some(printed);
        // The rest of what it prints, read as it comes (it never blocks on a full pipe).
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in reader.lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        serve.output = Some(rx);
        serve
    }
}

/// Replaces the temporary directory with [`DIR`].
fn redact(text: &str, root: &Path) -> String {
    text.replace(&root.display().to_string(), DIR)
}

/// What a finished command printed, and how it exited.
#[derive(Debug)]
pub struct CommandOutput {
    /// Standard output, the temporary directory shown as `[DIR]`.
    pub stdout: String,
    /// Standard error, the temporary directory shown as `[DIR]`.
    pub stderr: String,
    /// How it exited.
    pub status: ExitStatus,
}

impl CommandOutput {
    /// The exit code (`None` when ended by a signal).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// The whole run, for a snapshot.
    pub fn all(&self) -> String {
        format!(
            "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code(),
            self.stdout,
            self.stderr
        )
    }

    /// The exit code, the last `n` lines of stdout, and stderr.
    pub fn tail(&self, n: usize) -> String {
        let lines: Vec<&str> = self.stdout.lines().collect();
        let tail = lines[lines.len().saturating_sub(n)..].join("\n");
        format!(
            "exit: {:?}\n--- stdout (last {n} lines)\n{tail}\n--- stderr\n{}",
            self.code(),
            self.stderr
        )
    }
}

/// A running `rollcoach serve`; killed when dropped.
pub struct Serve {
    child: Child,
    url: Option<String>,
    printed: Option<String>,
    output: Option<std::sync::mpsc::Receiver<String>>,
}

impl Serve {
    /// The base URL it serves at, e.g. `http://127.0.0.1:34567/` (without
    /// the `?token=...` of the loopback link it printed).
    pub fn url(&self) -> &str {
        self.url.as_deref().unwrap()
    }

    /// The URL on its first line as printed: on loopback the link that lets
    /// a browser in (`http://127.0.0.1:34567/?token=...`).
    pub fn printed_url(&self) -> &str {
        self.printed.as_deref().unwrap()
    }

    /// The token of the loopback link, if it printed one.
    pub fn token(&self) -> Option<&str> {
        self.printed_url().split_once("?token=").map(|(_, t)| t)
    }

    /// `Authorization: Bearer TOKEN\r\n` for a raw request, or nothing
    /// without a token (LAN mode).
    pub fn auth(&self) -> String {
        self.token()
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default()
    }

    /// The next line it prints after the first, waiting up to 10 s.
    pub fn next_line(&self) -> Option<String> {
        self.output
            .as_ref()?
            .recv_timeout(std::time::Duration::from_secs(10))
            .ok()
    }

    /// `host:port` of [`Self::url`].
    pub fn addr(&self) -> &str {
        self.url()
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .split('/')
            .next()
            .unwrap()
    }

    /// Stops the server and waits for it.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The export of a session left live on another machine, 2 reps in (its
/// driver died mid-rep 3), started 2026-11-24T20:00:00Z: no process here
/// runs it, so the first command after importing it recovers it.
#[allow(dead_code)] // not every test file imports it
pub fn live_session_from_elsewhere() -> rollcoach_store::ExportDocument {
    use rollcoach_engine::{Facts, Input, Options, Time};
    use rollcoach_protocol::Answer;
    use rollcoach_store::{NewSession, Store};

    let elsewhere = SqliteStore::open_in_memory().unwrap();
    let protocol = rollcoach_protocol::builtin().remove(0);
    let start = Time(1_795_550_400_000); // 2026-11-24T20:00:00Z
    let id = elsewhere
        .begin_session(&NewSession {
            protocol: &protocol,
            options: &Options::default(),
            facts: &Facts::default(),
            started_at: start,
        })
        .unwrap();
    let mut inputs = vec![(1_000, Input::Answer { answer: Answer::No }); 3];
    // One ready per setup step, the last at 5 s.
    let steps = protocol.setup.len() as u64;
    inputs.extend((0..steps).map(|i| (6_000 - (steps - i) * 1_000, Input::Ready)));
    // Two reps of two 4 s phases each, then the driver died mid-rep 3.
    inputs.extend((1..=4).map(|i| (5_000 + i * 4_000, Input::Timeout)));
    for (seq, (at, input)) in inputs.iter().enumerate() {
        elsewhere
            .append_event(id, u32::try_from(seq).unwrap(), *at, input)
            .unwrap();
    }
    elsewhere.export(start).unwrap()
}
