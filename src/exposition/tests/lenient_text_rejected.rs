//! Lenient text format 0.0.4: rejected inputs, and edges checked against
//! Prometheus's lexer.

use super::*;

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
