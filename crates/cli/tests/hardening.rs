//! Hardening, round three (issue 24, findings 6, 7, 8, 12 and 14), through
//! the real binary: an import stopped by a signal leaves nothing; exports
//! are owner-only; a database file removed or replaced under `serve` is
//! refused for writes (503); a read-only database can still be read; two
//! servers on one database each have their own runtime file, removed on
//! SIGTERM too.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{Serve, TestEnvironment, is_root, unprivileged};
use rollcoach_engine::Time;

/// 2026-11-20T00:00:00Z: the sessions of [`big_document`] start from here.
const START: Time = Time(1_795_132_800_000);

/// An export document of `n` completed upper-back sessions (one run by the
/// test kit's autopilot, under `n` uids a minute apart) and `injuries`
/// injuries, as `rollcoach export` writes it.
fn big_document(n: usize, injuries: usize) -> String {
    use rollcoach_engine::Options;
    use rollcoach_store::{
        EXPORT_FORMAT, EXPORT_VERSION, ExportDocument, ExportedInjury, ExportedSession, FinishedRun,
    };
    use rollcoach_testkit::{Autopilot, Plan, protocol};

    let protocol = protocol("upper-back");
    let plan = Plan::default()
        .options(Options {
            reasons: vec![protocol.indications[0].id.clone()],
            ..Options::default()
        })
        .rating(Some(5));
    let mut sessions = Vec::with_capacity(n);
    for i in 0..n {
        let start = START.plus_ms(i as u64 * 60_000);
        let run = Autopilot::start(protocol.clone(), plan.clone(), start)
            .unwrap()
            .run()
            .unwrap();
        let events: Vec<rollcoach_store::Event> = run.log.iter().map(Into::into).collect();
        sessions.push(ExportedSession::finished(FinishedRun {
            uid: &format!("big-{i:06}"),
            protocol: &run.protocol,
            protocol_json: &serde_json::to_value(&*run.protocol).unwrap(),
            options: &run.options,
            facts: &run.facts,
            started_at: start,
            events: &events,
            end: run.end.as_ref().unwrap(),
        }));
    }
    let injuries = (0..injuries)
        .map(|i| ExportedInjury {
            uid: format!("injury-{i:04}"),
            area: "upper-back".to_owned(),
            at: Time(1_700_000_000_000 + i as u64 * 1_000),
            note: None,
            created_at: Time(1_700_000_000_000 + i as u64 * 1_000),
            cleared_at: Some(Time(1_700_000_100_000 + i as u64 * 1_000)),
        })
        .collect();
    let doc = ExportDocument {
        format: EXPORT_FORMAT.to_owned(),
        version: EXPORT_VERSION,
        exported_at: START.plus_ms(n as u64 * 60_000 + 3_600_000),
        sessions,
        injuries,
    };
    serde_json::to_string(&doc).unwrap()
}

/// The file mode's permission bits.
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

// Finding 7: an export, and what a killed export leaves, are owner-only.

