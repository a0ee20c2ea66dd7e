//! The promqltest runner: PromQL behaviour written in Prometheus's test-script
//! language (`load`, `clear`, `eval instant`, `eval range`, `expect …`), run
//! against an evaluator and judged case by case.
//!
//! It runs our scripts in `tests/promql/*.test` and, when the folder exists, every
//! script in `../shared/conformance/promqltest/` (Prometheus's own; without it the
//! test prints a notice and skips them, unless `TIDEMARK_REQUIRE_EXTERNAL=1`). It
//! prints `N passed, N failed` per file and in total.
//!
//! **A case** is one `eval` command with all the queries the runner derives from
//! it (the `@`-pinned repetitions and the one-step range query of an instant eval,
//! as Prometheus's test.go does; see `promqltest/run.rs`). It passes only if every
//! one of them passes. A command that cannot be parsed, and a `load` the storage
//! refuses, count as failed cases at their line. Cases that need native histograms
//! (expected `{{…}}` values, or data loaded with histograms, `load_with_nhcb` or
//! `@st`) fail as unsupported in this build.
//!
//! Cases that do not pass yet are listed in `tests/promql/expected_failures.txt`,
//! one `file:line` a line (`conformance/functions.test:123`, `promql/dsl.test:5`;
//! `#` starts a comment). The test fails when a case outside the list fails, and
//! when a listed case passes (or no longer exists): the list only shrinks.
//! `PROMQLTEST_WRITE_EXPECTED=1 cargo test --test promqltest` rewrites the list
//! from the current failures; `PROMQLTEST_SHOW_FAILURES=1 cargo test --test
//! promqltest -- --nocapture` prints every failing case with its reason.
//!
//! The scripts run against `tidemark::promql::Engine` through
//! `promqltest/engine_adapter.rs`. The small reference evaluator in
//! `promqltest/reference.rs` (literals and plain selectors only) checks the runner
//! itself, independently of the engine.

#[path = "promqltest/engine_adapter.rs"]
mod engine_adapter;
#[path = "promqltest/labels.rs"]
mod labels;
#[path = "promqltest/query.rs"]
mod query;
#[path = "promqltest/reference.rs"]
mod reference;
#[path = "promqltest/run.rs"]
mod run;
#[path = "promqltest/script.rs"]
mod script;
#[path = "promqltest/series.rs"]
mod series;
#[path = "promqltest/storage.rs"]
mod storage;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use run::{CaseResult, Evaluator};

/// The evaluator the scripts run against: the engine.
fn evaluator_under_test() -> Box<dyn Evaluator> {
    Box::new(engine_adapter::EngineEvaluator::new())
}

const EXPECTED_FAILURES: &str = "tests/promql/expected_failures.txt";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn conformance_dir() -> PathBuf {
    manifest_dir().join("../shared/conformance/promqltest")
}

/// `.test` files of `dir`, sorted, named `<prefix>/<file name>`.
fn scripts_in(dir: &Path, prefix: &str) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "test"))
                .filter_map(|p| {
                    let name = p.file_name()?.to_str()?.to_owned();
                    Some((format!("{prefix}/{name}"), p))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// All scripts to run, and whether the conformance folder was there.
fn all_scripts() -> (Vec<(String, PathBuf)>, bool) {
    let mut files = scripts_in(&manifest_dir().join("tests/promql"), "promql");
    let conf = conformance_dir();
    let have_conformance = conf.is_dir();
    if have_conformance {
        files.extend(scripts_in(&conf, "conformance"));
    } else {
        assert!(
            std::env::var("TIDEMARK_REQUIRE_EXTERNAL").as_deref() != Ok("1"),
            "{} is missing and TIDEMARK_REQUIRE_EXTERNAL=1",
            conf.display()
        );
        println!(
            "notice: {} not found; running only tests/promql/*.test",
            conf.display()
        );
    }
    (files, have_conformance)
}

fn run_file(path: &Path, ev: &mut dyn Evaluator) -> Vec<CaseResult> {
    match std::fs::read_to_string(path) {
        Ok(text) => run::run_script(&text, ev),
        Err(e) => vec![CaseResult {
            line: 0,
            what: path.display().to_string(),
            result: Err(format!("cannot read the script: {e}")),
        }],
    }
}

/// `file:line` keys from the expected-failures file.
fn read_expected(path: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_owned())
        .collect()
}

fn one_line(s: &str) -> String {
    let s: String = s.chars().map(|c| if c == '\n' { ' ' } else { c }).collect();
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s
    }
}

