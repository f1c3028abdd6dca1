//! The engine's session runner and speech planner for the phone page, as a
//! WebAssembly module.
//!
//! Built for `wasm32-unknown-unknown` by `web/build-wasm.sh` into
//! `web/rollcoach.wasm`, which the server embeds and serves. The bindings are
//! a small C ABI passing JSON text (why: docs/design.md, "The engine in the
//! page"): numbers cross as numbers, everything else as UTF-8 JSON through
//! two byte buffers that the module owns, so no Rust code ever reads memory
//! through a pointer the page made up.
//!
//! - `input(len) -> ptr`: the input buffer, at least `len` bytes; the page
//!   writes a JSON text there, then calls a function with its length.
//! - `result_ptr()`, `result_len()`: the last result (a JSON text, or an
//!   error message when a call returned its error value).
//! - `planner_new(len, rate) -> handle`: a planner for the protocol in the
//!   input buffer (the `protocol` of `/api/protocols/{id}`), for a voice at
//!   `rate` times espeak-ng's default rate; 0 on error.
//! - `planner_output(handle, at, len) -> status`: feeds the engine output in
//!   the input buffer (its serde form, as the server's frames carry it) at
//!   session time `at`; 0 on success, -1 on error.
//! - `planner_finished(handle, id, at)`: utterance `id` ended at `at`.
//! - `planner_poll(handle, now) -> ptr`: everything to do at `now`, a JSON
//!   array of [`Speech`] (`{"type":"say",...}`, `cut`, `skip`); its length is
//!   `result_len()`.
//! - `planner_next_wake(handle) -> time`: when to poll again though nothing
//!   happens, or -1.
//! - `planner_free(handle)`.
//!
//!
//! The session runner (module [`session`]; a result is JSON in the result
//! buffer, and a status of -1 means the result is an error message):
//!
//! - `runner_start(len, now) -> handle`: a session started at `now` from
//!   `{"protocol", "options", "facts"}` in the input buffer; 0 on error.
//! - `runner_recover(len) -> handle`: a session rebuilt from
//!   `{"protocol", "options", "facts", "started_at", "log"}`; 0 on error.
//! - `runner_offer(handle, now, len) -> status`: offers the engine input in
//!   the input buffer; the result is the log entries to write, and the batch
//!   waits in the module until `runner_commit(handle)` applies it. An input
//!   that does not fit is -1 with the engine's reason.
//! - `runner_advance(handle, now) -> status`: the same for the deadlines up
//!   to `now` (`[]` when none has passed).
//! - `runner_poll(handle)`: the pending outputs, `[{"at", "output"}]`.
//! - `runner_next_deadline(handle) -> time` (or -1), `runner_current(handle,
//!   now)`, `runner_end_record(handle)` (`null` while it runs),
//!   `runner_interrupt(handle, now)`, `runner_record(handle, len)` (the
//!   finished session as an export document's session, for the uid in the
//!   input buffer), `runner_free(handle)`.
//! - `injury_block(len, now)`: `{"protocol", "injuries"}` -> the block or
//!   `null`; `injury_time(at, now) -> time`: an injury's recorded time, or
//!   -1 with the reason it is refused (the store's `InjuryTime`).
//! - `rules_facts(len) -> status`: `{"area", "protocol_id", "injuries",
//!   "sessions"}` (the page's store) -> the facts a session starts with;
//!   `rules_merge_injury(len) -> status`: `{"stored", "incoming"}` -> what the
//!   incoming copy does (`{"merge": "add" | "clear" | "same"}`), or -1 when
//!   it is not the same injury. The store's rules (`rollcoach_store::rules`),
//!   as the computer's store applies them.
//! - `new_uid(time, random_hi, random_lo) -> 0`: a new uid (the result, as
//!   text) for a session started or an injury logged at `time`, from 64
//!   random bits the page draws (`crypto.getRandomValues`): the store's one
//!   maker, `Uid::new`.
//!
//! Times are milliseconds since the Unix epoch (session time) as `f64`,
//! which a JavaScript number holds exactly.
//!
//! The same functions, safe and typed, are the crate's Rust API (for its
//! tests): [`planner_new`], [`output`], [`finished`], [`poll`],
//! [`next_wake`], [`free`].

