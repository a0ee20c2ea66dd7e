//! Replays the committed fuzz seeds (`fuzz/seeds/<target>/`), and a local fuzz corpus
//! and crash artifacts when present (`fuzz/corpus/<target>/`, `fuzz/artifacts/<target>/`),
//! through the same checks the cargo-fuzz targets run, on stable Rust, in every
//! `cargo test`. The checks are `fuzz/src/checks.rs`, included here as a module.
//!
//! `cargo test --test fuzz_corpus -- --nocapture` shows how many inputs each target
//! replayed. The seeds are regenerated with
//! `cargo test --test fuzz_corpus -- --ignored regenerate_fuzz_seeds` (see
//! docs/fuzzing.md); files named `regression-*` are kept.

#[path = "../fuzz/src/checks.rs"]
mod checks;

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use tidemark::model::Labels;
use tidemark::tsdb::chunk::XorAppender;
use tidemark::tsdb::fs::{RealFs, real};
use tidemark::tsdb::wal::{RefSample, SyncPolicy, Wal, WalOptions, encode_samples, encode_series};
use tidemark::tsdb::{Db, Options, SeriesRef};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The regular files in `dir`, sorted; none if it does not exist.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.expect("read dir entry").path())
        .filter(|p| p.is_file())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    out.sort();
    out
}

fn check_of(target: &str) -> checks::Check {
    checks::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("no fuzz check named {target}"))
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        "non-string panic payload".to_owned()
    }
}

fn replay_target(target: &str) {
    let check = check_of(target);
    let root = fuzz_dir();
    let seeds_dir = root.join("seeds").join(target);
    let seeds = files_in(&seeds_dir);
    assert!(
        !seeds.is_empty(),
        "no fuzz seeds in {}: the corpus test would test nothing (regenerate them, see \
         docs/fuzzing.md)",
        seeds_dir.display()
    );
    let corpus = files_in(&root.join("corpus").join(target));
    let artifacts = files_in(&root.join("artifacts").join(target));

    let mut failures = Vec::new();
    for path in seeds.iter().chain(&corpus).chain(&artifacts) {
        let data = fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
            failures.push(format!("{}: {}", path.display(), panic_message(&*p)));
        }
    }
    println!(
        "fuzz_corpus {target}: replayed {} inputs ({} seeds, {} corpus, {} artifacts)",
        seeds.len() + corpus.len() + artifacts.len(),
        seeds.len(),
        corpus.len(),
        artifacts.len()
    );
    assert!(
        failures.is_empty(),
        "{} of the {target} inputs fail their check:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn chunk_xor_inputs_pass() {
    replay_target("chunk_xor");
}

#[test]
fn wal_records_inputs_pass() {
    replay_target("wal_records");
}

#[test]
fn wal_replay_inputs_pass() {
    replay_target("wal_replay");
}

#[test]
fn db_wal_open_inputs_pass() {
    replay_target("db_wal_open");
}

#[test]
fn db_head_chunks_inputs_pass() {
    replay_target("db_head_chunks");
}

