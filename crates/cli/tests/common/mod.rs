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

use rollcoach_store::{PersonId, Records};
use rollcoach_store_sqlite::SqliteRecords;

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

    /// The database, opened directly: the owner's records.
    pub fn store(&self) -> OwnerStore {
        OwnerStore(SqliteRecords::open(self.db()).unwrap())
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

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends it `signal` (`TERM`, `INT`, with `kill`) and waits for it to end.
    pub fn signal_and_wait(mut self, signal: &str) -> ExitStatus {
        let sent = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{signal}");
        self.child.wait().unwrap()
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

/// The owner's records in a test's database, read as the tests check them.
#[allow(dead_code)] // not every test file uses every reader
pub struct OwnerStore(pub SqliteRecords);

#[allow(dead_code)]
impl OwnerStore {
    /// Opens the database at `path`.
    pub fn open(path: impl AsRef<std::path::Path>) -> rollcoach_store::Result<OwnerStore> {
        SqliteRecords::open(path).map(OwnerStore)
    }

    /// The owner's sessions, newest first (at most `limit`).
    pub fn history(
        &self,
        limit: Option<usize>,
    ) -> rollcoach_store::Result<Vec<rollcoach_store::SessionRecord>> {
        self.0
            .history_page(&PersonId::owner(), limit.unwrap_or(usize::MAX >> 1), None)
    }

    /// The sessions that have not ended, oldest first.
    pub fn unfinished(&self) -> rollcoach_store::Result<Vec<rollcoach_store::SessionRecord>> {
        let mut live: Vec<_> = self
            .history(None)?
            .into_iter()
            .filter(|s| s.outcome.is_none())
            .collect();
        live.reverse();
        Ok(live)
    }

    /// One session.
    pub fn session(&self, uid: &str) -> rollcoach_store::Result<rollcoach_store::SessionRecord> {
        self.0.session(&PersonId::owner(), uid)
    }

    /// A session's event log.
    pub fn events(&self, uid: &str) -> rollcoach_store::Result<Vec<rollcoach_store::Event>> {
        self.0.events(&PersonId::owner(), uid)
    }

    /// The protocol a session ran.
    pub fn protocol_snapshot(
        &self,
        uid: &str,
    ) -> rollcoach_store::Result<rollcoach_protocol::Protocol> {
        let json = self.0.protocol_json(&PersonId::owner(), uid)?;
        rollcoach_store::codec::from_json(&json, uid, "protocol snapshot")
    }

    /// How many sessions the owner has.
    pub fn session_count(&self) -> rollcoach_store::Result<u64> {
        self.0.session_count(&PersonId::owner())
    }

    /// Logs an injury for the owner, as the store takes it (no checks).
    pub fn add_injury(
        &self,
        area: &str,
        at: rollcoach_engine::Time,
        note: Option<&str>,
        created_at: rollcoach_engine::Time,
    ) -> rollcoach_store::Result<rollcoach_store::Injury> {
        self.0.add_injury(
            &PersonId::owner(),
            &rollcoach_store::NewInjury {
                area: area.to_owned(),
                at,
                note: note.map(str::to_owned),
                created_at,
            },
        )
    }

    /// The owner's injuries.
    pub fn list_injuries(&self) -> rollcoach_store::Result<Vec<rollcoach_store::Injury>> {
        self.0.list_injuries(&PersonId::owner())
    }

    /// The process driving a live session.
    pub fn driver_pid(&self, uid: &str) -> Option<u32> {
        self.0.driver_pid(uid).ok().flatten()
    }
}

/// The export of a session left live on another machine, 2 reps in (its
/// driver died mid-rep 3), started 2026-11-24T20:00:00Z: no process here
/// runs it, so the first command after importing it recovers it.
#[allow(dead_code)] // not every test file imports it
pub fn live_session_from_elsewhere() -> rollcoach_store::ExportDocument {
    use rollcoach_engine::{Input, Options, Time};
    use rollcoach_store::{NewSession, SessionLog};
    use rollcoach_testkit::{Autopilot, Plan};

    let elsewhere = SqliteRecords::open_in_memory().unwrap();
    let protocol = rollcoach_testkit::protocol("upper-back");
    let start = Time(1_795_550_400_000); // 2026-11-24T20:00:00Z
    let id = elsewhere
        .begin_session(&NewSession {
            protocol: &protocol,
            options: &Options::default(),
            facts: &Default::default(),
            started_at: start,
        })
        .unwrap();
    let steps = protocol.setup.len() as u64;
    let mut pilot = Autopilot::start(protocol, Plan::default(), start)
        .unwrap()
        .sink(|entries| {
            for e in entries {
                elsewhere
                    .append_event(id, e.seq, e.at_ms, &e.input)
                    .unwrap();
            }
        });
    // The three answers at 1 s; one ready per setup step, the last at 5 s.
    for _ in 0..3 {
        let answer = pilot.take_reply().expect("a question");
        pilot.offer(answer, start.plus_ms(1_000)).unwrap();
    }
    for i in 0..steps {
        assert_eq!(pilot.take_reply(), Some(Input::Ready));
        let at = start.plus_ms(6_000 - (steps - i) * 1_000);
        pilot.offer(Input::Ready, at).unwrap();
    }
    // Two reps of two 4 s phases each, then the driver died mid-rep 3.
    for _ in 0..4 {
        assert!(pilot.wait().unwrap());
    }
    let crashed = pilot.crash();
    assert_eq!(crashed.runner.session().reps_done(), 2);
    rollcoach_store::export(&elsewhere, &PersonId::owner(), start).unwrap()
}

/// Whether the tests run as root, who may write any file whatever its mode.
pub fn is_root(env: &TestEnvironment) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(env.root()).unwrap().uid() == 0
}

/// `rollcoach ARGS` as an ordinary user: as is when the tests are not root;
/// as `nobody` (through util-linux's setpriv) when they are, so that file
/// modes apply. The test directory is opened to others so that `nobody` can
/// reach it.
pub fn unprivileged(env: &TestEnvironment, args: &[&str]) -> Command {
    if !is_root(env) {
        return env.command(args);
    }
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(env.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let setpriv = Path::new("/usr/bin/setpriv");
    assert!(
        setpriv.exists(),
        "running as root: these tests need /usr/bin/setpriv (util-linux) to run rollcoach as an ordinary user"
    );
    let mut all = vec![
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        env!("CARGO_BIN_EXE_rollcoach"),
    ];
    all.extend_from_slice(args);
    let mut cmd = Command::new(setpriv);
    cmd.args(all)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    env.pin(&mut cmd);
    cmd
}
