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

// ---------------------------------------------------------------------------
// 1. Lenient text format 0.0.4 (Prometheus's PromParser): accepted forms.
// ---------------------------------------------------------------------------

/// prometheus-parsers.md §1: spaces and tabs may separate any two tokens, also inside the
/// braces and at both ends of a line; blank lines are skipped.
#[test]
fn lenient_text_whitespace_anywhere() {
    check_parses(
        TEXT,
        LENIENT,
        vec![
            (
                b"go_gc_duration_seconds { quantile = \"1.0\", a = \"b\" } 8.3e-05\n",
                vec![s(
                    "go_gc_duration_seconds",
                    &[("quantile", "1.0"), ("a", "b")],
                    8.3e-05,
                )],
            ),
            (
                b"go_goroutines 33  \t123123\n",
                vec![s("go_goroutines", &[], 33.0).at(123123)],
            ),
            (b" \t a \t 1 \t \n", vec![s("a", &[], 1.0)]),
            (
                b"a{ b = \"c\" , d=\"e\" , } \t 2 \t 3 \t\n",
                vec![s("a", &[("b", "c"), ("d", "e")], 2.0).at(3)],
            ),
            (
                b"a\t{\tb\t=\t\"c\"\t}\t1\t5\n",
                vec![s("a", &[("b", "c")], 1.0).at(5)],
            ),
            (
                b"\n\n  \n\t\na 1\n \t \n\nb 2\n\n",
                vec![s("a", &[], 1.0), s("b", &[], 2.0)],
            ),
            (b"", vec![]),
            (b"\n", vec![]),
        ],
    );
}

/// prometheus-parsers.md §1: a final newline is optional (the parser appends one).
#[test]
fn lenient_text_missing_final_newline() {
    check_parses(
        TEXT,
        LENIENT,
        vec![
            (b"a 1", vec![s("a", &[], 1.0)]),
            (b"a 1 2", vec![s("a", &[], 1.0).at(2)]),
            (b"a{b=\"c\"} 1 \t", vec![s("a", &[("b", "c")], 1.0)]),
            (b"# HELP a x", vec![help("a", "x")]),
            (b"# TYPE a gauge", vec![typ("a", MetricType::Gauge)]),
            (b"a 1\n# a comment", vec![s("a", &[], 1.0)]),
        ],
    );
}

/// prometheus-parsers.md §1: `#` lines that are not `# HELP`/`# TYPE` metadata are comments,
/// and what follows `# EOF` is still parsed.
#[test]
fn lenient_text_comments() {
    check_parses(
        TEXT,
        LENIENT,
        vec![
            (
                b"#\n#foo\n# foo bar\n# HELP\n# TYPE\n# HELPX a b\n#HELP a b\n#TYPE a counter\n\
                  # help a b\n# Hrandom comment starting with prefix of HELP\n\
                  # comment with escaped \\n newline\n# a comment with \0 inside\n\
                  #EOF\n  # indented comment\n",
                vec![],
            ),
            (
                b"a 1\n# EOF\nb 2\n",
                vec![s("a", &[], 1.0), s("b", &[], 2.0)],
            ),
        ],
    );
}

/// prometheus-parsers.md §1: the `# HELP`/`# TYPE` variants: any blanks after `#` and after
/// the keyword, the text is the rest of the line minus one separator, metadata in
/// any order, repeated, after samples.
#[test]
fn lenient_text_help_and_type_lines() {
    use MetricType::*;
    check_parses(
        TEXT,
        LENIENT,
        vec![
            (b"# \tTYPE x summary\n", vec![typ("x", Summary)]),
            (b"#\tHELP\tm\thelp text\n", vec![help("m", "help text")]),
            (b"#  HELP \t m x\n", vec![help("m", "x")]),
            (b"  # HELP m x\n", vec![help("m", "x")]),
            (b"# HELP m  x\n", vec![help("m", " x")]),
            (b"# HELP m\n", vec![help("m", "")]),
            (b"# HELP m \n", vec![help("m", "")]),
            (b"# HELP m x \t\n", vec![help("m", "x \t")]),
            (
                b"# HELP some:aggregate:rate5m Rate. Of \"things\".\n",
                vec![help("some:aggregate:rate5m", "Rate. Of \"things\".")],
            ),
            (
                b"# HELP \"my.metric\" some help\n# TYPE \"my.metric\" gauge\n",
                vec![help("my.metric", "some help"), typ("my.metric", Gauge)],
            ),
            (
                b"# TYPE a counter\n# TYPE b gauge\n# TYPE c histogram\n# TYPE d summary\n\
                  # TYPE e untyped\n",
                vec![
                    typ("a", Counter),
                    typ("b", Gauge),
                    typ("c", Histogram),
                    typ("d", Summary),
                    typ("e", Unknown),
                ],
            ),
            (
                b"a 1\n# TYPE a counter\n# TYPE a gauge\n# HELP a x\n# HELP a y\n",
                vec![
                    s("a", &[], 1.0),
                    typ("a", Counter),
                    typ("a", Gauge),
                    help("a", "x"),
                    help("a", "y"),
                ],
            ),
            (
                b"# TYPE some_counter_total counter\n\
                  # HELP some_counter_total Help after type.\nsome_counter_total 12\n",
                vec![
                    typ("some_counter_total", Counter),
                    help("some_counter_total", "Help after type."),
                    s("some_counter_total", &[], 12.0),
                ],
            ),
            // A NUL in HELP text is kept (TestPromParse).
            (
                b"# HELP metric foo\0bar\n",
                vec![help("metric", "foo\0bar")],
            ),
        ],
    );
}

