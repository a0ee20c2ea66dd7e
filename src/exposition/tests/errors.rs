//! Error positions and messages, and going on after an error.

use super::*;

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
