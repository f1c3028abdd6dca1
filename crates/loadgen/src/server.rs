//! A real `rollcoach serve` on loopback, started and stopped by the tool;
//! resident memory from `/proc`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, bail};

/// The `rollcoach` binary: `given`, or the one beside this tool
/// (`target/release/rollcoach` next to `target/release/rollcoach-load`).
pub fn rollcoach_bin(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = match given {
        Some(p) => p.to_path_buf(),
        None => std::env::current_exe()
            .context("cannot find this program's path")?
            .with_file_name("rollcoach"),
    };
    if !path.is_file() {
        bail!(
            "no rollcoach binary at {}\n  = hint: build it first: cargo build --release -p rollcoach -p rollcoach-load, or pass --rollcoach PATH",
            path.display()
        );
    }
    Ok(path)
}

/// A `rollcoach serve` child process, killed when dropped.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The token of the link it printed, for `Authorization: Bearer`.
    pub token: Option<String>,
}

/// How to start the server.
#[derive(Debug, Clone)]
pub struct ServeOptions<'a> {
    /// The `rollcoach` binary.
    pub bin: &'a Path,
    /// Its database file.
    pub db: &'a Path,
    /// `--speed`.
    pub speed: f64,
    /// `--protocols-dir`, if any.
    pub protocols_dir: Option<&'a Path>,
}

impl Server {
    /// Starts `rollcoach serve` on a free loopback port and waits (at most
    /// 20 s) for the line that says where it listens.
    pub fn spawn(opts: &ServeOptions<'_>) -> anyhow::Result<Server> {
        let mut cmd = Command::new(opts.bin);
        cmd.arg("--db").arg(opts.db);
        if let Some(dir) = opts.protocols_dir {
            cmd.arg("--protocols-dir").arg(dir);
        }
        cmd.args(["serve", "--addr", "127.0.0.1:0"])
            .arg("--speed")
            .arg(opts.speed.to_string())
            .env_remove("ROLLCOACH_NOW")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", opts.bin.display()))?;
        let stdout = child.stdout.take().context("no stdout from the server")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep reading after the banner so the server never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = serving_addr(&line) {
                    let _ = tx.send((addr, crate::http::url_token(&line)));
                }
            }
        });
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            token: None,
        };
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok((addr, token)) => {
                server.addr = addr;
                server.token = token;
            }
            Err(_) => {
                let status = server.child.try_wait().ok().flatten();
                bail!(
                    "rollcoach serve did not say where it listens within 20 s (exit status: {status:?})"
                );
            }
        }
        Ok(server)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's resident memory in KiB, now.
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in the banner line `rollcoach serving on http://127.0.0.1:PORT/?token=...`.
pub fn serving_addr(line: &str) -> Option<SocketAddr> {
    let rest = line.strip_prefix("rollcoach serving on http://")?;
    rest.split('/').next()?.parse().ok()
}

/// CPU time (user + system) a process has used, in clock ticks
/// (`/proc/PID/stat` fields 14 and 15; `getconf CLK_TCK` is 100 on Linux).
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    cpu_ticks_of(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// utime + stime from the text of `/proc/PID/stat` (the command name, in
/// parentheses, may hold spaces: fields are counted after its `)`).
pub fn cpu_ticks_of(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: field 3 (state) is index 0, so 14 and 15 are 11 and 12.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Resident memory (`VmRSS`) of a process in KiB, from `/proc/PID/status`.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    vm_rss_kib(&status)
}

/// `VmRSS` in KiB from the text of `/proc/PID/status`.
pub fn vm_rss_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Raises this process's open-file limit to at least `want` (up to the hard
/// limit) and returns the soft limit now in force; children inherit it.
pub fn raise_nofile(want: u64) -> anyhow::Result<u64> {
    let (soft, hard) = rlimit::Resource::NOFILE
        .get()
        .context("cannot read the open-file limit")?;
    if soft >= want {
        return Ok(soft);
    }
    let new = want.min(hard);
    rlimit::Resource::NOFILE
        .set(new, hard)
        .with_context(|| format!("cannot raise the open-file limit from {soft} to {new}"))?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_gives_the_address() {
        assert_eq!(
            serving_addr("rollcoach serving on http://127.0.0.1:41234/"),
            Some("127.0.0.1:41234".parse().unwrap())
        );
        assert_eq!(
            serving_addr("rollcoach serving on http://127.0.0.1:41234/?token=ab12"),
            Some("127.0.0.1:41234".parse().unwrap())
        );
        assert_eq!(
            serving_addr("Open it in a browser on this machine; Ctrl-C stops."),
            None
        );
    }

    #[test]
    fn cpu_ticks_are_read_after_the_command_name() {
        let stat = "4141 (rollcoach serve) S 1 4141 1 0 -1 4194560 900 0 0 0 250 37 0 0 20 0 4 0";
        assert_eq!(cpu_ticks_of(stat), Some(287));
        assert_eq!(cpu_ticks_of("12 (x) S 1"), None);
        assert!(cpu_ticks(std::process::id()).is_some());
    }

    #[test]
    fn vm_rss_is_read_from_proc_status() {
        let status =
            "Name:\trollcoach\nVmPeak:\t  20000 kB\nVmRSS:\t    7312 kB\nRssAnon:\t 3000 kB\n";
        assert_eq!(vm_rss_kib(status), Some(7312));
        assert_eq!(vm_rss_kib("Name:\tx\n"), None);
        // This test process is alive and has some resident memory.
        assert!(rss_kib(std::process::id()).is_some_and(|k| k > 0));
    }
}
