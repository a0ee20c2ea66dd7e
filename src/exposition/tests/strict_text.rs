//! Strict text (promtool-check-metrics.md §3: the exposition library's
//! TextParser), and what lenient text accepts that strict text refuses.

use super::*;

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
