//! Pain -> stop in the real full-screen terminal session: `rollcoach run`
//! in a pseudo-terminal (`script` from util-linux gives it one, as the
//! terminal tests do), keys typed as a person types them, the screen read
//! as it is drawn. The latency is from the pain key written to the terminal
//! until the end screen (drawn after the input is logged and the session
//! stopped) has come back through it.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A word only the end screen shows ("stopped (sharp or radiating
/// feeling)"); one word, since the terminal is sent only the cells that
/// changed, and a space kept from the screen before is skipped.
const END_MARK: &str = "stopped";
/// Text the rolling screen shows ("Roll out toward the neck: 1.2 s").
const ROLLING_MARK: &str = "toward the";
/// Text of the pain menu.
const PAIN_MENU_MARK: &str = "radiating";

/// `rollcoach ARGS` in a pseudo-terminal, its screen read as it comes.
struct Pty {
    script: Child,
    keys: Option<ChildStdin>,
    screen: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
}

impl Pty {
    fn start(bin: &Path, db: &Path, args: &[&str]) -> anyhow::Result<Pty> {
        let line = format!(
            // A size, or nothing is drawn (script's terminal has none).
            "stty cols 100 rows 30; {} --db {} {}",
            bin.display(),
            db.display(),
            args.join(" ")
        );
        let mut script = Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .env("TERM", "xterm")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context(
                "`script` (util-linux, Debian's bsdutils) runs the session in a pseudo-terminal",
            )?;
        let keys = script.stdin.take();
        let mut out = script.stdout.take().context("no screen")?;
        let screen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&screen);
        // Read the screen all along: a full pipe would hold the session up.
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut s) = sink.lock() {
                    s.extend_from_slice(&buf[..n]);
                }
            }
        });
        Ok(Pty {
            script,
            keys,
            screen,
            reader: Some(reader),
        })
    }

    fn keys(&mut self, keys: &[u8]) -> anyhow::Result<()> {
        let k = self.keys.as_mut().context("the terminal is closed")?;
        k.write_all(keys)?;
        k.flush()?;
        Ok(())
    }

    fn shown(&self) -> usize {
        self.screen.lock().map(|s| s.len()).unwrap_or(0)
    }

    fn shows_since(&self, from: usize, text: &str) -> bool {
        self.screen
            .lock()
            .map(|s| {
                s.get(from..)
                    .is_some_and(|s| String::from_utf8_lossy(s).contains(text))
            })
            .unwrap_or(false)
    }

    /// Polls every millisecond until `text` is shown after `from`.
    fn wait_for(&self, from: usize, text: &str, limit: Duration) -> anyhow::Result<()> {
        let start = Instant::now();
        while !self.shows_since(from, text) {
            if start.elapsed() > limit {
                bail!("the terminal did not show {text:?} within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        self.keys.take();
        let _ = self.script.kill();
        let _ = self.script.wait();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// One full-screen session on `db` at tempo 2 (the shortest the protocol allows):
/// three "no" to the safety questions, a rating, Enter through the setup,
/// then in its rolling the pain key (`p`, which pauses at once and opens the
/// menu of kinds) and "radiating, sharp" (`r`).
/// Returns the milliseconds from that key to the end screen.
pub fn pain_to_stop(bin: &Path, db: &Path) -> anyhow::Result<f64> {
    let mut pty = Pty::start(
        bin,
        db,
        &[
            "run",
            "upper-back",
            "--reason",
            "soreness",
            "--voice",
            "off",
            "--tempo",
            "2",
            "--reps",
            "8",
        ],
    )?;
    for k in [b"n", b"n", b"n", b"5"] {
        pty.keys(k)?;
        std::thread::sleep(Duration::from_millis(150));
    }
    let from = pty.shown();
    for _ in 0..8 {
        pty.keys(b"\r")?;
        std::thread::sleep(Duration::from_millis(100));
        if pty.shows_since(from, ROLLING_MARK) {
            break;
        }
    }
    pty.wait_for(from, ROLLING_MARK, Duration::from_secs(20))?;
    std::thread::sleep(Duration::from_millis(300));
    let menu = pty.shown();
    pty.keys(b"p")?;
    pty.wait_for(menu, PAIN_MENU_MARK, Duration::from_secs(10))?;
    let before = pty.shown();
    let t = Instant::now();
    pty.keys(b"r")?;
    pty.wait_for(before, END_MARK, Duration::from_secs(20))?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    // Leave (any offer after the stop is declined by leaving).
    let _ = pty.keys(b"x");
    Ok(ms)
}
