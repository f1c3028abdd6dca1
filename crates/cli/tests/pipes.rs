//! Output into a pipe that closes early (`rollcoach ... | head -1`) ends the
//! program quietly: no panic message, exit 0.

use std::process::{Command, Stdio};

fn closed_pipe_run(args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollcoach"))
        .args(args)
        .env("ROLLCOACH_DB", dir.path().join("r.db"))
        .env("ROLLCOACH_PROTOCOLS", dir.path().join("protocols"))
        .env("ROLLCOACH_NOW", "2026-11-25T10:00:00Z")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before the program writes anything.
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_pipe_ends_protocols_show_quietly() {
    let out = closed_pipe_run(&["protocols", "show", "upper-back", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
}

#[test]
fn a_closed_pipe_ends_history_quietly() {
    let out = closed_pipe_run(&["history", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
}
