//! The wire's shapes: what each answer holds, and that the schemas'
//! mirrors of the store's export types are the types' own JSON.

use rollcoach_engine::{Facts, InjuryFact, Options, RatingResult, Time, injury_block};
use rollcoach_protocol::{Pairing, Protocol};
use rollcoach_store::{ExportedInjury, SessionOutcome, SessionRecord};
use rollcoach_wire::*;
use serde_json::{Value, json};

const T0: Time = Time(1_795_597_200_000);
const HOUR: u64 = 3_600_000;

fn protocol() -> Protocol {
    rollcoach_protocol::builtin()
        .into_iter()
        .find(|p| p.id == "upper-back")
        .unwrap()
}

fn record() -> SessionRecord {
    SessionRecord {
        uid: "019b7a0a0c00-9f3c2e7a1b4d5c6e".into(),
        protocol_id: "upper-back".into(),
        protocol_version: 1,
        area: "upper-back".into(),
        options: Options {
            reps: Some(5),
            ..Options::default()
        },
        facts: Facts::default(),
        started_at: T0,
        ended_at: Some(T0.plus_ms(300_000)),
        outcome: Some(SessionOutcome::Completed),
        reason: None,
        message: Some("done".into()),
        reps_done: Some(5),
        reps_target: 5,
        active_ms: Some(250_000),
        pairing: Some(Pairing::InhaleOut),
        ratings: vec![RatingResult {
            id: "stiffness".into(),
            before: Some(6),
            after: Some(3),
        }],
        summary: None,
    }
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[test]
fn a_history_item_is_the_record_without_its_row_id_and_process_id() {
    let record = record();
    let full = serde_json::to_value(&record).unwrap();
    let item = serde_json::to_value(HistoryItem::from(record.clone())).unwrap();
    let mut want: Vec<String> = keys(&full)
        .into_iter()
        .filter(|k| k != "id" && k != "owner_pid")
        .chain(["live".to_owned()])
        .collect();
    want.sort();
    assert_eq!(
        keys(&item),
        want,
        "every other field of the record, and `live`"
    );
    for (k, v) in item.as_object().unwrap() {
        if k != "live" {
            assert_eq!(v, &full[k], "{k} as the record has it");
        }
    }
    assert_eq!(item["live"], false);
    let live = SessionRecord {
        outcome: None,
        ..record
    };
    assert_eq!(
        serde_json::to_value(HistoryItem::from(live)).unwrap()["live"],
        true
    );
}

#[test]
fn an_injury_answer_has_its_uid_and_no_row_id() {
    let stored = rollcoach_store::Injury {
        number: 3,
        uid: "u-1".into(),
        area: "upper-back".into(),
        at: T0,
        note: Some("tweaked".into()),
        created_at: T0.plus_ms(1),
        cleared_at: None,
    };
    let v = serde_json::to_value(Injury::from(stored.clone())).unwrap();
    assert_eq!(
        v,
        json!({"uid": "u-1", "area": "upper-back", "at": T0.0, "note": "tweaked",
               "created_at": T0.0 + 1, "cleared_at": null})
    );
    // The same fields as the export document's injury: one shape.
    let exported = ExportedInjury {
        uid: stored.uid,
        area: stored.area,
        at: stored.at,
        note: stored.note,
        created_at: stored.created_at,
        cleared_at: stored.cleared_at,
    };
    assert_eq!(v, serde_json::to_value(exported).unwrap());
}

#[test]
fn an_injury_blocks_the_protocols_of_its_area_until_their_window_ends() {
    let protocols = rollcoach_protocol::builtin();
    let injury = Injury {
        uid: "u".into(),
        area: "upper-back".into(),
        at: T0,
        note: None,
        created_at: T0,
        cleared_at: None,
    };
    let item = InjuryItem::of(injury.clone(), &protocols, T0.plus_ms(HOUR));
    let blocked: Vec<&str> = item.blocks.iter().map(|b| b.protocol.as_str()).collect();
    let want: Vec<&str> = protocols
        .iter()
        .filter(|p| p.area == "upper-back")
        .map(|p| p.id.as_str())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(blocked, want);
    let ub = item
        .blocks
        .iter()
        .find(|b| b.protocol == "upper-back")
        .unwrap();
    assert_eq!(ub.allowed_at, T0.plus_ms(48 * HOUR));
    // Flattened: the injury's fields and `blocks`, side by side.
    let v = serde_json::to_value(&item).unwrap();
    assert_eq!(v["uid"], "u");
    assert!(v["blocks"].is_array());
    assert_eq!(serde_json::from_value::<InjuryItem>(v).unwrap(), item);

    let cleared = Injury {
        cleared_at: Some(T0.plus_ms(1)),
        ..injury.clone()
    };
    assert!(
        InjuryItem::of(cleared, &protocols, T0.plus_ms(HOUR))
            .blocks
            .is_empty()
    );
    let elsewhere = Injury {
        area: "nowhere".into(),
        ..injury.clone()
    };
    assert!(
        InjuryItem::of(elsewhere, &protocols, T0.plus_ms(HOUR))
            .blocks
            .is_empty()
    );
    assert!(
        InjuryItem::of(injury, &protocols, T0.plus_ms(49 * HOUR))
            .blocks
            .is_empty()
    );
}

#[test]
fn the_block_is_the_engines_with_the_protocols_window_and_message() {
    let p = protocol();
    let injuries = [InjuryFact { at: T0, note: None }];
    let engine = injury_block(&p, &injuries, T0.plus_ms(HOUR)).unwrap();
    let block = Block::now(&p, &injuries, T0.plus_ms(HOUR)).unwrap();
    assert_eq!(block.injured_at, engine.injured_at);
    assert_eq!(block.allowed_at, engine.allowed_at);
    assert_eq!(block.window_hours, p.screening.injury_rule.window_hours);
    assert_eq!(block.message, p.screening.injury_rule.message);
    assert_eq!(Block::now(&p, &injuries, T0.plus_ms(48 * HOUR)), None);
    assert_eq!(Block::now(&p, &[], T0), None);
}

#[test]
fn a_protocols_detail_round_trips_and_the_static_app_has_no_now() {
    let p = protocol();
    let detail = ProtocolDetail::of(&p, None, None);
    let v = serde_json::to_value(&detail).unwrap();
    assert_eq!(keys(&v), ["blocked", "protocol", "rules", "warnings"]);
    assert_eq!(serde_json::from_value::<ProtocolDetail>(v).unwrap(), detail);
    let served = ProtocolDetail::of(&p, None, Some(T0));
    assert_eq!(serde_json::to_value(&served).unwrap()["now"], T0.0);
    assert_eq!(served.rules.injury_window_hours, 48);

    let brief = serde_json::to_value(ProtocolBrief::of(&p, None)).unwrap();
    assert_eq!(
        keys(&brief),
        [
            "area",
            "blocked",
            "estimated_seconds",
            "id",
            "reps",
            "rules",
            "title"
        ]
    );
    assert_eq!(
        brief["reps"],
        json!({"min": 5, "max": 8, "default": p.movement.reps.default})
    );
}

#[test]
fn a_push_answer_says_what_was_done() {
    let v = serde_json::to_value(SyncStatus {
        status: SyncWord::Cleared,
        uid: "u".into(),
    })
    .unwrap();
    assert_eq!(v, json!({"status": "cleared", "uid": "u"}));
    assert_eq!(
        serde_json::to_value(ErrorBody { error: "no".into() }).unwrap(),
        json!({"error": "no"})
    );
}

/// The schemas (the server's feature).
#[cfg(feature = "schema")]
mod schema {
    use super::*;
    use rollcoach_engine::Input;
    use rollcoach_store::{Event, ExportedSession};

    /// An export session with every field set.
    fn exported_session() -> ExportedSession {
        let r = record();
        ExportedSession {
            uid: r.uid,
            protocol_id: r.protocol_id,
            protocol_version: r.protocol_version,
            area: r.area,
            protocol: serde_json::to_value(protocol()).unwrap(),
            options: r.options,
            facts: r.facts,
            started_at: r.started_at,
            ended_at: r.ended_at,
            outcome: r.outcome,
            reason: Some("by-person".into()),
            message: r.message,
            reps_done: r.reps_done,
            reps_target: r.reps_target,
            active_ms: r.active_ms,
            pairing: r.pairing,
            ratings: r.ratings,
            summary: None,
            events: vec![Event {
                seq: 0,
                at_ms: 0,
                input: Input::Ready,
            }],
        }
    }

    /// The schema's mirrors read exactly what the store's types write (no
    /// field unknown to them: they deny unknown fields) and write it back the
    /// same (no field of theirs missing).
    #[test]
    fn the_schema_mirrors_are_the_export_types_json() {
        fn same<T: serde::Serialize + serde::de::DeserializeOwned>(v: Value) {
            let mirror: T = serde_json::from_value(v.clone())
                .unwrap_or_else(|e| panic!("{e}: the mirror does not read {v}"));
            assert_eq!(serde_json::to_value(mirror).unwrap(), v);
        }
        let session = exported_session();
        same::<SessionShape>(serde_json::to_value(&session).unwrap());
        let injury = ExportedInjury {
            uid: "u".into(),
            area: "upper-back".into(),
            at: T0,
            note: Some("n".into()),
            created_at: T0,
            cleared_at: Some(T0.plus_ms(5)),
        };
        same::<InjuryShape>(serde_json::to_value(&injury).unwrap());
        let doc = rollcoach_store::ExportDocument {
            format: rollcoach_store::EXPORT_FORMAT.into(),
            version: rollcoach_store::EXPORT_VERSION,
            exported_at: T0,
            sessions: vec![session],
            injuries: vec![injury],
        };
        same::<ExportDocumentShape>(serde_json::to_value(&doc).unwrap());
        // Version 3: a later session of the same snapshot names the first.
        let mut v = serde_json::to_value(&doc).unwrap();
        let mut second = v["sessions"][0].clone();
        second.as_object_mut().unwrap().remove("protocol");
        second["uid"] = "second".into();
        second["protocol_same_as"] = v["sessions"][0]["uid"].clone();
        v["sessions"].as_array_mut().unwrap().push(second);
        same::<ExportDocumentShape>(v);
    }

    #[test]
    fn the_schemas_have_the_fields_the_types_write() {
        let mut g = schemars::generate::SchemaSettings::openapi3()
            .for_serialize()
            .into_generator();
        let item = g.root_schema_for::<HistoryItem>().to_value();
        let v = serde_json::to_value(HistoryItem::from(record())).unwrap();
        assert_eq!(keys(&item["properties"]), keys(&v));
        let device = g.root_schema_for::<Device>().to_value();
        let d = Device::of(
            rollcoach_store::Device {
                id: "abc".into(),
                person: rollcoach_store::PersonId::owner(),
                name: "Firefox".into(),
                via: "pairing link from the terminal".into(),
                created_at: T0,
                last_seen_at: None,
                revoked_at: None,
            },
            true,
        );
        assert_eq!(
            keys(&device["properties"]),
            keys(&serde_json::to_value(d).unwrap())
        );
        let injury = g.root_schema_for::<InjuryItem>().to_value();
        assert!(
            injury["properties"]["uid"].is_object() && injury["properties"]["blocks"].is_object(),
            "{injury}"
        );
    }
}
