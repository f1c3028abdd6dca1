//! The speech planner on a virtual clock: a whole session is driven with a
//! simulated speaker that takes as long as each utterance's expected length,
//! and what was "said" is checked against the phases it belongs to.

use std::sync::Arc;

use proptest::prelude::*;
use rollcoach_engine::speech::{Kind, Planner, Speech, estimate_ms};
use rollcoach_engine::{
    Breath, Direction, Facts, Input, Options, Output, PainKind, Prompt, Session, Time,
};
use rollcoach_protocol::{Answer, NoteMoment, Pairing, Protocol};

use rollcoach_testkit::T0;

#[derive(Debug, Clone)]
struct Said {
    text: String,
    kind: Kind,
    start: Time,
    end: Time,
    cut: bool,
}

/// How the simulated person acts.
#[derive(Debug, Clone, Copy)]
struct Person {
    /// Milliseconds before answering each prompt.
    answer_after_ms: u64,
    /// Reports pain this many ms into the rolling, if set.
    pain_at_ms: Option<u64>,
    /// Pauses for 3 s this many ms into the rolling, if set.
    pause_at_ms: Option<u64>,
    /// Waits for the voice to fall silent (the prompt and any note after it
    /// said whole) before answering, as well as `answer_after_ms`.
    waits_for_quiet: bool,
}

impl Person {
    fn answers_after(answer_after_ms: u64) -> Person {
        Person {
            answer_after_ms,
            pain_at_ms: None,
            pause_at_ms: None,
            waits_for_quiet: false,
        }
    }
}

struct Sim {
    session: Session,
    planner: Planner,
    now: Time,
    speaking: Option<(u64, Said)>,
    said: Vec<Said>,
    skipped: Vec<(String, Kind)>,
    /// (start, end) of every phase, end as first scheduled (pauses aside).
    phases: Vec<(Time, Time)>,
    stop_at: Option<Time>,
    rolling_since: Option<Time>,
    prompt_since: Option<Time>,
    prompt: Option<Prompt>,
    ended: bool,
    paused_at: Option<Time>,
}

impl Sim {
    fn new(protocol: &Protocol, tempo: f64, rate: f64) -> Sim {
        Sim::with(protocol, tempo, rate, None)
    }

    fn with(protocol: &Protocol, tempo: f64, rate: f64, pairing: Option<Pairing>) -> Sim {
        let protocol = Arc::new(protocol.clone());
        let options = Options {
            tempo_seconds: Some(tempo),
            reasons: vec![protocol.indications[0].id.clone()],
            pairing,
            ..Options::default()
        };
        let session = Session::with_arc(protocol.clone(), options, Facts::default(), T0).unwrap();
        let mut sim = Sim {
            session,
            planner: Planner::new(protocol, rate),
            now: T0,
            speaking: None,
            said: Vec::new(),
            skipped: Vec::new(),
            phases: Vec::new(),
            stop_at: None,
            rolling_since: None,
            prompt_since: None,
            prompt: None,
            ended: false,
            paused_at: None,
        };
        sim.drain();
        sim
    }

    fn drain(&mut self) {
        while let Some(out) = self.session.poll_output() {
            match &out {
                Output::Phase { deadline, .. } => {
                    self.phases.push((self.now, *deadline));
                    self.rolling_since.get_or_insert(self.now);
                }
                Output::Prompt(p) => {
                    self.prompt = Some(p.clone());
                    self.prompt_since = Some(self.now);
                }
                Output::End { .. } => self.ended = true,
                _ => {}
            }
            self.planner.output(self.now, &out);
        }
        self.speak();
    }

    fn speak(&mut self) {
        while let Some(s) = self.planner.poll(self.now) {
            match s {
                Speech::Say(u) => {
                    assert!(
                        self.speaking.is_none(),
                        "`{}` starts at {} while `{}` is still being said",
                        u.text,
                        self.now.since(T0),
                        self.speaking.as_ref().unwrap().1.text
                    );
                    let said = Said {
                        text: u.text.clone(),
                        kind: u.kind,
                        start: self.now,
                        end: self.now.plus_ms(u.expected_ms),
                        cut: false,
                    };
                    self.speaking = Some((u.id, said));
                }
                Speech::Cut { id } => {
                    let (sid, mut said) = self.speaking.take().expect("a cut of something said");
                    assert_eq!(sid, id, "the cut names the utterance being said");
                    said.end = self.now;
                    said.cut = true;
                    self.said.push(said);
                }
                Speech::Skip { text, kind } => self.skipped.push((text, kind)),
            }
        }
    }

