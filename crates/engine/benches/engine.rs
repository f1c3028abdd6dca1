//! Engine speed: inputs handled per second, and a whole session's log
//! replayed. Figures go in BENCHMARKS.md ("Engine").
//!
//! `cargo bench -p rollcoach-engine --bench engine`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rollcoach_engine::{Facts, Input, Options, Runner, Session, Stage, recover_arc, replay_arc};
use rollcoach_protocol::{Answer, Protocol};

use rollcoach_testkit::T0;

fn upper_back() -> Arc<Protocol> {
    rollcoach_testkit::protocol_arc("upper-back")
}

fn options() -> Options {
    Options {
        reasons: vec!["soreness".into(), "overhead-block".into()],
        ..Options::default()
    }
}

/// A realistic whole session's input log: screening, two ratings before,
/// setup, six reps with a pause, a noise and a discomfort report, two
/// ratings after. Times in milliseconds since the start.
fn session_log(setup_steps: usize) -> Vec<(u64, Input)> {
    let mut log = Vec::new();
    let mut t = 0;
    let mut at = |ms: u64, input: Input, log: &mut Vec<(u64, Input)>| {
        t += ms;
        log.push((t, input));
    };
    for _ in 0..3 {
        at(2000, Input::Answer { answer: Answer::No }, &mut log);
    }
    at(3000, Input::Rating { value: Some(6) }, &mut log);
    at(3000, Input::Rating { value: Some(4) }, &mut log);
    for _ in 0..setup_steps {
        at(5000, Input::Ready, &mut log);
    }
    // Rolling started at t; phases end every 4 s.
    at(4000, Input::Timeout, &mut log);
    at(1000, Input::Noise, &mut log);
    at(500, Input::Pause, &mut log);
    at(10_000, Input::Resume, &mut log);
    at(2500, Input::Timeout, &mut log);
    at(1000, Input::Discomfort { level: 4 }, &mut log);
    at(3000, Input::Timeout, &mut log);
    for _ in 0..9 {
        at(4000, Input::Timeout, &mut log);
    }
    at(3000, Input::Rating { value: Some(3) }, &mut log);
    at(3000, Input::Rating { value: Some(6) }, &mut log);
    log
}

/// A session in its rolling stage, outputs drained.
fn rolling(protocol: &Arc<Protocol>) -> Session {
    let mut s = Session::with_arc(Arc::clone(protocol), options(), Facts::default(), T0).unwrap();
    let steps = protocol.setup.len();
    let log = session_log(steps);
    // Three answers, two ratings, then every setup step.
    for &(ms, input) in &log[..5 + steps] {
        s.handle(input, T0.plus_ms(ms)).unwrap();
    }
    while s.poll_output().is_some() {}
    assert_eq!(s.stage(), Stage::Rolling);
    s
}

fn bench(c: &mut Criterion) {
    let protocol = upper_back();
    let log = session_log(protocol.setup.len());
    {
        let r = replay_arc(Arc::clone(&protocol), options(), Facts::default(), T0, &log).unwrap();
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        assert_eq!(r.session.stage(), Stage::Ended);
    }

    let mut g = c.benchmark_group("engine");
    g.sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    // Inputs during rolling that emit no strings: pause, resume, a timeout
    // before the deadline. The floor of `handle`.
    let quiet = [
        Input::Pause,
        Input::Resume,
        Input::Timeout,
        Input::SwitchBreathing,
    ];
    g.throughput(Throughput::Elements(1024));
    g.bench_function("handle/rolling-control-inputs", |b| {
        b.iter_batched_ref(
            || rolling(&protocol),
            |s| {
                let now = s.last_time();
                for i in 0..1024 {
                    s.handle(black_box(quiet[i % quiet.len()]), now).unwrap();
                    while let Some(o) = s.poll_output() {
                        black_box(o);
                    }
                }
            },
            BatchSize::SmallInput,
        )
    });

    // The mix a person sends while rolling, including reports that emit
    // acknowledgements and notes (strings allocated per output).
    let mix = [
        Input::Pause,
        Input::Resume,
        Input::Noise,
        Input::Timeout,
        Input::SwitchBreathing,
        Input::Discomfort { level: 3 },
        Input::Timeout,
        Input::Ready, // does not fit: a typed error, nothing changes
    ];
    g.bench_function("handle/rolling-mixed-inputs", |b| {
        b.iter_batched_ref(
            || rolling(&protocol),
            |s| {
                let now = s.last_time();
                for i in 0..1024 {
                    let _ = black_box(s.handle(black_box(mix[i % mix.len()]), now));
                    while let Some(o) = s.poll_output() {
                        black_box(o);
                    }
                }
            },
            BatchSize::SmallInput,
        )
    });

    // A whole session live: new, every input of the log, every output drained.
    g.throughput(Throughput::Elements(log.len() as u64));
    g.bench_function("handle/whole-session", |b| {
        b.iter(|| {
            let mut s =
                Session::with_arc(Arc::clone(&protocol), options(), Facts::default(), T0).unwrap();
            for &(ms, input) in &log {
                s.handle(input, T0.plus_ms(ms)).unwrap();
                while let Some(o) = s.poll_output() {
                    black_box(o);
                }
            }
            s
        })
    });

    // The same session through the runner, as every driver runs it: each
    // input offered (deadlines caught up first), its entries "persisted",
    // then committed, every output drained.
    g.bench_function("runner/whole-session", |b| {
        b.iter(|| {
            let mut r =
                Runner::start(Arc::clone(&protocol), options(), Facts::default(), T0).unwrap();
            let mut persisted = 0usize;
            for &(ms, input) in &log {
                let batch = r.offer(input, T0.plus_ms(ms)).unwrap();
                persisted += black_box(batch.entries()).len();
                r.commit(batch).unwrap();
                while let Some(o) = r.poll_output() {
                    black_box(o);
                }
            }
            (r, persisted)
        })
    });

    // What the terminal driver did before the runner (issue 10): check each
    // input on a clone of the session, then keep the clone.
    g.bench_function("clone-then-apply/whole-session", |b| {
        b.iter(|| {
            let mut s =
                Session::with_arc(Arc::clone(&protocol), options(), Facts::default(), T0).unwrap();
            for &(ms, input) in &log {
                let mut next = s.clone();
                next.handle(input, T0.plus_ms(ms)).unwrap();
                s = next;
                while let Some(o) = s.poll_output() {
                    black_box(o);
                }
            }
            s
        })
    });

    // Recovering a session: replay its whole log, keeping every output.
    g.bench_function("replay/whole-session", |b| {
        b.iter(|| {
            replay_arc(
                Arc::clone(&protocol),
                options(),
                Facts::default(),
                T0,
                black_box(&log),
            )
            .unwrap()
        })
    });
    // Recovering only the state (no outputs built), then what a reconnecting
    // front-end is sent.
    g.bench_function("recover/whole-session", |b| {
        b.iter(|| {
            let r = recover_arc(
                Arc::clone(&protocol),
                options(),
                Facts::default(),
                T0,
                black_box(&log),
            )
            .unwrap();
            let view = r.session.current(T0.plus_ms(log[log.len() - 1].0));
            (r, view)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