/// prometheus-parsers.md §4: HELP text of the text format unescapes `\\` and `\n` only; `\"`
/// and any other escape stay as written.
#[test]
fn lenient_text_help_unescaping() {
    check_parses(
        TEXT,
        LENIENT,
        vec![
            (
                br#"# HELP m a\\b\nc\"d\z\te"#,
                vec![help("m", "a\\b\nc\\\"d\\z\\te")],
            ),
            (br"# HELP m x\\ny", vec![help("m", "x\\ny")]),
            (br"# HELP m trailing\", vec![help("m", "trailing\\")]),
            (b"# HELP m caf\xc3\xa9", vec![help("m", "caf\u{e9}")]),
        ],
    );
}

/// prometheus-parsers.md §1: `# HELP a.b c` lexes as the name `a` followed by the text `.b c`,
/// whose first byte the parser drops: help "b c" for metric `a` (derived from
/// promlex.l: `<sMeta1>{M}({M}|{D})*` then `<sMeta2>{C}*`, and `p.text =
/// buf()[1:]` in promparse.go).
#[test]
fn lenient_text_help_name_followed_by_dot() {
    check_parses(
        TEXT,
        LENIENT,
        vec![(b"# HELP a.b c\n", vec![help("a", "b c")])],
    );
}

/// prometheus-parsers.md §1: after a bare metric name the value needs no separator unless it
/// would continue the name; nor after `}`.
#[test]
fn lenient_text_value_without_separator() {
    check_parses(
        TEXT,
        LENIENT,
        vec![
            (b"a{b=\"c\"}1\n", vec![s("a", &[("b", "c")], 1.0)]),
            (b"a+1\n", vec![s("a", &[], 1.0)]),
            (b"a-1\n", vec![s("a", &[], -1.0)]),
            (b"a.5\n", vec![s("a", &[], 0.5)]),
            (b"a{}1\n", vec![s("a", &[], 1.0)]),
            (
                b"some:aggregate:rate5m{a_b=\"c\"}\t1\n",
                vec![s("some:aggregate:rate5m", &[("a_b", "c")], 1.0)],
            ),
        ],
    );
}

/// prometheus-parsers.md §2: names and label sets: empty sets, empty values, trailing comma,
/// missing commas, quoted metric name anywhere in the braces, quoted label names,
/// duplicate label names and `__name__` left for the scraper to refuse.
#[test]
fn lenient_text_names_and_label_sets() {
    check_parses(
        TEXT,
        LENIENT,
        vec![
            (b"a{} 1\n", vec![s("a", &[], 1.0)]),
            (b"a{b=\"\"} 1\n", vec![s("a", &[("b", "")], 1.0)]),
            (b"a{b=\"c\",} 1\n", vec![s("a", &[("b", "c")], 1.0)]),
            (
                b"_metric_starting_with_underscore 1\n",
                vec![s("_metric_starting_with_underscore", &[], 1.0)],
            ),
            (
                b"testmetric{_label_starting_with_underscore=\"foo\"} 1\n",
                vec![s(
                    "testmetric",
                    &[("_label_starting_with_underscore", "foo")],
                    1.0,
                )],
            ),
            (b":a 1\n", vec![s(":a", &[], 1.0)]),
            // Missing commas (TestPromParse).
            (
                b"go_gc_duration_seconds { quantile = \"2.0\" a = \"b\" } 8.3835e-05\n",
                vec![s(
                    "go_gc_duration_seconds",
                    &[("quantile", "2.0"), ("a", "b")],
                    8.3835e-05,
                )],
            ),
            (
                b"a{b=\"c\"d=\"e\"} 1\n",
                vec![s("a", &[("b", "c"), ("d", "e")], 1.0)],
            ),
            // The quoted metric name, first or anywhere else in the set.
            (
                b"{\"my.metric\",\"label.name\"=\"v\"} 1\n",
                vec![s("my.metric", &[("label.name", "v")], 1.0)],
            ),
            (
                b"{q=\"0.9\",\"http.status\",a=\"b\"} 1\n",
                vec![s("http.status", &[("q", "0.9"), ("a", "b")], 1.0)],
            ),
            (b"{\"http.status\"} 1\n", vec![s("http.status", &[], 1.0)]),
            (b"{\"a\",} 1\n", vec![s("a", &[], 1.0)]),
            (
                b"{ \"a b\" , c = \"d\" } 1\n",
                vec![s("a b", &[("c", "d")], 1.0)],
            ),
            (
                br#"{"my\"metric\\x\n"} 1"#,
                vec![s("my\"metric\\x\n", &[], 1.0)],
            ),
            // Quoted label names.
            (
                b"a{\"label.name\"=\"v\", \"x y\" = \"z\"} 1\n",
                vec![s("a", &[("label.name", "v"), ("x y", "z")], 1.0)],
            ),
            // The parser does not check what the TSDB append refuses later.
            (
                b"a{b=\"1\",b=\"2\"} 1\n",
                vec![s("a", &[("b", "1"), ("b", "2")], 1.0)],
            ),
            (
                b"a{__name__=\"x\"} 1\n",
                vec![s("a", &[("__name__", "x")], 1.0)],
            ),
        ],
    );
}

/// prometheus-parsers.md §3: label values unescape `\\`, `\"` and `\n`; any other escape is
/// kept as both bytes; raw tabs, NULs and UTF-8 are kept.
#[test]
fn lenient_text_label_value_escapes() {
    check_parses(
        TEXT,
        LENIENT,
        vec![
            (
                br#"a{b="x\\y\"z\nw\zq\tr"} 1"#,
                vec![s("a", &[("b", "x\\y\"z\nw\\zq\\tr")], 1.0)],
            ),
            (br#"a{b="\\n"} 1"#, vec![s("a", &[("b", "\\n")], 1.0)]),
            (
                br#"testmetric{label="\"bar\""} 1"#,
                vec![s("testmetric", &[("label", "\"bar\"")], 1.0)],
            ),
            (b"a{b=\"x\ty\"} 1\n", vec![s("a", &[("b", "x\ty")], 1.0)]),
            (
                b"a{b=\"caf\xc3\xa9 \xe2\x9c\x93\"} 1\n",
                vec![s("a", &[("b", "caf\u{e9} \u{2713}")], 1.0)],
            ),
            (b"a{b=\"}{,=\"} 1\n", vec![s("a", &[("b", "}{,=")], 1.0)]),
            // TestPromNullByteHandling: a NUL inside a value is kept.
            (
                b"null_byte_metric{a=\"abc\0\"} 1",
                vec![s("null_byte_metric", &[("a", "abc\0")], 1.0)],
            ),
            (b"a{b=\"\0ss\"} 1\n", vec![s("a", &[("b", "\0ss")], 1.0)]),
            (b"a{b=\"\0\"} 1\n", vec![s("a", &[("b", "\0")], 1.0)]),
        ],
    );
}

/// prometheus-parsers.md §3 (derived from promlex.l, `<sLValue>\"(\\.|[^\\"])*\"`, where
/// `[^\\"]` includes `\n`), and §2 for quoted names: Prometheus's text lexer lets
/// a raw newline stand inside a label value or a quoted name.
#[test]
fn lenient_text_raw_newline_inside_quotes() {
    check_parses(
        TEXT,
        LENIENT,
        vec![
            (
                b"a{b=\"x\ny\"} 1\nc 2\n",
                vec![s("a", &[("b", "x\ny")], 1.0), s("c", &[], 2.0)],
            ),
            (b"{\"x\ny\"} 1\n", vec![s("x\ny", &[], 1.0)]),
        ],
    );
}

/// prometheus-parsers.md §2 (TestPromParse, Prometheus 3.0+): under a current TYPE of
/// histogram, `le` values that parse as floats come out in OpenMetrics float style
/// (`1` → `1.0`), as do `quantile` values under summary; under another TYPE they
/// stay as written.
#[test]
fn lenient_text_le_and_quantile_normalized() {
    check_parses(
        TEXT,
        LENIENT,
        vec![
            (
                b"# TYPE s summary\ns{quantile=\"0\"} 1\ns{quantile=\"0.25\"} 2\n",
                vec![
                    typ("s", MetricType::Summary),
                    s("s", &[("quantile", "0.0")], 1.0),
                    s("s", &[("quantile", "0.25")], 2.0),
                ],
            ),
            (
                b"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n",
                vec![
                    typ("h", MetricType::Histogram),
                    s("h_bucket", &[("le", "1.0")], 1.0),
                    s("h_bucket", &[("le", "+Inf")], 2.0),
                ],
            ),
            (
                b"# TYPE c counter\ntestmetric{le=\"10\"} 1\n",
                vec![
                    typ("c", MetricType::Counter),
                    s("testmetric", &[("le", "10")], 1.0),
                ],
            ),
        ],
    );
}

/// The same normalization in the OpenMetrics parser (prometheus-parsers.md §2;
/// `normalizeFloatsInLabelValues` in openmetricsparse.go, TestOpenMetricsParse
/// expects `quantile="0.0"` for `quantile="0"`). Not for gauge histograms.
#[test]
fn lenient_om_le_and_quantile_normalized() {
    check_parses(
        OM,
        LENIENT,
        vec![(
            b"# TYPE s summary\ns{quantile=\"0\"} 1\n# TYPE h histogram\n\
              h_bucket{le=\"1000000\"} 1\n# TYPE g gaugehistogram\ng_bucket{le=\"1\"} 1\n# EOF\n",
            vec![
                typ("s", MetricType::Summary),
                s("s", &[("quantile", "0.0")], 1.0),
                typ("h", MetricType::Histogram),
                s("h_bucket", &[("le", "1e+06")], 1.0),
                typ("g", MetricType::GaugeHistogram),
                s("g_bucket", &[("le", "1")], 1.0),
            ],
        )],
    );
}

/// prometheus-parsers.md §5: Go's decimal float syntax; every NaN becomes Prometheus's
/// normal NaN; infinity in any case, with or without sign; underflow is zero.
#[test]
fn lenient_text_values() {
    let mut cases: Vec<(&[u8], Vec<E>)> = Vec::new();
    for input in [&b"a NaN\n"[..], b"a nan\n", b"a NAN\n", b"a nAn\n"] {
        cases.push((input, vec![s("a", &[], NAN)]));
    }
    for input in [
        &b"a Inf\n"[..],
        b"a +Inf\n",
        b"a inf\n",
        b"a +inf\n",
        b"a INF\n",
        b"a Infinity\n",
        b"a +infinity\n",
        b"a iNfInItY\n",
    ] {
        cases.push((input, vec![s("a", &[], f64::INFINITY)]));
    }
    for input in [&b"a -Inf\n"[..], b"a -inf\n", b"a -Infinity\n"] {
        cases.push((input, vec![s("a", &[], f64::NEG_INFINITY)]));
    }
    for (input, v) in [
        (&b"a 1\n"[..], 1.0),
        (b"a -1.5e3\n", -1500.0),
        (b"a .5\n", 0.5),
        (b"a 5.\n", 5.0),
        (b"a +2\n", 2.0),
        (b"a 1E-2\n", 0.01),
        (b"a 007\n", 7.0),
        (b"a -0\n", -0.0),
        (b"a 1e-400\n", 0.0),
        (b"a 1.5e+3\n", 1500.0),
        (b"a 8.3835e-05\n", 8.3835e-05),
        (b"a 9223372036854775808\n", 9.223372036854776e18),
    ] {
        cases.push((input, vec![s("a", &[], v)]));
    }
    check_parses(TEXT, LENIENT, cases);
    // And the bits, explicitly.
    let got = run(b"a NaN\n", TEXT, LENIENT);
    match &got[..] {
        [Ok(E::Sample(s))] => assert_eq!(s.value.to_bits(), NORMAL_NAN_BITS),
        other => panic!("{other:?}"),
    }
}

/// prometheus-parsers.md §6: text-format timestamps are integer milliseconds.
#[test]
fn lenient_text_timestamps() {
    check_parses(
        TEXT,
        LENIENT,
        vec![
            (
                b"a 1 1395066363000\n",
                vec![s("a", &[], 1.0).at(1395066363000)],
            ),
            (b"a 1 0\n", vec![s("a", &[], 1.0).at(0)]),
            (b"a 1\t\t7\n", vec![s("a", &[], 1.0).at(7)]),
            (
                b"a 1 9223372036854775807\n",
                vec![s("a", &[], 1.0).at(i64::MAX)],
            ),
            (b"a{b=\"c\"}1 2\n", vec![s("a", &[("b", "c")], 1.0).at(2)]),
        ],
    );
}

// ---------------------------------------------------------------------------
// Lenient text: rejected inputs.
// ---------------------------------------------------------------------------

/// Every case of Prometheus's TestPromParseErrors (prometheus-parsers.md §10).
#[test]
fn lenient_text_prometheus_parse_errors() {
    check_rejected(
        TEXT,
        LENIENT,
        &[
            (b"a", 1, Eol),
            (b"a{b='c'} 1\n", 1, at(b"'c'")),
            (b"a{b=\n", 1, Eol),
            (b"a{\xff=\"foo\"} 1\n", 1, at(b"\xff")),
            (b"a{b=\"\xff\"} 1\n", 1, at(b"\xff")),
            // The second quoted name, where '=' was expected after it.
            (b"{\"a\", \"b = \"c\"}", 1, at(b"\"b = ")),
            (br#"{"a",b\nc="d"} 1"#, 1, at(b"\\n")),
            (b"a true\n", 1, at(b"true")),
            (b"something_weird{problem=\"", 1, Eol),
            (b"empty_label_name{=\"\"} 0", 1, at(b"=\"\"")),
            (b"{A}0", 1, at(b"}0")),
            (b"foo 1_2\n", 1, at(b"1_2")),
            (b"foo 0x1p-3\n", 1, at(b"0x1p-3")),
            (b"foo 0x1P-3\n", 1, at(b"0x1P-3")),
            (b"foo 0 1_2\n", 1, at(b"1_2")),
            (b"{a=\"ok\"} 1", 1, at(b"{")),
            (b"# TYPE #\n#EOF\n", 1, Col(8)),
            (b"# HELP #\n#EOF\n", 1, Col(8)),
        ],
    );
}

/// The error cases of TestPromNullByteHandling (prometheus-parsers.md §10). (Its accepted
/// cases are in `lenient_text_label_value_escapes`.)
#[test]
fn lenient_text_null_byte_errors() {
    check_rejected(
        TEXT,
        LENIENT,
        &[
            (b"a{b=\0\"ssss\"} 1", 1, at(b"\0")),
            (b"a{b=\"\0", 1, Eol),
            (b"a{b\0=\"hiih\"}\t1", 1, at(b"\0")),
            (b"a\0{b=\"ddd\"} 1", 1, at(b"\0")),
            (b"a 0 1\0", 1, at(b"1\0")),
        ],
    );
}

/// The other rejections prometheus-parsers.md §1–§8 describes for the text format.
#[test]
fn lenient_text_other_rejections() {
    check_rejected(
        TEXT,
        LENIENT,
        &[
            // §1: CR is not whitespace, so CRLF fails.
            (b"a 1\r\n", 1, at(b"1\r")),
            (b"a 1 5\r\n", 1, at(b"5\r")),
            // §1: `# HELP`/`# TYPE` followed by something that is not a name.
            (b"# TYPE 1a counter\n", 1, at(b"1a")),
            (b"# HELP \"unterminated\n", 1, Eol),
            (b"ok 1\n# HELP {x} y\n", 2, at(b"{x}")),
            // §2: names and label sets.
            (b"1a 1\n", 1, at(b"1a")),
            (b"\"a\" 1\n", 1, at(b"\"a\"")),
            (b"{} 1\n", 1, at(b"{}")),
            (b"a{\"b\"} 1\n", 1, at(b"\"b\"")),
            (b"{\"a\",\"b\"} 1\n", 1, at(b"\"b\"")),
            (b"a{,b=\"c\"} 1\n", 1, at(b",b")),
            (b"a{b=\"c\",,d=\"e\"} 1\n", 1, at(b",d")),
            (b"a{b=c} 1\n", 1, at(b"c}")),
            (b"a{b} 1\n", 1, at(b"} 1")),
            (b"a{b:c=\"d\"} 1\n", 1, at(b":c")),
            (b"a{b=\"c\" 1\n", 1, at(b"1")),
            (b"a{b=\"c\"\n", 1, Eol),
            // §3: an escaped newline, or a value the line ends in.
            (b"a{b=\"c\\", 1, Eol),
            // §5: values.
            (b"a\n", 1, Eol),
            (b"a \n", 1, Eol),
            (b"a{b=\"c\"} \n", 1, Eol),
            (b"a +NaN\n", 1, at(b"+NaN")),
            (b"a -nan\n", 1, at(b"-nan")),
            (b"a Infin\n", 1, at(b"Infin")),
            (b"a 1e400\n", 1, at(b"1e400")),
            (b"a -1e400\n", 1, at(b"-1e400")),
            (b"a 0x10\n", 1, at(b"0x10")),
            (b"a 1_000\n", 1, at(b"1_000")),
            (b"a 1e\n", 1, at(b"1e")),
            (b"a --1\n", 1, at(b"--1")),
            (b"a 1,5\n", 1, at(b"1,5")),
            (b"a 1}\n", 1, at(b"1}")),
            // §6: timestamps.
            (b"a 1 1.5\n", 1, at(b"1.5")),
            (b"a 1 1e3\n", 1, at(b"1e3")),
            (b"a 1 0x10\n", 1, at(b"0x10")),
            (b"a 1 99999999999999999999\n", 1, at(b"999")),
            (b"a 1 2 3\n", 1, at(b"3")),
            // §7: no exemplars in the text format.
            (b"a 1 # {x=\"y\"} 1\n", 1, at(b"#")),
            // §8: TYPE values of the text format only, exactly as written.
            (b"# TYPE a unknown\n", 1, at(b"unknown")),
            (b"# TYPE a gaugehistogram\n", 1, at(b"gaugehistogram")),
            (b"# TYPE a info\n", 1, at(b"info")),
            (b"# TYPE a stateset\n", 1, at(b"stateset")),
            (b"# TYPE a Counter\n", 1, at(b"Counter")),
            (b"# TYPE a  counter\n", 1, at(b" counter")),
            (b"# TYPE a counter \n", 1, at(b"counter ")),
            (b"# TYPE a\n", 1, Eol),
            // §4: HELP text must be UTF-8.
            (b"# HELP a caf\xe9\n", 1, at(b"\xe9")),
        ],
    );
}

// ---------------------------------------------------------------------------
// Lenient text: our documented deviations from Prometheus, made visible.
// ---------------------------------------------------------------------------

/// Prometheus's lexer takes `[0-9]+` only (prometheus-parsers.md §6: `a 1 -5` → "expected
/// timestamp or new record"); we accept a sign, as the exposition library does.
#[test]
fn deviation_signed_timestamp_accepted() {
    check_parses(
        TEXT,
        LENIENT,
        vec![
            (b"a 1 -5\n", vec![s("a", &[], 1.0).at(-5)]),
            (b"a 1 +5\n", vec![s("a", &[], 1.0).at(5)]),
            (
                b"a 1 -9223372036854775808\n",
                vec![s("a", &[], 1.0).at(i64::MIN)],
            ),
        ],
    );
}

/// Prometheus errors on `# HELP ` / `# TYPE ` followed by the end of the line
/// ("expected metric name after HELP"); we skip such a line as a comment.
#[test]
fn deviation_empty_help_and_type_lines_are_comments() {
    check_parses(
        TEXT,
        LENIENT,
        vec![
            (b"# HELP \n# TYPE \t\na 1\n", vec![s("a", &[], 1.0)]),
            (b"# HELP ", vec![]),
        ],
    );
}

/// Prometheus's lexer reads a NUL at the start of a line as the end of the input
/// and stops without error, dropping the rest; we report it and go on.
#[test]
fn deviation_nul_at_line_start_is_an_error() {
    let got = run(b"a 1\n\0b 2\nc 3\n", TEXT, LENIENT);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0], Ok(s("a", &[], 1.0)));
    let e = got[1].as_ref().expect_err("NUL at line start");
    assert_eq!((e.line, e.column), (2, 1));
    assert_eq!(got[2], Ok(s("c", &[], 3.0)));

    check_rejected(
        TEXT,
        LENIENT,
        &[(b"\0", 1, at(b"\0")), (b"ok 1\n \t\0\n", 2, at(b"\0"))],
    );
}

/// Prometheus tolerates any bytes in comments and in the parts it does not check
/// (quoted names); we require the whole input to be UTF-8 and point at the first
/// bad byte.
#[test]
fn deviation_invalid_utf8_anywhere_is_an_error() {
    check_rejected(
        TEXT,
        LENIENT,
        &[
            (b"# caf\xe9\na 1\n", 1, at(b"\xe9")),
            (b"a 1\n# \xff\xfe\n", 2, at(b"\xff")),
            (b"{\"a\xff\"} 1\n", 1, at(b"\xff")),
            (b"a{\"b\xc3\"=\"c\"} 1\n", 1, at(b"\xc3")),
        ],
    );
    // Only that line is lost.
    let got = run(b"# caf\xe9\na 1\n", TEXT, LENIENT);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1], Ok(s("a", &[], 1.0)));
}