    fn input(&mut self, input: Input) {
        if self.session.handle(input, self.now).is_ok() {
            if matches!(input, Input::Pain { .. } | Input::Stop) {
                self.stop_at = Some(self.now);
            }
            self.drain();
        }
    }

    fn run(mut self, person: Person) -> Sim {
        let mut pained = false;
        let mut paused = false;
        for _ in 0..100_000 {
            if self.ended && self.speaking.is_none() {
                return self;
            }
            // The next thing to happen.
            let mut next: Vec<Time> = Vec::new();
            if let Some((_, s)) = &self.speaking {
                next.push(s.end);
            }
            if let Some(w) = self.planner.next_wake() {
                next.push(w);
            }
            if let Some(d) = self.session.next_deadline() {
                next.push(d);
            }
            let answer_at = self.prompt_since.map(|t| t.plus_ms(person.answer_after_ms));
            if self.prompt.is_some()
                && (!person.waits_for_quiet || self.speaking.is_none())
                && let Some(t) = answer_at
            {
                next.push(t);
            }
            let pain_at = match (person.pain_at_ms, self.rolling_since) {
                (Some(ms), Some(r)) if !pained => Some(r.plus_ms(ms)),
                _ => None,
            };
            next.extend(pain_at);
            let pause_at = match (person.pause_at_ms, self.rolling_since) {
                (Some(ms), Some(r)) if !paused => Some(r.plus_ms(ms)),
                _ => None,
            };
            next.extend(pause_at);
            let resume_at = self.paused_at.map(|t| t.plus_ms(3_000));
            next.extend(resume_at);
            if self.ended {
                // Only the voice is left.
                next.clear();
                next.extend(self.speaking.as_ref().map(|(_, s)| s.end));
            }
            let Some(&t) = next.iter().min() else {
                panic!("nothing left to happen before the end");
            };
            self.now = self.now.max(t);
            // Utterances that end now.
            if let Some((id, s)) = &self.speaking
                && s.end <= self.now
            {
                let id = *id;
                let (_, s) = self.speaking.take().unwrap();
                self.said.push(s);
                self.planner.finished(id, self.now);
                self.speak();
                continue;
            }
            if self.planner.next_wake().is_some_and(|w| w <= self.now) {
                self.speak();
            }
            if !self.ended && pain_at.is_some_and(|p| p <= self.now) {
                pained = true;
                self.input(Input::Pain {
                    kind: PainKind::Spine,
                });
                continue;
            }
            if !self.ended && pause_at.is_some_and(|p| p <= self.now) {
                paused = true;
                self.paused_at = Some(self.now);
                self.input(Input::Pause);
                continue;
            }
            if !self.ended && resume_at.is_some_and(|p| p <= self.now) {
                self.paused_at = None;
                self.input(Input::Resume);
                continue;
            }
            let quiet = !person.waits_for_quiet || self.speaking.is_none();
            if self.prompt.is_some() && quiet && answer_at.is_some_and(|a| a <= self.now) {
                let input = match self.prompt.take().unwrap() {
                    Prompt::Screening { .. } => Input::Answer { answer: Answer::No },
                    Prompt::Rating { .. } => Input::Rating { value: Some(3) },
                    Prompt::Ready { .. } => Input::Ready,
                };
                self.prompt_since = None;
                self.input(input);
                continue;
            }
            if self.session.next_deadline().is_some_and(|d| d <= self.now) {
                self.input(Input::Timeout);
            }
        }
        panic!("the session did not end");
    }
}

fn builtins() -> Vec<Protocol> {
    rollcoach_testkit::builtins()
        .iter()
        .map(|p| Protocol::clone(p))
        .collect()
}

