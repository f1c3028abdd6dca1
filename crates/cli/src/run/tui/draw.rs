//! Drawing the [`View`] with ratatui.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Wrap};
use rollcoach_engine::{Breath, Direction, Outcome, Prompt, Time};

use super::super::render;
use super::font::{big_text, big_width};
use super::view::{Offer, PAIN_KEYS, Pending, View};
use crate::term::escape;

/// `text` with control and bidi characters shown escaped, as everything
/// else rollcoach prints ([`escape`]): protocol files and the database are
/// data, and ratatui, which drops control characters, would still draw a
/// right-to-left override and reorder what the person reads.
fn safe<'a>(text: impl Into<Text<'a>>) -> Text<'a> {
    let mut text = text.into();
    for span in text.lines.iter_mut().flat_map(|l| l.spans.iter_mut()) {
        if let std::borrow::Cow::Owned(shown) = escape(&span.content) {
            span.content = shown.into();
        }
    }
    text
}

/// The headline in large type when it fits, otherwise in bold.
fn headline(text: &str, width: u16, style: Style) -> Text<'static> {
    for scale in [2, 1] {
        if big_width(text, scale) <= usize::from(width)
            && let Some(rows) = big_text(text, scale)
        {
            return Text::from(
                rows.into_iter()
                    .map(|r| Line::from(Span::styled(r, style)))
                    .collect::<Vec<_>>(),
            );
        }
    }
    Text::from(Line::from(Span::styled(
        text.to_uppercase(),
        style.add_modifier(Modifier::BOLD),
    )))
}

fn headline_for(view: &View) -> (String, Color) {
    if let Some((outcome, ..)) = &view.end {
        return match outcome {
            Outcome::Completed => ("done".into(), Color::Green),
            Outcome::Stopped { .. } => ("stopped".into(), Color::Red),
            Outcome::Refused { .. } => ("not now".into(), Color::Red),
        };
    }
    if view.paused.is_some() {
        return ("paused".into(), Color::Yellow);
    }
    if let Some(ph) = &view.phase {
        return match ph.breath {
            Breath::Inhale => ("breathe in".into(), Color::Cyan),
            Breath::Exhale => ("breathe out".into(), Color::Magenta),
        };
    }
    match &view.prompt {
        Some(Prompt::Screening { index, of, .. }) => {
            (format!("safety {index}/{of}"), Color::Yellow)
        }
        Some(Prompt::Rating { .. }) => ("rate 0-10".into(), Color::Blue),
        Some(Prompt::Ready { index, of, .. }) => (format!("step {index}/{of}"), Color::Green),
        None => ("rollcoach".into(), Color::White),
    }
}

