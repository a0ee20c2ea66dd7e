//! Lenient OpenMetrics (Prometheus's OpenMetricsParser).

use super::*;

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