use std::cell::RefCell;
use std::sync::Arc;

mod read;
pub mod session;

use rollcoach_engine::Output;
use rollcoach_engine::Time;
use rollcoach_engine::speech::{Planner, Speech};
use rollcoach_protocol::Protocol;

#[derive(Default)]
struct State {
    /// Slot `h - 1` holds the planner of handle `h`.
    planners: Vec<Option<Planner>>,
    input: Vec<u8>,
    result: Vec<u8>,
}

thread_local! {
    // wasm32-unknown-unknown runs one thread: this is the module's state.
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn with_planner<T>(handle: u32, f: impl FnOnce(&mut Planner) -> T) -> Result<T, String> {
    STATE.with_borrow_mut(|s| {
        let slot = (handle as usize)
            .checked_sub(1)
            .and_then(|i| s.planners.get_mut(i))
            .and_then(Option::as_mut);
        match slot {
            Some(p) => Ok(f(p)),
            None => Err(format!("no planner {handle}")),
        }
    })
}

/// A session time from a JavaScript number (negative or not finite: 0).
fn time(ms: f64) -> Time {
    if ms.is_finite() && ms > 0.0 {
        Time(ms as u64)
    } else {
        Time(0)
    }
}

/// A new planner for the protocol `protocol_json` (the protocol's serde
/// form), for a voice at `rate` times espeak-ng's default rate. Returns its
/// handle (never 0).
pub fn planner_new(protocol_json: &str, rate: f64) -> Result<u32, String> {
    // Checked as a protocol file is: a protocol that breaks a rule is refused.
    let value: serde_json::Value =
        serde_json::from_str(protocol_json).map_err(|e| format!("not a protocol: {e}"))?;
    let protocol = protocol_from_value(value)?;
    let planner = Planner::new(Arc::new(protocol), rate);
    STATE.with_borrow_mut(|s| {
        let i = match s.planners.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                s.planners.push(None);
                s.planners.len() - 1
            }
        };
        s.planners[i] = Some(planner);
        u32::try_from(i + 1).map_err(|_| "too many planners".to_owned())
    })
}

/// A value of type `T` from its JSON text, read through a
/// [`serde_json::Value`]: every type the module reads is then deserialized
/// from the one `Value` deserializer, whose code per type is a fraction of
/// the text deserializer's (docs/design.md, "The engine in the page").
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    serde_json::from_str::<serde_json::Value>(text).and_then(serde_json::from_value)
}

/// A protocol from its JSON value, checked as a protocol file is
/// ([`Protocol::from_json`] on the value: the same types, then
/// [`Protocol::check`]); a refusal names each problem's field.
pub(crate) fn protocol_from_value(value: serde_json::Value) -> Result<Protocol, String> {
    let protocol: Protocol = serde_json::from_value(value).map_err(|e| {
        let problem = rollcoach_protocol::ProtocolProblem {
            path: String::new(),
            message: e.to_string(),
            hint: Some("see docs/protocol-format.md for what a protocol holds".into()),
        };
        format!(
            "not a protocol: {}",
            rollcoach_protocol::ProtocolProblems(vec![problem])
        )
    })?;
    protocol
        .check()
        .map_err(|e| format!("not a protocol: {e}"))?;
    Ok(protocol)
}

/// Feeds the engine output `output_json` (its serde form) at session time `at`.
pub fn output(handle: u32, at: Time, output_json: &str) -> Result<(), String> {
    let out: Output = serde_json::from_str(output_json)
        .map_err(|e| e.to_string())
        .and_then(|v| read::output(&v))
        .map_err(|e| format!("not an engine output: {e}"))?;
    with_planner(handle, |p| p.output(at, &out))
}

/// Utterance `id` ended (said whole, or cut) at `at`.
pub fn finished(handle: u32, id: u64, at: Time) -> Result<(), String> {
    with_planner(handle, |p| p.finished(id, at))
}

/// Everything the planner wants done at `now`, in order.
pub fn poll(handle: u32, now: Time) -> Result<Vec<Speech>, String> {
    with_planner(handle, |p| std::iter::from_fn(|| p.poll(now)).collect())
}

