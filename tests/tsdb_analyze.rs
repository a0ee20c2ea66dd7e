//! `tidemark tsdb analyze` on an imported data directory: the newest block by
//! default, every block with `--all`, a damaged block reported and skipped.

use std::fmt::Write as _;
use std::fs;
use std::process::{Command, Output};

use tidemark::import::{ImportOptions, import_openmetrics};

fn analyze(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .args(["tsdb", "analyze"])
        .args(args)
        .output()
        .expect("run tidemark")
}

/// Three 2h windows of 4 series of two metrics.
fn data_dir(tmp: &std::path::Path) -> std::path::PathBuf {
    let mut text = String::from("# TYPE up gauge\n");
    let t0: i64 = 1_767_225_600;
    for (name, jobs) in [("up", &["a", "b", "c"][..]), ("errors_total", &["a"][..])] {
        for job in jobs {
            for k in 0..(3 * 7200 / 60) {
                writeln!(text, "{name}{{job=\"{job}\"}} {k} {}", t0 + k * 60).unwrap();
            }
        }
    }
    text.push_str("# EOF\n");
    let file = tmp.join("in.om");
    fs::write(&file, text).unwrap();
    let data = tmp.join("data");
    let report = import_openmetrics(&file, &data, &ImportOptions::default(), &mut ()).unwrap();
    assert_eq!(report.blocks.len(), 3);
    data
}

#[test]
fn newest_block_by_default_all_with_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(tmp.path());
    let out = analyze(&[data.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("Block ID:").count(), 1);
    assert!(
        stdout.contains("2026-01-01T04:00:00.000Z to 2026-01-01T06:00:00.000Z"),
        "{stdout}"
    );
    for line in [
        "Total Series: 4",
        "Total Samples: 480",
        "Duration: 2h",
        "\nHighest cardinality metric names:\n3 up\n1 errors_total\n",
        "\nHighest cardinality labels:\n3 job\n2 __name__\n",
        "\nMost common label pairs:\n3 __name__=up\n2 job=a\n",
    ] {
        assert!(stdout.contains(line), "{line:?} in\n{stdout}");
    }
    // The per-encoding rows account for every sample.
    let per_encoding: u64 = stdout
        .lines()
        .filter(|l| l.starts_with("xor ") || l.starts_with("delta "))
        .map(|l| l.split_whitespace().nth(2).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(per_encoding, 480, "{stdout}");

    let out = analyze(&[data.to_str().unwrap(), "--all", "--limit", "1"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert_eq!(stdout.matches("Block ID:").count(), 3);
    assert!(
        stdout.contains("\nHighest cardinality metric names:\n3 up\n\n"),
        "{stdout}"
    );
}

#[test]
fn damaged_block_is_reported_and_the_others_analyzed() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data_dir(tmp.path());
    let mut dirs: Vec<_> = fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    let victim = &dirs[1];
    fs::write(victim.join("index"), b"not an index").unwrap();
    let out = analyze(&[data.to_str().unwrap(), "--all"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stdout.matches("Block ID:").count(), 2, "{stdout}");
    assert!(
        stderr.contains(&*victim.to_string_lossy()) && stderr.contains("index"),
        "{stderr}"
    );

    let id = victim.file_name().unwrap().to_str().unwrap();
    let out = analyze(&[data.to_str().unwrap(), "--block", id]);
    assert!(!out.status.success());
    let out = analyze(&[
        data.to_str().unwrap(),
        "--block",
        "01ARYZ6S41TSV4RRFFQ69G5FAV",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no block"));
}
