//! Parser tests against what Prometheus does.
//!
//! The expectations come from two notes in `docs/exposition/`:
//! `prometheus-parsers.md` (Prometheus's scrape-side parsers, `model/textparse`, for
//! the text format 0.0.4 and OpenMetrics, with every case of its own error tables)
//! and `promtool-check-metrics.md` §3 (the exposition library behind
//! `promtool check metrics`, which strict text mode follows, newest version where
//! versions differ).
//!
//! Rejected inputs are not matched against Prometheus's wording: each table names
//! the line of the first error and an anchor, the text the error's column must
//! point at (or the end of the line).
//!
//! Where we knowingly differ from Prometheus, a test says so in its name
//! (`deviation_…`).
//!
//! One module per format and mode (`lenient_text`, `lenient_text_rejected`,
//! `deviations`, `lenient_om`, `strict_text`, `strict_om`), then what cuts across
//! them: parsing in `pieces`, error positions and recovery (`errors`), and the
//! format chosen from a `Content-Type` (`content_type`). The helpers below are
//! shared by all of them.

mod content_type;
mod deviations;
mod errors;
mod lenient_om;
mod lenient_text;
mod lenient_text_rejected;
mod pieces;
mod strict_om;
mod strict_text;

use super::*;
use crate::model::NORMAL_NAN_BITS;

const TEXT: Format = Format::Text;
const OM: Format = Format::OpenMetrics;
const LENIENT: Mode = Mode::Lenient;
const STRICT: Mode = Mode::Strict;

// ---------------------------------------------------------------------------
// Helpers: an owned, comparable form of the entries, and table runners.
// ---------------------------------------------------------------------------

type Pairs = Vec<(String, String)>;

/// An entry, owned and unescaped, comparable with values compared bit for bit (so
/// that NaN payloads and the sign of zero count).
#[derive(Debug, PartialEq)]
enum E {
    Help(String, String),
    Type(String, MetricType),
    Unit(String, String),
    Sample(S),
}

#[derive(Debug)]
struct S {
    name: String,
    labels: Pairs,
    value: f64,
    ts: Option<i64>,
    exemplar: Option<X>,
}

#[derive(Debug)]
struct X {
    labels: Pairs,
    value: f64,
    ts: Option<i64>,
}

impl PartialEq for S {
    fn eq(&self, o: &S) -> bool {
        self.name == o.name
            && self.labels == o.labels
            && self.value.to_bits() == o.value.to_bits()
            && self.ts == o.ts
            && self.exemplar == o.exemplar
    }
}

impl PartialEq for X {
    fn eq(&self, o: &X) -> bool {
        self.labels == o.labels && self.value.to_bits() == o.value.to_bits() && self.ts == o.ts
    }
}

