//! The session runner ([`rollcoach_engine::Runner`]) for the page, one per
//! handle, with the batch it offered kept here until the page has written
//! its entries to IndexedDB and calls [`commit`]; and the few rules the page
//! applies without a server (the injury block, an injury's time, the record
//! a finished session gets: [`rollcoach_store::ExportedSession::finished`]).

use std::cell::RefCell;
use std::sync::Arc;

use rollcoach_engine::{
    Batch, EndRecord, Facts, InjuryFact, Input, LogEntry, Options, Output, Runner, Time,
};
use rollcoach_protocol::Protocol;
use rollcoach_store::{Event, ExportedSession, FinishedRun, InjuryTime, Uid};
use serde::{Deserialize, Serialize};

/// What starts a run: the protocol as `/api/protocols/{id}` serves it (its
/// field `protocol`), the options and the facts.
#[derive(Deserialize)]
pub struct Start {
    /// The protocol's serde JSON.
    pub protocol: serde_json::Value,
    /// The options.
    #[serde(default)]
    pub options: Options,
    /// The facts.
    #[serde(default)]
    pub facts: Facts,
}

/// What rebuilds a run after the page was closed: [`Start`], when it started
/// and its log as written.
#[derive(Deserialize)]
pub struct Recover {
    /// As at the start.
    #[serde(flatten)]
    pub start: Start,
    /// When it started (ms since the epoch).
    pub started_at: Time,
    /// The log.
    #[serde(deserialize_with = "crate::read::log")]
    pub log: Vec<LogEntry>,
}

/// An output with the session time it happened at.
#[derive(Debug, Serialize, PartialEq)]
pub struct Timed {
    /// Session time (ms since the epoch).
    pub at: Time,
    /// The engine's output.
    pub output: Output,
}

struct Run {
    runner: Runner,
    protocol: Arc<Protocol>,
    protocol_json: serde_json::Value,
    options: Options,
    facts: Facts,
    /// Every entry committed, in order: the log the page has written.
    log: Vec<LogEntry>,
    /// The batch offered last, until it is committed.
    pending: Option<Batch>,
}

thread_local! {
    /// Slot `h - 1` holds the run of handle `h`.
    static RUNS: RefCell<Vec<Option<Run>>> = const { RefCell::new(Vec::new()) };
}

fn with_run<T>(handle: u32, f: impl FnOnce(&mut Run) -> Result<T, String>) -> Result<T, String> {
    RUNS.with_borrow_mut(|runs| {
        let run = (handle as usize)
            .checked_sub(1)
            .and_then(|i| runs.get_mut(i))
            .and_then(Option::as_mut)
            .ok_or_else(|| format!("no session runner {handle}"))?;
        f(run)
    })
}

fn insert(run: Run) -> Result<u32, String> {
    RUNS.with_borrow_mut(|runs| {
        let i = match runs.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                runs.push(None);
                runs.len() - 1
            }
        };
        runs[i] = Some(run);
        u32::try_from(i + 1).map_err(|_| "too many session runners".to_owned())
    })
}

/// The protocol of a start, checked as a protocol file is
/// ([`Protocol::from_json`]): a protocol that breaks a rule is refused,
/// each problem named by its field.
fn parse_protocol(value: &serde_json::Value) -> Result<Protocol, String> {
    crate::protocol_from_value(value.clone())
}

/// Starts a session at `now` from `start_json` ([`Start`]); its opening
/// outputs are pending. Returns its handle (never 0).
pub fn start(start_json: &str, now: Time) -> Result<u32, String> {
    let s: Start = crate::from_json(start_json)
        .map_err(|e| format!("not a session start (protocol, options, facts): {e}"))?;
    let protocol = Arc::new(parse_protocol(&s.protocol)?);
    let runner = Runner::start(protocol.clone(), s.options.clone(), s.facts.clone(), now)
        .map_err(|e| format!("the options do not fit the protocol: {e}"))?;
    insert(Run {
        runner,
        protocol,
        protocol_json: s.protocol,
        options: s.options,
        facts: s.facts,
        log: Vec::new(),
        pending: None,
    })
}