#[test]
fn exposition_inputs_pass() {
    replay_target("exposition");
    let Some(inputs) = conformance_inputs() else {
        return;
    };
    let check = check_of("exposition");
    let failures: Vec<String> = inputs
        .iter()
        .filter_map(|(name, data)| {
            catch_unwind(AssertUnwindSafe(|| check(data)))
                .err()
                .map(|p| format!("{name}: {}", panic_message(&*p)))
        })
        .collect();
    println!(
        "fuzz_corpus exposition: replayed {} conformance inputs",
        inputs.len()
    );
    assert!(
        failures.is_empty(),
        "{} of the conformance inputs fail the exposition check:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every fuzz target has a test above and a seeds directory, and every seeds
/// directory belongs to a target (a misspelt one would silently go unreplayed).
#[test]
fn seed_dirs_match_the_fuzz_targets() {
    let tested = [
        "chunk_xor",
        "wal_records",
        "wal_replay",
        "db_wal_open",
        "db_head_chunks",
        "exposition",
    ];
    let targets: Vec<&str> = checks::TARGETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(targets, tested, "a fuzz target without a replay test here");
    let seeds = fuzz_dir().join("seeds");
    let mut dirs: Vec<String> = fs::read_dir(&seeds)
        .unwrap_or_else(|e| panic!("{}: {e}", seeds.display()))
        .map(|e| e.expect("read dir entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut want: Vec<String> = targets.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(
        dirs, want,
        "fuzz/seeds/ must hold one directory per fuzz target"
    );
    // The fuzz crate declares the same targets.
    let manifest = fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for t in targets {
        assert!(
            manifest.contains(&format!("name = \"{t}\""))
                && fuzz_dir().join(format!("fuzz_targets/{t}.rs")).is_file(),
            "fuzz target {t} is not declared in fuzz/Cargo.toml with fuzz_targets/{t}.rs"
        );
    }
}

#[test]
fn segment_split_round_trips() {
    let parts: [&[u8]; 3] = [b"a", b"", b"ccc#SEG#d"];
    let joined = checks::join_segments(&parts);
    assert_eq!(checks::split_segments(&joined), parts);
    assert_eq!(checks::split_segments(b"no marker"), [b"no marker"]);
}

#[test]
fn fixing_crcs_leaves_valid_segments_alone_and_repairs_a_bad_one() {
    let seeds = fuzz_dir().join("seeds").join("wal_replay");
    for name in ["one-segment-closed", "multi-page-record", "two-segments"] {
        let data = fs::read(seeds.join(name)).expect("read seed");
        for seg in checks::split_segments(&data) {
            let mut fixed = seg.to_vec();
            assert!(!checks::fix_fragment_crcs(&mut fixed), "{name}");
            assert_eq!(fixed, seg, "{name}");
        }
    }
    let mut bad = fs::read(seeds.join("torn-crc")).expect("read seed");
    assert!(checks::fix_fragment_crcs(&mut bad));
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("00000000"), &bad).expect("write");
    let report = tidemark::tsdb::wal::replay(&RealFs, dir.path(), |_| Ok(())).expect("replay");
    assert_eq!((report.records, report.truncated), (3, None));
}

// ---------------------------------------------------------------------------------
// Seed generation
// ---------------------------------------------------------------------------------

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs.iter().copied()).expect("valid labels")
}

fn chunk(samples: impl IntoIterator<Item = (i64, f64)>) -> Vec<u8> {
    let mut app = XorAppender::new();
    for (t, v) in samples {
        app.append(t, v);
    }
    app.into_bytes()
}

const T0: i64 = 1_700_000_000_000;
const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

fn chunk_seeds() -> Vec<(&'static str, Vec<u8>)> {
    // A fixed seed, so that seeds are byte-identical on every regeneration.
    let mut rng = fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15);
    let scrape: Vec<(i64, f64)> = (0..120)
        .map(|i| (T0 + i * 15_000, (i * i % 7 + i * 3) as f64))
        .collect();
    let mut t = T0;
    let jitter: Vec<(i64, f64)> = (0..200)
        .map(|_| {
            t += 14_000 + rng.i64(0..2_000);
            (t, rng.u64(..10_000) as f64 / 7.0)
        })
        .collect();
    let specials = [
        f64::NAN,
        f64::from_bits(STALE_NAN),
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.0,
        f64::MIN_POSITIVE,
        f64::from_bits(1),
        f64::MAX,
        f64::MIN,
        1.0,
        1.0,
    ];
    let special: Vec<(i64, f64)> = specials
        .iter()
        .enumerate()
        .map(|(i, &v)| (T0 + i as i64 * 1_000, v))
        .collect();
    // Deltas that land in every delta-of-delta bucket (0, 14, 17, 20 and 64 bits),
    // negative ones and the extremes of i64.
    let deltas = [
        1i64,
        1,
        8_000,
        -8_000,
        65_000,
        -65_000,
        500_000,
        -500_000,
        1 << 40,
        -(1 << 41),
        7,
    ];
    let mut t = 0i64;
    let mut dod: Vec<(i64, f64)> = vec![(i64::MIN, 0.5), (i64::MAX, 0.25), (0, 0.125)];
    for (i, d) in deltas.iter().enumerate() {
        t = t.wrapping_add(*d);
        dod.push((t, i as f64));
    }
    let mut truncated = chunk(scrape.iter().copied());
    truncated.truncate(truncated.len() - 5);
    vec![
        ("empty", chunk([])),
        ("one-sample", chunk([(T0, 42.5)])),
        ("scrape-120", chunk(scrape.iter().copied())),
        ("jitter-200", chunk(jitter)),
        ("special-values", chunk(special)),
        ("dod-buckets", chunk(dod)),
        (
            "constant-300",
            chunk((0..300).map(|i| (T0 + i * 30_000, 1.0))),
        ),
        ("full-65535", chunk((0..65_535).map(|i| (T0 + i * 10, 3.0)))),
        ("truncated", truncated),
        ("header-claims-3", vec![0, 3]),
    ]
}

