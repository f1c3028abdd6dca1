//! The WebSocket protocol of a live session (`/api/sessions/{id}/ws`): one
//! serde type per direction, each frame one JSON text message.
//!
//! - [`ServerFrame`], server to page: `hello` on attach, `sync` before each
//!   batch of outputs, `error`, and every engine [`Output`] in its own serde
//!   form (`{"type": "phase", ...}`).
//! - [`ClientFrame`], page to server: the person's inputs, an engine
//!   [`Input`] in its serde form (`{"type": "pain", "kind": "spine"}`) except
//!   `timeout`, which only the server's clock sends.
//!
//! Their JSON Schema is in the OpenAPI document (`/api/openapi.json`, under
//! `components/schemas`, linked from the WebSocket path).
//!
//! These types live in the server, not in the engine crate: they are the
//! protocol of a session that the *server* runs on the page's behalf (its
//! clock in `hello`/`sync`, its errors). A page that runs the engine itself
//! (wasm) uses the engine's [`Input`], [`Output`] and runner log entries
//! directly, which the engine crate already has; nothing here would go with it.

use rollcoach_engine::{Input, Output, PainKind, Time};
use rollcoach_protocol::Answer;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A frame from the server to a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerFrame {
    /// The first frame after attaching: which session, and the session clock.
    Hello {
        /// The session's id.
        session: i64,
        /// The protocol's id.
        protocol: String,
        /// Session time now, in ms since the Unix epoch.
        now: Time,
        /// How fast session time runs (1 is real time).
        speed: f64,
    },
    /// Before each batch of outputs: the session time they happened at.
    Sync {
        /// Session time of the outputs that follow, in ms since the Unix epoch.
        now: Time,
        /// How fast session time runs (1 is real time).
        speed: f64,
    },
    /// An input that did not fit, or the session cannot go on (the message says).
    Error {
        /// What went wrong, in words for the person.
        error: String,
    },
    /// An engine output, in its own serde form (its `type` is the output's).
    #[serde(untagged)]
    Output(Output),
}

/// A frame from a page to the server: one of the person's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ClientFrame {
    /// Answer to the current screening question.
    Answer {
        /// Yes or no.
        #[schemars(schema_with = "rollcoach_engine::schema::answer")]
        answer: Answer,
    },
    /// The person is ready (for the current setup step).
    Ready,
    /// A 0-10 rating for the current rating prompt; `null` skips it.
    Rating {
        /// 0 to 10, or `null` to skip.
        value: Option<u8>,
    },
    /// Freeze the current phase.
    Pause,
    /// Continue the paused phase with the time it had left.
    Resume,
    /// Current discomfort on the 0-10 scale.
    Discomfort {
        /// 0 to 10.
        level: u8,
    },
    /// The person reports pain.
    Pain {
        /// Which kind.
        kind: PainKind,
    },
    /// A snap, crackle or pop without pain.
    Noise,
    /// Switch the breathing pairing from the next phase on.
    SwitchBreathing,
    /// The person stops the session.
    Stop,
}

impl From<ClientFrame> for Input {
    fn from(frame: ClientFrame) -> Input {
        match frame {
            ClientFrame::Answer { answer } => Input::Answer { answer },
            ClientFrame::Ready => Input::Ready,
            ClientFrame::Rating { value } => Input::Rating { value },
            ClientFrame::Pause => Input::Pause,
            ClientFrame::Resume => Input::Resume,
            ClientFrame::Discomfort { level } => Input::Discomfort { level },
            ClientFrame::Pain { kind } => Input::Pain { kind },
            ClientFrame::Noise => Input::Noise,
            ClientFrame::SwitchBreathing => Input::SwitchBreathing,
            ClientFrame::Stop => Input::Stop,
        }
    }
}

impl TryFrom<Input> for ClientFrame {
    type Error = Input;