/// The breath cues said, each matched with the phase it belongs to.
fn check_timing(sim: &Sim) {
    let breath: Vec<&Said> = sim.said.iter().filter(|s| s.kind == Kind::Breath).collect();
    for (start, end) in &sim.phases {
        let cue = breath
            .iter()
            .find(|s| s.start >= *start && s.start < *end)
            .unwrap_or_else(|| {
                panic!(
                    "no breath cue in the phase at {}: said {:?}",
                    start.since(T0),
                    sim.said
                )
            });
        assert!(
            cue.start.since(*start) <= 150,
            "`{}` started {} ms into its phase",
            cue.text,
            cue.start.since(*start)
        );
        if sim.stop_at.is_none() && sim.paused_at.is_none() {
            assert!(!cue.cut, "`{}` was cut off", cue.text);
            assert!(cue.end <= *end, "`{}` runs past its phase", cue.text);
        }
    }
    // Nothing overlaps (also asserted as it happens).
    let mut all = sim.said.clone();
    all.sort_by_key(|s| s.start);
    for w in all.windows(2) {
        assert!(w[0].end <= w[1].start, "{:?} overlaps {:?}", w[0], w[1]);
    }
    if let Some(stop) = sim.stop_at {
        let msg = sim
            .said
            .iter()
            .find(|s| s.kind == Kind::Safety)
            .expect("the stop message is said");
        assert!(msg.start.since(stop) <= 100, "stop message late: {msg:?}");
        assert!(!msg.cut, "the stop message is said whole");
    }
}

#[test]
fn every_breath_cue_is_on_time_and_whole_at_every_tempo_and_rate() {
    for protocol in builtins() {
        let t = &protocol.movement.tempo;
        let mut tempo = t.min_seconds;
        while tempo <= t.max_seconds + 1e-9 {
            for rate in [0.8, 0.9, 1.0, 1.1, 1.25, 1.5] {
                for answer_after_ms in [300, 2_000, 12_000] {
                    let sim = Sim::new(&protocol, tempo, rate)
                        .run(Person::answers_after(answer_after_ms));
                    check_timing(&sim);
                    assert_eq!(
                        sim.phases.len(),
                        2 * protocol.movement.reps.default as usize
                    );
                }
            }
            tempo += 0.5;
        }
    }
}

#[test]
fn at_the_shortest_tempo_the_short_form_is_chosen() {
    let protocol = builtins().remove(0);
    let planner = Planner::new(Arc::new(protocol.clone()), 1.0);
    assert_eq!(
        planner.phase_forms(Breath::Inhale, Direction::Out),
        [
            "breathe in, roll toward your neck",
            "in, to your neck",
            "breathe in",
            "in"
        ]
    );
    assert_eq!(
        planner.phase_cue(Breath::Exhale, Direction::Back, 2_000),
        "out, back down"
    );
    let full = &planner.phase_forms(
        rollcoach_engine::Breath::Exhale,
        rollcoach_engine::Direction::Back,
    )[0];
    assert!(estimate_ms(full, 1.0) > 2_000, "{full}");
    let chosen = planner.phase_cue(
        rollcoach_engine::Breath::Exhale,
        rollcoach_engine::Direction::Back,
        2_000,
    );
    assert_ne!(&chosen, full);
    assert!(estimate_ms(&chosen, 1.0) + 250 <= 2_000, "{chosen}");
    let at_four = planner.phase_cue(
        rollcoach_engine::Breath::Exhale,
        rollcoach_engine::Direction::Back,
        4_000,
    );
    assert_eq!(&at_four, full);
}

#[test]
fn answered_prompts_are_cut_and_never_spoken_late() {
    let protocol = builtins().remove(0);
    let sim = Sim::new(&protocol, 4.0, 1.0).run(Person::answers_after(300));
    let rolling = sim.phases[0].0;
    assert!(
        sim.said
            .iter()
            .filter(|s| s.kind == Kind::Prompt && s.start < rolling)
            .all(|s| s.end <= rolling),
        "a prompt was still spoken once rolling began: {:?}",
        sim.said
    );
    assert!(
        sim.said.iter().any(|s| s.kind == Kind::Prompt && s.cut),
        "answering at once cuts the prompt being said"
    );
}

