//! Protocol parsing speed: a valid file, a file with many problems, and the
//! largest text accepted (1 MiB). Figures go in BENCHMARKS.md ("Protocol").
//!
//! `cargo bench -p rollcoach-protocol --bench parse`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rollcoach_protocol::{BUILTIN_SOURCES, MAX_FILE_BYTES, diagnostic, parse};

fn benches(c: &mut Criterion) {
    let valid = BUILTIN_SOURCES[0].1;
    let broken = valid
        .replacen("title = ", "titel = ", 1)
        .replacen("min = 5\nmax = 8", "min = 9\nmax = 8", 1)
        .replacen(
            "default_instrument = \"foam-roller\"",
            "default_instrument = \"roller\"",
            1,
        )
        .replacen("id = \"arms\"", "id = \"lie-down\"", 1)
        .replacen("higher_is_better = true", "higher_is_better = \"yes\"", 1);
    // Nearly 1 MiB of valid TOML: the protocol, then comment lines.
    let mut huge = valid.to_string();
    while huge.len() + 80 < MAX_FILE_BYTES {
        huge.push_str(
            "# a comment line that pads the file towards the 1 MiB limit of lint .....\n",
        );
    }
    assert!(parse(valid).is_ok());
    assert!(parse(&huge).is_ok());
    assert_eq!(parse(&broken).unwrap_err().len(), 5);

    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(valid.len() as u64));
    g.bench_function("upper-back (valid)", |b| b.iter(|| parse(black_box(valid))));
    g.throughput(Throughput::Bytes(broken.len() as u64));
    g.bench_function("upper-back with 5 problems, rendered", |b| {
        b.iter(|| {
            let d = parse(black_box(&broken)).unwrap_err();
            diagnostic::render("bench.toml", &broken, &d)
        })
    });
    g.throughput(Throughput::Bytes(huge.len() as u64));
    g.bench_function("1 MiB file (valid)", |b| b.iter(|| parse(black_box(&huge))));
    g.finish();
}

criterion_group! {
    name = parse_benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(parse_benches);
