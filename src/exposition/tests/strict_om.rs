//! Strict OpenMetrics, beyond the conformance suite.

use super::*;

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
