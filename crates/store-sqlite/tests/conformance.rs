//! The store's conformance suite (`rollcoach-store-conformance`) on
//! SQLite: every property of the records, of the local log and of the
//! people, on a store
//! in memory and on a file in a temporary directory.

use std::sync::Arc;

use rollcoach_store_conformance::{log_suite, people_suite, records_suite};
use rollcoach_store_sqlite::SqliteRecords;

/// A fresh store on a file of its own, in cargo's directory for test
/// files: named by the test and a count, so that running the tests again
/// replaces the files of the last run (the suite's constructors cannot keep
/// a temporary directory alive for as long as the store they return).
fn on_file() -> Arc<SqliteRecords> {
    thread_local!(static COUNT: std::cell::Cell<u32> = const { std::cell::Cell::new(0) });
    let test = std::thread::current()
        .name()
        .unwrap_or("test")
        .replace("::", "-");
    let n = COUNT.replace(COUNT.get() + 1);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance");
    std::fs::create_dir_all(&dir).expect("the test directory");
    let path = dir.join(format!("{test}-{n}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
    Arc::new(SqliteRecords::open(path).expect("a store on a file"))
}

fn in_memory() -> Arc<SqliteRecords> {
    Arc::new(SqliteRecords::open_in_memory().expect("a store in memory"))
}

mod records_in_memory {
    super::records_suite!(super::in_memory);
}

mod records_on_a_file {
    super::records_suite!(super::on_file);
}

mod log_in_memory {
    super::log_suite!(super::in_memory);
}

mod log_on_a_file {
    super::log_suite!(super::on_file);
}

mod people_in_memory {
    super::people_suite!(super::in_memory);
}

mod people_on_a_file {
    super::people_suite!(super::on_file);
}
