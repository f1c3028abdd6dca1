//! Sync's store step, sessions per second: `accept` (verify and replay)
//! then `Records::accept_session`, for the same autopilot sessions from
//! several threads, on SQLite (a file), on PostgreSQL, and on two
//! PostgreSQL stores (two servers) sharing one database.
//!
//! ```sh
//! bash .ci/postgres.sh cargo run --release -p rollcoach-store-postgres \
//!     --example accept_rate -- [SESSIONS] [THREADS] [PEOPLE]
//! ```
//!
//! PostgreSQL is the server `ROLLCOACH_TEST_POSTGRES` names (a superuser's
//! URL): each run makes a database of its own there and drops it after.
//! A benchmark, not a test: it prints figures and checks only that every
//! session was stored once.

use std::sync::Arc;
use std::time::Instant;

use postgres::NoTls;
use rollcoach_store::{Accepted, ExportedSession, PersonId, Records, accept, new_uid};
use rollcoach_store_conformance::kit::{self, NOW, catalog};
use rollcoach_store_postgres::PgRecords;
use rollcoach_store_sqlite::SqliteRecords;
use rollcoach_testkit::{Autopilot, HOUR, T0};

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .map(|a| a.parse().expect("a number"))
        .unwrap_or(default)
}

/// Pushes every session (session `i` as person `i % people`) from
/// `threads` threads, thread `t` to `stores[t % stores.len()]`; sessions per
/// second.
fn rate(
    stores: &[Arc<dyn Records>],
    sessions: &[ExportedSession],
    people: &[PersonId],
    threads: usize,
    store: bool,
) -> f64 {
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let records = stores[t % stores.len()].clone();
            s.spawn(move || {
                for (i, session) in sessions.iter().enumerate().skip(t).step_by(threads) {
                    let verified = accept(session.clone(), catalog(), NOW).expect("accepted");
                    if store {
                        let stored = records
                            .accept_session(&people[i % people.len()], &verified)
                            .expect("stored");
                        assert_eq!(stored, Accepted::Stored);
                    }
                }
            });
        }
    });
    sessions.len() as f64 / started.elapsed().as_secs_f64()
}

/// The p50 and p99 of a person's history page (50 rows) and summary
/// points, over every person.
fn reads(store: &dyn Records, people: &[PersonId]) {
    let time = |f: &dyn Fn(&PersonId)| {
        let mut took: Vec<f64> = people
            .iter()
            .map(|p| {
                let t = Instant::now();
                f(p);
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        took.sort_by(f64::total_cmp);
        let at = |q: f64| took[((took.len() - 1) as f64 * q) as usize];
        (at(0.5), at(0.99))
    };
    let (p50, p99) = time(&|p| {
        store.history_rows(p, 50, None).expect("a history page");
    });
    println!("  history page of 50:    p50 {p50:.2} ms, p99 {p99:.2} ms");
    let (p50, p99) = time(&|p| {
        store.history_points(p).expect("history points");
    });
    println!("  summary points:        p50 {p50:.2} ms, p99 {p99:.2} ms");
}

fn main() {
    let n = arg(1, 4000);
    let threads = arg(2, 4);
    let people: Vec<PersonId> = (0..arg(3, 100))
        .map(|i| PersonId::parse(&format!("client-{i}")).expect("a person id"))
        .collect();
    let server = std::env::var("ROLLCOACH_TEST_POSTGRES").expect(
        "ROLLCOACH_TEST_POSTGRES: a postgres:// URL of a superuser (bash .ci/postgres.sh ... starts one)",
    );

    eprintln!("running {n} autopilot sessions ...");
    let sessions: Vec<ExportedSession> = (0..n as u64)
        .map(|i| {
            let start = T0.plus_ms(i * HOUR);
            let run = Autopilot::start(
                kit::upper_back(),
                kit::rated(&[5], &[3]).facts(Default::default()),
                start,
            )
            .expect("a plan")
            .run()
            .expect("a run");
            kit::finished(&run, &new_uid(start))
        })
        .collect();
    let events: usize = sessions.iter().map(|s| s.events.len()).sum();
    println!(
        "{n} sessions ({} events each on average), {threads} threads, {} people",
        events / n.max(1),
        people.len()
    );

    let only_accept = {
        let none: Vec<Arc<dyn Records>> = vec![Arc::new(SqliteRecords::open_in_memory().unwrap())];
        rate(&none, &sessions, &people, threads, false)
    };
    println!("accept alone (verify and replay, no store): {only_accept:>8.0} sessions/s");

    let dir = tempfile::tempdir().expect("a temporary directory");
    let sqlite = SqliteRecords::open(dir.path().join("bench.db")).expect("SQLite");
    sqlite.start_housekeeping().expect("the checkpointer");
    let sqlite: Vec<Arc<dyn Records>> = vec![Arc::new(sqlite)];
    let r = rate(&sqlite, &sessions, &people, threads, true);
    println!("SQLite (a file, WAL, group commit):        {r:>8.0} sessions/s");

    let mut admin = postgres::Client::connect(&server, NoTls).expect("the PostgreSQL server");
    for (label, servers) in [
        ("PostgreSQL, one store", 1),
        ("PostgreSQL, two stores on one database", 2),
    ] {
        let name = format!("rollcoach_bench_{}_{servers}", std::process::id());
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"))
            .expect("a database");
        let sep = if server.contains('?') { '&' } else { '?' };
        let url = format!("{server}{sep}dbname={name}");
        let stores: Vec<Arc<dyn Records>> = (0..servers)
            .map(|_| Arc::new(PgRecords::open(&url).expect("PostgreSQL")) as Arc<dyn Records>)
            .collect();
        let r = rate(&stores, &sessions, &people, threads, true);
        println!("{label:<42} {r:>8.0} sessions/s");
        if servers == 1 {
            reads(&*stores[0], &people);
        }
        drop(stores);
        let size: i64 = admin
            .query_one("SELECT pg_database_size($1)", &[&name])
            .expect("its size")
            .get(0);
        println!(
            "  database size: {} KB, {} B a session",
            size / 1024,
            size / n as i64
        );
        admin
            .batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .expect("dropped");
    }
}