fn sample(r: u64, t: i64, v: f64) -> RefSample {
    RefSample {
        series_ref: SeriesRef(r),
        t,
        v,
    }
}

fn series_record(series: &[(u64, Labels)]) -> Vec<u8> {
    let refs: Vec<(SeriesRef, &Labels)> = series.iter().map(|(r, l)| (SeriesRef(*r), l)).collect();
    let mut buf = Vec::new();
    encode_series(&refs, &mut buf);
    buf
}

fn samples_record(samples: &[RefSample]) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_samples(samples, &mut buf);
    buf
}

fn some_series() -> Vec<(u64, Labels)> {
    vec![
        (
            1,
            labels(&[("__name__", "up"), ("job", "node"), ("instance", "a:9100")]),
        ),
        (
            2,
            labels(&[("__name__", "up"), ("job", "node"), ("instance", "b:9100")]),
        ),
        (
            3,
            labels(&[
                ("__name__", "http_requests_total"),
                ("code", "200"),
                ("ünïcode", "välue ✓"),
            ]),
        ),
    ]
}

fn some_samples(n: i64) -> Vec<RefSample> {
    (0..n)
        .flat_map(|i| (1..=3).map(move |r| sample(r, T0 + i * 15_000, (i * r as i64) as f64)))
        .collect()
}

fn record_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let long = "x".repeat(300);
    let many: Vec<(u64, Labels)> = (0..20)
        .map(|i| {
            let name = format!("metric_{i}");
            (
                1000 + i,
                labels(&[("__name__", &name), ("le", "+Inf"), ("long", &long)]),
            )
        })
        .collect();
    vec![
        ("empty", vec![]),
        ("unknown-type", vec![3, 0, 0, 0]),
        ("series-none", series_record(&[])),
        ("series-three", series_record(&some_series())),
        ("series-twenty-long", series_record(&many)),
        (
            "series-extreme-refs",
            series_record(&[
                (0, labels(&[("a", "1")])),
                (u64::MAX, labels(&[("b", "2")])),
            ]),
        ),
        ("samples-none", samples_record(&[])),
        ("samples-thirty", samples_record(&some_samples(10))),
        (
            "samples-extreme",
            samples_record(&[
                sample(u64::MAX, i64::MAX, f64::from_bits(STALE_NAN)),
                sample(0, i64::MIN, f64::NAN),
                sample(5, -1, -0.0),
                sample(4, 0, f64::INFINITY),
            ]),
        ),
    ]
}

fn wal_opts() -> WalOptions {
    WalOptions {
        segment_size: tidemark::tsdb::wal::DEFAULT_SEGMENT_SIZE,
        sync: SyncPolicy::OnSegmentClose,
    }
}

/// A WAL segment holding `records`: as a crash leaves it (`close == false`: only the
/// written part of the last page) or as `Wal::close` leaves it (padded to the page).
fn wal_segment(records: &[Vec<u8>], close: bool) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut wal = Wal::open(&real(), dir.path(), wal_opts()).expect("open wal");
    for rec in records {
        wal.log(&[rec]).expect("log");
    }
    let seg = wal.current_segment();
    if close {
        wal.close().expect("close wal");
    } else {
        drop(wal);
    }
    fs::read(dir.path().join(format!("{seg:08}"))).expect("read segment")
}

fn basic_records() -> Vec<Vec<u8>> {
    vec![
        series_record(&some_series()),
        samples_record(&some_samples(5)),
        samples_record(&some_samples(3)),
    ]
}