fn keys_help(view: &View) -> Vec<Line<'static>> {
    let key = |k: &str, what: &str| {
        vec![
            Span::styled(format!(" {k} "), Style::new().reversed().bold()),
            Span::raw(format!(" {what}  ")),
        ]
    };
    if view.early.is_some() {
        let mut l = key("y", "yes");
        l.extend(key("n", "no"));
        l.extend(key("q/Esc", "leave"));
        return vec![Line::from(l)];
    }
    if view.reasons.is_some() {
        let mut l = key("↑↓", "move");
        l.extend(key("Space/1-3", "tick"));
        l.extend(key("Enter", "start"));
        l.extend(key("q/Esc", "leave"));
        return vec![Line::from(l)];
    }
    if view.end.is_some() {
        return match &view.offer {
            Some(Offer::Ask) => {
                let mut l = key("t", "today");
                l.extend(key("y", "yesterday"));
                l.extend(key("2", "two days ago"));
                l.extend(key("a", "a time"));
                l.extend(key("n", "don't log it"));
                vec![
                    Line::from(Span::styled(
                        "Log the injury? When did it happen?",
                        Style::new().yellow().bold(),
                    )),
                    Line::from(l),
                ]
            }
            Some(Offer::Typing(text)) => {
                let mut l = key("Enter", "log it");
                l.extend(key("Esc", "back"));
                vec![
                    Line::from(format!("When (e.g. 3h ago, 2026-11-27 18:30)? {text}_")),
                    Line::from(l),
                ]
            }
            _ => vec![Line::from(key("any key", "leave"))],
        };
    }
    match view.pending {
        Some(Pending::Pain { .. }) => {
            let mut l = Vec::new();
            for (c, _, words) in PAIN_KEYS {
                l.extend(key(&c.to_string(), words));
            }
            l.extend(key("Esc", "cancel, go on"));
            return vec![
                Line::from(Span::styled(
                    "Paused. Which pain? Choosing one stops the session.",
                    Style::new().red().bold(),
                )),
                Line::from(l),
            ];
        }
        Some(Pending::Discomfort { .. }) => {
            let mut l = key("0-9", "discomfort level");
            l.extend(key("t", "10"));
            l.extend(key("Esc", "cancel, go on"));
            return vec![
                Line::from(Span::styled(
                    "Paused. How much discomfort, 0 to 10?",
                    Style::new().yellow().bold(),
                )),
                Line::from(l),
            ];
        }
        None => {}
    }
    let mut first = Vec::new();
    match &view.prompt {
        Some(Prompt::Screening { .. }) if view.phase.is_none() => {
            first.extend(key("y", "yes"));
            first.extend(key("n", "no"));
        }
        Some(Prompt::Rating { .. }) if view.phase.is_none() => {
            first.extend(key("0-9", "rate"));
            first.extend(key("t", "10"));
            first.extend(key("s", "skip"));
        }
        Some(Prompt::Ready { .. }) if view.phase.is_none() => first.extend(key("Enter", "ready")),
        _ => {}
    }
    let rolling = view.phase.is_some();
    if rolling {
        first.extend(key(
            "Space",
            if view.paused.is_some() {
                "resume"
            } else {
                "pause"
            },
        ));
        first.extend(key("b", "switch breathing"));
    }
    let mut second = key("p", "PAIN");
    if rolling {
        second.extend(key("d", "discomfort"));
        second.extend(key("n", "noise, no pain"));
    }
    second.extend(key("q/Esc/Ctrl-C", "stop"));
    vec![Line::from(first), Line::from(second)]
}

fn pacer_line(view: &View, now: Time, width: u16) -> Vec<Line<'static>> {
    let (from, to) = (&view.ends.0, &view.ends.1);
    let inner = usize::from(width)
        .saturating_sub(from.len() + to.len() + 4)
        .max(10);
    let mut bar: Vec<char> = vec!['─'; inner];
    let mut arrow = ' ';
    if let (Some(pos), Some(ph)) = (view.pacer(now), &view.phase) {
        let i = ((pos * (inner - 1) as f64).round() as usize).min(inner - 1);
        // Fill the stretch already travelled in this phase.
        let travelled = match ph.direction {
            Direction::Out => 0..i,
            Direction::Back => i + 1..inner,
        };
        for c in &mut bar[travelled] {
            *c = '━';
        }
        bar[i] = '●';
        arrow = match ph.direction {
            Direction::Out => '→',
            Direction::Back => '←',
        };
    }
    let bar: String = bar.into_iter().collect();
    vec![Line::from(vec![
        Span::styled(format!("{from} "), Style::new().bold()),
        Span::styled(format!("{arrow}"), Style::new().yellow()),
        Span::styled(bar, Style::new().cyan().bold()),
        Span::raw(" "),
        Span::styled(to.to_string(), Style::new().bold()),
    ])]
}

fn body(view: &View, now: Time) -> Text<'static> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    if let Some((outcome, message, summary)) = &view.end {
        lines.push(Line::from(Span::styled(
            view.outcome_words(outcome),
            Style::new().bold(),
        )));
        lines.push(Line::from(message.clone()));
        // A refused session did not roll: no reps to show.
        if !matches!(outcome, Outcome::Refused { .. }) {
            lines.push(Line::from(format!(
                "Reps {} of {}, {:.0} s rolling.",
                summary.reps_done,
                summary.reps_target,
                summary.active_ms as f64 / 1000.0
            )));
        }
        if let Some(Offer::Done(words)) = &view.offer {
            lines.push(Line::from(Span::styled(words.clone(), Style::new().bold())));
        }
        for r in &summary.ratings {
            let show = |v: Option<u8>| v.map_or("-".to_string(), |v| v.to_string());
            lines.push(Line::from(format!(
                "{}: before {}, after {}",
                view.rating_label(&r.id),
                show(r.before),
                show(r.after)
            )));
        }
        return Text::from(lines);
    }
    if let Some(ph) = &view.phase {
        lines.push(Line::from(Span::styled(
            view.cue.clone(),
            Style::new().bold(),
        )));
        let left = view.paused.unwrap_or_else(|| ph.deadline.since(now));
        lines.push(Line::from(format!(
            "{} toward the {}: {:.1} s",
            match ph.direction {
                Direction::Out => "Roll out",
                Direction::Back => "Roll back",
            },
            ph.toward,
            left as f64 / 1000.0
        )));
    } else {
        match &view.prompt {
            Some(Prompt::Screening { text, .. }) => {
                lines.push(Line::from(Span::styled(text.clone(), Style::new().bold())))
            }
            Some(Prompt::Rating {
                label,
                question,
                low,
                high,
                ..
            }) => {
                lines.push(Line::from(Span::styled(label.clone(), Style::new().bold())));
                lines.push(Line::from(question.clone()));
                lines.push(Line::from(format!("0 = {low}, 10 = {high}")));
            }
            Some(Prompt::Ready { text, .. }) => {
                lines.push(Line::from(Span::styled(text.clone(), Style::new().bold())))
            }
            None => {}
        }
    }
    Text::from(lines)
}