    /// The frame a page sends for `input`; `Err` for [`Input::Timeout`],
    /// which no page sends. (Exhaustive: a new engine input must be placed.)
    fn try_from(input: Input) -> Result<ClientFrame, Input> {
        Ok(match input {
            Input::Answer { answer } => ClientFrame::Answer { answer },
            Input::Ready => ClientFrame::Ready,
            Input::Rating { value } => ClientFrame::Rating { value },
            Input::Pause => ClientFrame::Pause,
            Input::Resume => ClientFrame::Resume,
            Input::Discomfort { level } => ClientFrame::Discomfort { level },
            Input::Pain { kind } => ClientFrame::Pain { kind },
            Input::Noise => ClientFrame::Noise,
            Input::SwitchBreathing => ClientFrame::SwitchBreathing,
            Input::Stop => ClientFrame::Stop,
            Input::Timeout => return Err(input),
        })
    }
}

impl ClientFrame {
    /// Reads a page's text frame; the error says what to send instead.
    pub fn parse(text: &str) -> Result<ClientFrame, String> {
        serde_json::from_str::<ClientFrame>(text).map_err(|e| {
            if matches!(serde_json::from_str::<Input>(text), Ok(Input::Timeout)) {
                "`timeout` comes from the server's clock, not from a page".to_owned()
            } else {
                format!(
                    "not an input ({e}); send e.g. {{\"type\":\"pain\",\"kind\":\"spine\"}}, {{\"type\":\"ready\"}} or {{\"type\":\"rating\",\"value\":4}}"
                )
            }
        })
    }
}

impl ServerFrame {
    /// The frame as JSON text.
    pub fn to_json(&self) -> String {
        // Plain data (strings, numbers, enums): serializing cannot fail. If
        // it ever did, the page still gets a well-formed error frame.
        serde_json::to_string(self).unwrap_or_else(|e| {
            let error = format!("internal: could not encode a frame: {e}");
            format!(
                "{{\"type\":\"error\",\"error\":{}}}",
                serde_json::Value::String(error)
            )
        })
    }
}

/// The wire schemas, OpenAPI 3.0 flavoured: `ServerFrame`, `ClientFrame`
/// and every type they use, keyed by name, for `components/schemas`.
pub(crate) fn schemas() -> serde_json::Map<String, serde_json::Value> {
    let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
    generator.subschema_for::<ServerFrame>();
    generator.subschema_for::<ClientFrame>();
    generator.take_definitions(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_frame_is_the_engine_input_of_the_same_json() {
        let inputs = [
            r#"{"type":"answer","answer":"no"}"#,
            r#"{"type":"ready"}"#,
            r#"{"type":"rating","value":4}"#,
            r#"{"type":"rating","value":null}"#,
            r#"{"type":"pause"}"#,
            r#"{"type":"resume"}"#,
            r#"{"type":"discomfort","level":5}"#,
            r#"{"type":"pain","kind":"spine"}"#,
            r#"{"type":"noise"}"#,
            r#"{"type":"switch-breathing"}"#,
            r#"{"type":"stop"}"#,
        ];
        for text in inputs {
            let frame = ClientFrame::parse(text).unwrap();
            let input: Input = serde_json::from_str(text).unwrap();
            assert_eq!(Input::from(frame), input, "{text}");
            assert_eq!(ClientFrame::try_from(input), Ok(frame));
            assert_eq!(
                serde_json::to_value(frame).unwrap(),
                serde_json::to_value(input).unwrap()
            );
        }
        assert_eq!(
            ClientFrame::try_from(Input::Timeout),
            Err(Input::Timeout),
            "no page sends a timeout"
        );
        let err = ClientFrame::parse(r#"{"type":"timeout"}"#).unwrap_err();
        assert!(err.contains("server's clock"), "{err}");
        let err = ClientFrame::parse("jump").unwrap_err();
        assert!(err.starts_with("not an input"), "{err}");
    }

    #[test]
    fn server_frames_read_back_as_themselves() {
        let frames = [
            ServerFrame::Hello {
                session: 3,
                protocol: "upper-back".into(),
                now: Time(5),
                speed: 1.0,
            },
            ServerFrame::Sync {
                now: Time(7),
                speed: 2.0,
            },
            ServerFrame::Error { error: "no".into() },
            ServerFrame::Output(Output::Paused { remaining_ms: 900 }),
            ServerFrame::Output(Output::Stage {
                stage: rollcoach_engine::Stage::Rolling,
            }),
        ];
        for f in frames {
            let back: ServerFrame = serde_json::from_str(&f.to_json()).unwrap();
            assert_eq!(back, f);
        }
    }
}
