//! Content-Type → format (prometheus-parsers.md §0).

use super::*;

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
