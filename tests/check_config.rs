//! `tidemark check config` end to end: exit status and output, and the same
//! verdict as `promtool check config` on each file (where promtool is installed;
//! always in CI).

mod common;

use std::path::Path;
use std::process::Command;

use common::promtool;

fn check(program: &str, files: &[&Path]) -> (i32, String, String) {
    let mut cmd = Command::new(program);
    cmd.args(["check", "config"]);
    cmd.args(files);
    let out = cmd.output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tidemark() -> &'static str {
    env!("CARGO_BIN_EXE_tidemark")
}

const VALID: &str = "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['localhost:9100']\n";

/// Each bad file, and the line:column and key its error must name.
const INVALID: &[(&str, &str)] = &[
    ("global:\n  scrape_intervl: 5s\n", ":2:3:"),
    (
        "scrape_configs:\n  - job_name: a\n    scrape_timeout: 5m\n    scrape_interval: 1m\n",
        "scrape_timeout",
    ),
    (
        "scrape_configs:\n  - job_name: a\n  - job_name: a\n",
        "job_name",
    ),
    ("global:\n  scrape_interval: m5\n", "scrape_interval"),
    (
        "scrape_configs:\n  - job_name: a\n    bearer_token: t\n    bearer_token_file: f\n",
        "at most one of bearer_token & bearer_token_file must be configured",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    basic_auth: {username: u}\n    authorization: {credentials: t}\n",
        "at most one of basic_auth, oauth2 & authorization must be configured",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    authorization: {type: Basic}\n",
        "use \"basic_auth\" instead",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    tls_config: {cert_file: c.pem}\n",
        "scrape_configs[0].tls_config: exactly one of key",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    body_size_limit: 10 MB\n",
        "body_size_limit",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: [targets.txt]\n",
        "is not valid for file discovery",
    ),
];

/// Valid files that use the HTTP client keys and limits; none names a file that
/// must exist (promtool checks that).
const VALID_HTTP: &str = "scrape_configs:\n  - job_name: a\n    basic_auth: {username: u, password: p}\n    tls_config: {insecure_skip_verify: true, server_name: x}\n    follow_redirects: false\n    enable_http2: false\n    body_size_limit: 10MB\n    label_limit: 30\n    label_name_length_limit: 100\n    label_value_length_limit: 200\n  - job_name: b\n    bearer_token: t\n";

#[test]
fn valid_and_invalid_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yml");
    std::fs::write(&good, VALID).unwrap();
    let (code, out, err) = check(tidemark(), &[&good]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!(
        " SUCCESS: {} is valid prometheus config file syntax",
        good.display()
    )));
    for (i, (text, names)) in INVALID.iter().enumerate() {
        let bad = dir.path().join(format!("bad{i}.yml"));
        std::fs::write(&bad, text).unwrap();
        let (code, out, err) = check(tidemark(), &[&good, &bad]);
        assert_eq!(code, 1, "{text}");
        assert!(out.contains(&format!("Checking {}", bad.display())));
        assert!(err.contains("FAILED"), "{err}");
        assert!(err.contains(names), "{names} in {err}");
    }
    let (code, _, err) = check(tidemark(), &[&dir.path().join("missing.yml")]);
    assert_eq!(code, 1);
    assert!(err.contains("missing.yml"), "{err}");
}

#[test]
fn same_verdicts_as_promtool() {
    let Some(promtool) = promtool() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.yaml");
    let mut files = vec![example];
    for (i, text) in [VALID, VALID_HTTP]
        .into_iter()
        .chain(INVALID.iter().map(|(t, _)| *t))
        .enumerate()
    {
        let f = dir.path().join(format!("c{i}.yml"));
        std::fs::write(&f, text).unwrap();
        files.push(f);
    }
    for f in &files {
        let ours = check(tidemark(), &[f]).0;
        let theirs = check(promtool, &[f]).0;
        assert_eq!(ours, theirs, "{}", std::fs::read_to_string(f).unwrap());
    }
}
