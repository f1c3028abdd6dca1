//! The speech planner's duration model against espeak-ng's real voice: every
//! text the built-in protocols can say is spoken to a WAV file (`espeak-ng -w`)
//! at three rates, and its length compared with `estimate_ms`. The planner
//! chooses breath-cue wordings by these estimates, so a cue must never be
//! longer than estimated by more than a small margin.

use std::path::Path;
use std::process::Command;

use rollcoach_engine::speech::{BASE_WPM, estimate_ms};

/// The length of a PCM WAV file in milliseconds, from its header.
fn wav_ms(path: &Path) -> u64 {
    let bytes = std::fs::read(path).expect("espeak-ng wrote the file");
    assert_eq!(&bytes[0..4], b"RIFF", "a RIFF file");
    assert_eq!(&bytes[8..12], b"WAVE", "a WAVE file");
    let mut at = 12;
    let mut byte_rate = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        let body = at + 8;
        if id == b"fmt " {
            byte_rate = Some(u32::from_le_bytes(
                bytes[body + 8..body + 12].try_into().unwrap(),
            ));
        } else if id == b"data" {
            // espeak-ng writing to a file may leave the size unset (0 or all ones).
            let size = if size == 0 || body + size > bytes.len() {
                bytes.len() - body
            } else {
                size
            };
            let rate = u64::from(byte_rate.expect("fmt before data"));
            return size as u64 * 1000 / rate;
        }
        at = body + size + (size & 1);
    }
    panic!("no data chunk in {}", path.display());
}

fn spoken_texts() -> Vec<String> {
    let mut texts = Vec::new();
    for p in rollcoach_protocol::builtin() {
        // Every wording of every phase cue, the short ones too.
        for out in [true, false] {
            for inhale in [true, false] {
                texts.extend(p.movement.cue_forms(out, inhale));
            }
        }
        // Setup cues, in every instrument's wording (the movement is one).
        for step in &p.setup {
            texts.push(step.cue.clone());
            texts.extend(step.variants.iter().map(|v| v.cue.clone()));
        }
        texts.extend(p.notes.iter().map(|n| n.cue.clone()));
        texts.extend(p.stop_rules.iter().map(|r| r.message.clone()));
        texts.extend(p.screening.questions.iter().map(|q| q.text.clone()));
    }
    texts.sort();
    texts.dedup();
    texts
}

#[test]
fn the_duration_model_matches_espeak_ng() {
    if Command::new("espeak-ng").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs espeak-ng: the calibration must run there"
        );
        eprintln!("espeak-ng is not installed: skipping the calibration");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("u.wav");
    let mut worst_over = 0i64;
    let mut report = String::new();
    for rate in [0.8, 1.0, 1.5] {
        let wpm = (BASE_WPM * rate).round() as u32;
        for text in spoken_texts() {
            let status = Command::new("espeak-ng")
                .args(["-s", &wpm.to_string(), "-w"])
                .arg(&wav)
                .arg("--")
                .arg(&text)
                .status()
                .unwrap();
            assert!(status.success(), "espeak-ng failed on `{text}`");
            let real = wav_ms(&wav) as i64;
            let est = estimate_ms(&text, rate) as i64;
            let over = real - est;
            worst_over = worst_over.max(over * 1000 / real.max(1));
            report.push_str(&format!("{rate:>4} {real:>6} {est:>6} {text}\n"));
            // Short cues decide what fits a phase: they must be close.
            let tolerance = if real < 3_000 { 300 } else { real / 6 };
            assert!(
                over <= tolerance,
                "`{text}` at {rate}x lasts {real} ms, {over} ms more than the estimated {est} ms\n{report}"
            );
            assert!(
                -over <= tolerance + real / 4,
                "`{text}` at {rate}x lasts {real} ms, far less than the estimated {est} ms\n{report}"
            );
        }
    }
    eprintln!("{report}worst overrun: {} per mille", worst_over);
}