fn replay_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let crashed = wal_segment(&basic_records(), false);
    let mut cut = crashed.clone();
    cut.truncate(cut.len() - 11);
    let mut bad_crc = crashed.clone();
    let n = bad_crc.len();
    bad_crc[n - 3] ^= 0x40;
    // A record longer than a page: fragments first + last.
    let big = samples_record(
        &(0..3_000)
            .map(|i| sample(1, T0 + i * 15_000, i as f64 * 0.1))
            .collect::<Vec<_>>(),
    );
    let multi_page = wal_segment(&[series_record(&some_series()), big, vec![2]], false);
    let seg1 = wal_segment(&[samples_record(&some_samples(2))], false);
    vec![
        ("empty", vec![]),
        ("one-segment-crashed", crashed.clone()),
        ("one-segment-closed", wal_segment(&basic_records(), true)),
        ("torn-cut", cut),
        ("torn-crc", bad_crc.clone()),
        ("multi-page-record", multi_page),
        ("two-segments", checks::join_segments(&[&crashed, &seg1])),
        (
            "three-segments-torn-last",
            checks::join_segments(&[&crashed, &seg1, &bad_crc]),
        ),
        (
            "three-segments-corrupt-middle",
            checks::join_segments(&[&crashed, &bad_crc, &seg1]),
        ),
    ]
}

/// The WAL segment and the head chunk file a database leaves when it is dropped
/// without `close` (a crash) after `fill` wrote to it, or after `close` when `close`
/// is set.
fn db_files(fill: impl FnOnce(&Db), close: bool) -> (Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), Options::default()).expect("open db");
    fill(&db);
    if close {
        db.close().expect("close db");
    } else {
        drop(db);
    }
    let wal = fs::read(dir.path().join("wal").join("00000000")).expect("read segment");
    let chunks = fs::read(dir.path().join("chunks_head").join("000001")).expect("read chunks");
    (wal, chunks)
}

fn db_segment(fill: impl FnOnce(&Db), close: bool) -> Vec<u8> {
    db_files(fill, close).0
}

/// The length of `seg` without the zero padding after its last fragment (the form a
/// crash leaves instead of `close`), following docs/format/wal.md.
fn wal_data_len(seg: &[u8]) -> usize {
    const PAGE: usize = tidemark::tsdb::wal::PAGE_SIZE;
    let mut end = 0;
    for (p, page) in seg.chunks(PAGE).enumerate() {
        let mut pos = 0;
        while pos + 7 <= page.len() && page[pos] != 0 {
            pos += 7 + usize::from(u16::from_be_bytes([page[pos + 1], page[pos + 2]]));
            end = p * PAGE + pos;
        }
    }
    end
}

fn two_series_600_samples(db: &Db) {
    // 300 samples a series over a 2h boundary: chunks are cut and spilled.
    for round in 0..3 {
        let mut app = db.appender();
        for (_, ls) in some_series().iter().take(2) {
            for k in 0..100 {
                let i = round * 100 + k;
                app.append(ls, T0 + i * 60_000, i as f64 * 0.5)
                    .expect("append");
            }
        }
        app.commit().expect("commit");
    }
}

fn head_chunk_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let (wal, chunks) = db_files(two_series_600_samples, true);
    let wal = &wal[..wal_data_len(&wal)];
    let both = |w: &[u8], c: &[u8]| checks::join_segments(&[w, c]);
    let mut torn = chunks.clone();
    torn.truncate(chunks.len() - 10);
    let mut bad_crc = chunks.clone();
    let n = bad_crc.len();
    bad_crc[n - 1] ^= 1;
    let mut bad_data = chunks.clone();
    bad_data[8 + 29 + 3] ^= 0x10;
    checks::fix_head_chunk_crcs(&mut bad_data);
    let mut other_version = chunks.clone();
    other_version[4] = 2;
    vec![
        ("empty", vec![]),
        ("wal-and-chunks", both(wal, &chunks)),
        ("chunks-without-wal", chunks.clone()),
        ("wal-without-chunks", both(wal, &[])),
        ("chunks-torn", both(wal, &torn)),
        ("chunks-bad-crc", both(wal, &bad_crc)),
        ("chunks-bad-data-good-crc", both(wal, &bad_data)),
        ("chunks-other-version", both(wal, &other_version)),
    ]
}

fn db_small(db: &Db) {
    let mut app = db.appender();
    for (i, (_, ls)) in some_series().iter().enumerate() {
        for k in 0..10 {
            app.append(ls, T0 + k * 15_000, (i as i64 * k) as f64)
                .expect("append");
        }
    }
    app.append(
        &some_series()[0].1,
        T0 + 10 * 15_000,
        f64::from_bits(STALE_NAN),
    )
    .expect("append stale");
    app.commit().expect("commit");
}