#[test]
fn an_export_file_and_the_temporary_file_a_killed_export_leaves_are_owner_only() {
    let env = TestEnvironment::new();
    let doc = env.write_file("big.json", big_document(300, 0));
    let out = env.run(&["import", doc.to_str().unwrap()]);
    assert_eq!(out.code(), Some(0), "{}", out.all());

    // A stale temporary file, world-readable, from an older export.
    let tmp = env.path(".backup.json.tmp");
    std::fs::write(&tmp, "stale").unwrap();
    std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let out = env.run(&["export", "-o", "backup.json"]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    assert_eq!(mode(&env.path("backup.json")), 0o600);
    assert!(!tmp.exists(), "the temporary file was renamed into place");

    // An export killed mid-write (the file-size limit kills it with SIGXFSZ
    // once it has written 256 blocks, far less than the export's size) leaves
    // its temporary file: owner-only too.
    let exported = std::fs::metadata(env.path("backup.json")).unwrap().len();
    assert!(exported > 1 << 20, "the export is {exported} bytes");
    let mut cmd = Command::new("/bin/sh");
    env.pin(&mut cmd);
    cmd.arg("-c")
        .arg(format!(
            "ulimit -f 256 && exec {} export -o killed.json",
            env!("CARGO_BIN_EXE_rollcoach")
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let status = cmd.status().unwrap();
    assert!(!status.success(), "the export was killed: {status:?}");
    let left = env.path(".killed.json.tmp");
    assert!(left.exists(), "a killed export leaves its temporary file");
    assert!(!env.path("killed.json").exists());
    assert_eq!(mode(&left), 0o600);
}

/// Sends `signal` (`TERM`, `INT`) to process `pid`.
fn send(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// How many sessions the database at `db` holds, read as another process
/// would (WAL: never waits for the writer).
fn sessions_in(db: &Path) -> i64 {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
        .unwrap()
}

// Finding 6: an import stopped by a signal leaves nothing of it.

#[test]
fn an_import_stopped_by_sigterm_mid_write_leaves_nothing_and_a_rerun_imports_the_whole() {
    let env = TestEnvironment::new();
    let sessions = 1000;
    let doc = env.write_file("big.json", big_document(sessions, 3));
    // The database exists before the import, to be watched.
    assert_eq!(env.run(&["injury", "list"]).code(), Some(0));

    let mut child = env
        .command(&["import", doc.to_str().unwrap()])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    // Once the check is done and the first batches are written: SIGTERM.
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "the import ended ({status:?}) before any session was seen written: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if sessions_in(&env.db()) > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    send("TERM", child.id());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("stopped by SIGTERM") && stderr.contains("nothing was imported"),
        "{stderr}"
    );
    let store = env.store();
    assert_eq!(store.session_count().unwrap(), 0, "{stderr}");
    assert!(store.list_injuries().unwrap().is_empty());
    drop(store);

    // The same file again: the whole of it.
    let out = env.run(&["import", doc.to_str().unwrap()]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    let store = env.store();
    assert_eq!(store.session_count().unwrap(), sessions as u64);
    assert_eq!(store.list_injuries().unwrap().len(), 3);
}

// Finding 14: two servers on one database, each its own runtime file.

/// The runtime files beside the database (`rollcoach.db.serve.*`).
fn runtime_files(env: &TestEnvironment) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(env.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("rollcoach.db.serve."))
        .collect();
    names.sort();
    names
}

#[test]
fn with_two_servers_on_one_database_stopping_one_leaves_pair_the_other_and_sigterm_cleans_up() {
    let env = TestEnvironment::new();
    let lan = ["--lan", "--addr", "127.0.0.1:0"];
    let first = env.spawn_serve(&lan);
    let second = env.spawn_serve(&lan);
    let first_url = first.url().trim_end_matches('/').to_owned();
    assert_eq!(runtime_files(&env).len(), 2, "{:?}", runtime_files(&env));

    // The second stops (Ctrl-C): the first still runs, and `pair` finds it.
    let status = second.signal_and_wait("INT");
    assert!(status.success(), "{status:?}");
    assert_eq!(
        runtime_files(&env),
        [format!("rollcoach.db.serve.{}.json", first.pid())]
    );
    let out = env.run(&["pair"]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    assert!(
        out.stdout.contains(&format!("{first_url}/pair?token=")),
        "{}",
        out.stdout
    );

    // SIGTERM stops the first the same way: its file is gone too.
    let status = first.signal_and_wait("TERM");
    assert!(status.success(), "{status:?}");
    assert!(runtime_files(&env).is_empty(), "{:?}", runtime_files(&env));
    let out = env.run(&["pair"]);
    assert_eq!(out.code(), Some(2), "{}", out.all());
    assert!(
        out.stderr.contains("no `rollcoach serve` is running"),
        "{}",
        out.stderr
    );
}

// Finding 8: the database file removed or replaced under a running `serve`.

/// A whole session of the built-in upper back run as the page runs it (an
/// hour ago on the wall clock), as the JSON it pushes to
/// `POST /api/sync/sessions`.
fn session_run_on_a_page(uid: &str) -> String {
    use rollcoach_engine::Options;
    use rollcoach_store::{ExportedSession, FinishedRun};
    use rollcoach_testkit::{Autopilot, Plan, protocol};

    let protocol = protocol("upper-back");
    let plan = Plan::default()
        .options(Options {
            reasons: vec![protocol.indications[0].id.clone()],
            ..Options::default()
        })
        .rating(Some(6))
        .think_ms(900);
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let start = Time(u64::try_from(wall).unwrap() - 3_600_000);
    let run = Autopilot::start(protocol, plan, start)
        .unwrap()
        .run()
        .unwrap();
    let events: Vec<rollcoach_store::Event> = run.log.iter().map(Into::into).collect();
    let session = ExportedSession::finished(FinishedRun {
        uid,
        protocol: &run.protocol,
        protocol_json: &serde_json::to_value(&*run.protocol).unwrap(),
        options: &run.options,
        facts: &run.facts,
        started_at: start,
        events: &events,
        end: run.end.as_ref().unwrap(),
    });
    serde_json::to_string(&session).unwrap()
}

/// Pushes `body` to the server; its status line and JSON body.
fn push(serve: &Serve, body: &str) -> (String, String) {
    let addr = serve.addr();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /api/sync/sessions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         {}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        serve.auth(),
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    stream.read_to_string(&mut resp).unwrap();
    let status = resp.lines().next().unwrap_or_default().to_owned();
    let body = resp
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// The uids of the sessions in the database file at `db`.
fn uids_in(db: &Path) -> Vec<String> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut q = conn
        .prepare("SELECT uid FROM sessions ORDER BY uid")
        .unwrap();
    q.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn with_the_database_removed_or_replaced_under_serve_a_push_is_a_503_and_the_backup_stays() {
    let env = TestEnvironment::new();
    let db = env.db();
    let serve = env.spawn_serve(&["--addr", "127.0.0.1:0"]);
    let (status, body) = push(&serve, &session_run_on_a_page("before-1"));
    assert!(status.starts_with("HTTP/1.1 201"), "{status} {body}");
    // A backup of the file as it is now (what was pushed included).
    let backup = env.path("backup.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("VACUUM INTO ?1", [backup.to_str().unwrap()])
        .unwrap();

    // The files removed: refused, not "stored" into a file that is gone.
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(std::path::PathBuf::from(name));
    }
    let (status, body) = push(&serve, &session_run_on_a_page("after-removal"));
    assert!(status.starts_with("HTTP/1.1 503"), "{status} {body}");
    assert!(
        body.contains("was removed while rollcoach had it open")
            && body.contains("Restart `rollcoach serve`"),
        "{body}"
    );
    assert!(!db.exists(), "no new, empty database in its place");

    // The backup copied into place: refused too, and left as it is.
    std::fs::copy(&backup, &db).unwrap();
    let (status, body) = push(&serve, &session_run_on_a_page("after-restore"));
    assert!(status.starts_with("HTTP/1.1 503"), "{status} {body}");
    assert!(body.contains("was replaced by another file"), "{body}");
    assert!(serve.signal_and_wait("TERM").success());
    assert_eq!(uids_in(&db), ["before-1"]);

    // Restarted, the server takes pushes into the file that is there now.
    let serve = env.spawn_serve(&["--addr", "127.0.0.1:0"]);
    let (status, body) = push(&serve, &session_run_on_a_page("after-restore"));
    assert!(status.starts_with("HTTP/1.1 201"), "{status} {body}");
    assert!(serve.signal_and_wait("TERM").success());
    assert_eq!(uids_in(&db), ["after-restore", "before-1"]);
}

// Finding 12: a read-only database can still be read.

/// Sets `path`'s permission bits.
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_0400_database_in_a_0500_directory_left_by_a_killed_server_can_be_read_and_exported() {
    let env = TestEnvironment::new();
    let dir = env.path("rescue");
    std::fs::create_dir(&dir).unwrap();
    let db = dir.join("rollcoach.db");
    let db_arg = db.to_str().unwrap().to_owned();
    let with_db = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--db".to_owned(), db_arg.clone()];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        all
    };
    let add = env.run(&with_db(&[
        "injury",
        "add",
        "--area",
        "upper-back",
        "--at",
        "2h ago",
    ]));
    assert_eq!(add.code(), Some(0), "{}", add.all());
    // A server holds the file while a second injury is logged, then is
    // killed outright: that injury is only in the -wal file it leaves.
    let serve = env.spawn_serve(&["--db", &db_arg, "--addr", "127.0.0.1:0"]);
    let add = env.run(&with_db(&[
        "injury",
        "add",
        "--area",
        "upper-back",
        "--at",
        "1h ago",
    ]));
    assert_eq!(add.code(), Some(0), "{}", add.all());
    serve.stop();
    let wal = dir.join("rollcoach.db-wal");
    assert!(
        std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0),
        "the killed server left its WAL"
    );

    // The person's own files, read-only: the file 0400, its directory 0500.
    // As root, the files are given to `nobody`, who runs the commands (root
    // would write them whatever their mode).
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for f in files.iter().chain([&dir]) {
        if is_root(&env) {
            std::os::unix::fs::chown(f, Some(65534), Some(65534)).unwrap();
        }
        chmod(f, if f == &dir { 0o500 } else { 0o400 });
    }
    let run = |args: &[&str]| {
        let all = with_db(args);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let out = unprivileged(&env, &all).output().unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, stdout, stderr) = run(&["injury", "list", "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let injuries: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(injuries.as_array().map(Vec::len), Some(2), "{injuries}");
    let (code, _, stderr) = run(&["history"]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stdout, stderr) = run(&["export"]);
    assert_eq!(code, Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["injuries"].as_array().map(Vec::len), Some(2), "{doc}");

    // A write says why, once, and writes nothing.
    let (code, _, stderr) = run(&["injury", "add", "--area", "upper-back"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("cannot write the database")
            && stderr.contains("opened read-only")
            && stderr.contains("--db PATH"),
        "{stderr}"
    );
    let (_, stdout, _) = run(&["injury", "list", "--json"]);
    let injuries: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(injuries.as_array().map(Vec::len), Some(2), "{injuries}");
    // So the temporary directory can be removed by a user who is not root.
    chmod(&dir, 0o700);
}