// ---------------------------------------------------------------------------
// 2. Lenient OpenMetrics (Prometheus's OpenMetricsParser).
// ---------------------------------------------------------------------------

#[test]
fn lenient_om_accepted_forms() {
    use MetricType::*;
    check_parses(
        OM,
        LENIENT,
        vec![
            (b"# EOF", vec![]),
            (b"# EOF\n", vec![]),
            (b"a 1\n# EOF", vec![s("a", &[], 1.0)]),
            (b"a 1\n# EOF\n", vec![s("a", &[], 1.0)]),
            // Metadata, UNIT, HELP unescaping like label values, `_created` as a
            // sample of its own, float-second timestamps on samples and exemplars.
            (
                b"# TYPE a_seconds counter\n# UNIT a_seconds seconds\n\
                  # HELP a_seconds escape \\ \\n \\\\ \\\" \\x chars \n\
                  a_seconds_total{b=\"c\"} 1 1520879607.789 # {id=\"x\"} 0.5 1520879607.789\n\
                  a_seconds_created{b=\"c\"} 1520430000.123\n# EOF\n",
                vec![
                    typ("a_seconds", Counter),
                    unit("a_seconds", "seconds"),
                    help("a_seconds", "escape \\ \n \\ \" \\x chars "),
                    s("a_seconds_total", &[("b", "c")], 1.0)
                        .at(1520879607789)
                        .ex(&[("id", "x")], 0.5, Some(1520879607789)),
                    s("a_seconds_created", &[("b", "c")], 1520430000.123),
                ],
            ),
            (
                b"# HELP m \n# UNIT m \n# HELP n a  b\n# EOF\n",
                vec![help("m", ""), unit("m", ""), help("n", "a  b")],
            ),
            (
                b"# TYPE a counter\n# TYPE b gauge\n# TYPE c histogram\n# TYPE d gaugehistogram\n\
                  # TYPE e summary\n# TYPE f stateset\n# TYPE g info\n# TYPE h unknown\n# EOF\n",
                vec![
                    typ("a", Counter),
                    typ("b", Gauge),
                    typ("c", Histogram),
                    typ("d", GaugeHistogram),
                    typ("e", Summary),
                    typ("f", StateSet),
                    typ("g", Info),
                    typ("h", Unknown),
                ],
            ),
            // Exemplars on any sample (3.x), with and without timestamps.
            (
                b"# TYPE hhh histogram\n\
                  hhh_bucket{le=\"+Inf\"} 1 # {id=\"histogram-bucket-test\"} 4\n\
                  hhh_count 1 # {id=\"histogram-count-test\"} 4\n\
                  # TYPE smr_seconds summary\n\
                  smr_seconds_count 2.0 # {id=\"summary-count-test\"} 1 123.321\n\
                  smr_seconds_sum 42.0 # {id=\"summary-sum-test\"} 1 123.321\n\
                  # TYPE g gauge\ng 1 # {} 2\nu 1 5 # {a=\"b\"} 3 6\n# EOF\n",
                vec![
                    typ("hhh", Histogram),
                    s("hhh_bucket", &[("le", "+Inf")], 1.0).ex(
                        &[("id", "histogram-bucket-test")],
                        4.0,
                        None,
                    ),
                    s("hhh_count", &[], 1.0).ex(&[("id", "histogram-count-test")], 4.0, None),
                    typ("smr_seconds", Summary),
                    s("smr_seconds_count", &[], 2.0).ex(
                        &[("id", "summary-count-test")],
                        1.0,
                        Some(123321),
                    ),
                    s("smr_seconds_sum", &[], 42.0).ex(
                        &[("id", "summary-sum-test")],
                        1.0,
                        Some(123321),
                    ),
                    typ("g", Gauge),
                    s("g", &[], 1.0).ex(&[], 2.0, None),
                    s("u", &[], 1.0).at(5000).ex(&[("a", "b")], 3.0, Some(6000)),
                ],
            ),
            // Quoted names in exemplars, trailing commas (Prometheus 2.51+).
            (
                b"a_total 1 # {\"id.thing\"=\"x\",other=\"y\",} 1\n# EOF\n",
                vec![s("a_total", &[], 1.0).ex(&[("id.thing", "x"), ("other", "y")], 1.0, None)],
            ),
            (b"a{b=\"c\",} 1\n# EOF\n", vec![s("a", &[("b", "c")], 1.0)]),
            // Quoted metric names anywhere in the braces.
            (
                b"{\"a.b\"} 1\n{\"a.b\",c=\"d\"} 2\n{c=\"d\",\"a.b\"} 3\n# EOF\n",
                vec![
                    s("a.b", &[], 1.0),
                    s("a.b", &[("c", "d")], 2.0),
                    s("a.b", &[("c", "d")], 3.0),
                ],
            ),
            // Label values: escapes, raw tab, NUL (TestOMNullByteHandling).
            (
                br#"a{b="x\\y\"z\nw\zq"} 1
# EOF
"#,
                vec![s("a", &[("b", "x\\y\"z\nw\\zq")], 1.0)],
            ),
            (
                b"a{b=\"x\ty\"} 1\n# EOF\n",
                vec![s("a", &[("b", "x\ty")], 1.0)],
            ),
            (
                b"null_byte_metric{a=\"abc\0\"} 1\n# EOF\n",
                vec![s("null_byte_metric", &[("a", "abc\0")], 1.0)],
            ),
            (
                b"a{b=\"\0ss\"} 1\n# EOF\n",
                vec![s("a", &[("b", "\0ss")], 1.0)],
            ),
            (b"a{b=\"\0\"} 1\n# EOF", vec![s("a", &[("b", "\0")], 1.0)]),
            (b"# HELP m foo\0bar\n# EOF\n", vec![help("m", "foo\0bar")]),
            // Values as in the text format.
            (
                b"a NaN\nb +Inf\nc -inf\nd .5\ne 1e-400\n# EOF\n",
                vec![
                    s("a", &[], NAN),
                    s("b", &[], f64::INFINITY),
                    s("c", &[], f64::NEG_INFINITY),
                    s("d", &[], 0.5),
                    s("e", &[], 0.0),
                ],
            ),
            // No rules across lines in lenient mode: metadata after samples and
            // repeated, interleaved families, repeated series, long exemplars.
            (
                b"a 1\nb 1\na 1\n# TYPE a counter\n# TYPE a gauge\n# HELP a x\n# HELP a y\n# EOF\n",
                vec![
                    s("a", &[], 1.0),
                    s("b", &[], 1.0),
                    s("a", &[], 1.0),
                    typ("a", Counter),
                    typ("a", Gauge),
                    help("a", "x"),
                    help("a", "y"),
                ],
            ),
        ],
    );
}