#[test]
fn a_pause_is_said_at_once_and_the_cue_comes_again_on_resume() {
    let protocol = builtins().remove(0);
    let person = Person {
        pause_at_ms: Some(9_000),
        ..Person::answers_after(300)
    };
    let sim = Sim::new(&protocol, 4.0, 1.0).run(person);
    let rolling = sim.phases[0].0;
    let pause = rolling.plus_ms(9_000);
    let paused = sim
        .said
        .iter()
        .find(|s| s.text == rollcoach_engine::speech::PAUSED)
        .unwrap_or_else(|| panic!("\"Paused.\" is said: {:?}", sim.said));
    assert_eq!(paused.start, pause, "said the moment the pacer stops");
    assert_eq!(paused.kind, Kind::Info);
    // The 3 s pause is quiet after it, and the phase's cue is said again
    // when the pacer goes on.
    let resume = pause.plus_ms(3_000);
    assert!(
        sim.said
            .iter()
            .filter(|s| s.start > paused.start && s.start < resume)
            .all(|s| s.kind == Kind::Safety),
        "{:?}",
        sim.said
    );
    assert!(
        sim.said
            .iter()
            .any(|s| s.kind == Kind::Breath && s.start == resume),
        "the cue again on resume: {:?}",
        sim.said
    );
    // (Nothing overlaps: the simulation asserts it as it goes.)
}

#[test]
fn a_note_that_does_not_fit_its_phase_is_shown_not_spoken() {
    let protocol = builtins().remove(0);
    let sim = Sim::new(&protocol, 2.0, 1.0).run(Person::answers_after(8_000));
    assert!(
        sim.skipped.iter().any(|(_, k)| *k == Kind::Note),
        "{:?}",
        sim.skipped
    );
    check_timing(&sim);
}

#[test]
fn every_form_of_every_cue_is_worded_for_short_phases_and_fits_the_shortest_tempo() {
    for protocol in builtins() {
        let planner = Planner::new(Arc::new(protocol.clone()), 1.0);
        let min_ms = (protocol.movement.tempo.min_seconds * 1000.0) as u64;
        for breath in [Breath::Inhale, Breath::Exhale] {
            for direction in [Direction::Out, Direction::Back] {
                let forms = planner.phase_forms(breath, direction);
                assert_eq!(forms.len(), 4, "{}: {forms:?}", protocol.id);
                // Longest first, and the short cue keeps the direction.
                assert!(
                    forms
                        .windows(2)
                        .all(|w| estimate_ms(&w[0], 1.0) > estimate_ms(&w[1], 1.0)),
                    "{forms:?}"
                );
                // The short cue fits the shortest tempo even at 0.8x.
                assert!(
                    estimate_ms(&forms[1], 0.8) + 250 <= min_ms,
                    "{}: {}",
                    protocol.id,
                    forms[1]
                );
            }
        }
    }
}

/// The protocol's notes that come at a fixed moment of every session.
fn scheduled_notes(protocol: &Protocol) -> Vec<&str> {
    protocol
        .notes
        .iter()
        .filter(|n| {
            matches!(
                n.when,
                NoteMoment::BeforeRolling | NoteMoment::RollingStart | NoteMoment::Rep(_)
            )
        })
        .filter(|n| match n.when {
            NoteMoment::Rep(k) => k <= protocol.movement.reps.default,
            _ => true,
        })
        .map(|n| n.cue.as_str())
        .collect()
}

