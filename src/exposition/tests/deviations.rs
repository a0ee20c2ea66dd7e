//! Lenient text: our documented deviations from Prometheus, made visible.

use super::*;

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