fn db_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let small = db_segment(db_small, false);
    let mut torn = small.clone();
    torn.truncate(torn.len() - 3);
    let spilled = db_segment(two_series_600_samples, false);
    let s = some_series();
    let dup_labels = wal_segment(
        &[
            series_record(&s[..2]),
            // Same labels as ref 1 under another ref: replay aliases it.
            series_record(&[(70, s[0].1.clone())]),
            samples_record(&[
                sample(1, T0, 1.0),
                sample(70, T0 + 1_000, 2.0),
                sample(2, T0, 3.0),
                // Unknown ref, a repeat and an out-of-order sample.
                sample(99, T0, 4.0),
                sample(2, T0, 3.0),
                sample(2, T0 - 1_000, 5.0),
            ]),
        ],
        false,
    );
    let extreme = wal_segment(
        &[
            series_record(&s[..1]),
            samples_record(
                &[
                    i64::MIN,
                    i64::MIN + 1,
                    -7_200_001,
                    -1,
                    0,
                    7_199_999,
                    7_200_000,
                    i64::MAX - 1,
                    i64::MAX,
                ]
                .iter()
                .enumerate()
                .map(|(i, &t)| sample(1, t, if i % 2 == 0 { i as f64 } else { f64::NAN }))
                .collect::<Vec<_>>(),
            ),
        ],
        false,
    );
    let bad_record = wal_segment(&[series_record(&s), vec![9, 9, 9]], false);
    let empty_labels = wal_segment(&[series_record(&[(5, Labels::empty())])], false);
    vec![
        ("empty", vec![]),
        ("db-small", small),
        ("db-small-closed", db_segment(db_small, true)),
        ("db-torn", torn),
        ("db-spilled-chunks", spilled),
        ("duplicate-labels-unknown-refs", dup_labels),
        ("extreme-timestamps", extreme),
        ("undecodable-record", bad_record),
        ("series-without-labels", empty_labels),
    ]
}

/// The conformance data of the exposition seeds (`../shared/conformance`, beside the
/// crate), which tests/exposition_conformance.rs runs in full.
fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance")
}

/// Conformance files above this size are seeded with their first lines only, up to
/// [`SEED_HEAD`] bytes: the seeds stay small, and libFuzzer's default maximum input
/// length (4 KiB unless a seed is longer) stays where it is.
const SEED_MAX: usize = 8 * 1024;
const SEED_HEAD: usize = 4 * 1024;

/// The first whole lines of `data` within `max` bytes.
fn head_lines(data: &[u8], max: usize) -> &[u8] {
    let cut = data[..max]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    &data[..cut]
}

fn exposition_seeds() -> Vec<(String, Vec<u8>)> {
    let hand: &[(&str, &[u8])] = &[
        ("empty", b""),
        (
            "text-escapes",
            b"# HELP esc A \\\\ backslash, a \\n newline, an unknown \\z escape \\\n\
              # TYPE esc counter\n\
              esc{path=\"C:\\\\dir\\\\\",quote=\"say \\\"hi\\\"\",nl=\"a\\nb\",odd=\"\\z\"} 1 -5\n",
        ),
        (
            "text-quoted-names",
            "# HELP \"my.metric\" dotted \"name\"\n# TYPE \"my.metric\" gauge\n\
             {\"my.metric\",\"label.with dots\"=\"v\",ok=\"1\"} 2.5\n\
             {\"\u{fc}n\u{ef}code \\\" \\\\ \\n\",\"\"=\"\"} 3\n\
             x{\"__name__\"=\"y\"} 4\n"
                .as_bytes(),
        ),
        (
            "text-values",
            b"v NaN\nv nan\nv +Inf\nv -Inf\nv -Infinity -9223372036854775808\nv -0.0\n\
              v 5e-324\nv 1.7976931348623157e308\nv .5\nv 5.\nv 1E-2 9223372036854775807\n\
              v 0000000000000000000001\nv 1e400\nv 0x1p-3\nv +NaN\n",
        ),
        (
            "text-whitespace",
            b"  spaced\t{  a = \"1\" ,\tb=\"2\" ,  }   3   4  \n\t# a comment\n\n#\n# HELP\n\
              nocomma{a=\"1\" b=\"2\"} 1\ncrlf 1\r\n# TYPE t untyped\nt 1\n",
        ),
        (
            "text-errors",
            b"bad{a=\"1\" 1\n\xff\xfe\nok 1\n{a=\"1\"} 2\nx{a=\"unterminated} 3\n\
              # TYPE x nonsense\nx 1 1.5\nok\xc3\n",
        ),
        (
            "om-exemplar",
            b"# TYPE foo_seconds counter\n# HELP foo_seconds a \\\"counter\\\" \\n\n\
              # UNIT foo_seconds seconds\n\
              foo_seconds_total{a=\"b\"} 1 1.5 # {trace_id=\"abc\"} 1.0 1.25\n\
              foo_seconds_created{a=\"b\"} 1.5e9\n# EOF\n",
        ),
        (
            "om-after-eof",
            b"# TYPE g gauge\ng{a=\"1\",} 1\n# EOF\ng 2\n",
        ),
    ];
    hand.iter()
        .map(|(n, d)| (format!("hand-{n}"), d.to_vec()))
        .collect()
}