#[test]
fn promqltest_scripts() {
    let (files, have_conformance) = all_scripts();
    let mut ev = evaluator_under_test();
    let mut failures: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut passing: BTreeSet<String> = BTreeSet::new();
    let (mut total_pass, mut total_fail) = (0, 0);
    for (name, path) in &files {
        let results = run_file(path, ev.as_mut());
        let (mut pass, mut fail) = (0, 0);
        for r in results {
            let key = format!("{name}:{}", r.line);
            match r.result {
                Ok(()) => {
                    pass += 1;
                    passing.insert(key);
                }
                Err(reason) => {
                    fail += 1;
                    failures.insert(key, (r.what, reason));
                }
            }
        }
        println!("{name}: {pass} passed, {fail} failed");
        total_pass += pass;
        total_fail += fail;
    }
    println!("total: {total_pass} passed, {total_fail} failed");

    let expected_path = manifest_dir().join(EXPECTED_FAILURES);
    if std::env::var("PROMQLTEST_WRITE_EXPECTED").as_deref() == Ok("1") {
        let mut out = String::from(
            "# Cases of the promqltest runner (tests/promqltest.rs) that do not pass yet,\n\
             # one `file:line` a line; the text after `#` is the query, for reading only.\n\
             # Regenerate with PROMQLTEST_WRITE_EXPECTED=1 cargo test --test promqltest\n",
        );
        let mut keys: Vec<&String> = failures.keys().collect();
        keys.sort_by_key(|k| {
            let (f, l) = k.rsplit_once(':').unwrap_or((k, "0"));
            (f.to_owned(), l.parse::<usize>().unwrap_or(0))
        });
        for k in keys {
            let _ = writeln!(out, "{k}  # {}", one_line(&failures[k].0));
        }
        std::fs::write(&expected_path, out).expect("write the expected-failures file");
        println!("wrote {}", expected_path.display());
        return;
    }

    if std::env::var("PROMQLTEST_SHOW_FAILURES").as_deref() == Ok("1") {
        for (k, (what, reason)) in &failures {
            println!("FAILED {k}: {}\n    {}", one_line(what), one_line(reason));
        }
    }
    let listed = read_expected(&expected_path);
    let mut report = String::new();
    let unexpected: Vec<_> = failures
        .iter()
        .filter(|(k, _)| !listed.contains(*k))
        .collect();
    if !unexpected.is_empty() {
        let _ = writeln!(report, "{} unexpected failures:", unexpected.len());
        for (k, (what, reason)) in &unexpected {
            let _ = writeln!(
                report,
                "  {k}: {}\n      {}",
                one_line(what),
                one_line(reason)
            );
        }
    }
    let fixed: Vec<_> = listed
        .iter()
        .filter(|k| !failures.contains_key(*k))
        .filter(|k| have_conformance || !k.starts_with("conformance/"))
        .collect();
    if !fixed.is_empty() {
        let _ = writeln!(
            report,
            "{} listed cases no longer fail (take them out of {EXPECTED_FAILURES}):",
            fixed.len()
        );
        for k in &fixed {
            let state = if passing.contains(*k) {
                "passes"
            } else {
                "is not a case"
            };
            let _ = writeln!(report, "  {k} {state}");
        }
    }
    assert!(report.is_empty(), "{report}");
}

/// Every conformance script is read without a command the parser cannot handle,
/// and every query can be pinned with `@` for the extra check.
#[test]
fn conformance_scripts_parse() {
    let dir = conformance_dir();
    let files = scripts_in(&dir, "conformance");
    if files.is_empty() {
        println!("notice: {} not found; skipped", dir.display());
        return;
    }
    let mut broken = Vec::new();
    let mut evals = 0;
    for (name, path) in &files {
        let text = std::fs::read_to_string(path).expect("read script");
        for c in script::parse(&text) {
            match c.command {
                script::Command::Broken { reason, .. } => {
                    broken.push(format!("{name}:{}: {reason}", c.line));
                }
                script::Command::Eval(e) => {
                    evals += 1;
                    if let Err(msg) = query::pin_at(&e.expr, 60_000) {
                        broken.push(format!("{name}:{}: cannot pin {:?}: {msg}", c.line, e.expr));
                    }
                    if std::env::var("PROMQLTEST_SHOW_PINNED").as_deref() == Ok("1") {
                        println!("{name}:{}: {:?}", c.line, query::pin_at(&e.expr, 60_000));
                    }
                }
                _ => {}
            }
        }
    }
    assert!(
        broken.is_empty(),
        "unparsed commands:\n{}",
        broken.join("\n")
    );
    assert!(evals > 2000, "only {evals} evals found");
}