/// When to poll again though nothing happens.
pub fn next_wake(handle: u32) -> Result<Option<Time>, String> {
    with_planner(handle, |p| p.next_wake())
}

/// Forgets the planner; its handle may be given out again.
pub fn free(handle: u32) {
    STATE.with_borrow_mut(|s| {
        if let Some(slot) = (handle as usize)
            .checked_sub(1)
            .and_then(|i| s.planners.get_mut(i))
        {
            *slot = None;
        }
    });
}

/// The first `len` bytes of the input buffer, as text.
fn input_text(len: usize) -> Result<String, String> {
    STATE.with_borrow(|s| {
        let bytes = s.input.get(..len).ok_or("input longer than its buffer")?;
        String::from_utf8(bytes.to_vec()).map_err(|_| "input is not UTF-8".to_owned())
    })
}

fn set_result(text: String) {
    STATE.with_borrow_mut(|s| s.result = text.into_bytes());
}

/// Sets the result to `value` as JSON; returns `ok`, or `err` (with the
/// message as the result) when it is an error.
fn set_json<T: serde::Serialize, R>(value: Result<T, String>, ok: R, err: R) -> R {
    match value.and_then(|v| serde_json::to_string(&v).map_err(|e| e.to_string())) {
        Ok(json) => {
            set_result(json);
            ok
        }
        Err(e) => {
            set_result(e);
            err
        }
    }
}

fn result_ptr() -> *const u8 {
    STATE.with_borrow(|s| s.result.as_ptr())
}

/// The exports: thin wrappers over the functions above. The only unsafe
/// thing here is `#[unsafe(no_mangle)]` itself (an exported symbol name must
/// not clash with another; these are the module's only ones). No pointer
/// from the page is ever dereferenced: the page writes into `input`'s
/// buffer and reads `result`'s, both owned by this module.
#[allow(unsafe_code)]
mod exports {
    use super::*;

