//! How long a spoken text takes, and the wordings of a phase cue.
//!
//! Part of the model (no TOML needed), so the engine's speech planner and
//! `lint` share one estimate: the planner picks the longest wording of a
//! phase cue that fits its phase, and `lint` warns when no wording fits the
//! shortest allowed tempo.

use crate::Movement;

/// espeak-ng's default rate, in words a minute: the rate factor 1.0.
pub const BASE_WPM: f64 = 175.0;

/// Silence kept between a breath cue's expected end and its phase's end, and
/// between two utterances planned in one phase, in milliseconds.
pub const PHASE_MARGIN_MS: u64 = 250;

/// The expected length of `text` spoken at `rate` times espeak-ng's default
/// rate, in milliseconds.
///
/// A linear model of letters, word gaps, commas and sentence ends, fitted to
/// espeak-ng 1.51's durations of every text of the built-in protocols (at
/// 0.8x, 1x and 1.5x: within 0.3 s over for cues, a sixth for long texts;
/// `crates/cli/tests/speech_calibration.rs` checks it); digits count as the
/// words they are read as. It errs long on short cues, which keeps a chosen
/// breath cue inside its phase.
pub fn estimate_ms(text: &str, rate: f64) -> u64 {
    let text = text.trim();
    if text.is_empty() {
        return 0;
    }
    let mut letters = 0u32;
    let mut digits = 0u32;
    let mut gaps = 0u32;
    let mut commas = 0u32;
    let mut ends = 0u32;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits += 1;
        } else if c.is_alphanumeric() {
            letters += 1;
        } else if c.is_whitespace() {
            gaps += 1;
        } else if matches!(c, ',' | ';' | ':' | '(' | ')') {
            commas += 1;
        } else if matches!(c, '.' | '!' | '?') && chars.peek().is_none_or(|n| n.is_whitespace()) {
            ends += 1;
        }
    }
    let ms = 400.0
        + 53.0 * f64::from(letters)
        + 180.0 * f64::from(digits)
        + 16.0 * f64::from(gaps)
        + 260.0 * f64::from(commas)
        + 370.0 * f64::from(ends);
    let rate = if rate.is_finite() && rate > 0.0 {
        rate
    } else {
        1.0
    };
    (ms / rate).round() as u64
}

impl Movement {
    /// The wordings of a phase cue, longest first, without repeats: the full
    /// breath and direction cue ("breathe in, roll toward your neck"), the
    /// short one ("in, to your neck") when the direction has a `short_cue`,
    /// the breath cue alone ("breathe in"), and the short breath word ("in")
    /// when there is one.
    ///
    /// `out` picks the direction (toward [`Movement::out`], else
    /// [`Movement::back`]) and `inhale` the breath.
    pub fn cue_forms(&self, out: bool, inhale: bool) -> Vec<String> {
        let spec = if out { &self.out } else { &self.back };
        let b = &self.breathing;
        let (breath, breath_short) = if inhale {
            (&b.inhale_cue, b.inhale_short.as_ref())
        } else {
            (&b.exhale_cue, b.exhale_short.as_ref())
        };
        let mut forms = vec![format!("{breath}, {}", spec.cue)];
        if let Some(short) = &spec.short_cue {
            forms.push(format!("{}, {short}", breath_short.unwrap_or(breath)));
        }
        forms.push(breath.clone());
        forms.extend(breath_short.cloned());
        let mut seen: Vec<String> = Vec::with_capacity(forms.len());
        for f in forms {
            if !f.trim().is_empty() && !seen.contains(&f) {
                seen.push(f);
            }
        }
        seen
    }

    /// The longest of [`Movement::cue_forms`] whose expected length at
    /// `rate` leaves [`PHASE_MARGIN_MS`] to spare in a phase of `phase_ms`,
    /// if any does.
    pub fn fitting_cue(&self, out: bool, inhale: bool, phase_ms: u64, rate: f64) -> Option<String> {
        let room = phase_ms.saturating_sub(PHASE_MARGIN_MS);
        self.cue_forms(out, inhale)
            .into_iter()
            .find(|f| estimate_ms(f, rate) <= room)
    }
}