fn pairs(labels: &[(&str, &str)]) -> Pairs {
    labels
        .iter()
        .map(|&(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

fn help(name: &str, text: &str) -> E {
    E::Help(name.to_owned(), text.to_owned())
}

fn typ(name: &str, kind: MetricType) -> E {
    E::Type(name.to_owned(), kind)
}

fn unit(name: &str, unit: &str) -> E {
    E::Unit(name.to_owned(), unit.to_owned())
}

/// A sample without timestamp or exemplar; see [`E::at`] and [`E::ex`].
fn s(name: &str, labels: &[(&str, &str)], value: f64) -> E {
    E::Sample(S {
        name: name.to_owned(),
        labels: pairs(labels),
        value,
        ts: None,
        exemplar: None,
    })
}

impl E {
    /// The same sample with a timestamp (milliseconds).
    fn at(mut self, ts: i64) -> E {
        match &mut self {
            E::Sample(s) => s.ts = Some(ts),
            _ => panic!("at() on a non-sample"),
        }
        self
    }

    /// The same sample with an exemplar.
    fn ex(mut self, labels: &[(&str, &str)], value: f64, ts: Option<i64>) -> E {
        match &mut self {
            E::Sample(s) => {
                s.exemplar = Some(X {
                    labels: pairs(labels),
                    value,
                    ts,
                })
            }
            _ => panic!("ex() on a non-sample"),
        }
        self
    }
}

fn label_pairs(labels: &LabelSet<'_>) -> Pairs {
    labels
        .iter()
        .map(|l| (l.name.get().into_owned(), l.value.get().into_owned()))
        .collect()
}

fn own(e: &Entry<'_>) -> E {
    match e {
        Entry::Help { name, help } => E::Help(name.get().into_owned(), help.get().into_owned()),
        Entry::Type { name, kind } => E::Type(name.get().into_owned(), *kind),
        Entry::Unit { name, unit } => E::Unit(name.get().into_owned(), unit.get().into_owned()),
        Entry::Sample(s) => E::Sample(S {
            name: s.name.get().into_owned(),
            labels: label_pairs(&s.labels),
            value: s.value,
            ts: s.timestamp,
            exemplar: s.exemplar.map(|x| X {
                labels: label_pairs(&x.labels),
                value: x.value,
                ts: x.timestamp,
            }),
        }),
    }
}

/// Everything the parser yields for a whole input, errors included.
fn run(input: &[u8], format: Format, mode: Mode) -> Vec<Result<E, ParseError>> {
    Parser::new(input, format, mode)
        .map(|r| r.map(|e| own(&e)))
        .collect()
}

fn show(input: &[u8]) -> String {
    input.escape_ascii().to_string()
}

/// Where an error must point: at the first occurrence of a token in the line, or
/// at the end of the line.
#[derive(Clone, Copy, Debug)]
enum At {
    Tok(&'static [u8]),
    /// A column given outright, where the token is not the first of its kind.
    Col(usize),
    Eol,
}
use At::{Col, Eol};

fn at(tok: &'static [u8]) -> At {
    At::Tok(tok)
}

/// The column (characters, from 1) of `at` in line `line` of `input`.
fn column_of(input: &[u8], line: usize, at: At) -> usize {
    let text: &[u8] = input
        .split(|&b| b == b'\n')
        .nth(line - 1)
        .unwrap_or_default();
    let offset = match at {
        At::Col(column) => return column,
        At::Eol => text.len(),
        At::Tok(tok) => text
            .windows(tok.len())
            .position(|w| w == tok)
            .unwrap_or_else(|| {
                panic!(
                    "test bug: anchor {:?} not in line {line} of {:?}",
                    show(tok),
                    show(input)
                )
            }),
    };
    String::from_utf8_lossy(&text[..offset]).chars().count() + 1
}

/// Every input must parse to exactly the entries given, without error.
fn check_parses(format: Format, mode: Mode, cases: Vec<(&[u8], Vec<E>)>) {
    let mut failures = Vec::new();
    for (input, want) in cases {
        let got = run(input, format, mode);
        let want: Vec<Result<E, ParseError>> = want.into_iter().map(Ok).collect();
        if got != want {
            failures.push(format!(
                "input {:?}\n   got  {got:?}\n   want {want:?}",
                show(input)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{format:?}/{mode:?}: {} case(s) not parsed as expected:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every input must be rejected, its first error on `line` at `at`.
fn check_rejected(format: Format, mode: Mode, cases: &[(&[u8], usize, At)]) {
    let mut failures = Vec::new();
    for &(input, line, at) in cases {
        let want = (line, column_of(input, line, at));
        let results = run(input, format, mode);
        match results.iter().find_map(|r| r.as_ref().err()) {
            None => failures.push(format!(
                "input {:?}: accepted as {results:?}; want an error at line {}, column {}",
                show(input),
                want.0,
                want.1
            )),
            Some(e) if (e.line, e.column) != want => failures.push(format!(
                "input {:?}: first error \"{e}\"; want line {}, column {}",
                show(input),
                want.0,
                want.1
            )),
            Some(e) => {
                if e.found.is_empty() || e.expected.is_empty() {
                    failures.push(format!(
                        "input {:?}: error {e:?} lacks found/expected",
                        show(input)
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{format:?}/{mode:?}: {} case(s) not rejected as expected:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

const NAN: f64 = f64::from_bits(NORMAL_NAN_BITS);
