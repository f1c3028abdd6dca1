//! The fixtures every test shares: the built-in protocols by id, one start
//! time and the durations tests count in.

use std::sync::{Arc, LazyLock};

use rollcoach_engine::Time;
use rollcoach_protocol::Protocol;

/// The one start time of the tests: 2026-11-25 09:00:00 UTC.
pub const T0: Time = Time(1_795_597_200_000);

/// A second, in milliseconds.
pub const SECOND: u64 = 1_000;
/// A minute, in milliseconds.
pub const MINUTE: u64 = 60 * SECOND;
/// An hour, in milliseconds.
pub const HOUR: u64 = 60 * MINUTE;
/// A day, in milliseconds.
pub const DAY: u64 = 24 * HOUR;

/// The built-in protocols, parsed once per test binary, in their built-in order.
pub fn builtins() -> &'static [Arc<Protocol>] {
    static ALL: LazyLock<Vec<Arc<Protocol>>> = LazyLock::new(|| {
        rollcoach_protocol::builtin()
            .into_iter()
            .map(Arc::new)
            .collect()
    });
    &ALL
}

/// The built-in protocol `id` (e.g. `"upper-back"`), shared.
///
/// # Panics
///
/// If no built-in protocol has that id; the message lists the ids there are.
pub fn protocol_arc(id: &str) -> Arc<Protocol> {
    match builtins().iter().find(|p| p.id == id) {
        Some(p) => p.clone(),
        None => {
            let known: Vec<&str> = builtins().iter().map(|p| p.id.as_str()).collect();
            panic!(
                "no built-in protocol `{id}`; the built-in ones are: {}",
                known.join(", ")
            )
        }
    }
}

/// The built-in protocol `id` (e.g. `"upper-back"`), as a value a test may change.
///
/// # Panics
///
/// If no built-in protocol has that id (see [`protocol_arc`]).
pub fn protocol(id: &str) -> Protocol {
    Protocol::clone(&protocol_arc(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upper_back_is_built_in_and_shared() {
        let p = protocol("upper-back");
        assert_eq!(p.id, "upper-back");
        assert!(Arc::ptr_eq(
            &protocol_arc("upper-back"),
            &protocol_arc("upper-back")
        ));
    }

    #[test]
    #[should_panic(expected = "no built-in protocol `nope`; the built-in ones are: ")]
    fn an_unknown_id_names_the_known_ones() {
        protocol("nope");
    }
}
