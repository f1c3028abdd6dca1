//! Memory of live sessions, measured with a counting global allocator:
//! `size_of::<Session>()` plus the heap bytes a session holds (allocated
//! minus freed while it was built and driven, outputs drained).
//!
//! `cargo bench -p rollcoach-engine --bench memory`

use std::alloc::System;
use std::sync::Arc;

use rollcoach_engine::{Facts, Input, Options, Output, Session, Stage, Time};
use rollcoach_protocol::{Answer, Protocol};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

use rollcoach_testkit::T0;

fn options() -> Options {
    Options {
        reasons: vec!["soreness".into(), "overhead-block".into()],
        ..Options::default()
    }
}

/// Drives a session into its third rep, with a noise, a discomfort report and a pause.
fn drive(s: &mut Session) {
    let mut now = T0;
    let send = |s: &mut Session, input: Input, now: Time| {
        s.handle(input, now).unwrap();
        while s.poll_output().is_some() {}
    };
    for _ in 0..3 {
        send(s, Input::Answer { answer: Answer::No }, now);
    }
    send(s, Input::Rating { value: Some(5) }, now);
    send(s, Input::Rating { value: Some(4) }, now);
    while s.stage() == Stage::Setup {
        send(s, Input::Ready, now);
    }
    for _ in 0..4 {
        now = s.next_deadline().unwrap();
        send(s, Input::Timeout, now);
    }
    send(s, Input::Noise, now);
    send(s, Input::Discomfort { level: 3 }, now);
    send(s, Input::Pause, now);
}

/// Net heap bytes held after `f` (allocated minus freed, reallocations included).
fn held<T>(f: impl FnOnce() -> T) -> (T, isize) {
    let region = Region::new(GLOBAL);
    let value = f();
    let c = region.change();
    let net = c.bytes_allocated as isize - c.bytes_deallocated as isize + c.bytes_reallocated;
    (value, net)
}

fn main() {
    let protocol: Arc<Protocol> = rollcoach_testkit::protocol_arc("upper-back");
    let size = std::mem::size_of::<Session>();
    println!(
        "size_of::<Session>() = {size} B, size_of::<Output>() = {} B",
        std::mem::size_of::<Output>()
    );

    let (fresh, heap_fresh) = held(|| {
        let mut s =
            Session::with_arc(Arc::clone(&protocol), options(), Facts::default(), T0).unwrap();
        while s.poll_output().is_some() {}
        s
    });
    println!(
        "fresh session (shared protocol):      {size} + {heap_fresh} heap = {} B",
        size as isize + heap_fresh
    );

    let ((), heap_live) = held(|| {
        let mut s =
            Session::with_arc(Arc::clone(&protocol), options(), Facts::default(), T0).unwrap();
        drive(&mut s);
        // Keep it alive past the region: what it holds stays counted.
        std::mem::forget(s);
    });
    println!(
        "session paused mid-rep (shared):      {size} + {heap_live} heap = {} B",
        size as isize + heap_live
    );
    drop(fresh);

    let ((), heap_owned) = held(|| {
        let mut s = Session::new(&protocol, options(), Facts::default(), T0).unwrap();
        drive(&mut s);
        std::mem::forget(s);
    });
    println!(
        "same, Session::new (own protocol copy): {size} + {heap_owned} heap = {} B",
        size as isize + heap_owned
    );

    // Allocations of a whole session up to the pause, outputs included.
    let region = Region::new(GLOBAL);
    let mut s = Session::with_arc(Arc::clone(&protocol), options(), Facts::default(), T0).unwrap();
    while s.poll_output().is_some() {}
    let after_new = region.change().allocations;
    drive(&mut s);
    let c = region.change();
    println!(
        "allocations: {after_new} to start (options included), {} in all to mid-rep 3, {} bytes allocated in all",
        c.allocations, c.bytes_allocated
    );
    drop(s);

    const N: usize = 10_000;
    let (many, heap_many) = held(|| {
        let mut v = Vec::with_capacity(N);
        for _ in 0..N {
            let mut s =
                Session::with_arc(Arc::clone(&protocol), options(), Facts::default(), T0).unwrap();
            drive(&mut s);
            v.push(s);
        }
        v
    });
    println!(
        "{N} live sessions (shared protocol):  {:.1} MB in all, {} B each",
        heap_many as f64 / 1e6,
        heap_many / N as isize
    );
    drop(many);
}