/// The reference evaluator passes the plain-selector cases of selectors.test and
/// staleness.test: the runner, its loader and its checks agree with Prometheus's
/// expectations where the evaluator is complete.
#[test]
fn reference_passes_plain_selector_cases() {
    let dir = conformance_dir();
    let mut checked = 0;
    for file in ["selectors.test", "staleness.test"] {
        let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
            println!("notice: {file} not found; skipped");
            return;
        };
        let mut ev = reference::Reference::new();
        let results = run::run_script(&text, &mut ev);
        for r in results {
            let plain = reference::supports(&r.what);
            if plain {
                checked += 1;
                assert!(
                    r.result.is_ok(),
                    "{file}:{} {}: {:?}",
                    r.line,
                    r.what,
                    r.result
                );
            } else {
                assert!(r.result.is_err(), "{file}:{} {} passed", r.line, r.what);
            }
        }
    }
    assert!(checked >= 15, "only {checked} plain-selector cases");
}

/// Wrong expectations are caught: the runner is not a rubber stamp. Each eval is
/// preceded by a comment saying whether it must pass.
#[test]
fn runner_catches_wrong_expectations() {
    let script = r#"
load 1m
  m{a="1"} 1 2 3
  m{a="2"} 5 _ _ stale

# pass
eval instant at 2m m
  m{a="1"} 3
  m{a="2"} 5

# fail: a series is missing from the expectation
eval instant at 2m m
  m{a="1"} 3

# fail: an expected series is missing from the result
eval instant at 2m m
  m{a="1"} 3
  m{a="2"} 5
  m{a="3"} 5

# fail: wrong value
eval instant at 2m m
  m{a="1"} 3.1
  m{a="2"} 5

# pass: within the relative tolerance of 1e-6
eval instant at 2m m
  m{a="1"} 3.000001
  {__name__="m", a="2"} 5

# pass: the stale marker ends m{a="2"}
eval instant at 3m m
  m{a="1"} 3

# fail: wrong missing point
eval range from 0 to 3m step 1m m
  m{a="1"} 1 2 3 3
  m{a="2"} 5 5 _ _

# pass
eval range from 0 to 3m step 1m m
  m{a="1"} 1 2 3 3
  m{a="2"} 5 5 5 _

# pass: lookback ends after 5m
eval range from 5m to 8m step 1m m
  m{a="1"} 3 3 _ _

# fail: the query succeeds
eval instant at 0 m
  expect fail

# pass
eval instant at 0 nosuchfunction(m)
  expect fail

# fail: wrong error message
eval instant at 0 nosuchfunction(m)
  expect fail msg: something else

# fail: an error without expect fail
eval instant at 0 nosuchfunction(m)

# pass
eval instant at 0 42
  42

# fail: a scalar is not a vector
eval instant at 0 42
  {} 42

# pass
eval range from 0 to 2m step 1m -1.5
  {} -1.5 -1.5 -1.5

# pass
eval instant at 0 "hello"
  expect string "hello"

# fail
eval instant at 0 "hello"
  expect string "bye"

# fail: no warning
eval instant at 0 m
  expect warn

# pass: no warning
eval instant at 0 m
  expect no_warn
  m{a="1"} 1
  m{a="2"} 5

# fail: not a command
evaluate this

# fail: native histograms are not supported
eval instant at 0 m
  m{a="1"} {{schema:0 sum:1 count:1}}
"#;
    let lines: Vec<&str> = script.lines().collect();
    let mut ev = reference::Reference::new();
    let results = run::run_script(script, &mut ev);
    assert_eq!(results.len(), 22);
    for r in results {
        let note = lines[r.line - 2];
        let want_pass = note.starts_with("# pass");
        assert!(note.starts_with('#'), "line {}: no note", r.line);
        assert_eq!(
            r.result.is_ok(),
            want_pass,
            "line {} ({note}): {:?}",
            r.line,
            r.result
        );
    }
}