#[test]
fn at_the_default_tempo_and_rate_every_note_is_spoken_whole() {
    for protocol in builtins() {
        for pairing in [Pairing::InhaleOut, Pairing::InhaleBack] {
            let tempo = protocol.movement.tempo.default_seconds;
            // The person says ready once the prompt (and what follows it) was said.
            let sim = Sim::with(&protocol, tempo, 1.0, Some(pairing)).run(Person {
                waits_for_quiet: true,
                ..Person::answers_after(500)
            });
            check_timing(&sim);
            let notes = scheduled_notes(&protocol);
            assert!(notes.len() >= 2, "{}: {notes:?}", protocol.id);
            for note in notes {
                assert!(
                    sim.said
                        .iter()
                        .any(|s| s.kind == Kind::Note && s.text == note && !s.cut),
                    "{} ({pairing:?}): `{note}` was not said whole: said {:?}, skipped {:?}",
                    protocol.id,
                    sim.said,
                    sim.skipped
                );
            }
            assert!(
                !sim.skipped.iter().any(|(_, k)| *k == Kind::Note),
                "{:?}",
                sim.skipped
            );
            // The long note is heard before the first phase; the cue that
            // leaves room for a rep's note still says the direction.
            let first = sim.phases[0].0;
            assert!(
                sim.said
                    .iter()
                    .any(|s| s.kind == Kind::Note && s.end <= first),
                "{:?}",
                sim.said
            );
            let planner = Planner::new(Arc::new(protocol.clone()), 1.0);
            for s in sim.said.iter().filter(|s| s.kind == Kind::Breath) {
                let is_short_or_full = [Breath::Inhale, Breath::Exhale].iter().any(|&b| {
                    [Direction::Out, Direction::Back]
                        .iter()
                        .any(|&d| planner.phase_forms(b, d)[..2].contains(&s.text))
                });
                assert!(is_short_or_full, "`{}` lost its direction", s.text);
            }
        }
    }
}

#[test]
fn a_shorter_cue_is_chosen_to_leave_a_note_room_but_never_below_the_short_cue() {
    let protocol = builtins().remove(0);
    let sim = Sim::with(&protocol, 4.0, 1.0, Some(Pairing::InhaleOut)).run(Person {
        waits_for_quiet: true,
        ..Person::answers_after(500)
    });
    // Rep 2 starts with the third phase: its cue is the short one, its note follows.
    let (start, end) = sim.phases[2];
    let in_phase: Vec<&Said> = sim
        .said
        .iter()
        .filter(|s| s.start >= start && s.start < end)
        .collect();
    assert_eq!(in_phase.len(), 2, "{in_phase:?}");
    assert_eq!(in_phase[0].text, "in, to your neck");
    assert_eq!(in_phase[1].kind, Kind::Note);
    assert!(in_phase[1].end <= end);
    // The other phases keep the full cue.
    let (start, end) = sim.phases[0];
    assert!(sim.said.iter().any(|s| s.start >= start
        && s.start < end
        && s.text == "breathe in, roll toward your neck"));
    // At 0.8x the note cannot fit after the short cue: it is shown, and the
    // cue is not cut down to the breath alone for it.
    let sim = Sim::with(&protocol, 4.0, 0.8, Some(Pairing::InhaleOut)).run(Person {
        waits_for_quiet: true,
        ..Person::answers_after(500)
    });
    let (start, end) = sim.phases[2];
    let cue = sim
        .said
        .iter()
        .find(|s| s.start >= start && s.start < end)
        .unwrap();
    assert_ne!(cue.text, "breathe in");
    assert!(sim.skipped.iter().any(|(_, k)| *k == Kind::Note));
    check_timing(&sim);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_stop_is_said_within_100_ms_and_nothing_overlaps(
        which in 0usize..2,
        tempo_steps in 0u32..9,
        rate in 0.8f64..1.5,
        answer_after_ms in 0u64..10_000,
        pain_at_ms in 0u64..40_000,
        pause_at_ms in proptest::option::of(0u64..40_000),
    ) {
        let protocol = builtins().remove(which.min(builtins().len() - 1));
        let t = &protocol.movement.tempo;
        let tempo = (t.min_seconds + 0.5 * f64::from(tempo_steps)).min(t.max_seconds);
        let sim = Sim::new(&protocol, tempo, rate).run(Person {
            answer_after_ms,
            pain_at_ms: Some(pain_at_ms),
            pause_at_ms,
            waits_for_quiet: false,
        });
        let mut all = sim.said.clone();
        all.sort_by_key(|s| s.start);
        for w in all.windows(2) {
            prop_assert!(w[0].end <= w[1].start, "{:?} overlaps {:?}", w[0], w[1]);
        }
        if let Some(stop) = sim.stop_at {
            let msg = sim.said.iter().find(|s| s.kind == Kind::Safety);
            prop_assert!(msg.is_some_and(|m| m.start.since(stop) <= 100 && !m.cut), "{:?}", sim.said);
        }
    }
}
