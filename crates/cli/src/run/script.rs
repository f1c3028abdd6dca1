//! The script format read from stdin when it is not a terminal.
//!
//! One event per line; `#` starts a comment; blank lines are ignored. A line
//! may start with `@SECONDS`, the session time at which it happens; a line
//! without it answers the next prompt (or, for events of the rolling, happens
//! right after the previous line). The whole script is parsed before anything
//! runs, so a malformed line is reported with its number and nothing happens.

use rollcoach_engine::{Input, Output, PainKind, Time};
use rollcoach_protocol::Answer;

use super::driver::{ApplyError, Clock, Driver, Log};
use super::render;

/// What the script accepts, shown with every parse error.
pub const ACCEPTED: &str = "yes, no, ready, rate N (0-10), skip, pause, resume, discomfort N (0-10), \
pain, pain spine, pain pop, pain sharp, noise, switch, stop; optionally preceded by @SECONDS";

/// One line of a script that holds an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The line as written, without its comment.
    pub text: String,
    /// 1-based line number in the script.
    pub number: usize,
    /// Session time at which it happens, in milliseconds since the start.
    pub at_ms: Option<u64>,
    /// The event.
    pub input: Input,
}

impl Line {
    /// Whether the line answers a prompt (so, without `@`, it waits for one).
    pub fn answers_prompt(&self) -> bool {
        matches!(
            self.input,
            Input::Answer { .. } | Input::Ready | Input::Rating { .. }
        )
    }
}

/// A problem with one line of the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "script line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ScriptError {}

/// Parses a whole script. Returns every malformed line, not only the first.
pub fn parse(text: &str) -> Result<Vec<Line>, Vec<ScriptError>> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut last_at: Option<(u64, usize)> = None;
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        match parse_line(content) {
            Ok((at_ms, input)) => {
                if let Some(at) = at_ms {
                    if let Some((prev, prev_line)) = last_at
                        && at < prev
                    {
                        errors.push(ScriptError {
                            line: number,
                            message: format!(
                                "@{} is earlier than @{} on line {prev_line}; times must not go back",
                                seconds(at),
                                seconds(prev)
                            ),
                        });
                        continue;
                    }
                    last_at = Some((at, number));
                }
                lines.push(Line {
                    text: content.to_string(),
                    number,
                    at_ms,
                    input,
                });
            }
            Err(message) => errors.push(ScriptError {
                line: number,
                message: format!("{message} (accepted: {ACCEPTED})"),
            }),
        }
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(errors)
    }
}

fn seconds(ms: u64) -> String {
    let s = ms as f64 / 1000.0;
    format!("{s}")
}

fn parse_line(content: &str) -> Result<(Option<u64>, Input), String> {
    let mut words = content.split_whitespace().peekable();
    let mut at_ms = None;
    if let Some(first) = words.peek()
        && let Some(num) = first.strip_prefix('@')
    {
        let secs: f64 = num
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s >= 0.0 && *s < 1.0e9)
            .ok_or_else(|| {
                format!(
                    "`{first}` is not a time: write @ and the seconds since the start, e.g. @12.5"
                )
            })?;
        at_ms = Some((secs * 1000.0).round() as u64);
        words.next();
    }
    let words: Vec<&str> = words.collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    let input = match lower.as_slice() {
        [] => return Err("a time without an event".to_string()),
        ["yes"] => Input::Answer {
            answer: Answer::Yes,
        },
        ["no"] => Input::Answer { answer: Answer::No },
        ["ready"] => Input::Ready,
        ["skip"] => Input::Rating { value: None },
        ["rate", n] => Input::Rating {
            value: Some(scale("rate", n)?),
        },
        ["discomfort", n] => Input::Discomfort {
            level: scale("discomfort", n)?,
        },
        ["rate"] | ["discomfort"] => {
            return Err(format!("`{}` needs a number from 0 to 10", lower[0]));
        }
        ["pause"] => Input::Pause,
        ["resume"] => Input::Resume,
        ["pain"] => Input::Pain {
            kind: PainKind::Other,
        },
        ["pain", "spine"] => Input::Pain {
            kind: PainKind::Spine,
        },
        ["pain", "pop"] => Input::Pain {
            kind: PainKind::Pop,
        },
        ["pain", "sharp"] => Input::Pain {
            kind: PainKind::Sharp,
        },
        ["pain", other] => {
            return Err(format!(
                "unknown kind of pain `{other}`: write pain, pain spine, pain pop or pain sharp"
            ));
        }
        ["noise"] => Input::Noise,
        ["switch"] => Input::SwitchBreathing,
        ["stop"] => Input::Stop,
        _ => return Err(format!("`{}` is not an event", words.join(" "))),
    };
    Ok((at_ms, input))
}

fn scale(what: &str, n: &str) -> Result<u8, String> {
    n.parse::<u8>()
        .ok()
        .filter(|v| *v <= 10)
        .ok_or_else(|| format!("`{what} {n}`: the number must be a whole number from 0 to 10"))
}

/// A line the session could not take, or a log that could not be written.
#[derive(Debug)]
pub enum PlayError {
    /// The line does not fit the session at that point.
    Line(ScriptError),
    /// Recording failed.
    Log(anyhow::Error),
}

