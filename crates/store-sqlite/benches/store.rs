//! Store speed: the cost of logging one input durably (what a driver pays
//! before every input), and reading a large history. Figures go in
//! BENCHMARKS.md ("Store").
//!
//! `cargo bench -p rollcoach-store-sqlite --bench store`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rollcoach_engine::{Facts, Input, Options, Output, Prompt, Session, Time};
use rollcoach_protocol::{Answer, Protocol};
use rollcoach_store::{NewSession, Store, rating_series, summarize};
use rollcoach_store_sqlite::SqliteStore;

const T0: Time = Time(1_795_597_200_000);

fn upper_back() -> Protocol {
    rollcoach_protocol::builtin()
        .into_iter()
        .find(|p| p.id == "upper-back")
        .expect("built in")
}

/// One whole session, recorded as a driver records it (every input logged
/// before it is applied, the end recorded). Returns how many inputs it logged.
fn record_session(store: &SqliteStore, protocol: &Protocol, start: Time) -> u32 {
    let options = Options {
        reasons: vec!["soreness".into()],
        ..Options::default()
    };
    let facts = store.facts_for(protocol).unwrap();
    let id = store
        .begin_session(&NewSession {
            protocol,
            options: &options,
            facts: &facts,
            started_at: start,
        })
        .unwrap();
    let mut session = Session::new(protocol, options, facts, start).unwrap();
    let (mut now, mut seq) = (start, 0);
    loop {
        let mut reply = None;
        while let Some(out) = session.poll_output() {
            match out {
                Output::Prompt(Prompt::Screening { .. }) => {
                    reply = Some(Input::Answer { answer: Answer::No })
                }
                Output::Prompt(Prompt::Rating { .. }) => {
                    reply = Some(Input::Rating { value: Some(5) })
                }
                Output::Prompt(Prompt::Ready { .. }) => reply = Some(Input::Ready),
                Output::End {
                    outcome,
                    message,
                    summary,
                } => {
                    store
                        .finish_session(id, now, &outcome, &message, &summary)
                        .unwrap();
                    return seq;
                }
                _ => {}
            }
        }
        let input = reply.unwrap_or(Input::Timeout);
        now = match input {
            Input::Timeout => session.next_deadline().unwrap(),
            _ => now.plus_ms(1000),
        };
        store
            .append_event(id, seq, now.since(start), &input)
            .unwrap();
        seq += 1;
        session.handle(input, now).unwrap();
    }
}

fn benches(c: &mut Criterion) {
    let protocol = upper_back();
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
    let big = SqliteStore::open(dir.path().join("big.db")).unwrap();
    for i in 0..1000 {
        record_session(&big, &protocol, T0.plus_ms(i * 86_400_000));
    }
    c.bench_function("history(None) of 1,000 sessions", |b| {
        b.iter(|| black_box(big.history(None).unwrap().len()))
    });
    c.bench_function("history_points() of 1,000 sessions", |b| {
        b.iter(|| black_box(big.history_points().unwrap().len()))
    });
    c.bench_function("history_page(20, None) of 1,000 sessions", |b| {
        b.iter(|| black_box(big.history_page(20, None).unwrap().len()))
    });
    let points = big.history_points().unwrap();
    let tz = jiff::tz::TimeZone::UTC;
    c.bench_function("summarize + rating_series(40) of 1,000 points", |b| {
        b.iter(|| {
            let s = summarize(&points, T0.plus_ms(1000 * 86_400_000), &tz);
            black_box((s, rating_series(&points, 40)))
        })
    });
    c.bench_function("export() of 1,000 sessions with event logs", |b| {
        b.iter(|| black_box(big.export(T0).unwrap().sessions.len()))
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
