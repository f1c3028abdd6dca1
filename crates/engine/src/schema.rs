//! JSON Schema of the protocol model's types that inputs and outputs carry
//! (feature `schema`). The protocol crate does not implement
//! `schemars::JsonSchema` for its model, so the engine describes the two
//! it uses, [`Answer`] and [`Pairing`]; a test checks each against its
//! serde form.
//!
//! [`Answer`]: rollcoach_protocol::Answer
//! [`Pairing`]: rollcoach_protocol::Pairing

use schemars::{Schema, SchemaGenerator, json_schema};

/// The schema of an [`Answer`](rollcoach_protocol::Answer): `"yes"` or `"no"`.
pub fn answer(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "A yes/no answer.",
        "type": "string",
        "enum": ["yes", "no"],
    })
}

/// The schema of a [`Pairing`](rollcoach_protocol::Pairing): `"inhale-out"` or `"inhale-back"`.
pub fn pairing(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "Which breath goes with which direction: breathe in on the way out (`inhale-out`) or on the way back (`inhale-back`).",
        "type": "string",
        "enum": ["inhale-out", "inhale-back"],
    })
}

/// The schema of a list of [`Pairing`](rollcoach_protocol::Pairing)s.
pub fn pairings(generator: &mut SchemaGenerator) -> Schema {
    let item = pairing(generator);
    json_schema!({
        "type": "array",
        "items": item,
    })
}

#[cfg(test)]
mod tests {
    use rollcoach_protocol::{Answer, Pairing};

    use super::*;

    fn values(schema: &Schema) -> Vec<String> {
        schema.as_value()["enum"]
            .as_array()
            .expect("an enum")
            .iter()
            .map(|v| v.as_str().expect("a string").to_owned())
            .collect()
    }

    fn serde_names<T: serde::Serialize>(all: &[T]) -> Vec<String> {
        all.iter()
            .map(|v| {
                serde_json::to_value(v)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn the_schemas_list_every_serde_value() {
        let mut generator = SchemaGenerator::default();
        // Exhaustive matches: a new variant fails to compile here.
        let answers = [Answer::Yes, Answer::No].map(|a| match a {
            Answer::Yes | Answer::No => a,
        });
        assert_eq!(values(&answer(&mut generator)), serde_names(&answers));
        let pairs = [Pairing::InhaleOut, Pairing::InhaleBack].map(|p| match p {
            Pairing::InhaleOut | Pairing::InhaleBack => p,
        });
        assert_eq!(values(&pairing(&mut generator)), serde_names(&pairs));
        let list = pairings(&mut generator);
        assert_eq!(
            list.as_value()["items"]["enum"],
            pairing(&mut generator).as_value()["enum"]
        );
    }
}