/// How a script run finished.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Played {
    /// The session ended before this line; it and the lines after were not used.
    pub unused_from: Option<usize>,
    /// The script ended while the session waits for this.
    pub waiting_for: Option<String>,
}

fn line_error(line: &Line, e: ApplyError) -> PlayError {
    match e {
        ApplyError::Rejected(e) => PlayError::Line(ScriptError {
            line: line.number,
            message: format!("`{}`: {e}", line.text),
        }),
        ApplyError::Log(e) => PlayError::Log(e),
    }
}

fn deadlines<L: Log>(
    driver: &mut Driver<L>,
    clock: &mut Clock,
    until: Option<Time>,
    sink: &mut dyn FnMut(&mut Driver<L>),
) -> Result<(), ApplyError> {
    while let Some(d) = driver.session().next_deadline() {
        if driver.ended() || until.is_some_and(|t| d > t) {
            break;
        }
        clock.wait_until(d);
        driver.run_deadlines_until(d)?;
        sink(driver);
    }
    Ok(())
}

/// What the session waits for now, in words.
pub fn waiting_for<L: Log>(driver: &Driver<L>) -> String {
    let current = driver.session().current(driver.cursor());
    for out in current.iter().rev() {
        match out {
            Output::Prompt(p) => return render::prompt_words(p),
            Output::Paused { .. } => return "`resume` after the pause".to_string(),
            _ => {}
        }
    }
    "the next event".to_string()
}

/// Plays the script's lines into the session: deadlines are handled at their
/// times, a line with `@` at its time, a prompt answer without `@` when the
/// session next waits for one, any other line right after the previous one.
/// `sink` is called after every step to show the new outputs.
pub fn play<L: Log>(
    driver: &mut Driver<L>,
    clock: &mut Clock,
    lines: &[Line],
    sink: &mut dyn FnMut(&mut Driver<L>),
) -> Result<Played, PlayError> {
    let start = driver.start();
    sink(driver);
    for line in lines {
        if driver.ended() {
            return Ok(Played {
                unused_from: Some(line.number),
                waiting_for: None,
            });
        }
        let at = match line.at_ms {
            Some(ms) => {
                let t = start.plus_ms(ms);
                if t < driver.cursor() {
                    return Err(PlayError::Line(ScriptError {
                        line: line.number,
                        message: format!(
                            "`{}` is at {} but the session is already at {} by then \
                             (answers without @ wait for their prompt, which can take rolling time)",
                            line.text,
                            render::clock(ms),
                            render::clock(driver.cursor().since(start))
                        ),
                    }));
                }
                deadlines(driver, clock, Some(t), sink).map_err(|e| line_error(line, e))?;
                t
            }
            None if line.answers_prompt() => {
                deadlines(driver, clock, None, sink).map_err(|e| line_error(line, e))?;
                driver.cursor()
            }
            None => driver.cursor(),
        };
        if driver.ended() {
            return Ok(Played {
                unused_from: Some(line.number),
                waiting_for: None,
            });
        }
        clock.wait_until(at);
        driver
            .apply(line.input, at)
            .map_err(|e| line_error(line, e))?;
        sink(driver);
    }
    deadlines(driver, clock, None, sink).map_err(|e| match e {
        ApplyError::Rejected(e) => {
            PlayError::Log(anyhow::anyhow!("the engine rejected a timeout: {e}"))
        }
        ApplyError::Log(e) => PlayError::Log(e),
    })?;
    Ok(Played {
        unused_from: None,
        waiting_for: (!driver.ended()).then(|| waiting_for(driver)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_with_times_comments_and_blank_lines_parses() {
        let lines = parse(
            "# screening\nno\n\nno  # no wound\n@12.5 pause\n@14 resume\nrate 4\nskip\npain spine\n",
        )
        .unwrap();
        assert_eq!(lines.len(), 7);
        assert_eq!(lines[0].number, 2);
        assert_eq!(lines[2].at_ms, Some(12_500));
        assert_eq!(lines[2].input, Input::Pause);
        assert_eq!(lines[4].input, Input::Rating { value: Some(4) });
        assert_eq!(lines[5].input, Input::Rating { value: None });
        assert_eq!(
            lines[6].input,
            Input::Pain {
                kind: PainKind::Spine
            }
        );
        assert!(lines[4].answers_prompt());
        assert!(!lines[2].answers_prompt());
    }

    #[test]
    fn every_malformed_line_is_reported_with_its_number() {
        let errors = parse("yes\nrate 11\n@x ready\njump\npain knee\n@\n").unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6]);
        assert!(
            errors[2]
                .to_string()
                .starts_with("script line 4: `jump` is not an event")
        );
        assert!(errors[2].message.contains("accepted: yes, no, ready"));
    }

    #[test]
    fn times_that_go_back_are_rejected() {
        let errors = parse("@10 pause\n@5 resume\n").unwrap_err();
        assert_eq!(errors[0].line, 2);
        assert!(errors[0].message.contains("earlier than @10 on line 1"));
    }
}
