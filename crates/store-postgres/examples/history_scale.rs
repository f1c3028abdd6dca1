//! A coach's server a year on: PEOPLE clients with a session a day for
//! DAYS days each (1,000 x 365 = 365,000 sessions by default) on
//! PostgreSQL. Times one client's history page (50 rows, the compact form
//! the history screen reads, and the full records) and their summary
//! points, for SAMPLE clients, and the database's size per session; then the
//! cost of scoping: the same client's reads on a database that holds them
//! alone.
//!
//! ```sh
//! bash .ci/postgres.sh cargo run --release -p rollcoach-store-postgres \
//!     --example history_scale -- [PEOPLE] [DAYS] [SAMPLE]
//! ```
//!
//! PostgreSQL is the server `ROLLCOACH_TEST_POSTGRES` names (a superuser's
//! URL): the run makes two databases there and drops them after. A
//! benchmark, not a test: it prints figures, and checks only that every
//! session was stored.

use std::sync::Arc;
use std::time::Instant;

use postgres::NoTls;
use rollcoach_store::{ExportedSession, PersonId, Records, new_uid};
use rollcoach_store_conformance::kit;
use rollcoach_store_postgres::PgRecords;
use rollcoach_testkit::{Autopilot, T0};

const DAY: u64 = 24 * 3_600_000;

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .map(|a| a.parse().expect("a number"))
        .unwrap_or(default)
}

/// p50 and p99, in ms, of `f` run `rounds` times on each person.
fn timed(people: &[PersonId], rounds: usize, f: &dyn Fn(&PersonId)) -> (f64, f64) {
    let mut took = Vec::with_capacity(people.len() * rounds);
    for _ in 0..rounds {
        for p in people {
            let t = Instant::now();
            f(p);
            took.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    took.sort_by(f64::total_cmp);
    let at = |q: f64| took[((took.len() - 1) as f64 * q) as usize];
    (at(0.5), at(0.99))
}

/// The reads of one client's history screen: (label, p50, p99) each.
fn reads(store: &dyn Records, people: &[PersonId], rounds: usize) -> Vec<(&'static str, f64, f64)> {
    let mut out = Vec::new();
    let (p50, p99) = timed(people, rounds, &|p| {
        assert_eq!(store.history_rows(p, 50, None).expect("rows").len(), 50);
    });
    out.push(("history page, 50 rows (compact)", p50, p99));
    let (p50, p99) = timed(people, rounds, &|p| {
        assert_eq!(store.history_page(p, 50, None).expect("page").len(), 50);
    });
    out.push(("history page, 50 full records", p50, p99));
    let (p50, p99) = timed(people, rounds, &|p| {
        store.history_points(p).expect("points");
    });
    out.push(("summary points (the whole year)", p50, p99));
    out
}

/// A database of its own on the test server: its URL.
fn database(admin: &mut postgres::Client, server: &str, name: &str) -> String {
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .expect("no old database");
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"))
        .expect("a database");
    let sep = if server.contains('?') { '&' } else { '?' };
    format!("{server}{sep}dbname={name}")
}

/// Imports `year` for every person from `threads` threads, in batches.
fn fill(store: &Arc<PgRecords>, people: &[PersonId], year: &[ExportedSession], threads: usize) {
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let store = store.clone();
            s.spawn(move || {
                for (i, p) in people.iter().enumerate().skip(t).step_by(threads) {
                    for batch in year.chunks(64) {
                        let done = store.import_sessions(p, batch).expect("imported");
                        assert_eq!(done.added.len(), batch.len());
                    }
                    if t == 0 && i % 100 == 0 {
                        eprintln!(
                            "  {} of {} people, {:.0} s",
                            i,
                            people.len(),
                            started.elapsed().as_secs_f64()
                        );
                    }
                }
            });
        }
    });
    let n = people.len() * year.len();
    eprintln!(
        "  stored {n} sessions in {:.0} s ({:.0}/s)",
        started.elapsed().as_secs_f64(),
        n as f64 / started.elapsed().as_secs_f64()
    );
}

