//! A fresh database per test on the PostgreSQL server that
//! `ROLLCOACH_TEST_POSTGRES` names (a postgres:// URL of a superuser on a
//! throwaway cluster: `.ci/postgres.sh` starts one and sets it).
//!
//! Without it the tests say they were skipped and pass, except under
//! `CI=true`, where they fail saying it must be set.
#![allow(dead_code)]

use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

use postgres::{Client, NoTls};

/// The variable that names the test server.
pub const VAR: &str = "ROLLCOACH_TEST_POSTGRES";

/// The test server's URL; `None` (after saying so) if the tests are to be
/// skipped. Panics under `CI=true` without one.
pub fn server() -> Option<String> {
    match std::env::var(VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "{VAR} must be set under CI=true: a postgres:// URL of a superuser on a \
                     throwaway PostgreSQL (`. .ci/postgres.sh` starts one and sets it)"
                );
            }
            eprintln!(
                "skipped: {VAR} is not set (`bash .ci/postgres.sh cargo test -p \
                 rollcoach-store-postgres` runs these tests on a throwaway PostgreSQL)"
            );
            None
        }
    }
}

/// Whether to skip: no test server (see [`server`]).
pub fn skip() -> bool {
    server().is_none()
}

/// A superuser connection to the test server's own database.
pub fn admin() -> Client {
    let url = server().expect("a test server");
    Client::connect(&url, NoTls).unwrap_or_else(|e| panic!("cannot connect to {VAR}: {e}"))
}

/// The prefix of the databases the tests make.
const PREFIX: &str = "rollcoach_test_";

/// Makes an empty database of its own for one test, and returns its
/// postgres:// URL. The first call of a test process drops the databases
/// earlier runs left (the tests cannot drop theirs when the store they
/// hand out is dropped), so the disk does not fill.
pub fn fresh_database() -> String {
    static CLEANED: Once = Once::new();
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let mut admin = admin();
    CLEANED.call_once(|| {
        let mine = format!("{PREFIX}{}_", std::process::id());
        let old: Vec<String> = admin
            .query(
                "SELECT datname FROM pg_database WHERE datname LIKE 'rollcoach\\_test\\_%'",
                &[],
            )
            .expect("the databases")
            .iter()
            .map(|r| r.get(0))
            .filter(|name: &String| !name.starts_with(&mine))
            .collect();
        for name in old {
            // One still in use belongs to a run going on: leave it.
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\""));
        }
    });
    let name = format!(
        "{PREFIX}{}_{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::SeqCst)
    );
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"))
        .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
    url_of(&name)
}

/// The test server's URL with another database.
pub fn url_of(database: &str) -> String {
    with_param(&server().expect("a test server"), "dbname", database)
}

/// `url` with a query parameter added (it overrides what the URL says).
pub fn with_param(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={value}")
}
