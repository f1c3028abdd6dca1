//! Whether the process that drives a live session is still running.

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
