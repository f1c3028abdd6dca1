//! Output into a pipe that closes early (`rollcoach ... | head -1`) ends the
//! program quietly: no panic message, exit 0.

mod common;

use common::TestEnvironment;

fn closed_pipe_run(args: &[&str]) -> std::process::Output {
    let env = TestEnvironment::new();
    let mut child = env.command(args).spawn().unwrap();
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
