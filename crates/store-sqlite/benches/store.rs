//! Store speed: the cost of logging one input durably (what a driver pays
//! before every input), and reading a large history. Figures go in
//! BENCHMARKS.md ("Store").
//!
//! `cargo bench -p rollcoach-store-sqlite --bench store`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rollcoach_engine::{Facts, Input, Options};
use rollcoach_protocol::Protocol;
use rollcoach_store::{
    NewSession, PersonId, Records, SessionLog, export, rating_series, summarize,
};
use rollcoach_store_sqlite::{SqliteRecords, SqliteStore};
use rollcoach_testkit::{Autopilot, Plan, T0};

/// One whole session, recorded as a driver records it (the test kit's
/// autopilot through the runner: every batch of inputs logged before it is
/// applied, the end recorded). Returns how many inputs it logged.
fn record_session(
    store: &dyn SessionLog,
    protocol: &Protocol,
    start: rollcoach_engine::Time,
) -> u32 {
    let plan = Plan::reasons(["soreness"]).rating(Some(5));
    let facts = store.facts_for(protocol).unwrap();
    let id = store
        .begin_session(&NewSession {
            protocol,
            options: &plan.options,
            facts: &facts,
            started_at: start,
        })
        .unwrap();
    let run = Autopilot::start(protocol.clone(), plan.facts(facts), start)
        .unwrap()
        .sink(|entries| {
            for e in entries {
                store.append_event(id, e.seq, e.at_ms, &e.input).unwrap();
            }
        })
        .run()
        .unwrap();
    let end = run.end.expect("the session ends");
    store
        .finish_session(
            id,
            end.ended_at,
            end.outcome.as_ref().expect("completed"),
            end.message.as_deref().unwrap_or_default(),
            &end.summary,
        )
        .unwrap();
    u32::try_from(run.log.len()).unwrap()
}

fn benches(c: &mut Criterion) {
    let protocol = rollcoach_testkit::protocol("upper-back");
    let owner = PersonId::owner();
    let dir = tempfile::tempdir().unwrap();

    // append_event on a file: one committed, fsynced transaction per input.
    let store = SqliteStore::open(dir.path().join("append.db")).unwrap();
    let id = store
        .begin_session(&NewSession {
            protocol: &protocol,
            options: &Options::default(),
            facts: &Facts::default(),
            started_at: T0,
        })
        .unwrap();
    let mut seq = 0u32;
    c.bench_function("append_event (file, WAL, synchronous=NORMAL)", |b| {
        b.iter(|| {
            store
                .append_event(id, seq, u64::from(seq), &Input::Noise)
                .unwrap();
            seq += 1;
        })
    });

    // A whole session recorded (begin, ~21 inputs, finish) on a file.
    let mut n = 0u64;
    c.bench_function("record a whole session (file)", |b| {
        b.iter(|| {
            n += 1;
            black_box(record_session(&store, &protocol, T0.plus_ms(n * 3_600_000)))
        })
    });

    // history() and export() of 1,000 sessions.
    let big = SqliteRecords::open(dir.path().join("big.db")).unwrap();
    for i in 0..1000 {
        record_session(&big, &protocol, T0.plus_ms(i * 86_400_000));
    }
    c.bench_function("history(None) of 1,000 sessions", |b| {
        b.iter(|| black_box(big.history_page(&owner, usize::MAX, None).unwrap().len()))
    });
    c.bench_function("history_points() of 1,000 sessions", |b| {
        b.iter(|| black_box(big.history_points(&owner).unwrap().len()))
    });
    c.bench_function("history_page(20, None) of 1,000 sessions", |b| {
        b.iter(|| black_box(big.history_page(&owner, 20, None).unwrap().len()))
    });
    let points = big.history_points(&owner).unwrap();
    let tz = jiff::tz::TimeZone::UTC;
    c.bench_function("summarize + rating_series(40) of 1,000 points", |b| {
        b.iter(|| {
            let s = summarize(&points, T0.plus_ms(1000 * 86_400_000), &tz);
            black_box((s, rating_series(&points, 40)))
        })
    });
    c.bench_function("export() of 1,000 sessions with event logs", |b| {
        b.iter(|| black_box(export(&big, &owner, T0).unwrap().sessions.len()))
    });
    c.bench_function("Store::open of an existing file (no migration)", |b| {
        b.iter_batched(
            || (),
            |()| black_box(SqliteStore::open(dir.path().join("big.db")).unwrap()),
            BatchSize::PerIteration,
        )
    });
}

criterion_group! {
    name = store;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(store);
