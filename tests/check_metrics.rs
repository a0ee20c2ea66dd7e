//! `tidemark check metrics` as a user runs it: exposition on stdin, problems on
//! stderr, the exit status saying what was found (0 clean, 1 lint problems only,
//! 2 a parse error). Where `promtool` is installed (always in CI), its lint output
//! on the same input is the reference.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::promtool;

fn run(program: &str, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {program}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    // Write from a thread: the child may answer before reading everything.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    out
}

fn check(args: &[&str], input: &str) -> (i32, String) {
    let mut all = vec!["check", "metrics"];
    all.extend_from_slice(args);
    let out = run(env!("CARGO_BIN_EXE_tidemark"), &all, input.as_bytes());
    assert!(out.stdout.is_empty(), "nothing on stdout");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    )
}

#[test]
fn clean_input_exits_0_silently() {
    let input = "# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} 3\n";
    assert_eq!(check(&[], input), (0, String::new()));
    assert_eq!(check(&[], ""), (0, String::new()));
}

#[test]
fn lint_problems_exit_1_one_per_line() {
    let input = "# TYPE requests counter\nrequests 1\nlatency_milliseconds 2\n";
    let (code, err) = check(&[], input);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "latency_milliseconds no help text\n\
         latency_milliseconds use base unit \"seconds\" instead of \"milliseconds\"\n\
         requests counter metrics should have \"_total\" suffix\n\
         requests no help text\n"
    );
}

#[test]
fn parse_errors_exit_2_with_line_and_column() {
    let input = "# HELP a x\na 1\na{b=\"c\" 2\nb 1 2 3\n";
    let (code, err) = check(&[], input);
    assert_eq!(code, 2);
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("parse error"))
        .collect();
    assert_eq!(
        errors,
        [
            "parse error: line 3, column 9: found \"2\", expected a label name or '}'",
            "parse error: line 4, column 7: found \"3\", expected end of line",
        ]
    );
}

#[test]
fn openmetrics_strict_and_lenient() {
    // Valid OpenMetrics.
    let good = "# TYPE a counter\n# HELP a help\na_total 1 # {trace_id=\"x\"} 1\n# EOF\n";
    assert_eq!(check(&["--format", "openmetrics", "--strict"], good).0, 0);
    // A negative counter: only the specification's rules refuse it.
    let bad = "# TYPE a counter\n# HELP a help\na_total -1\n# EOF\n";
    assert_eq!(check(&["--format", "openmetrics"], bad).0, 0);
    let (code, err) = check(&["--format", "openmetrics", "--strict"], bad);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("parse error: line 3, column 9: found -1"),
        "{err}"
    );
    // No `# EOF`.
    let (code, err) = check(&["--format", "openmetrics"], "a 1\n");
    assert_eq!(code, 2);
    assert!(
        err.contains("line 2, column 1: found end of input, expected \"# EOF\""),
        "{err}"
    );
}

/// Longer than the piece the command reads at a time, with a line split across
/// pieces: line numbers and lint counts must come out as for a short input.
#[test]
fn input_is_streamed_in_pieces() {
    let mut input = String::from("# HELP big_seconds x\n# TYPE big_seconds gauge\n");
    for i in 0..60_000 {
        input.push_str(&format!(
            "big_seconds{{instance=\"host-{i:06}\",le=\"{i}\"}} {i}.5\n"
        ));
    }
    input.push_str("broken{\n");
    let (code, err) = check(&[], &input);
    assert_eq!(code, 2);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0],
        "parse error: line 60003, column 8: found end of line, expected a label name or '}'"
    );
    let le = lines
        .iter()
        .filter(|l| **l == "big_seconds non-histogram metrics should not have \"le\" label")
        .count();
    assert_eq!(le, 60_000);
}

/// A label value holding a raw newline (Prometheus's text lexer allows it) whose
/// newline is the last one of the first piece the command reads (1 MiB): the
/// record must be parsed whole, with the next piece.
#[test]
fn record_split_across_pieces() {
    const PIECE: usize = 1 << 20;
    let mut input = String::from("#xxxxxx\n"); // 8 bytes: aligns what follows
    for i in 0..65_535 {
        input.push_str(&format!("m{{i=\"{i:06}\"}} 1\n")); // 16 bytes each
    }
    assert_eq!(input.len(), PIECE - 8);
    input.push_str("x{v=\"ab\nc\"} 1\ny 2\n");
    assert_eq!(input.as_bytes()[PIECE - 1], b'\n');
    let (code, err) = check(&[], &input);
    assert!(!err.contains("parse error"), "{err}");
    assert_eq!(code, 1);
    let (code, err) = check(&[], &format!("{input}z{{v=\"\n"));
    assert_eq!(code, 2);
    assert!(
        err.starts_with(
            "parse error: line 65540, column 6: found end of line, expected a closing '\"'"
        ),
        "{err}"
    );
}

/// On a real node-exporter body, both tools report the same problems, line for
/// line (promtool exits 3 where we exit 1).
#[test]
fn same_lint_output_as_promtool() {
    let Some(promtool) = promtool() else {
        return;
    };
    let body = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/exposition/node-exporter-1.5.0.prom"),
    )
    .expect("testdata");
    let theirs = run(promtool, &["check", "metrics"], &body);
    let ours = run(env!("CARGO_BIN_EXE_tidemark"), &["check", "metrics"], &body);
    assert_eq!(theirs.status.code(), Some(3));
    assert_eq!(ours.status.code(), Some(1));
    let theirs = String::from_utf8(theirs.stderr).expect("UTF-8");
    let ours = String::from_utf8(ours.stderr).expect("UTF-8");
    assert!(theirs.lines().count() > 10, "{theirs}");
    assert_eq!(ours, theirs);
}