    /// The input buffer, grown to at least `len` bytes. Its address may
    /// change with every call: write right after asking.
    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn input(len: usize) -> *mut u8 {
        STATE.with_borrow_mut(|s| {
            if s.input.len() < len {
                s.input.resize(len, 0);
            }
            s.input.as_mut_ptr()
        })
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn result_ptr() -> *const u8 {
        super::result_ptr()
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn result_len() -> usize {
        STATE.with_borrow(|s| s.result.len())
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn planner_new(len: usize, rate: f64) -> u32 {
        match input_text(len).and_then(|t| super::planner_new(&t, rate)) {
            Ok(h) => h,
            Err(e) => {
                set_result(e);
                0
            }
        }
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn planner_output(handle: u32, at: f64, len: usize) -> i32 {
        match input_text(len).and_then(|t| output(handle, time(at), &t)) {
            Ok(()) => 0,
            Err(e) => {
                set_result(e);
                -1
            }
        }
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn planner_finished(handle: u32, id: f64, at: f64) {
        // An unknown handle has nothing to finish.
        let _ = finished(handle, time(id).0, time(at));
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn planner_poll(handle: u32, now: f64) -> *const u8 {
        let json = poll(handle, time(now))
            .and_then(|v| serde_json::to_string(&v).map_err(|e| e.to_string()))
            .unwrap_or_else(|_| "[]".to_owned());
        set_result(json);
        super::result_ptr()
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn planner_next_wake(handle: u32) -> f64 {
        match next_wake(handle) {
            Ok(Some(t)) => t.0 as f64,
            _ => -1.0,
        }
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn planner_free(handle: u32) {
        free(handle);
    }

    // ----- the session runner (module `session`) ---------------------------

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn runner_start(len: usize, now: f64) -> u32 {
        match input_text(len).and_then(|t| session::start(&t, time(now))) {
            Ok(h) => h,
            Err(e) => {
                set_result(e);
                0
            }
        }
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn runner_recover(len: usize) -> u32 {
        match input_text(len).and_then(|t| session::recover(&t)) {
            Ok((h, rejected)) => {
                set_result(format!("{{\"rejected\":{rejected}}}"));
                h
            }
            Err(e) => {
                set_result(e);
                0
            }
        }
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn runner_offer(handle: u32, now: f64, len: usize) -> i32 {
        let entries = input_text(len).and_then(|t| session::offer(handle, &t, time(now)));
        set_json(entries, 0, -1)
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn runner_advance(handle: u32, now: f64) -> i32 {
        set_json(session::advance(handle, time(now)), 0, -1)
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn runner_commit(handle: u32) -> i32 {
        set_json(session::commit(handle), 0, -1)
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn runner_poll(handle: u32) -> i32 {
        set_json(session::poll(handle), 0, -1)
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn runner_next_deadline(handle: u32) -> f64 {
        match session::next_deadline(handle) {
            Ok(Some(t)) => t.0 as f64,
            _ => -1.0,
        }
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn runner_current(handle: u32, now: f64) -> i32 {
        set_json(session::current(handle, time(now)), 0, -1)
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn runner_end_record(handle: u32) -> i32 {
        set_json(session::end_record(handle), 0, -1)
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn runner_interrupt(handle: u32, now: f64) -> i32 {
        set_json(session::interrupt(handle, time(now)), 0, -1)
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn runner_record(handle: u32, len: usize) -> i32 {
        let record = input_text(len).and_then(|uid| session::record(handle, &uid));
        set_json(record, 0, -1)
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn runner_free(handle: u32) {
        session::free(handle);
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn injury_block(len: usize, now: f64) -> i32 {
        let block = input_text(len).and_then(|t| session::block(&t, time(now)));
        set_json(block, 0, -1)
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn rules_facts(len: usize) -> i32 {
        set_json(input_text(len).and_then(|t| session::facts(&t)), 0, -1)
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn rules_merge_injury(len: usize) -> i32 {
        set_json(
            input_text(len).and_then(|t| session::merge_injury(&t)),
            0,
            -1,
        )
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn new_uid(time: f64, random_hi: u32, random_lo: u32) -> i32 {
        let random = (u64::from(random_hi) << 32) | u64::from(random_lo);
        set_result(session::new_uid(super::time(time), random));
        0
    }

    // SAFETY: a unique symbol name; the function is safe Rust.
    #[unsafe(no_mangle)]
    pub extern "C" fn injury_time(at: f64, now: f64) -> f64 {
        match session::injury_time(time(at), time(now)) {
            Ok(t) => t.0 as f64,
            Err(e) => {
                set_result(e);
                -1.0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protocol_json() -> String {
        let text = include_str!("../../../protocols/upper-back.toml");
        let p = rollcoach_protocol::parse(text).unwrap();
        serde_json::to_string(&p).unwrap()
    }

    #[test]
    fn a_phase_output_as_the_server_sends_it_is_said_at_once_and_cut_at_its_end() {
        let h = planner_new(&protocol_json(), 1.0).unwrap();
        let t0 = Time(1_795_597_200_000);
        output(h, t0, r#"{"type":"stage","stage":"rolling"}"#).unwrap();
        let phase = format!(
            r#"{{"type":"phase","rep":1,"of":6,"direction":"out","breath":"inhale","toward":"neck","duration_ms":4000,"deadline":{}}}"#,
            t0.0 + 4000
        );
        output(h, t0, &phase).unwrap();
        let said = poll(h, t0).unwrap();
        let Some(Speech::Say(u)) = said.first() else {
            panic!("a breath cue at the phase's start: {said:?}");
        };
        let json = serde_json::to_value(&said[0]).unwrap();
        assert_eq!(json["type"], "say");
        assert_eq!(json["kind"], "breath");
        assert_eq!(json["id"], u.id);
        assert_eq!(next_wake(h).unwrap(), Some(t0.plus_ms(4000)));
        // Still speaking at the phase's end: cut.
        let at_end = poll(h, t0.plus_ms(4000)).unwrap();
        assert_eq!(at_end, vec![Speech::Cut { id: u.id }]);
        assert_eq!(
            serde_json::to_string(&at_end).unwrap(),
            format!(r#"[{{"type":"cut","id":{}}}]"#, u.id)
        );
        free(h);
        assert!(poll(h, t0).is_err(), "a freed handle is gone");
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(
            planner_new("{}", 1.0)
                .unwrap_err()
                .starts_with("not a protocol")
        );
        // Issue 19: a protocol that breaks a rule is refused, naming the field.
        let mut p: serde_json::Value = serde_json::from_str(&protocol_json()).unwrap();
        p["movement"]["tempo"]["default_seconds"] = 40.into();
        let e = planner_new(&p.to_string(), 1.0).unwrap_err();
        assert!(
            e.starts_with("not a protocol: `movement.tempo.default_seconds`: "),
            "{e}"
        );
        let h = planner_new(&protocol_json(), 1.0).unwrap();
        let e = output(h, Time(1), r#"{"type":"sync","now":1}"#).unwrap_err();
        assert!(e.starts_with("not an engine output"), "{e}");
        assert!(output(h + 100, Time(1), r#"{"type":"stage","stage":"setup"}"#).is_err());
        free(h);
    }

    /// Issue 23: the protocol is read through a `serde_json::Value`; a
    /// protocol of the wrong shape is refused as `Protocol::from_json`
    /// refuses it, with serde's reason and the hint to the format, and bad
    /// JSON text says where it breaks.
    #[test]
    fn a_protocol_of_the_wrong_shape_is_refused_with_the_reason_and_the_hint() {
        let e = planner_new(r#"{"id": 1}"#, 1.0).unwrap_err();
        assert!(
            e.starts_with("not a protocol: the protocol: invalid type: integer `1`"),
            "{e}"
        );
        assert!(
            e.ends_with("(see docs/protocol-format.md for what a protocol holds)"),
            "{e}"
        );
        let mut p: serde_json::Value = serde_json::from_str(&protocol_json()).unwrap();
        p.as_object_mut().unwrap().remove("movement");
        let e = planner_new(&p.to_string(), 1.0).unwrap_err();
        assert!(e.contains("missing field `movement`"), "{e}");
        let e = planner_new("{\"id\": ", 1.0).unwrap_err();
        assert!(
            e.starts_with("not a protocol: ") && e.contains("line 1"),
            "{e}"
        );
    }

    #[test]
    fn the_c_abi_round_trips_through_its_buffers() {
        let json = protocol_json();
        let ptr = exports::input(json.len());
        assert!(!ptr.is_null());
        STATE.with_borrow_mut(|s| s.input[..json.len()].copy_from_slice(json.as_bytes()));
        let h = exports::planner_new(json.len(), 1.0);
        assert_ne!(h, 0);
        let stop = serde_json::to_string(&Output::End {
            outcome: rollcoach_engine::Outcome::Stopped {
                reason: rollcoach_engine::StopReason::PainOverSpine,
            },
            message: "Stop.".into(),
            summary: rollcoach_engine::Summary {
                reps_done: 0,
                reps_target: 6,
                active_ms: 0,
                pairings: Vec::new(),
                ratings: Vec::new(),
                discomfort: Vec::new(),
                noises: 0,
            },
        })
        .unwrap();
        STATE.with_borrow_mut(|s| {
            s.input.resize(s.input.len().max(stop.len()), 0);
            s.input[..stop.len()].copy_from_slice(stop.as_bytes());
        });
        let status = exports::planner_output(h, 10.0, stop.len());
        let result = STATE.with_borrow(|s| String::from_utf8(s.result.clone()).unwrap());
        assert_eq!(status, 0, "{result}");
        let ptr = exports::planner_poll(h, 10.0);
        assert_eq!(ptr, result_ptr());
        let said: serde_json::Value =
            STATE.with_borrow(|s| serde_json::from_slice(&s.result).unwrap());
        assert_eq!(said[0]["type"], "say");
        assert_eq!(said[0]["kind"], "safety");
        assert_eq!(said[0]["text"], "Stop.");
        assert_eq!(exports::result_len(), said.to_string().len());
        assert_eq!(exports::planner_next_wake(h), -1.0);
        exports::planner_free(h);
        assert_eq!(exports::planner_next_wake(h), -1.0);
    }
}