/// The inputs of the conformance data (`../shared/conformance`): every case of the
/// OpenMetrics suite and the text expositions of Prometheus's parser tests and of
/// expfmt. They are not copied into the project: `exposition_inputs_pass` reads them
/// where they are, and `regenerate_fuzz_seeds` puts them in the git-ignored local
/// corpus (`fuzz/corpus/exposition/`) for libFuzzer to start from. `None` when the
/// folder is missing (an error under `TIDEMARK_REQUIRE_EXTERNAL=1`).
fn conformance_inputs() -> Option<Vec<(String, Vec<u8>)>> {
    let root = conformance_dir();
    if !root.is_dir() {
        let required = std::env::var_os("TIDEMARK_REQUIRE_EXTERNAL").is_some_and(|v| v == "1");
        assert!(
            !required,
            "{} missing and TIDEMARK_REQUIRE_EXTERNAL=1",
            root.display()
        );
        eprintln!(
            "notice: {} not found; exposition conformance inputs not replayed",
            root.display()
        );
        return None;
    }
    let mut out = Vec::new();
    // Every case of the OpenMetrics suite (211 small files).
    let om = root.join("openmetrics");
    let mut cases: Vec<PathBuf> = fs::read_dir(&om)
        .unwrap_or_else(|e| panic!("{}: {e}", om.display()))
        .map(|e| e.expect("read dir entry").path())
        .filter(|p| p.join("metrics").is_file())
        .collect();
    cases.sort();
    for case in cases {
        let name = case.file_name().expect("case name").to_string_lossy();
        let data = fs::read(case.join("metrics")).expect("read case");
        out.push((format!("om-{name}"), data));
    }
    // The text expositions of Prometheus's parser tests and of expfmt (not its
    // protobuf, gzip and JSON files), long ones cut to their first lines.
    for (sub, prefix) in [
        ("prometheus-textparse", "textparse"),
        ("prometheus-common-expfmt", "expfmt"),
        ("prometheus-common-expfmt/fuzz-corpus", "expfmt-fuzz"),
    ] {
        for path in files_in(&root.join("exposition").join(sub)) {
            let name = path.file_name().expect("file name").to_string_lossy();
            if name.starts_with("protobuf") || name.starts_with("json2") || name.ends_with(".gz") {
                continue;
            }
            let data = fs::read(&path).expect("read exposition");
            if data.len() > SEED_MAX {
                let head = head_lines(&data, SEED_HEAD).to_vec();
                out.push((format!("{prefix}-{name}-head"), head));
            } else {
                out.push((format!("{prefix}-{name}"), data));
            }
        }
    }
    Some(out)
}