/// Rebuilds a session from its log ([`Recover`]): it stands as after its
/// last entry, nothing pending. Returns its handle and how many entries the
/// session rejected (skipped, as it did live).
pub fn recover(recover_json: &str) -> Result<(u32, usize), String> {
    let r: Recover = crate::from_json(recover_json).map_err(|e| {
        format!("not a session to recover (protocol, options, facts, started_at, log): {e}")
    })?;
    let protocol = Arc::new(parse_protocol(&r.start.protocol)?);
    let restored = Runner::recover(
        protocol.clone(),
        r.start.options.clone(),
        r.start.facts.clone(),
        r.started_at,
        &r.log,
    )
    .map_err(|e| format!("cannot recover the session: {e}"))?;
    let rejected = restored.rejected.len();
    let handle = insert(Run {
        runner: restored.runner,
        protocol,
        protocol_json: r.start.protocol,
        options: r.start.options,
        facts: r.start.facts,
        log: r.log,
        pending: None,
    })?;
    Ok((handle, rejected))
}

/// Offers `input_json` (an engine input) at `now`: the entries to write
/// before it applies (the batch waits here for [`commit`]), or why it does
/// not fit (nothing changes).
pub fn offer(handle: u32, input_json: &str, now: Time) -> Result<Vec<LogEntry>, String> {
    let input: Input = serde_json::from_str(input_json)
        .map_err(|e| e.to_string())
        .and_then(|v| crate::read::input(&v))
        .map_err(|e| format!("not an engine input: {e}"))?;
    with_run(handle, |run| {
        let batch = run.runner.offer(input, now).map_err(|e| e.to_string())?;
        let entries = batch.entries().to_vec();
        run.pending = Some(batch);
        Ok(entries)
    })
}

/// The timeouts of the deadlines up to `now`, to write and commit (none:
/// an empty list, and a commit that changes nothing).
pub fn advance(handle: u32, now: Time) -> Result<Vec<LogEntry>, String> {
    with_run(handle, |run| {
        let batch = run.runner.advance(now);
        let entries = batch.entries().to_vec();
        run.pending = Some(batch);
        Ok(entries)
    })
}

/// Applies the batch offered last, once its entries are written.
pub fn commit(handle: u32) -> Result<(), String> {
    with_run(handle, |run| {
        let batch = run
            .pending
            .take()
            .ok_or("no batch to commit: offer or advance first")?;
        let entries = batch.entries().to_vec();
        run.runner.commit(batch).map_err(|e| e.to_string())?;
        run.log.extend(entries);
        Ok(())
    })
}

/// Every output not yet taken, with its session time.
pub fn poll(handle: u32) -> Result<Vec<Timed>, String> {
    with_run(handle, |run| {
        Ok(std::iter::from_fn(|| run.runner.poll_output())
            .map(|(at, output)| Timed { at, output })
            .collect())
    })
}

/// When to advance next, if at all.
pub fn next_deadline(handle: u32) -> Result<Option<Time>, String> {
    with_run(handle, |run| Ok(run.runner.next_deadline()))
}

/// The outputs that show the session as it stands at `now`.
pub fn current(handle: u32, now: Time) -> Result<Vec<Output>, String> {
    with_run(handle, |run| Ok(run.runner.current(now)))
}

/// The end record, once the session is over.
pub fn end_record(handle: u32) -> Result<Option<EndRecord>, String> {
    with_run(handle, |run| Ok(run.runner.end_record()))
}

/// Lets the session go at `now` (an ended one keeps its end).
pub fn interrupt(handle: u32, now: Time) -> Result<EndRecord, String> {
    with_run(handle, |run| {
        run.pending = None;
        Ok(run.runner.interrupt(now))
    })
}

/// The record of the session, once it is over, with `uid`: an element of
/// an export document's `sessions` (what `POST /api/sync/sessions` takes).
pub fn record(handle: u32, uid: &str) -> Result<ExportedSession, String> {
    with_run(handle, |run| {
        let end = run
            .runner
            .end_record()
            .ok_or("the session has not ended: interrupt it first")?;
        let events: Vec<Event> = run.log.iter().map(Event::from).collect();
        Ok(ExportedSession::finished(FinishedRun {
            uid,
            protocol: &run.protocol,
            protocol_json: &run.protocol_json,
            options: &run.options,
            facts: &run.facts,
            started_at: run.runner.started_at(),
            events: &events,
            end: &end,
        }))
    })
}

/// Forgets the run; its handle may be given out again.
pub fn free(handle: u32) {
    RUNS.with_borrow_mut(|runs| {
        if let Some(slot) = (handle as usize)
            .checked_sub(1)
            .and_then(|i| runs.get_mut(i))
        {
            *slot = None;
        }
    });
}

