//! Schemas of the fields whose types belong to the protocol, engine and
//! store crates (which have no JSON schemas of their own): each is described
//! as the JSON it serializes to.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

/// A value that is a JSON object, with what it is.
fn object(description: &str) -> Schema {
    json_schema!({ "type": "object", "description": description })
}

/// A JSON object or null.
fn nullable_object(description: &str) -> Schema {
    json_schema!({ "type": ["object", "null"], "description": description })
}

/// A protocol, as `GET /api/protocols/{id}` gives it in `protocol`.
pub fn protocol(_: &mut SchemaGenerator) -> Schema {
    object(
        "A protocol in full, as the server runs it (the serde form of the protocol model: \
         id, version, title, area, screening, movement, stop_rules, ratings, ...). \
         `rollcoach protocols schema` describes the protocol file it is read from.",
    )
}

/// A protocol snapshot (kept as JSON).
pub fn protocol_snapshot(_: &mut SchemaGenerator) -> Schema {
    object(
        "The protocol as it ran, as GET /api/protocols/{id} gives it (field `protocol`); \
         a pushed session's must equal this server's protocol of that id and version.",
    )
}

/// The engine's session options.
pub fn options(_: &mut SchemaGenerator) -> Schema {
    object(
        "The options the session ran with: {instrument, reps, tempo_seconds, reasons, pairing}, \
         each null for the protocol's default.",
    )
}

/// The engine's facts.
pub fn facts(_: &mut SchemaGenerator) -> Schema {
    object(
        "What the engine knew at the start: {injuries: [{at, note}], last_pairing}: the area's \
         injuries that counted, and the pairing the protocol's last session started with.",
    )
}

/// A recorded outcome, or null.
pub fn outcome(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": ["object", "null"],
        "description": "How the session ended (null while it runs): {outcome: completed | stopped | refused | interrupted}, with `reason` for a stop (a stop reason id) or a refusal ({recent-injury: {injured_at, allowed_at}} or {answer: {question}}).",
        "required": ["outcome"],
        "properties": {
            "outcome": { "type": "string", "enum": ["completed", "stopped", "refused", "interrupted"] }
        }
    })
}

/// The engine's summary, or null.
pub fn summary(_: &mut SchemaGenerator) -> Schema {
    nullable_object(
        "The engine's summary (null while the session runs): {reps_done, reps_target, \
         active_ms, pairings, ratings, discomfort, ...}.",
    )
}

/// An engine input.
pub fn input(_: &mut SchemaGenerator) -> Schema {
    object("An engine input, as the runner logs it ({type: ..., ...}).")
}

/// A breathing pairing, or null.
pub fn pairing(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": ["string", "null"],
        "enum": ["inhale-out", "inhale-back", null],
        "description": "The breathing pairing: breathe in on the way out (`inhale-out`) or on the way back (`inhale-back`)."
    })
}

/// A uid: at most 128 printable characters.
pub fn uid(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "maxLength": 128,
        "description": "Globally unique, the same in every copy: the start or logging time and 64 random bits, in hex (`019b7a0a0c00-9f3c2e7a1b4d5c6e`)."
    })
}

/// The schema of `T` as a `$ref` (or inline, for simple types): what the
/// OpenAPI document's route table uses for each body and answer.
pub fn of<T: JsonSchema + ?Sized>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// A query flag: `1`/`0` (or `true`/`false`).
pub fn flag(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "enum": ["1", "0", "true", "false"] })
}

/// A compact history row.
pub fn history_row(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "description": "One session, its values in `columns` order: uid, protocol, started_at, duration_ms, outcome, reason, reps_done, reps_target, and its ratings as one array, `before, after` for each of `rating_ids` (null: skipped or not reached).",
        "items": {}
    })
}
