//! Lenient text format 0.0.4 (Prometheus's PromParser): accepted forms.

use super::*;

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