/// What [`block`] reads: a protocol and the injuries of its area not cleared.
#[derive(Deserialize)]
pub struct BlockQuery {
    /// The protocol's serde JSON.
    pub protocol: serde_json::Value,
    /// The injuries.
    pub injuries: Vec<InjuryFact>,
}

/// Whether the injuries block the protocol at `now`, and until when
/// ([`rollcoach_engine::injury_block`]), with the protocol's window and
/// message: the server's answer ([`rollcoach_wire::Block`]), built once.
pub fn block(query_json: &str, now: Time) -> Result<Option<rollcoach_wire::Block>, String> {
    let q: BlockQuery = crate::from_json(query_json)
        .map_err(|e| format!("not an injury block query (protocol, injuries): {e}"))?;
    let protocol = parse_protocol(&q.protocol)?;
    Ok(rollcoach_wire::Block::now(&protocol, &q.injuries, now))
}

/// An injury's time as it is recorded when logged at `now` (a little ahead:
/// now), or why it is refused: the store's [`InjuryTime`] (the engine's
/// rule, and not before 2000), word for word as the server and the CLI say
/// it.
pub fn injury_time(at: Time, now: Time) -> Result<Time, String> {
    InjuryTime::parse(at, now)
        .map(InjuryTime::get)
        .map_err(|e| e.to_string())
}

// The rules' inputs are read from a `serde_json::Value` the module already
// has the code for (a protocol snapshot is one), field by field: a derived
// deserializer per input type cost about 7 KB of the module, gzipped.

fn text<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v.get(key).and_then(serde_json::Value::as_str).unwrap_or("")
}

fn at(v: &serde_json::Value, key: &str) -> Option<Time> {
    v.get(key).and_then(serde_json::Value::as_u64).map(Time)
}

/// An injury as the page keeps it (IndexedDB `injuries`), as the rules read it.
fn page_injury(v: &serde_json::Value) -> Result<rollcoach_store::Injury, String> {
    Ok(rollcoach_store::Injury {
        number: 0,
        uid: text(v, "uid").to_owned(),
        area: text(v, "area").to_owned(),
        at: at(v, "at").ok_or("an injury without its time `at`")?,
        note: v
            .get("note")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        created_at: at(v, "created_at").unwrap_or_default(),
        cleared_at: at(v, "cleared_at"),
    })
}