/// What the library makes of a seed, for the regeneration log (so that a seed meant
/// to reach an error or repair path visibly does).
fn outcome(target: &str, data: &[u8]) -> String {
    match target {
        "chunk_xor" => {
            let mut it = tidemark::tsdb::chunk::XorIter::new(data);
            let n = it.by_ref().count();
            format!("{n} samples, error {:?}", it.err())
        }
        "wal_records" => {
            let (mut series, mut samples) = (Vec::new(), Vec::new());
            let a = tidemark::tsdb::wal::decode_series(data, &mut series);
            let b = tidemark::tsdb::wal::decode_samples(data, &mut samples);
            format!(
                "series {:?}, samples {:?}",
                a.map(|()| series.len()),
                b.map(|()| samples.len())
            )
        }
        "wal_replay" => {
            let dir = tempfile::tempdir().expect("tempdir");
            for (i, seg) in checks::split_segments(data).iter().enumerate() {
                fs::write(dir.path().join(format!("{i:08}")), seg).expect("write");
            }
            match tidemark::tsdb::wal::replay(&RealFs, dir.path(), |_| Ok(())) {
                Ok(r) => format!(
                    "Ok: {} segments, {} records, torn {:?}",
                    r.segments, r.records, r.truncated
                ),
                Err(e) => format!("Err: {e}"),
            }
        }
        "db_wal_open" | "db_head_chunks" => {
            let dir = tempfile::tempdir().expect("tempdir");
            fs::create_dir(dir.path().join("wal")).expect("mkdir");
            if target == "db_head_chunks" {
                let (wal, chunks) = checks::split_wal_and_chunks(data);
                fs::write(dir.path().join("wal/00000000"), wal).expect("write");
                fs::create_dir(dir.path().join("chunks_head")).expect("mkdir");
                fs::write(dir.path().join("chunks_head/000001"), chunks).expect("write");
            } else {
                fs::write(dir.path().join("wal/00000000"), data).expect("write");
            }
            match Db::open(dir.path(), Options::default()) {
                Ok(db) => {
                    let r = db.open_report();
                    format!(
                        "Ok: {} series, {} samples, {} unknown refs, torn {:?}, \
                         {} chunks loaded, {} dropped, {} samples in chunks",
                        r.series,
                        r.samples,
                        r.unknown_refs,
                        r.wal.truncated,
                        r.chunks_loaded,
                        r.chunks_dropped,
                        r.samples_in_chunks
                    )
                }
                Err(e) => format!("Err: {e}"),
            }
        }
        "exposition" => {
            use tidemark::exposition::{Format, Mode, Parser};
            let mut parts = Vec::new();
            for (f, format) in [("text", Format::Text), ("om", Format::OpenMetrics)] {
                for (m, mode) in [("lenient", Mode::Lenient), ("strict", Mode::Strict)] {
                    let (mut ok, mut err) = (0, 0);
                    for r in Parser::new(data, format, mode) {
                        if r.is_ok() {
                            ok += 1;
                        } else {
                            err += 1;
                        }
                    }
                    parts.push(format!("{f} {m} {ok} ok/{err} err"));
                }
            }
            parts.join(", ")
        }
        _ => unreachable!("unknown target {target}"),
    }
}

/// Rewrites `fuzz/seeds/`: every file except `regression-*` is replaced by freshly
/// generated seeds.
#[test]
#[ignore = "regenerates fuzz seeds"]
fn regenerate_fuzz_seeds() {
    let named = |seeds: Vec<(&str, Vec<u8>)>| -> Vec<(String, Vec<u8>)> {
        seeds.into_iter().map(|(n, d)| (n.to_owned(), d)).collect()
    };
    let all = [
        ("chunk_xor", named(chunk_seeds())),
        ("wal_records", named(record_seeds())),
        ("wal_replay", named(replay_seeds())),
        ("db_wal_open", named(db_seeds())),
        ("db_head_chunks", named(head_chunk_seeds())),
        ("exposition", exposition_seeds()),
    ];
    // Every seed is checked before any file is touched: a seed that fails its check
    // leaves fuzz/seeds/ as it was.
    let mut total = 0;
    for (target, seeds) in &all {
        let check = check_of(target);
        for (name, data) in seeds {
            check(data);
            println!(
                "{target}/{name}: {} bytes, {}",
                data.len(),
                outcome(target, data)
            );
            total += data.len();
        }
    }
    assert!(
        total < 256 * 1024,
        "seeds should stay small, got {total} bytes"
    );
    for (target, seeds) in all {
        let dir = fuzz_dir().join("seeds").join(target);
        fs::create_dir_all(&dir).expect("create seeds dir");
        for old in files_in(&dir) {
            let name = old.file_name().expect("file name").to_string_lossy();
            if !name.starts_with("regression-") {
                fs::remove_file(&old).expect("remove old seed");
            }
        }
        for (name, data) in seeds {
            fs::write(dir.join(&name), &data).expect("write seed");
        }
    }
    println!("wrote {total} bytes of fuzz seeds");
    // The conformance inputs go to the local corpus, where libFuzzer starts from
    // them; they stay out of the repository.
    if let Some(inputs) = conformance_inputs() {
        let dir = fuzz_dir().join("corpus").join("exposition");
        fs::create_dir_all(&dir).expect("create corpus dir");
        for (name, data) in &inputs {
            fs::write(dir.join(name), data).expect("write corpus input");
        }
        println!(
            "wrote {} conformance inputs to {}",
            inputs.len(),
            dir.display()
        );
    }
}
