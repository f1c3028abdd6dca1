//! Whether the process that drives a live session is still running.
//!
//! Nothing here is about a particular backend: a backend records
//! [`Driver::this_process`] with each session it begins and gives it back in
//! [`crate::LiveSession::driver`]; recovery asks [`Driver::alive`].

/// The process that drives a live session: its pid, and its start time so
/// that a reused pid is not taken for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Driver {
    /// The process id.
    pub(crate) pid: u32,
    /// Its start time (field 22 of `/proc/PID/stat`, clock ticks since
    /// boot); `None` where that cannot be read (non-Linux).
    pub(crate) started: Option<String>,
}

impl Driver {
    /// This process.
    pub(crate) fn this_process() -> Driver {
        let pid = std::process::id();
        Driver {
            pid,
            started: process_start(pid),
        }
    }

    /// Whether this process is still running. Off Linux there is no cheap,
    /// safe way to tell, so it is assumed alive and its session is left alone.
    pub(crate) fn alive(&self) -> bool {
        alive(Some(self.pid), self.started.as_deref())
    }
}

/// The start time of process `pid` (field 22 of `/proc/PID/stat`, clock
/// ticks since boot), used with the pid to tell a reused pid from the
/// original process. `None` if the process does not exist, is a zombie, or
/// this is not Linux.
pub(crate) fn process_start(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ...`: comm may hold spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
    let state = *fields.first()?;
    if state == "Z" || state == "X" {
        return None;
    }
    fields.get(19).map(|s| (*s).to_owned())
}

/// Whether the owner of a live session is still running. A session without
/// an owner (imported) has none running. Off Linux there is no cheap,
/// safe way to tell, so the owner is assumed alive and the session is left
/// alone.
pub(crate) fn alive(pid: Option<u32>, started: Option<&str>) -> bool {
    let Some(pid) = pid else {
        return false;
    };
    if cfg!(target_os = "linux") {
        match process_start(pid) {
            None => false,
            // Same pid, other start time: the pid was reused by another process.
            Some(now) => started.is_none_or(|s| s == now),
        }
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_process_is_alive_and_a_killed_one_is_not_even_before_it_is_reaped() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let start = process_start(pid);
        if cfg!(target_os = "linux") {
            assert!(start.is_some());
            assert!(alive(Some(pid), start.as_deref()));
            assert!(
                !alive(Some(pid), Some("0")),
                "same pid, other start: reused"
            );
        }
        child.kill().unwrap();
        // Not waited for yet: a zombie, which is as dead as a session owner gets.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while alive(Some(pid), start.as_deref()) && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        if cfg!(target_os = "linux") {
            assert!(!alive(Some(pid), start.as_deref()));
        }
        child.wait().unwrap();
        assert!(!alive(None, None), "no owner: nobody runs it");
    }

    #[test]
    fn this_process_is_alive() {
        assert!(Driver::this_process().alive());
    }
}
