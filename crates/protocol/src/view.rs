//! A flat JSON view of a validated protocol, for `protocols show --json` and
//! other programs.

use serde_json::{Value, json};

use crate::Protocol;

/// The protocol as JSON with the most used parts at the top level: `id`,
/// `title`, `version`, `area`, `summary`, `credit`, `indications`,
/// `ratings`, `instruments`, `default_instrument`, `screening` (an array:
/// the injury rule first, `{"kind": "injury-rule", ...}`, then each
/// question, `{"kind": "question", ...}`), `setup`, `movement` (text and
/// directions), `reps` (`min`, `max`, `default`), `tempo`, `breathing`,
/// `notes`, `stop_rules`, `cautions` and `estimated_rolling_seconds`.
pub fn json_view(p: &Protocol) -> Value {
    let rule = &p.screening.injury_rule;
    let mut screening = vec![json!({
        "kind": "injury-rule",
        "window_hours": rule.window_hours,
        "message": rule.message,
        "source": "handout",
    })];
    for q in &p.screening.questions {
        let mut v = serde_json::to_value(q).unwrap_or(Value::Null);
        if let Some(obj) = v.as_object_mut() {
            obj.insert("kind".into(), "question".into());
        }
        screening.push(v);
    }
    json!({
        "id": p.id,
        "title": p.title,
        "version": p.version,
        "area": p.area,
        "summary": p.summary,
        "credit": p.credit,
        "indications": p.indications,
        "ratings": p.ratings(),
        "instruments": p.instruments,
        "default_instrument": p.default_instrument,
        "screening": screening,
        "setup": p.setup,
        "movement": {
            "text": p.movement.text,
            "out": p.movement.out,
            "back": p.movement.back,
        },
        "reps": p.movement.reps,
        "tempo": p.movement.tempo,
        "breathing": p.movement.breathing,
        "notes": p.notes,
        "stop_rules": p.stop_rules,
        "cautions": p.cautions,
        "estimated_rolling_seconds": p.estimated_rolling_seconds(),
    })
}