/// prometheus-parsers.md §6: OpenMetrics timestamps are seconds, converted as Go's
/// `int64(ts*1000)`, truncating towards zero.
#[test]
fn lenient_om_timestamp_conversion() {
    let mut cases: Vec<(Vec<u8>, i64)> = Vec::new();
    for (ts, ms) in [
        ("1520879607.789", 1520879607789),
        ("123.123", 123123),
        ("1.005", 1004),
        ("1.001", 1000),
        ("-1.5", -1500),
        ("0", 0),
        ("1", 1000),
        ("1e3", 1000000),
        ("0.0001", 0),
        ("-0.0009", 0),
    ] {
        cases.push((format!("a 1 {ts}\n# EOF\n").into_bytes(), ms));
        cases.push((format!("a_total 1 # {{}} 2 {ts}\n# EOF\n").into_bytes(), ms));
    }
    let mut failures = Vec::new();
    for (input, ms) in &cases {
        let got = run(input, OM, LENIENT);
        let ts = match &got[..] {
            [Ok(E::Sample(s))] => s.exemplar.as_ref().map_or(s.ts, |x| x.ts),
            _ => None,
        };
        if ts != Some(*ms) {
            failures.push(format!("{:?}: got {got:?}, want {ms} ms", show(input)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Prometheus stores exemplar labels without unescaping (prometheus-parsers.md §3); our
/// exemplar labels keep the raw text as written, so `raw()` is what Prometheus
/// stores.
#[test]
fn lenient_om_exemplar_labels_raw() {
    let input = br#"a_total 1 # {a="x\"y\\z"} 1
# EOF
"#;
    let entries: Vec<Entry<'_>> = Parser::new(input, OM, LENIENT)
        .collect::<Result<_, _>>()
        .expect("parses");
    let Entry::Sample(sample) = entries[0] else {
        panic!("{entries:?}")
    };
    let ex = sample.exemplar.expect("an exemplar");
    let label = ex.labels.iter().next().expect("a label");
    assert_eq!(label.value.raw(), r#"x\"y\\z"#);
}

/// Every case of Prometheus's TestOpenMetricsParseErrors (prometheus-parsers.md §10).
#[test]
fn lenient_om_prometheus_parse_errors() {
    check_rejected(
        OM,
        LENIENT,
        &[
            // No `# EOF`: the error is at the end of the input.
            (b"", 1, Eol),
            (b"metric 1", 2, Eol),
            (b"metric 1\n", 2, Eol),
            (b"metric_total 1 # {aa=\"bb\"} 4", 2, Eol),
            (b"\n", 1, Eol),
            (b"metric", 1, Eol),
            (b"a\n#EOF\n", 1, Eol),
            (b"\n\n#EOF\n", 1, Eol),
            (b" a 1\n#EOF\n", 1, at(b" ")),
            (b"9\n#EOF\n", 1, at(b"9")),
            (b"# TYPE u untyped\n#EOF\n", 1, at(b"untyped")),
            (b"# TYPE c counter \n#EOF\n", 1, at(b"counter ")),
            (b"#  TYPE c counter\n#EOF\n", 1, at(b" TYPE")),
            (b"# TYPE \n#EOF\n", 1, Eol),
            (b"# TYPE m\n#EOF\n", 1, Eol),
            (b"# UNIT metric suffix\n#EOF\n", 1, at(b"suffix")),
            (b"# UNIT metricsuffix suffix\n#EOF\n", 1, Col(21)),
            (b"# UNIT m suffix\n#EOF\n", 1, at(b"suffix")),
            (b"# UNIT \n#EOF\n", 1, Eol),
            (b"# UNIT m\n#EOF\n", 1, Eol),
            (b"# HELP \n#EOF\n", 1, Eol),
            (b"# HELP m\n#EOF\n", 1, Eol),
            (b"a\t1\n#EOF\n", 1, at(b"\t")),
            (b"a 1\t2\n#EOF\n", 1, at(b"\t")),
            (b"a 1 2 \n#EOF\n", 1, Eol),
            (b"a 1 2 #\n#EOF\n", 1, Eol),
            (b"a 1 1z\n#EOF\n", 1, at(b"1z")),
            (b" # EOF\n", 1, at(b" ")),
            (b"# EOF\na 1", 2, at(b"a")),
            (b"# EOF\n\n", 2, Eol),
            (b"# EOFa 1", 1, at(b"EOFa")),
            (b"#\tTYPE c counter\n", 1, at(b"\t")),
            (b"# TYPE c  counter\n", 1, at(b" counter")),
            (b"a 1 1 1\n# EOF\n", 1, Col(7)),
            (b"a{b='c'} 1\n# EOF\n", 1, at(b"'c'")),
            (b"a{,b=\"c\"} 1\n# EOF\n", 1, at(b",b")),
            (b"a{b=\"c\"d=\"e\"} 1\n# EOF\n", 1, at(b"d=")),
            (b"a{b=\"c\",,d=\"e\"} 1\n# EOF\n", 1, at(b",d")),
            (b"a{b=\n# EOF\n", 1, Eol),
            (b"a{\xff=\"foo\"} 1\n# EOF\n", 1, at(b"\xff")),
            (b"a{b=\"\xff\"} 1\n# EOF\n", 1, at(b"\xff")),
            (b"{\"a\",\"b = \"c\"}\n# EOF\n", 1, at(b"c\"}")),
            (
                br#"{"a",b\nc="d"} 1
# EOF
"#,
                1,
                at(b"\\n"),
            ),
            (b"a true\n", 1, at(b"true")),
            (b"something_weird{problem=\"\n# EOF\n", 1, Eol),
            (b"empty_label_name{=\"\"} 0\n# EOF\n", 1, at(b"=\"\"")),
            (b"{A}0\n# EOF\n", 1, at(b"}0")),
            (b"foo 1_2\n\n# EOF\n", 1, at(b"1_2")),
            (b"foo 0x1p-3\n\n# EOF\n", 1, at(b"0x1p-3")),
            (b"foo 0x1P-3\n\n# EOF\n", 1, at(b"0x1P-3")),
            (b"foo 0 1_2\n\n# EOF\n", 1, at(b"1_2")),
            (b"custom_metric_total 1 # {aa=bb}\n# EOF\n", 1, at(b"bb}")),
            (b"custom_metric_total 1 # {aa=\"bb\"}\n# EOF\n", 1, Eol),
            (b"custom_metric_total 1 # {aa=\"bb\"}", 1, Eol),
            (b"custom_metric_total 1 # {bb}", 1, at(b"}")),
            (b"custom_metric_total 1 # {bb, a=\"dd\"}", 1, at(b", a")),
            (
                b"custom_metric_total 1 # {aa=\"bb\",,cc=\"dd\"} 1",
                1,
                at(b",cc"),
            ),
            (b"custom_metric_total 1 # {aa=\"bb\"} 1_2", 1, at(b"1_2")),
            (
                b"custom_metric_total 1 # {aa=\"bb\"} 0x1p-3",
                1,
                at(b"0x1p-3"),
            ),
            (b"custom_metric_total 1 # {aa=\"bb\"} true", 1, at(b"true")),
            (b"custom_metric_total 1 # {aa=\"bb\",cc=}", 1, at(b"}")),
            (
                br#"custom_metric_total 1 # {aa=\"\xff\"} 9.0"#,
                1,
                at(b"\\\""),
            ),
            (b"{b=\"c\",} 1", 1, at(b"{")),
            (b"a 1 NaN", 1, at(b"NaN")),
            (b"a 1 -Inf", 1, at(b"-Inf")),
            (b"a 1 Inf", 1, at(b"Inf")),
            (
                b"# TYPE hhh histogram\nhhh_bucket{le=\"+Inf\"} 1 # {aa=\"bb\"} 4 NaN",
                2,
                at(b"NaN"),
            ),
            (
                b"# TYPE hhh histogram\nhhh_bucket{le=\"+Inf\"} 1 # {aa=\"bb\"} 4 -Inf",
                2,
                at(b"-Inf"),
            ),
        ],
    );
}

/// TestOMNullByteHandling's error cases (prometheus-parsers.md §9, §10), each followed by a
/// proper `# EOF` so that only the NUL can be the reason.
#[test]
fn lenient_om_null_byte_errors() {
    check_rejected(
        OM,
        LENIENT,
        &[
            (b"a{b=\0\"ssss\"} 1\n# EOF\n", 1, at(b"\0")),
            (b"a{b=\"\0", 1, Eol),
            (b"a{b\0=\"hiih\"}\t1\n# EOF\n", 1, at(b"\0")),
            (b"a\0{b=\"ddd\"} 1\n# EOF\n", 1, at(b"\0")),
            (b"#", 1, Eol),
            (b"# H", 1, at(b"H")),
            (
                b"custom_metric_total 1 # {b=\0\"ssss\"} 1\n# EOF\n",
                1,
                at(b"\0"),
            ),
        ],
    );
}

/// TestOMNullByteHandling: exemplar label values are lexed in a state that does not
/// let NULs through, so `# {b="\0ss"}` is "expected label value" (prometheus-parsers.md §9;
/// openmetricsparse_test.go at Prometheus d15adb9a, the last case of the table).
#[test]
fn lenient_om_null_byte_in_exemplar_label_value() {
    check_rejected(
        OM,
        LENIENT,
        &[(
            b"custom_metric_total 1 # {b=\"\0ss\"} 1\n# EOF\n",
            1,
            at(b"\"\0"),
        )],
    );
}

/// The other OpenMetrics rejections of prometheus-parsers.md §1, §2 and §7.
#[test]
fn lenient_om_other_rejections() {
    check_rejected(
        OM,
        LENIENT,
        &[
            (b"a  1\n# EOF\n", 1, at(b" 1")),
            (b"a{ b=\"c\"} 1\n# EOF\n", 1, at(b" b")),
            (b"a{b=\"c\" } 1\n# EOF\n", 1, at(b" }")),
            (b"a {b=\"c\"} 1\n# EOF\n", 1, at(b"{")),
            (b"a 1 \n# EOF\n", 1, Eol),
            (b"a 1  2\n# EOF\n", 1, at(b" 2")),
            (b"a{b=\"c\nd\"} 1\n# EOF\n", 1, Eol),
            (b"a 1\r\n# EOF\n", 1, at(b"1\r")),
            (b"# HELP a.b x\n# EOF\n", 1, at(b".b")),
            (b"# FOO a b\n# EOF\n", 1, at(b"FOO")),
            (b"# EOF \n", 1, at(b"EOF")),
            (b"{\"a\",\"b\"} 1\n# EOF\n", 1, at(b"} 1")),
            (b"a{\"b\"} 1\n# EOF\n", 1, at(b"} 1")),
            (b"a_total 1 # {\"x\"} 1\n# EOF\n", 1, at(b"} 1")),
            (b"a_total 1 #{a=\"b\"} 1\n# EOF\n", 1, at(b"{")),
            (b"a_total 1 # a=\"b\" 1\n# EOF\n", 1, at(b"a=")),
            (b"a_total 1 1 # {a=\"b\"} 1 2 3\n# EOF\n", 1, at(b" 3")),
            (b"a_total 1 # {a=\"b\"} 1 2 \n# EOF\n", 1, Col(24)),
            (b"a_total 1 1 2\n# EOF\n", 1, at(b"2")),
            (b"a 1\n# EOF\n# EOF\n", 3, at(b"#")),
        ],
    );
}

// ---------------------------------------------------------------------------
// 3. Strict text (promtool-check-metrics.md §3: the exposition library's TextParser).
// ---------------------------------------------------------------------------

#[test]
fn strict_text_rejections() {
    check_rejected(
        TEXT,
        STRICT,
        &[
            // A second non-empty HELP, also through a summary's or histogram's
            // series names.
            (b"# HELP foo x\n# HELP foo y\nfoo 1\n", 2, at(b"#")),
            (
                b"# TYPE s summary\n# HELP s x\n# HELP s_count y\n",
                3,
                at(b"#"),
            ),
            (
                b"# TYPE h histogram\n# HELP h x\n# HELP h_bucket y\n",
                3,
                at(b"#"),
            ),
            // TYPE twice, or after samples.
            (b"# TYPE foo gauge\n# TYPE foo gauge\nfoo 1\n", 2, at(b"#")),
            (b"# TYPE foo gauge\n# TYPE foo counter\n", 2, at(b"#")),
            (b"# HELP foo x\nfoo 1\n# TYPE foo gauge\n", 3, at(b"#")),
            (b"foo 1\n# TYPE foo untyped\n", 2, at(b"#")),
            (b"# TYPE s summary\n# TYPE s_sum gauge\n", 2, at(b"#")),
            // Escapes other than \\, \" and \n in label values; other than \\, \n
            // and (newest library) \" in HELP.
            (
                br#"foo{a="\z"} 1
"#,
                1,
                at(b"foo"),
            ),
            (
                br#"foo{a="x",b="\t"} 1
"#,
                1,
                at(b"foo"),
            ),
            (b"foo{a=\"x\\\\\\y\"} 1\n", 1, at(b"foo")),
            (
                br#"# HELP foo a\tb
"#,
                1,
                at(b"#"),
            ),
            (
                br#"# HELP foo a\z
"#,
                1,
                at(b"#"),
            ),
            // `le` on a declared histogram's buckets and `quantile` on a summary
            // must be floats.
            (
                b"# TYPE h histogram\nh_bucket{le=\"abc\"} 1\n",
                2,
                at(b"h_"),
            ),
            (
                b"# TYPE h histogram\nh_bucket{le=\"0x1p3\"} 1\n",
                2,
                at(b"h_"),
            ),
            (
                b"# TYPE h histogram\nh_bucket{le=\"1_0\"} 1\n",
                2,
                at(b"h_"),
            ),
            (b"# TYPE h histogram\nh_bucket{le=\" 1\"} 1\n", 2, at(b"h_")),
            (b"# TYPE h histogram\nh_bucket{le=\"\"} 1\n", 2, at(b"h_")),
            (b"# TYPE s summary\ns{quantile=\"x\"} 1\n", 2, at(b"s{")),
            (
                b"# TYPE s summary\ns{a=\"b\",quantile=\"\"} 1\n",
                2,
                at(b"s{"),
            ),
            // Duplicate label names, and `__name__` as a label.
            (b"foo{a=\"1\",a=\"2\"} 1\n", 1, at(b"foo")),
            (b"foo{a=\"1\",b=\"2\",a=\"1\"} 1\n", 1, at(b"foo")),
            (b"foo{__name__=\"x\"} 1\n", 1, at(b"foo")),
            // Trailing blanks after the value or the timestamp.
            (b"foo 1 \n", 1, Col(6)),
            (b"foo 1\t\n", 1, at(b"\t")),
            (b"foo 1 123 \n", 1, Col(10)),
            (b"  foo   1   \n", 1, Col(10)),
            (b"foo{a=\"b\"} 1 \t\n", 1, at(b" \t")),
            // No final newline.
            (b"foo 1", 1, Eol),
            (b"foo 1\nfoo 1 123", 2, Eol),
            (b"foo 1\n# comment", 2, Eol),
            (b"# HELP foo x", 1, Eol),
            // A comma between labels.
            (b"foo{a=\"1\" b=\"2\"} 1\n", 1, at(b"b=")),
            (b"foo{a=\"1\"b=\"2\"} 1\n", 1, at(b"b=")),
            (b"foo{a=\"b\" 1\n", 1, at(b"1")),
            // And what the scraper refuses too.
            (b"# HELP a.b c\n", 1, at(b".b")),
            (b"foo-bar 1\n", 1, at(b"-bar")),
            (b"foo\n", 1, Eol),
            (b"foo 1 1.5\n", 1, at(b"1.5")),
            (b"foo 1 2 3\n", 1, at(b"3")),
        ],
    );
}

/// promtool-check-metrics.md §3: the library reads `le` as a float on every series of a
/// histogram family and `quantile` on every series of a summary family, not only
/// on buckets and bare quantile series (expfmt `startLabelValue`, prometheus/common
/// d2417e2, `text_parse.go` lines 463–490).
#[test]
fn strict_text_le_and_quantile_on_other_series_of_the_family() {
    check_rejected(
        TEXT,
        STRICT,
        &[
            (b"# TYPE h histogram\nh_sum{le=\"abc\"} 1\n", 2, at(b"h_")),
            (b"# TYPE h histogram\nh{le=\"abc\"} 1\n", 2, at(b"h{")),
            (
                b"# TYPE s summary\ns_count{quantile=\"x\"} 1\n",
                2,
                at(b"s_"),
            ),
        ],
    );
}

#[test]
fn strict_text_accepts() {
    use MetricType::*;
    check_parses(
        TEXT,
        STRICT,
        vec![
            // Interleaved families and repeated series.
            (
                b"foo{a=\"1\"} 1\nbar 1\nfoo{a=\"2\"} 1\n",
                vec![
                    s("foo", &[("a", "1")], 1.0),
                    s("bar", &[], 1.0),
                    s("foo", &[("a", "2")], 1.0),
                ],
            ),
            (
                b"# TYPE foo gauge\nfoo{a=\"1\"} 1\n# TYPE bar gauge\nbar 1\nfoo{a=\"2\"} 1\n",
                vec![
                    typ("foo", Gauge),
                    s("foo", &[("a", "1")], 1.0),
                    typ("bar", Gauge),
                    s("bar", &[], 1.0),
                    s("foo", &[("a", "2")], 1.0),
                ],
            ),
            (
                b"foo{a=\"1\"} 1\nfoo{a=\"1\"} 2\n",
                vec![s("foo", &[("a", "1")], 1.0), s("foo", &[("a", "1")], 2.0)],
            ),
            // HELP after samples; an empty HELP does not count.
            (
                b"foo 1\n# HELP foo x\n",
                vec![s("foo", &[], 1.0), help("foo", "x")],
            ),
            (
                b"# HELP foo\n# HELP foo x\nfoo 1\n",
                vec![help("foo", ""), help("foo", "x"), s("foo", &[], 1.0)],
            ),
            (
                b"# HELP foo \n# HELP foo x\nfoo 1\n",
                vec![help("foo", ""), help("foo", "x"), s("foo", &[], 1.0)],
            ),
            (
                b"# HELP foo x\n# HELP foo\n",
                vec![help("foo", "x"), help("foo", "")],
            ),
            (
                b"# TYPE foo gauge\n# HELP foo x\nfoo 1\n",
                vec![typ("foo", Gauge), help("foo", "x"), s("foo", &[], 1.0)],
            ),
            // The escapes the library knows; \" in HELP (newest library).
            (
                br#"# HELP foo say \"hi\" \\ \n
foo{a="\\ \" \n"} 1
"#,
                vec![
                    help("foo", "say \\\"hi\\\" \\ \n"),
                    s("foo", &[("a", "\\ \" \n")], 1.0),
                ],
            ),
            (
                b"foo{a=\"x\ty\",b=\"caf\xc3\xa9\",c=\"\"} 1\n",
                vec![s(
                    "foo",
                    &[("a", "x\ty"), ("b", "caf\u{e9}"), ("c", "")],
                    1.0,
                )],
            ),
            // `le` and `quantile` floats in Go's syntax; range not checked;
            // missing le/quantile accepted; le on other types is just a label.
            (
                b"# TYPE h histogram\nh_bucket{le=\"inf\"} 1\nh_bucket{le=\"Infinity\"} 1\n\
                  h_bucket{le=\"1e3\"} 1\nh_bucket{le=\"-1\"} 1\nh_bucket 1\nh 1\n",
                vec![
                    typ("h", Histogram),
                    s("h_bucket", &[("le", "inf")], 1.0),
                    s("h_bucket", &[("le", "Infinity")], 1.0),
                    s("h_bucket", &[("le", "1e3")], 1.0),
                    s("h_bucket", &[("le", "-1")], 1.0),
                    s("h_bucket", &[], 1.0),
                    s("h", &[], 1.0),
                ],
            ),
            (
                b"# TYPE s summary\ns{quantile=\"1.5\"} 1\ns{quantile=\"-1\"} 1\ns 1\n",
                vec![
                    typ("s", Summary),
                    s("s", &[("quantile", "1.5")], 1.0),
                    s("s", &[("quantile", "-1")], 1.0),
                    s("s", &[], 1.0),
                ],
            ),
            (
                b"# TYPE g gauge\ng_bucket{le=\"abc\"} 1\nx_bucket{le=\"abc\"} 1\n\
                  # TYPE s summary\ns_bucket{le=\"abc\"} 1\n",
                vec![
                    typ("g", Gauge),
                    s("g_bucket", &[("le", "abc")], 1.0),
                    s("x_bucket", &[("le", "abc")], 1.0),
                    typ("s", Summary),
                    s("s_bucket", &[("le", "abc")], 1.0),
                ],
            ),
            // Syntax the library allows.
            (b"foo {a=\"1\"} 1\n", vec![s("foo", &[("a", "1")], 1.0)]),
            (
                b"foo{ a = \"1\" , b=\"2\" } 1\n",
                vec![s("foo", &[("a", "1"), ("b", "2")], 1.0)],
            ),
            (b"foo{a=\"1\"}1\n", vec![s("foo", &[("a", "1")], 1.0)]),
            (b"foo{} 1\n", vec![s("foo", &[], 1.0)]),
            (b"foo{a=\"1\",} 1\n", vec![s("foo", &[("a", "1")], 1.0)]),
            (b"foo  \t 1\n", vec![s("foo", &[], 1.0)]),
            (b"foo 1  123\n", vec![s("foo", &[], 1.0).at(123)]),
            (b"foo 1 -123\n", vec![s("foo", &[], 1.0).at(-123)]),
            (b"foo 1 +123\n", vec![s("foo", &[], 1.0).at(123)]),
            (b"  foo 1\n", vec![s("foo", &[], 1.0)]),
            (b":foo 1\n", vec![s(":foo", &[], 1.0)]),
            (
                b"foo 1\n\n  \nbar 2\n   ",
                vec![s("foo", &[], 1.0), s("bar", &[], 2.0)],
            ),
            (b"", vec![]),
            (b"# EOF\n#\n# help foo x\n  # indented\n", vec![]),
            // The library reads `#TYPE` (no blank after `#`) as metadata, skips
            // every blank before the text and takes the type in any case.
            (
                b"#TYPE foo counter\n# TYPE bar  Gauge\n# HELP bar \t x\n",
                vec![
                    E::Type("foo".into(), MetricType::Counter),
                    E::Type("bar".into(), MetricType::Gauge),
                    help("bar", "x"),
                ],
            ),
            (
                b"foo NaN\nfoo +Inf\nfoo 1e-400\n",
                vec![
                    s("foo", &[], NAN),
                    s("foo", &[], f64::INFINITY),
                    s("foo", &[], 0.0),
                ],
            ),
        ],
    );
}

/// promtool-check-metrics.md §2 row 1 and §3 ("Comments"): a HELP whose text is only blanks
/// leaves the family without help, so a later HELP is no second one (expfmt
/// `startComment` skips blanks after the name and ignores the line at its end).
#[test]
fn strict_text_blank_only_help_does_not_count() {
    check_parses(
        TEXT,
        STRICT,
        vec![(
            b"# HELP foo  \t\n# HELP foo x\nfoo 1\n",
            vec![help("foo", ""), help("foo", "x"), s("foo", &[], 1.0)],
        )],
    );
}

/// promtool-check-metrics.md §3 ("Comments"): `# TYPE foo` without a type and `# TYPE foo `
/// with a trailing blank are ignored like comments by the library.
#[test]
fn strict_text_type_without_type_is_ignored() {
    let mut failures = Vec::new();
    for input in [&b"# TYPE foo\nfoo 1\n"[..], b"# TYPE foo \nfoo 1\n"] {
        let got = run(input, TEXT, STRICT);
        if got.iter().any(Result::is_err) {
            failures.push(format!("{:?}: {got:?}", show(input)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// promtool-check-metrics.md §3: "A duplicate `le` in one sample is accepted, because `le` is not
/// a stored label" (and likewise `quantile` on a summary: expfmt
/// `startLabelName` leaves both out of the labels it checks for duplicates).
#[test]
fn strict_text_duplicate_le_and_quantile_accepted() {
    let mut failures = Vec::new();
    for input in [
        &b"# TYPE h histogram\nh_bucket{le=\"1\",le=\"2\"} 1\n"[..],
        b"# TYPE s summary\ns{quantile=\"0.5\",quantile=\"0.9\"} 1\n",
    ] {
        let got = run(input, TEXT, STRICT);
        if got.iter().any(Result::is_err) {
            failures.push(format!("{:?}: {got:?}", show(input)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Lenient mode accepts what strict text mode refuses (the list at the end of
/// promtool-check-metrics.md §3).
#[test]
fn lenient_text_accepts_what_strict_refuses() {
    for input in [
        &b"# HELP foo x\n# HELP foo y\nfoo 1\n"[..],
        b"foo 1\n# TYPE foo gauge\n",
        b"foo 1",
        b"foo 1 \n",
        b"foo{a=\"\\z\"} 1\n",
        b"# HELP foo a\\tb\n",
        b"# TYPE h histogram\nh_bucket{le=\"abc\"} 1\n",
        b"foo{a=\"1\" b=\"2\"} 1\n",
        b"foo{a=\"1\",a=\"2\"} 1\n",
    ] {
        assert!(
            run(input, TEXT, LENIENT).iter().all(Result::is_ok),
            "{:?}",
            show(input)
        );
        assert!(
            run(input, TEXT, STRICT).iter().any(Result::is_err),
            "{:?}",
            show(input)
        );
    }
}

// ---------------------------------------------------------------------------
// 4. Strict OpenMetrics, beyond the conformance suite.
// ---------------------------------------------------------------------------

#[test]
fn strict_om_accepts() {
    use MetricType::*;
    let long = "x".repeat(127);
    let exemplar_128 = format!("# TYPE c counter\nc_total 1 # {{a=\"{long}\"}} 1\n# EOF\n");
    check_parses(
        OM,
        STRICT,
        vec![
            (
                b"# TYPE h histogram\n# HELP h A histogram.\n\
                  h_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 1.5\n\
                  h_created 1520430000.123\n# EOF\n",
                vec![
                    typ("h", Histogram),
                    help("h", "A histogram."),
                    s("h_bucket", &[("le", "0.5")], 1.0),
                    s("h_bucket", &[("le", "+Inf")], 2.0),
                    s("h_count", &[], 2.0),
                    s("h_sum", &[], 1.5),
                    s("h_created", &[], 1520430000.123),
                ],
            ),
            (
                b"# TYPE s stateset\ns{s=\"a\"} 1\ns{s=\"b\"} 0\n# EOF\n",
                vec![
                    typ("s", StateSet),
                    s("s", &[("s", "a")], 1.0),
                    s("s", &[("s", "b")], 0.0),
                ],
            ),
            (
                b"# TYPE i info\ni_info{version=\"1.0\"} 1\n# EOF\n",
                vec![typ("i", Info), s("i_info", &[("version", "1.0")], 1.0)],
            ),
            (
                exemplar_128.as_bytes(),
                vec![
                    typ("c", Counter),
                    s("c_total", &[], 1.0).ex(&[("a", long.as_str())], 1.0, None),
                ],
            ),
            (
                b"# TYPE c_seconds counter\n# UNIT c_seconds seconds\nc_seconds_total 1\n# EOF\n",
                vec![
                    typ("c_seconds", Counter),
                    unit("c_seconds", "seconds"),
                    s("c_seconds_total", &[], 1.0),
                ],
            ),
            (
                b"# TYPE s summary\ns{quantile=\"0.5\"} 1 1\ns{quantile=\"0.9\"} 2 1\n\
                  s_count 3 1\ns_sum 4 1\n# EOF\n",
                vec![
                    typ("s", Summary),
                    s("s", &[("quantile", "0.5")], 1.0).at(1000),
                    s("s", &[("quantile", "0.9")], 2.0).at(1000),
                    s("s_count", &[], 3.0).at(1000),
                    s("s_sum", &[], 4.0).at(1000),
                ],
            ),
        ],
    );
}

#[test]
fn strict_om_rejections() {
    let long = "x".repeat(128);
    let exemplar_129 =
        format!("# TYPE c counter\nc_total 1 # {{a=\"{long}\"}} 1\n# EOF\n").into_bytes();
    let exemplar_129: &'static [u8] = exemplar_129.leak();
    check_rejected(
        OM,
        STRICT,
        &[
            // Exemplar labels over 128 characters; exemplars on a gauge.
            (exemplar_129, 2, at(b"{a=")),
            (b"# TYPE g gauge\ng 1 # {a=\"b\"} 1\n# EOF\n", 2, at(b"g")),
            (
                b"# TYPE s summary\ns_count 1 # {a=\"b\"} 1\n# EOF\n",
                2,
                at(b"s"),
            ),
            // A trailing comma: Prometheus allows it, the specification not.
            (b"a{b=\"c\",} 1\n# EOF\n", 1, at(b"} ")),
            // Metadata rules.
            (b"# TYPE a gauge\n# TYPE a gauge\n# EOF\n", 2, at(b"#")),
            (b"# HELP a x\n# HELP a y\n# EOF\n", 2, at(b"#")),
            (b"# TYPE a gauge\na 1\n# HELP a x\n# EOF\n", 3, at(b"#")),
            // Families once, not interleaved (reported when the family ends).
            (
                b"# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\na 2\n# EOF\n",
                7,
                at(b"#"),
            ),
            // Groups together.
            (
                b"a{x=\"1\"} 1\na{x=\"2\"} 1\na{x=\"1\"} 2\n# EOF\n",
                3,
                at(b"a"),
            ),
            // Values per type.
            (b"# TYPE c counter\nc_total -1\n# EOF\n", 2, at(b"-1")),
            (b"# TYPE c counter\nc_total NaN\n# EOF\n", 2, at(b"NaN")),
            (b"# TYPE s stateset\ns{s=\"a\"} 2\n# EOF\n", 2, at(b"2")),
            (b"# TYPE i info\ni_info{v=\"1\"} 2\n# EOF\n", 2, at(b"2")),
            (
                b"# TYPE s summary\ns{quantile=\"1.5\"} 1\n# EOF\n",
                2,
                at(b"s"),
            ),
            (b"# TYPE s stateset\ns 1\n# EOF\n", 2, at(b"s")),
            // Histogram structure.
            (
                b"# TYPE h histogram\nh_bucket{le=\"1\"} 1\n# EOF\n",
                3,
                at(b"#"),
            ),
            (
                b"# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n\
                  h_bucket{le=\"+Inf\"} 1\n# EOF\n",
                3,
                at(b"h"),
            ),
            (
                b"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n# EOF\n",
                3,
                at(b"1"),
            ),
            (
                b"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\nh_sum 1\n# EOF\n",
                5,
                at(b"#"),
            ),
            (
                b"# TYPE h histogram\nh_bucket{le=\"inf\"} 1\n# EOF\n",
                2,
                at(b"h"),
            ),
            // UNIT on an info family.
            (b"# TYPE i_x info\n# UNIT i_x x\n# EOF\n", 3, at(b"#")),
            // Syntax strict mode shares with lenient.
            (b"a 1\n", 2, Eol),
            (b"a 1 NaN\n# EOF\n", 1, at(b"NaN")),
        ],
    );
    // Lenient mode lets a long exemplar, a gauge's exemplar and the trailing comma
    // through.
    for input in [
        exemplar_129,
        b"# TYPE g gauge\ng 1 # {a=\"b\"} 1\n# EOF\n",
        b"a{b=\"c\",} 1\n# EOF\n",
    ] {
        assert!(
            run(input, OM, LENIENT).iter().all(Result::is_ok),
            "{:?}",
            show(input)
        );
    }
}

// ---------------------------------------------------------------------------
// 5. Pieces: parsing a stream in pieces gives what parsing it whole gives.
// ---------------------------------------------------------------------------

/// Parses `input` in pieces cut at `cuts` (byte offsets, each just after a `\n`).
fn in_pieces(
    input: &[u8],
    cuts: &[usize],
    format: Format,
    mode: Mode,
) -> (Vec<Result<E, ParseError>>, usize) {
    let mut state = ParseState::new(format, mode);
    let mut out = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&input.len())) {
        let mut p = Parser::piece(&input[start..end], state);
        out.extend(p.by_ref().map(|r| r.map(|e| own(&e))));
        state = p.into_state();
        start = end;
    }
    if let Err(e) = state.finish() {
        out.push(Err(e));
    }
    (out, state.lines())
}

#[test]
fn pieces_match_the_whole() {
    let inputs: [&[u8]; 7] = [
        b"# HELP a x\n# TYPE a counter\na_total{b=\"1\"} 1 100\nbad{ 1\n\na_total{b=\"2\"} 2\n",
        b"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n\
          h_sum 3\n# EOF\n",
        b"# TYPE h histogram\nh_bucket{le=\"1\"} 1\n# TYPE g gauge\ng 1 # {a=\"b\"} 1\n# EOF",
        b"a 1\nb caf\xe9\nc 3\n# EOF\nd 4",
        b"# HELP f x\n# HELP f y\nf 1 \nf{a=\"\\z\"} 2\nf 3",
        b"a{x=\"1\"} 1\na{x=\"2\"} 1\na{x=\"1\"} 2\n",
        b"# TYPE s summary\ns{quantile=\"0.5\"} 1\n\ns_count 1\ns_sum 1\n# EOF\n",
    ];
    let mut failures = Vec::new();
    for input in inputs {
        let boundaries: Vec<usize> = input
            .iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\n' && i + 1 < input.len())
            .map(|(i, _)| i + 1)
            .collect();
        let mut splits: Vec<Vec<usize>> = vec![vec![], boundaries.clone()];
        splits.extend(boundaries.iter().map(|&b| vec![b]));
        for format in [TEXT, OM] {
            for mode in [LENIENT, STRICT] {
                let mut whole_parser = Parser::new(input, format, mode);
                let whole: Vec<_> = whole_parser.by_ref().map(|r| r.map(|e| own(&e))).collect();
                let whole_lines = whole_parser.into_state().lines();
                for cuts in &splits {
                    let (pieces, lines) = in_pieces(input, cuts, format, mode);
                    if pieces != whole || lines != whole_lines {
                        failures.push(format!(
                            "{format:?}/{mode:?} {:?} cut at {cuts:?}:\n   pieces {pieces:?} \
                             ({lines} lines)\n   whole  {whole:?} ({whole_lines} lines)",
                            show(input)
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------
// 6. Error positions and messages, and going on after an error.
// ---------------------------------------------------------------------------

fn first_error(input: &[u8], format: Format, mode: Mode) -> ParseError {
    Parser::new(input, format, mode)
        .find_map(Result::err)
        .unwrap_or_else(|| panic!("{:?} parses", show(input)))
}

#[test]
fn error_line_column_found_expected() {
    // The column counts characters: "é" is two bytes, one column.
    let e = first_error("a{b=\"é\"} zz\n".as_bytes(), TEXT, LENIENT);
    assert_eq!((e.line, e.column), (1, 10));
    assert_eq!(e.found, "\"zz\"");
    assert_eq!(e.expected, "a value");
    assert_eq!(
        e.to_string(),
        "line 1, column 10: found \"zz\", expected a value"
    );

    let e = first_error(b"ok 1\n\n# TYPE a gauges\n", TEXT, LENIENT);
    assert_eq!((e.line, e.column), (3, 10));
    assert_eq!(e.found, "\"gauges\"");
    assert!(e.expected.contains("counter") && e.expected.contains("untyped"));

    let e = first_error(b"a 1 1.5\n", TEXT, LENIENT);
    assert_eq!((e.line, e.column, e.found.as_str()), (1, 5, "\"1.5\""));
    assert_eq!(e.expected, "a timestamp (integer milliseconds)");

    let e = first_error(b"a 1e400\n", TEXT, LENIENT);
    assert_eq!((e.line, e.column), (1, 3));
    assert_eq!(e.expected, "a value within range");

    let e = first_error(b"a{b=\"c", TEXT, LENIENT);
    assert_eq!((e.line, e.column, e.found.as_str()), (1, 7, "end of line"));
    assert_eq!(e.expected, "a closing '\"'");

    let e = first_error(b"a{b=\"c\xff\"} 1\n", TEXT, LENIENT);
    assert_eq!((e.line, e.column), (1, 7));
    assert_eq!(
        (e.found.as_str(), &*e.expected),
        ("byte 0xff", "UTF-8 text")
    );

    let e = first_error(b"a{b=\"c\"} 1 2 3\n", TEXT, LENIENT);
    assert_eq!((e.line, e.column, e.found.as_str()), (1, 14, "\"3\""));
    assert_eq!(e.expected, "end of line");

    let e = first_error(b"a 1\n", OM, LENIENT);
    assert_eq!((e.line, e.column), (2, 1));
    assert_eq!(
        (e.found.as_str(), &*e.expected),
        ("end of input", "\"# EOF\"")
    );

    let e = first_error(b"# EOF\na 1\n", OM, LENIENT);
    assert_eq!((e.line, e.column), (2, 1));
    assert_eq!(e.expected, "nothing after \"# EOF\"");

    let e = first_error(b"a\t1\n# EOF\n", OM, LENIENT);
    assert_eq!((e.line, e.column, e.found.as_str()), (1, 2, "'\\t'"));

    // Rules across lines point at the start of the offending line.
    let e = first_error(b"# HELP f x\n# HELP f y\n", TEXT, STRICT);
    assert_eq!((e.line, e.column), (2, 1));
    assert_eq!(e.expected, "one HELP line per metric");
}

#[test]
fn parsing_goes_on_after_an_error() {
    let got = run(b"a 1\nb{ 2\nc 3\nd x\n# TYPE e bogus\ne 5\n", TEXT, LENIENT);
    let lines: Vec<Result<E, usize>> = got.into_iter().map(|r| r.map_err(|e| e.line)).collect();
    assert_eq!(
        lines,
        vec![
            Ok(s("a", &[], 1.0)),
            Err(2),
            Ok(s("c", &[], 3.0)),
            Err(4),
            Err(5),
            Ok(s("e", &[], 5.0)),
        ]
    );

    let got = run(b"a 1\nb  2\nc 3\n\n# EOF\nd 4\n", OM, LENIENT);
    let lines: Vec<Result<E, usize>> = got.into_iter().map(|r| r.map_err(|e| e.line)).collect();
    assert_eq!(
        lines,
        vec![
            Ok(s("a", &[], 1.0)),
            Err(2),
            Ok(s("c", &[], 3.0)),
            Err(4),
            Err(6),
        ]
    );

    let got = run(
        b"# HELP f x\n# HELP f y\nf 1 \nf 2\nf{a=\"\\z\"} 3\nf 4",
        TEXT,
        STRICT,
    );
    let lines: Vec<Result<E, usize>> = got.into_iter().map(|r| r.map_err(|e| e.line)).collect();
    assert_eq!(
        lines,
        vec![
            Ok(help("f", "x")),
            Err(2),
            Err(3),
            Ok(s("f", &[], 2.0)),
            Err(5),
            Err(6),
        ]
    );

    // A missing `# EOF` is reported after the errors of the lines.
    let got = run(b"a 1\nb 2 x\n", OM, STRICT);
    let lines: Vec<Result<E, usize>> = got.into_iter().map(|r| r.map_err(|e| e.line)).collect();
    assert_eq!(lines, vec![Ok(s("a", &[], 1.0)), Err(2), Err(3)]);
}

// ---------------------------------------------------------------------------
// 7. Content-Type → format (prometheus-parsers.md §0).
// ---------------------------------------------------------------------------

#[test]
fn format_from_content_type() {
    let cases: &[(&str, Option<Format>)] = &[
        (
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Some(OM),
        ),
        (
            "application/openmetrics-text; version=0.0.1; charset=utf-8",
            Some(OM),
        ),
        (
            "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8",
            Some(OM),
        ),
        ("application/openmetrics-text", Some(OM)),
        ("APPLICATION/OpenMetrics-Text; Version=1.0.0", Some(OM)),
        ("text/plain; version=0.0.4; charset=utf-8", Some(TEXT)),
        (
            "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
            Some(TEXT),
        ),
        ("text/plain;version=0.0.4", Some(TEXT)),
        ("text/plain", Some(TEXT)),
        ("Text/Plain; charset=UTF-8", Some(TEXT)),
        (" text/plain ; version=0.0.4", Some(TEXT)),
        ("text/plain;", Some(TEXT)),
        // Protobuf is a format of its own, which this parser does not read.
        (
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; \
             encoding=delimited",
            None,
        ),
        // Blank, or another media type: the fallback protocol decides.
        ("", None),
        ("   ", None),
        ("application/json", None),
        ("text/html; charset=utf-8", None),
        ("text/plainx", None),
        ("text/plain foo", None),
        ("*/*", None),
    ];
    let mut failures = Vec::new();
    for &(header, want) in cases {
        let got = Format::from_content_type(header);
        if got != want {
            failures.push(format!("{header:?}: got {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// prometheus-parsers.md §0: a header Go's `mime.ParseMediaType` cannot parse, bad
/// parameters included, is not taken for its media type: Prometheus 3 falls back
/// to `fallback_scrape_protocol` or fails the scrape (`extractMediaType` in
/// model/textparse/interface.go; `ParseMediaType` returns
/// `ErrInvalidMediaParameter` for a parameter without `=`, and an error for a
/// repeated parameter with another value).
#[test]
fn format_from_unparsable_content_type() {
    let mut failures = Vec::new();
    for header in [
        "text/plain; version",
        "application/openmetrics-text; version=1.0.0; version=0.0.1",
    ] {
        let got = Format::from_content_type(header);
        if got.is_some() {
            failures.push(format!("{header:?}: got {got:?}, want None"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A label value holding many raw newlines is one record, parsed in one pass (it
/// used to be parsed again from its start for every line it took in).
#[test]
fn long_multiline_record_is_one_sample() {
    let input = format!("a{{b=\"{}\"}} 1\nc 2\n", "\n".repeat(100_000));
    let mut p = Parser::new(input.as_bytes(), TEXT, LENIENT);
    let entries: Vec<_> = p.by_ref().collect::<Result<_, _>>().expect("parses");
    assert_eq!(entries.len(), 2);
    let Entry::Sample(a) = &entries[0] else {
        panic!("{:?}", entries[0]);
    };
    assert_eq!(a.labels.get("b").map(|v| v.get().len()), Some(100_000));
    assert_eq!(p.into_state().lines(), 100_002);
}

/// Review findings, each against what Prometheus's lexer does.
#[test]
fn lenient_edges_as_prometheus() {
    // A quoted metric name needs its comma even where labels may do without.
    let err = Parser::new(b"{\"a\" b=\"c\"} 1\n", TEXT, LENIENT)
        .next()
        .expect("an item")
        .expect_err("an error");
    assert_eq!((err.line, err.column), (1, 6));
    // A backslash may not escape a newline (or NUL) in a label value.
    assert!(Parser::new(b"a{b=\"x\\\n\"} 1\n", TEXT, LENIENT).any(|e| e.is_err()));
    assert!(Parser::new(b"a{b=\"x\\\0\"} 1\n", TEXT, LENIENT).any(|e| e.is_err()));
    // No NUL in an exemplar label value, whatever the form of its name.
    let om = b"c_total 1 # {\"a\"=\"x\0\"} 1\n# EOF\n";
    assert!(Parser::new(om, OM, LENIENT).any(|e| e.is_err()));
    // A unit may be all of the name but its `_`.
    let om = b"# UNIT _seconds seconds\n# EOF\n";
    assert!(Parser::new(om, OM, LENIENT).all(|e| e.is_ok()));
}

/// The exemplar's labels are a label set like any other: no name twice.
#[test]
fn strict_openmetrics_exemplar_labels_distinct() {
    let om = b"# TYPE c counter\nc_total 1 # {a=\"1\",a=\"2\"} 1\n# EOF\n";
    assert!(Parser::new(om, OM, LENIENT).all(|e| e.is_ok()));
    let err = Parser::new(om, OM, STRICT)
        .find_map(Result::err)
        .expect("an error");
    assert_eq!(err.line, 2);
}
