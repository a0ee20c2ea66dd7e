//! The promqltest script language: lines → commands, with their line numbers.
//!
//! As in Prometheus's `promql/promqltest/test.go`: every line is trimmed, a line
//! starting with `#` counts as blank, and a blank line ends a command's block. The
//! commands are `load <step>` (and `load_with_nhcb <step>`), `clear`, and `eval`
//! (`eval instant at <t> <expr>`, `eval range from <t> to <t> step <d> <expr>`, and
//! the deprecated `eval_fail`, `eval_warn`, `eval_info`, `eval_ordered`).
//!
//! Nothing here panics on bad input: a command that cannot be parsed becomes
//! [`Command::Broken`] naming its line, and parsing carries on after its block.

use regex::Regex;

use super::labels::Labels;
use super::series::{self, SeqValue};

/// A command and the 1-based line it starts on.
#[derive(Debug, Clone)]
pub struct Located {
    pub line: usize,
    pub command: Command,
}

#[derive(Debug, Clone)]
pub enum Command {
    Load(Load),
    Clear,
    Eval(Box<Eval>),
    /// A command the parser could not read; the runner counts it as a failed case.
    Broken {
        text: String,
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct Load {
    /// `load_with_nhcb`: classic histograms are also converted to native ones.
    pub with_nhcb: bool,
    pub step_ms: i64,
    /// One entry per series (a later line for the same series replaces an earlier
    /// one, as in Prometheus), with the line it came from.
    pub series: Vec<LoadSeries>,
    /// `@st` (start timestamp) lines were present; they are not supported.
    pub start_timestamps: bool,
}

#[derive(Debug, Clone)]
pub struct LoadSeries {
    pub labels: Labels,
    /// `(timestamp, value)` for every step that is not `_`.
    pub samples: Vec<(i64, SeqValue)>,
}

#[derive(Debug, Clone)]
pub enum EvalKind {
    Instant {
        t_ms: i64,
    },
    Range {
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    },
}

/// One expectation from an `expect <type> [msg|regex: …]` line.
#[derive(Debug, Clone)]
pub enum TextMatch {
    Any,
    Exact(String),
    Regex(Regex),
}

impl TextMatch {
    pub fn matches(&self, s: &str) -> bool {
        match self {
            TextMatch::Any => true,
            TextMatch::Exact(m) => m == s,
            TextMatch::Regex(r) => r.is_match(s),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            TextMatch::Any => "anything".to_owned(),
            TextMatch::Exact(m) => format!("message {m:?}"),
            TextMatch::Regex(r) => format!("pattern {:?}", r.as_str()),
        }
    }
}

/// What the result must be.
#[derive(Debug, Clone, Default)]
pub enum Expected {
    /// Series lines (possibly none: an empty result).
    #[default]
    Series,
    /// A bare number line.
    Scalar(SeqValue),
    /// `expect string "…"`.
    String(String),
}

#[derive(Debug, Clone)]
pub struct ExpectedSeries {
    /// 1-based position among the series lines (for `expect ordered`).
    pub pos: usize,
    pub labels: Labels,
    pub values: Vec<SeqValue>,
}

#[derive(Debug, Clone)]
pub struct Eval {
    pub expr: String,
    pub kind: EvalKind,
    /// `eval_fail` or `expect fail`.
    pub fail: bool,
    /// `eval_warn` / `eval_info`: at least one annotation of that kind.
    pub warn: bool,
    pub info: bool,
    pub ordered: bool,
    /// From `expect fail …`, `expected_fail_message`, `expected_fail_regexp`.
    pub fail_match: Vec<TextMatch>,
    pub expect_warn: Vec<TextMatch>,
    pub expect_no_warn: bool,
    pub expect_info: Vec<TextMatch>,
    pub expect_no_info: bool,
    /// `expect range vector from … to … step …`: the instant query returns a matrix.
    pub range_vector: Option<(i64, i64, i64)>,
    /// Not repeated as a range query (string and range-vector results).
    pub exclude_from_range_query: bool,
    pub expected: Expected,
    pub series: Vec<ExpectedSeries>,
}

impl Eval {
    /// Whether any expected value is a native histogram.
    pub fn expects_histograms(&self) -> bool {
        let hist = |v: &SeqValue| matches!(v, SeqValue::Histogram(_));
        self.series.iter().any(|s| s.values.iter().any(hist))
            || matches!(&self.expected, Expected::Scalar(v) if hist(v))
    }
}

struct Patterns {
    load: Regex,
    instant: Regex,
    range: Regex,
    expect: Regex,
    expect_range: Regex,
}

impl Patterns {
    fn new() -> Patterns {
        let re = |s: &str| Regex::new(s).expect("constant regex");
        Patterns {
            load: re(r"^load(?:_(with_nhcb))?\s+(.+?)$"),
            instant: re(r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$"),
            range: re(
                r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$",
            ),
            expect: re(
                r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$",
            ),
            expect_range: re(r"^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$"),
        }
    }
}

/// A Prometheus duration (`5m`, `1h30m`, `0`) in milliseconds; also accepts a
/// leading `-` as `model.ParseDuration` does not, so reject it.
pub fn duration_ms(s: &str) -> Result<i64, String> {
    let d =
        tidemark::model::parse_duration(s).map_err(|e| format!("invalid duration {s:?}: {e}"))?;
    i64::try_from(d.as_millis()).map_err(|_| format!("duration {s:?} out of range"))
}

/// Parses a whole script. Never fails: unreadable commands become `Broken`.
pub fn parse(input: &str) -> Vec<Located> {
    let pats = Patterns::new();
    let lines: Vec<&str> = input
        .split('\n')
        .map(|l| {
            let l = l.trim();
            if l.starts_with('#') { "" } else { l }
        })
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.is_empty() {
            i += 1;
            continue;
        }
        let word = l
            .split([' ', '\t'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let start = i;
        let (next, command) = if word == "clear" {
            (i + 1, Ok(Command::Clear))
        } else if word.starts_with("load") {
            parse_load(&pats, &lines, i)
        } else if word.starts_with("eval") {
            parse_eval(&pats, &lines, i)
        } else {
            (block_end(&lines, i), Err(format!("invalid command {l:?}")))
        };
        let command = command.unwrap_or_else(|reason| Command::Broken {
            text: l.to_owned(),
            reason,
        });
        out.push(Located {
            line: start + 1,
            command,
        });
        i = next.max(i + 1);
    }
    out
}

/// Index of the first blank line at or after `i` (the end of a block).
fn block_end(lines: &[&str], i: usize) -> usize {
    (i..lines.len())
        .find(|&j| lines[j].is_empty())
        .unwrap_or(lines.len())
}

type Parsed = (usize, Result<Command, String>);

fn parse_load(pats: &Patterns, lines: &[&str], i: usize) -> Parsed {
    let end = block_end(lines, i);
    let Some(caps) = pats.load.captures(lines[i]) else {
        return (
            end,
            Err("invalid load command (load[_with_nhcb] <step:duration>)".into()),
        );
    };
    let with_nhcb = caps.get(1).is_some();
    let step_ms = match duration_ms(&caps[2]) {
        Ok(s) => s,
        Err(e) => return (end, Err(format!("invalid step definition: {e}"))),
    };
    let mut load = Load {
        with_nhcb,
        step_ms,
        series: Vec::new(),
        start_timestamps: false,
    };
    for (j, line) in lines.iter().enumerate().take(end).skip(i + 1) {
        let first = line.split([' ', '\t']).next().unwrap_or_default();
        if first.ends_with("@st") {
            load.start_timestamps = true;
            continue;
        }
        let (labels, values) = match series::parse_series_desc(line) {
            Ok(p) => p,
            Err(e) => return (end, Err(format!("line {}: {e}", j + 1))),
        };
        let mut samples = Vec::new();
        for (k, v) in values.into_iter().enumerate() {
            if v != SeqValue::Omitted {
                let Some(t) = (k as i64).checked_mul(step_ms) else {
                    return (end, Err(format!("line {}: timestamps overflow", j + 1)));
                };
                samples.push((t, v));
            }
        }
        load.series.retain(|s| s.labels != labels);
        load.series.push(LoadSeries { labels, samples });
    }
    (end, Ok(Command::Load(load)))
}

fn parse_eval(pats: &Patterns, lines: &[&str], i: usize) -> Parsed {
    let end = block_end(lines, i);
    let line = lines[i];
    let (modifier, expr, kind) = if let Some(c) = pats.instant.captures(line) {
        let at = c.get(2).map_or("", |m| m.as_str());
        let t_ms = match duration_ms(at) {
            Ok(t) => t,
            Err(e) => return (end, Err(format!("invalid timestamp definition: {e}"))),
        };
        (
            c.get(1).map(|m| m.as_str().to_owned()),
            c[3].to_owned(),
            EvalKind::Instant { t_ms },
        )
    } else if let Some(c) = pats.range.captures(line) {
        let parsed = (|| -> Result<EvalKind, String> {
            let start_ms = duration_ms(&c[2]).map_err(|e| format!("invalid start: {e}"))?;
            let end_ms = duration_ms(&c[3]).map_err(|e| format!("invalid end: {e}"))?;
            if end_ms < start_ms {
                return Err("end timestamp is before start timestamp".into());
            }
            let step_ms = duration_ms(&c[4]).map_err(|e| format!("invalid step: {e}"))?;
            Ok(EvalKind::Range {
                start_ms,
                end_ms,
                step_ms,
            })
        })();
        match parsed {
            Ok(k) => (c.get(1).map(|m| m.as_str().to_owned()), c[5].to_owned(), k),
            Err(e) => return (end, Err(e)),
        }
    } else {
        return (
            end,
            Err("invalid evaluation command: must be 'eval[_fail|_warn|_info|_ordered] instant [at <offset>] <query>' or 'eval[_fail|_warn|_info] range from <from> to <to> step <step> <query>'".into()),
        );
    };
    let is_instant = matches!(kind, EvalKind::Instant { .. });
    let mut ev = Eval {
        expr,
        kind,
        fail: modifier.as_deref() == Some("fail"),
        warn: modifier.as_deref() == Some("warn"),
        info: modifier.as_deref() == Some("info"),
        ordered: modifier.as_deref() == Some("ordered"),
        fail_match: Vec::new(),
        expect_warn: Vec::new(),
        expect_no_warn: false,
        expect_info: Vec::new(),
        expect_no_info: false,
        range_vector: None,
        exclude_from_range_query: false,
        expected: Expected::Series,
        series: Vec::new(),
    };
    let mut fail_lines = 0;
    let mut pos = 0;
    for j in i + 1..end {
        let def = lines[j];
        let at = |e: String| Err(format!("line {}: {e}", j + 1));
        if ev.fail && def.starts_with("expected_fail_message") {
            let m = def["expected_fail_message".len()..].trim();
            ev.fail_match.push(TextMatch::Exact(m.to_owned()));
            return (after_stop(lines, j), Ok(Command::Eval(Box::new(ev))));
        }
        if ev.fail && def.starts_with("expected_fail_regexp") {
            let p = def["expected_fail_regexp".len()..].trim();
            match Regex::new(p) {
                Ok(r) => ev.fail_match.push(TextMatch::Regex(r)),
                Err(e) => return (end, at(format!("invalid regexp {p:?}: {e}"))),
            }
            return (after_stop(lines, j), Ok(Command::Eval(Box::new(ev))));
        }
        if def.starts_with("expect range vector") {
            let Some(c) = pats.expect_range.captures(def) else {
                return (end, at(format!("invalid range vector definition {def:?}")));
            };
            let r = (|| -> Result<(i64, i64, i64), String> {
                let s = duration_ms(&c[1])?;
                let e = duration_ms(&c[2])?;
                if e < s {
                    return Err("end timestamp is before start timestamp".into());
                }
                Ok((s, e, duration_ms(&c[3])?))
            })();
            match r {
                Ok(r) => {
                    ev.range_vector = Some(r);
                    ev.exclude_from_range_query = true;
                }
                Err(e) => return (end, at(e)),
            }
            continue;
        }
        if def.starts_with("expect string") {
            match parse_expect_string(def) {
                Ok(s) => {
                    ev.expected = Expected::String(s);
                    ev.exclude_from_range_query = true;
                }
                Err(e) => return (end, at(e)),
            }
            continue;
        }
        if def.split(' ').next() == Some("expect") {
            let Some(c) = pats.expect.captures(def) else {
                return (end, at("invalid expect statement, must match `expect <type> <match_type>: <string>`".into()));
            };
            let m = match (c.get(2).map(|m| m.as_str()), c.get(3)) {
                (Some("msg"), Some(t)) => TextMatch::Exact(t.as_str().trim().to_owned()),
                (Some(_), Some(t)) => match Regex::new(t.as_str().trim()) {
                    Ok(r) => TextMatch::Regex(r),
                    Err(e) => return (end, at(format!("invalid regex: {e}"))),
                },
                _ => TextMatch::Any,
            };
            match &c[1] {
                "ordered" => ev.ordered = true,
                "fail" => {
                    ev.fail = true;
                    fail_lines += 1;
                    ev.fail_match.push(m);
                }
                "warn" => ev.expect_warn.push(m),
                "no_warn" => ev.expect_no_warn = true,
                "info" => ev.expect_info.push(m),
                _ => ev.expect_no_info = true,
            }
            if !ev.expect_info.is_empty() && ev.expect_no_info {
                return (end, at("info and no_info cannot be used together".into()));
            }
            if !ev.expect_warn.is_empty() && ev.expect_no_warn {
                return (end, at("warn and no_warn cannot be used together".into()));
            }
            if fail_lines > 1 {
                return (end, at("multiple expect fail lines are not allowed".into()));
            }
            continue;
        }
        if let Some(f) = series::parse_number(def) {
            ev.expected = Expected::Scalar(SeqValue::Float(f));
            ev.series.clear();
            return (after_stop(lines, j), Ok(Command::Eval(Box::new(ev))));
        }
        let (labels, values) = match series::parse_series_desc(def) {
            Ok(p) => p,
            Err(e) => return (end, at(e.to_string())),
        };
        if values.len() > 1 && is_instant && ev.range_vector.is_none() {
            return (end, at("expecting multiple values in instant evaluation not allowed; consider using 'expect range vector'".into()));
        }
        pos += 1;
        ev.series.retain(|s| s.labels != labels);
        ev.series.push(ExpectedSeries {
            pos,
            labels,
            values,
        });
    }
    (end, Ok(Command::Eval(Box::new(ev))))
}

/// Where parsing resumes after a line that stops an eval block early (a scalar
/// result or an `expected_fail_*` line): the next line, which Prometheus then reads
/// as a command of its own.
fn after_stop(_lines: &[&str], j: usize) -> usize {
    j + 1
}

fn parse_expect_string(line: &str) -> Result<String, String> {
    let bad =
        || "expected string literal not valid - a quoted string literal is required".to_owned();
    let Some(s) = line.strip_prefix("expect string ") else {
        return Err(bad());
    };
    if s.is_empty() {
        return Err(bad());
    }
    match series::parse_string(s) {
        Ok((v, "")) if !s.starts_with('\'') || v.chars().count() == 1 => Ok(v),
        _ => Err(
            "expected string literal not valid - check that the string is correctly quoted".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_lines() {
        let script = "# comment\nload 5m\n  up{job=\"a\"} 0+1x2 _ stale\n\neval instant at 10m up\n  expect no_warn\n  up{job=\"a\"} 2\n\nclear\nbogus line\n\neval range from 0 to 10m step 5m up\n  up{job=\"a\"} 0 1 2\n";
        let cmds = parse(script);
        assert_eq!(cmds.len(), 5);
        assert_eq!(cmds[0].line, 2);
        let Command::Load(l) = &cmds[0].command else {
            panic!()
        };
        assert_eq!(l.step_ms, 300_000);
        assert_eq!(l.series[0].samples.len(), 4);
        assert_eq!(l.series[0].samples[3].0, 1_200_000);
        let Command::Eval(e) = &cmds[1].command else {
            panic!()
        };
        assert!(matches!(e.kind, EvalKind::Instant { t_ms: 600_000 }));
        assert!(e.expect_no_warn);
        assert_eq!(e.series.len(), 1);
        assert!(matches!(cmds[2].command, Command::Clear));
        assert!(matches!(cmds[3].command, Command::Broken { .. }));
        assert_eq!(cmds[3].line, 10);
        let Command::Eval(e) = &cmds[4].command else {
            panic!()
        };
        assert!(matches!(
            e.kind,
            EvalKind::Range {
                start_ms: 0,
                end_ms: 600_000,
                step_ms: 300_000
            }
        ));
    }

    #[test]
    fn expectations() {
        let cmds = parse(
            "eval instant at 0 foo\n  expect fail msg: boom\n\neval_fail instant at 0 foo\n  expected_fail_regexp b.*m\n\neval instant at 1m \"x\"\n  expect string `x`\n\neval instant at 1m 1\n  1\n\neval instant at 0 foo\n  expect warn\n  expect no_warn\n",
        );
        let Command::Eval(e) = &cmds[0].command else {
            panic!()
        };
        assert!(e.fail && e.fail_match[0].matches("boom"));
        let Command::Eval(e) = &cmds[1].command else {
            panic!()
        };
        assert!(e.fail && e.fail_match[0].matches("xboomy"));
        let Command::Eval(e) = &cmds[2].command else {
            panic!()
        };
        assert!(matches!(&e.expected, Expected::String(s) if s == "x"));
        assert!(e.exclude_from_range_query);
        let Command::Eval(e) = &cmds[3].command else {
            panic!()
        };
        assert!(matches!(e.expected, Expected::Scalar(SeqValue::Float(v)) if v == 1.0));
        assert!(matches!(cmds[4].command, Command::Broken { .. }));
    }
}