fn main() {
    let people_n = arg(1, 1000);
    let days = arg(2, 365);
    let sample_n = arg(3, 200).min(people_n);
    let server = std::env::var("ROLLCOACH_TEST_POSTGRES").expect(
        "ROLLCOACH_TEST_POSTGRES: a postgres:// URL of a superuser (bash .ci/postgres.sh ... starts one)",
    );
    eprintln!("running {days} autopilot sessions (a year of one client) ...");
    let year: Vec<ExportedSession> = (0..days as u64)
        .map(|d| {
            let start = T0.plus_ms(d * DAY + 7 * 3_600_000);
            let before = u8::try_from(d % 9 + 2).expect("a rating");
            let run = Autopilot::start(
                kit::upper_back(),
                kit::rated(&[before], &[before / 2]).facts(Default::default()),
                start,
            )
            .expect("a plan")
            .run()
            .expect("a run");
            kit::finished(&run, &new_uid(start))
        })
        .collect();
    let people: Vec<PersonId> = (0..people_n)
        .map(|i| PersonId::parse(&format!("client-{i:04}")).expect("a person id"))
        .collect();
    // SAMPLE clients, spread over the whole server.
    let step = (people_n / sample_n).max(1);
    let sample: Vec<PersonId> = people
        .iter()
        .step_by(step)
        .take(sample_n)
        .cloned()
        .collect();

    let mut admin = postgres::Client::connect(&server, NoTls).expect("the PostgreSQL server");
    let many = format!("rollcoach_scale_{}", std::process::id());
    let url = database(&mut admin, &server, &many);
    let store = Arc::new(PgRecords::open(&url).expect("PostgreSQL"));
    eprintln!(
        "storing {people_n} clients x {days} sessions = {} ...",
        people_n * days
    );
    fill(&store, &people, &year, 4);
    let mut db = postgres::Client::connect(&url, NoTls).expect("the database");
    db.batch_execute("VACUUM ANALYZE").expect("vacuum");
    let size: i64 = admin
        .query_one("SELECT pg_database_size($1)", &[&many])
        .expect("its size")
        .get(0);
    let total = people_n * days;
    println!(
        "{people_n} clients x {days} sessions = {total} sessions on PostgreSQL: database {} MB, {} B a session",
        size / (1024 * 1024),
        size / total as i64
    );
    // Warm: one round not counted, then 5 counted.
    reads(&*store, &sample, 1);
    let on_many = reads(&*store, &sample, 5);
    for (label, p50, p99) in &on_many {
        println!(
            "  {label:<36} p50 {p50:>6.2} ms, p99 {p99:>6.2} ms ({} clients x 5)",
            sample.len()
        );
    }

    // The cost of scoping: one client alone on a database.
    let alone_name = format!("rollcoach_alone_{}", std::process::id());
    let alone_url = database(&mut admin, &server, &alone_name);
    let alone = Arc::new(PgRecords::open(&alone_url).expect("PostgreSQL"));
    let one = &people[..1];
    fill(&alone, one, &year, 1);
    let mut db = postgres::Client::connect(&alone_url, NoTls).expect("the database");
    db.batch_execute("VACUUM ANALYZE").expect("vacuum");
    // Interleaved, so both see the same machine: each round reads the
    // client alone, then among the others.
    let rounds = 5 * sample.len();
    reads(&*alone, one, 50);
    reads(&*store, one, 50);
    let (mut on_alone, mut on_many_one) = (Vec::new(), Vec::new());
    for _ in 0..rounds / 50 {
        on_alone.push(reads(&*alone, one, 50));
        on_many_one.push(reads(&*store, one, 50));
    }
    let median = |runs: &[Vec<(&'static str, f64, f64)>], i: usize, p99: bool| {
        let mut v: Vec<f64> = runs
            .iter()
            .map(|r| if p99 { r[i].2 } else { r[i].1 })
            .collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "the cost of scoping: client {} alone on a database, and among {people_n} ({} interleaved runs of 50 reads; medians of their p50 and p99)",
        one[0],
        rounds / 50
    );
    for (i, (label, _, _)) in on_alone[0].iter().enumerate() {
        let (a50, a99) = (median(&on_alone, i, false), median(&on_alone, i, true));
        let (m50, m99) = (
            median(&on_many_one, i, false),
            median(&on_many_one, i, true),
        );
        println!(
            "  {label:<36} alone p50 {a50:>6.2} ms p99 {a99:>6.2} ms; among {people_n} p50 {m50:>6.2} ms p99 {m99:>6.2} ms; ratio of medians {:.2}x",
            m50 / a50
        );
    }
    drop((store, alone));
    drop(db);
    for name in [many, alone_name] {
        admin
            .batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .expect("dropped");
    }
}