fn list<'a>(v: &'a serde_json::Value, key: &str) -> &'a [serde_json::Value] {
    v.get(key)
        .and_then(serde_json::Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The facts a session starts with, from the page's store (`{"area",
/// "protocol_id", "injuries", "sessions"}`): the store's rules
/// ([`rollcoach_store::rules::facts`] and `last_pairing`), as the
/// computer's store applies them.
pub fn facts(input: &str) -> Result<Facts, String> {
    let q: serde_json::Value = serde_json::from_str(input).map_err(|e| e.to_string())?;
    let injuries = list(&q, "injuries")
        .iter()
        .map(page_injury)
        .collect::<Result<Vec<_>, _>>()?;
    let pairing_of = |s: &serde_json::Value| match text(s, "pairing") {
        "inhale-out" => Some(rollcoach_protocol::Pairing::InhaleOut),
        "inhale-back" => Some(rollcoach_protocol::Pairing::InhaleBack),
        _ => None,
    };
    let pairing = rollcoach_store::rules::last_pairing(
        text(&q, "protocol_id"),
        list(&q, "sessions")
            .iter()
            .map(|s| rollcoach_store::rules::PairingOf {
                protocol_id: text(s, "protocol_id"),
                started_at: at(s, "started_at").unwrap_or_default(),
                pairing: pairing_of(s),
            }),
    );
    Ok(rollcoach_store::rules::facts(
        text(&q, "area"),
        &injuries,
        pairing,
    ))
}

/// What an incoming copy of an injury (`{"stored", "incoming"}`) does to
/// the page's: the store's rule of injury identity
/// ([`rollcoach_store::rules::merge_injury`]); a copy that is not the same
/// injury is an error naming the field that differs.
pub fn merge_injury(input: &str) -> Result<rollcoach_store::rules::InjuryMerge, String> {
    let q: serde_json::Value = serde_json::from_str(input).map_err(|e| e.to_string())?;
    let stored = match q.get("stored") {
        Some(v) if !v.is_null() => Some(page_injury(v)?),
        _ => None,
    };
    let i = page_injury(q.get("incoming").ok_or("no `incoming` injury")?)?;
    let incoming = rollcoach_store::ExportedInjury {
        uid: i.uid,
        area: i.area,
        at: i.at,
        note: i.note,
        created_at: i.created_at,
        cleared_at: i.cleared_at,
    };
    rollcoach_store::rules::merge_injury(stored.as_ref(), &incoming)
        .map_err(|e| format!("the stored injury has another {}", e.field))
}

/// A new uid for a session started, or an injury logged, at `time`, with
/// the page's 64 random bits: the store's one maker ([`Uid::new`]).
pub fn new_uid(time: Time, random: u64) -> String {
    Uid::new(time, random).into_string()
}

#[cfg(test)]
mod rules_tests {
    use super::*;

    #[test]
    fn the_pages_facts_are_the_stores_rules() {
        let f = facts(
            r#"{"area":"upper-back","protocol_id":"upper-back",
               "injuries":[{"uid":"a","area":"upper-back","at":2000,"note":"x","created_at":2001,"cleared_at":null},
                           {"uid":"b","area":"upper-back","at":1000,"created_at":1001,"cleared_at":1500},
                           {"uid":"c","area":"neck","at":500,"created_at":501}],
               "sessions":[{"protocol_id":"upper-back","started_at":10,"pairing":"inhale-out"},
                           {"protocol_id":"upper-back","started_at":20,"pairing":null}]}"#,
        )
        .unwrap();
        assert_eq!(f.injuries.len(), 1);
        assert_eq!(f.injuries[0].at, Time(2000));
        assert_eq!(f.last_pairing, Some(rollcoach_protocol::Pairing::InhaleOut));
    }

    #[test]
    fn the_pages_injury_merge_is_the_stores_rule() {
        let stored = r#"{"uid":"u","area":"upper-back","at":1000,"note":null,"created_at":1001,"cleared_at":null}"#;
        let cleared = r#"{"uid":"u","area":"upper-back","at":1000,"note":null,"created_at":1001,"cleared_at":5000}"#;
        let q = |s: &str, i: &str| format!(r#"{{"stored":{s},"incoming":{i}}}"#);
        assert_eq!(
            merge_injury(&q("null", stored)).unwrap(),
            rollcoach_store::rules::InjuryMerge::Add
        );
        assert_eq!(
            merge_injury(&q(stored, cleared)).unwrap(),
            rollcoach_store::rules::InjuryMerge::Clear {
                cleared_at: Time(5000)
            }
        );
        let other = cleared.replace("\"note\":null", "\"note\":\"other\"");
        let e = merge_injury(&q(stored, &other)).unwrap_err();
        assert!(e.contains("another note"), "{e}");
    }
}

#[cfg(test)]
mod tests {
    use rollcoach_engine::{Outcome, Stage, StopReason};

    use super::*;

    use rollcoach_testkit::T0;

    fn protocol() -> serde_json::Value {
        serde_json::to_value(rollcoach_testkit::protocol("upper-back")).unwrap()
    }

    fn start_json(reasons: &[&str]) -> String {
        serde_json::json!({
            "protocol": protocol(),
            "options": { "reasons": reasons, "reps": 5 },
            "facts": { "injuries": [], "last_pairing": null },
        })
        .to_string()
    }

    /// Issue 19: a protocol from the page is checked as a protocol file is;
    /// one that breaks a rule is refused, naming the field, at the start
    /// and at a recovery.
    #[test]
    fn a_protocol_that_breaks_a_rule_is_refused_with_its_path() {
        let mut p = protocol();
        let rules = p["stop_rules"].as_array().unwrap();
        let i = rules
            .iter()
            .position(|r| r["trigger"]["kind"] == "discomfort")
            .unwrap();
        p["stop_rules"][i]["trigger"]["above"] = 11.into();
        p["movement"]["reps"]["min"] = 9.into();
        let start_json = serde_json::json!({ "protocol": p });
        let err = start(&start_json.to_string(), T0).unwrap_err();
        assert!(err.starts_with("not a protocol: "), "{err}");
        assert!(
            err.contains(&format!(
                "`stop_rules[{i}].trigger.above`: discomfort is rated 0 to 10, so `above = 11` would never stop"
            )),
            "{err}"
        );
        assert!(
            err.contains("`movement.reps.min`: reps out of order: `min` (9) is above `max` (8)"),
            "{err}"
        );
        let mut recover_json = start_json;
        recover_json["started_at"] = T0.0.into();
        recover_json["log"] = serde_json::json!([]);
        let err = recover(&recover_json.to_string()).unwrap_err();
        assert!(err.contains("`stop_rules["), "{err}");
        let mut p = protocol();
        p["setup"][0]["variants"][0]["instrument"] = "tennis-ball".into();
        let err = start(&serde_json::json!({ "protocol": p }).to_string(), T0).unwrap_err();
        assert!(
            err.contains(
                "`setup[0].variants[0].instrument`: the variant's instrument `tennis-ball` is not one of the protocol's instruments"
            ),
            "{err}"
        );
    }

    /// Offers, "writes" into `log`, commits.
    fn step(h: u32, log: &mut Vec<LogEntry>, input: &str, now: Time) {
        let entries = offer(h, input, now).unwrap();
        log.extend_from_slice(&entries);
        commit(h).unwrap();
    }

    #[test]
    fn a_session_runs_offer_then_commit_and_its_outputs_carry_their_times() {
        let h = start(&start_json(&[]), T0).unwrap();
        let opening = poll(h).unwrap();
        assert_eq!(opening[0].at, T0);
        assert_eq!(
            serde_json::to_value(&opening[0]).unwrap(),
            serde_json::json!({"at": T0.0, "output": {"type": "stage", "stage": "screening"}})
        );
        let mut log = Vec::new();
        let entries = offer(h, r#"{"type":"answer","answer":"no"}"#, T0.plus_ms(700)).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!((entries[0].seq, entries[0].at_ms), (0, 700));
        assert!(
            poll(h).unwrap().is_empty(),
            "nothing applies before the commit"
        );
        log.extend_from_slice(&entries);
        commit(h).unwrap();
        assert_eq!(poll(h).unwrap()[0].at, T0.plus_ms(700));
        assert_eq!(
            commit(h).unwrap_err(),
            "no batch to commit: offer or advance first"
        );
        for _ in 0..2 {
            step(
                h,
                &mut log,
                r#"{"type":"answer","answer":"no"}"#,
                T0.plus_ms(800),
            );
        }
        while current(h, T0.plus_ms(900)).unwrap().iter().any(|o| {
            matches!(
                o,
                Output::Stage {
                    stage: Stage::Setup
                }
            )
        }) {
            step(h, &mut log, r#"{"type":"ready"}"#, T0.plus_ms(900));
        }
        let deadline = next_deadline(h).unwrap().expect("rolling");
        assert!(advance(h, Time(deadline.0 - 1)).unwrap().is_empty());
        commit(h).unwrap();
        let late = advance(h, deadline.plus_ms(1)).unwrap();
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].input, Input::Timeout);
        log.extend_from_slice(&late);
        commit(h).unwrap();
        let phases: Vec<Timed> = poll(h)
            .unwrap()
            .into_iter()
            .filter(|t| matches!(t.output, Output::Phase { .. }))
            .collect();
        assert_eq!(phases.last().map(|t| t.at), Some(deadline));
        step(
            h,
            &mut log,
            r#"{"type":"pain","kind":"spine"}"#,
            deadline.plus_ms(50),
        );
        let end = end_record(h).unwrap().expect("stopped");
        assert_eq!(
            end.outcome,
            Some(Outcome::Stopped {
                reason: StopReason::PainOverSpine
            })
        );
        let rec = record(h, "page-1").unwrap();
        assert_eq!(rec.uid, "page-1");
        assert_eq!(rec.reason.as_deref(), Some("pain-over-spine"));
        assert_eq!(rec.events.len(), log.len());
        assert!(
            rec.events
                .iter()
                .zip(&log)
                .all(|(e, l)| (e.seq, e.at_ms, e.input) == (l.seq, l.at_ms, l.input))
        );
        assert_eq!(rec.protocol, protocol(), "the protocol as given");
        assert_eq!(rec.ended_at, Some(deadline.plus_ms(50)));
        free(h);
        assert!(poll(h).is_err());
    }

    #[test]
    fn a_rejected_input_is_an_error_and_leaves_no_batch() {
        let h = start(&start_json(&[]), T0).unwrap();
        let e = offer(h, r#"{"type":"ready"}"#, T0).unwrap_err();
        assert!(e.contains("ready"), "{e}");
        assert!(commit(h).is_err(), "nothing to commit");
        let e = offer(h, r#"{"type":"fly"}"#, T0).unwrap_err();
        assert!(e.starts_with("not an engine input"), "{e}");
        assert!(
            start("{}", T0)
                .unwrap_err()
                .starts_with("not a session start")
        );
        let bad = serde_json::json!({"protocol": {"id": 1}}).to_string();
        assert!(start(&bad, T0).unwrap_err().starts_with("not a protocol"));
        let too_many =
            serde_json::json!({"protocol": protocol(), "options": {"reps": 99, "reasons": []}})
                .to_string();
        let e = start(&too_many, T0).unwrap_err();
        assert!(e.starts_with("the options do not fit"), "{e}");
        assert!(record(h, "x").unwrap_err().contains("has not ended"));
        free(h);
    }

    #[test]
    fn a_session_closed_mid_rep_is_recovered_from_its_log_and_interrupted_with_what_it_did() {
        let h = start(&start_json(&["soreness"]), T0).unwrap();
        let mut log = Vec::new();
        for _ in 0..3 {
            step(h, &mut log, r#"{"type":"answer","answer":"no"}"#, T0);
        }
        step(
            h,
            &mut log,
            r#"{"type":"rating","value":6}"#,
            T0.plus_ms(10),
        );
        while end_record(h).unwrap().is_none() && next_deadline(h).unwrap().is_none() {
            step(h, &mut log, r#"{"type":"ready"}"#, T0.plus_ms(20));
        }
        // Two reps and a half, then the page dies.
        let d = next_deadline(h).unwrap().unwrap();
        let tempo = 4_000;
        let entries = advance(h, d.plus_ms(4 * tempo + 100)).unwrap();
        log.extend_from_slice(&entries);
        commit(h).unwrap();
        let before: Vec<Output> = current(h, d.plus_ms(4 * tempo + 200)).unwrap();
        let req = serde_json::json!({
            "protocol": protocol(),
            "options": { "reasons": ["soreness"], "reps": 5 },
            "facts": { "injuries": [], "last_pairing": null },
            "started_at": T0,
            "log": log,
        })
        .to_string();
        let (back, rejected) = recover(&req).unwrap();
        assert_eq!(rejected, 0);
        assert_eq!(current(back, d.plus_ms(4 * tempo + 200)).unwrap(), before);
        let last = T0.plus_ms(log.last().unwrap().at_ms);
        let end = interrupt(back, last).unwrap();
        assert_eq!(end.outcome, None);
        assert_eq!(end.summary.reps_done, 2);
        let rec = record(back, "crashed").unwrap();
        assert_eq!(
            rec.outcome,
            Some(rollcoach_store::SessionOutcome::Interrupted)
        );
        assert_eq!(rec.reason, None);
        assert_eq!(rec.reps_done, Some(2));
        assert_eq!(rec.ended_at, Some(last));
        assert_eq!(rec.ratings.len(), 1);
        assert_eq!(rec.ratings[0].before, Some(6));
        assert_eq!(rec.events.len(), log.len());
        assert!(
            recover("{}")
                .unwrap_err()
                .starts_with("not a session to recover")
        );
        free(h);
        free(back);
    }

    #[test]
    fn the_injury_rules_are_the_engines() {
        let hour = 3_600_000;
        let q = serde_json::json!({
            "protocol": protocol(),
            "injuries": [{"at": T0.0 - 10 * hour, "note": null}],
        })
        .to_string();
        let b = serde_json::to_value(block(&q, T0).unwrap()).unwrap();
        assert_eq!(b["allowed_at"], T0.0 + 38 * hour);
        assert_eq!(b["window_hours"], 48);
        assert!(b["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(
            serde_json::to_value(block(&q, T0.plus_ms(38 * hour)).unwrap()).unwrap(),
            serde_json::Value::Null
        );
        assert_eq!(injury_time(T0.plus_ms(60_000), T0), Ok(T0));
        let e = injury_time(Time(915_148_800_000), T0).unwrap_err(); // 1999
        assert!(e.contains("cannot be dated before 2000-01-01"), "{e}");
        let e = injury_time(T0.plus_ms(30 * hour), T0).unwrap_err();
        assert!(
            e.contains("in the future") && e.contains("1 day 6 hours"),
            "{e}"
        );
    }

    #[test]
    fn the_pages_uids_are_the_stores() {
        let uid = new_uid(T0, 0x0123_4567_89ab_cdef);
        assert_eq!(uid, format!("{:012x}-0123456789abcdef", T0.0));
        assert!(rollcoach_store::check_uid(&uid).is_ok());
    }
}