pub(super) fn draw(f: &mut Frame, view: &View, now: Time, elapsed_ms: u64) {
    let area = f.area();
    let outer = Block::bordered().title(format!(" {} ", escape(&view.title)).bold());
    let inner = outer.inner(area);
    f.render_widget(outer, area);

    if view.early.is_none()
        && let Some(reasons) = &view.reasons
    {
        let [head, list, keys] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Min(3),
            Constraint::Length(2),
        ])
        .areas(inner);
        f.render_widget(
            Paragraph::new(
                "What brought you here? Tick any that apply: each is rated 0-10 before and after.",
            )
            .wrap(Wrap { trim: true })
            .bold(),
            head,
        );
        let lines: Vec<Line> = reasons
            .iter()
            .enumerate()
            .map(|(i, (_, text, on))| {
                let mark = if *on { "[x]" } else { "[ ]" };
                let here = if i == view.cursor { '>' } else { ' ' };
                let l = Line::from(format!("{here} {} {mark} {text}", i + 1));
                if i == view.cursor { l.reversed() } else { l }
            })
            .collect();
        f.render_widget(Paragraph::new(safe(lines)).wrap(Wrap { trim: true }), list);
        f.render_widget(Paragraph::new(safe(keys_help(view))), keys);
        return;
    }

    // The big word and the pacer together at the top, where the eye is.
    let [status, big, pacer, text, log, flash, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(6),
        Constraint::Length(2),
        Constraint::Min(4),
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Length(3),
    ])
    .areas(inner);

    let rep = view
        .phase
        .as_ref()
        .map(|p| format!("rep {} of {}", p.rep, p.of))
        .unwrap_or_default();
    let stage = if view.end.is_some() {
        "ended"
    } else if view.paused.is_some() {
        "paused"
    } else {
        render::stage_words(view.stage)
    };
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(rep, Style::new().bold()),
            Span::raw("   "),
            Span::raw(stage.to_string()),
            Span::raw("   "),
            Span::raw(format!("elapsed {}", render::clock(elapsed_ms))),
        ])),
        status,
    );
    let (word, color) = headline_for(view);
    f.render_widget(
        Paragraph::new(headline(&word, big.width, Style::new().fg(color)))
            .alignment(Alignment::Center),
        big,
    );
    f.render_widget(
        Paragraph::new(safe(body(view, now)))
            .wrap(Wrap { trim: true })
            .alignment(Alignment::Center),
        text,
    );
    if view.phase.is_some() {
        f.render_widget(
            Paragraph::new(safe(pacer_line(view, now, pacer.width))).alignment(Alignment::Center),
            pacer,
        );
    }
    f.render_widget(
        Paragraph::new(safe(
            view.log
                .iter()
                .map(|l| Line::from(l.clone()).dim())
                .collect::<Vec<_>>(),
        ))
        .wrap(Wrap { trim: true }),
        log,
    );
    if let Some(msg) = view.flash.as_ref().or(view.notice.as_ref()) {
        f.render_widget(Paragraph::new(safe(msg.clone())).yellow(), flash);
    }
    f.render_widget(
        Paragraph::new(safe(keys_help(view))).wrap(Wrap { trim: true }),
        keys,
    );
}
