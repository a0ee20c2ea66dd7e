//! Write-then-replay tests of the framing layer: round trips, torn tails, corruption.

use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::segment::{HEADER_SIZE, segment_name};
use super::*;
use crate::tsdb::fs::{RealFs, real};

fn opts(pages: usize) -> WalOptions {
    WalOptions {
        segment_size: pages * PAGE_SIZE,
        sync: SyncPolicy::OnSegmentClose,
    }
}

/// A record of `len` bytes whose content depends on `seed` (deterministically).
fn record(seed: u64, len: usize) -> Vec<u8> {
    let mut r = fastrand::Rng::with_seed(seed);
    (0..len).map(|_| r.u8(..)).collect()
}

/// Sizes from empty to several pages.
fn random_size(r: &mut fastrand::Rng) -> usize {
    match r.usize(..4) {
        0 => r.usize(..64),
        1 => r.usize(..PAGE_SIZE),
        2 => PAGE_SIZE - HEADER_SIZE + r.usize(..16) - 8,
        _ => PAGE_SIZE + r.usize(..3 * PAGE_SIZE),
    }
}

fn replay_all(dir: &Path) -> Result<(Vec<Vec<u8>>, ReplayReport), WalError> {
    let mut out = Vec::new();
    let report = replay(&RealFs, dir, |r| {
        out.push(r.to_vec());
        Ok(())
    })?;
    Ok((out, report))
}

fn seg_path(dir: &Path, seg: u32) -> PathBuf {
    dir.join(segment_name(seg))
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

/// Where a record lies in its segment: its first header and its end.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u64,
    end: u64,
}

/// Logs `records` one call each into segment 1 (after a segment 0 holding `earlier`)
/// and returns their spans in segment 1, measured from the file length after each call.
fn write_spans(dir: &Path, earlier: &[Vec<u8>], records: &[Vec<u8>]) -> Vec<Span> {
    let mut wal = Wal::open(&real(), dir, opts(256)).unwrap();
    let refs: Vec<&[u8]> = earlier.iter().map(|r| r.as_slice()).collect();
    wal.log(&refs).unwrap();
    assert_eq!(wal.cut_segment().unwrap(), 1);
    let path = seg_path(dir, 1);
    let mut spans = Vec::new();
    for rec in records {
        let before = file_len(&path);
        let room = PAGE_SIZE as u64 - before % PAGE_SIZE as u64;
        let padded = room < HEADER_SIZE as u64 || (room == HEADER_SIZE as u64 && !rec.is_empty());
        let start = if padded { before + room } else { before };
        wal.log(&[rec]).unwrap();
        spans.push(Span {
            start,
            end: file_len(&path),
        });
    }
    assert_eq!(
        wal.current_segment(),
        1,
        "test records must fit one segment"
    );
    wal.close().unwrap();
    spans
}

/// What replay must return after damage at byte `x` of the last segment: the records
/// that end before `x`, and the offset the segment is truncated to.
fn expected_after_damage(spans: &[Span], x: u64) -> (usize, u64) {
    let mut prev_end = 0;
    for (i, s) in spans.iter().enumerate() {
        if x < s.start {
            // In the padding before record i.
            return (i, prev_end);
        }
        if x < s.end {
            return (i, s.start);
        }
        prev_end = s.end;
    }
    (spans.len(), prev_end)
}

#[test]
fn random_sized_records_roundtrip() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(42);
    let records: Vec<Vec<u8>> = (0..400).map(|i| record(i, random_size(&mut rng))).collect();
    let mut wal = Wal::open(&real(), dir.path(), opts(8)).unwrap();
    let mut i = 0;
    while i < records.len() {
        let n = 1 + rng.usize(..20).min(records.len() - i - 1);
        let batch: Vec<&[u8]> = records[i..i + n].iter().map(|r| r.as_slice()).collect();
        wal.log(&batch).unwrap();
        i += n;
    }
    let segments = wal.current_segment() + 1;
    assert!(segments > 10, "records spread over many segments");
    wal.close().unwrap();
    let (got, report) = replay_all(dir.path()).unwrap();
    assert_eq!(got.len(), records.len());
    assert!(got == records, "replayed records differ from written ones");
    assert_eq!(
        report,
        ReplayReport {
            records: records.len() as u64,
            segments,
            checkpoint: None,
            truncated: None,
        }
    );
    // Every closed segment is whole pages.
    for s in 0..segments {
        assert_eq!(file_len(&seg_path(dir.path(), s)) % PAGE_SIZE as u64, 0);
    }
}

#[test]
fn one_big_batch_roundtrips() {
    // Several MB in one call: exercises the mid-call flushes.
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<Vec<u8>> = (0..3000)
        .map(|i| record(i, 1000 + (i as usize % 7) * 300))
        .collect();
    let refs: Vec<&[u8]> = records.iter().map(|r| r.as_slice()).collect();
    let mut wal = Wal::open(&real(), dir.path(), WalOptions::default()).unwrap();
    wal.log(&refs).unwrap();
    // Not closed: everything must already be in the file.
    let (got, report) = replay_all(dir.path()).unwrap();
    assert!(got == records);
    assert_eq!(report.truncated, None);
    drop(wal);
}

#[test]
fn replay_of_a_missing_directory_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let (got, report) = replay_all(&dir.path().join("nope")).unwrap();
    assert!(got.is_empty());
    assert_eq!(report, ReplayReport::default());
}

#[test]
fn zero_bytes_after_the_last_record_are_not_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let records = vec![record(1, 10), record(2, PAGE_SIZE + 5)];
    let spans = write_spans(dir.path(), &[record(0, 3)], &records);
    // The closed segment is padded; add whole zero pages too (a preallocated file).
    let path = seg_path(dir.path(), 1);
    let mut bytes = fs::read(&path).unwrap();
    bytes.truncate(spans[1].end as usize + 100);
    bytes.resize(5 * PAGE_SIZE + 17, 0);
    fs::write(&path, &bytes).unwrap();
    let (got, report) = replay_all(dir.path()).unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(report.truncated, None);
    assert_eq!(file_len(&path), bytes.len() as u64, "nothing truncated");
}

#[test]
fn torn_tail_at_every_kind_of_offset_truncates_to_the_records_before() {
    let mut rng = fastrand::Rng::with_seed(7);
    let records: Vec<Vec<u8>> = (0..40).map(|i| record(i, random_size(&mut rng))).collect();
    let earlier = vec![record(1000, 50)];
    let master = tempfile::tempdir().unwrap();
    let spans = write_spans(master.path(), &earlier, &records);
    let last = seg_path(master.path(), 1);
    let full = fs::read(&last).unwrap();
    let data_end = spans.last().unwrap().end;
    // Cut at record boundaries, just around them, and at random places.
    let mut cuts: Vec<u64> = vec![0, 1, data_end, data_end + 1, full.len() as u64];
    for s in &spans {
        cuts.extend([s.start, s.start + 1, s.start + 6, s.start + 7, s.end - 1]);
    }
    for _ in 0..60 {
        cuts.push(rng.u64(..data_end));
    }
    for cut in cuts {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            seg_path(dir.path(), 0),
            fs::read(seg_path(master.path(), 0)).unwrap(),
        )
        .unwrap();
        let path = seg_path(dir.path(), 1);
        fs::write(&path, &full[..cut as usize]).unwrap();

        let (got, report) = replay_all(dir.path()).unwrap();
        let complete = spans.iter().take_while(|s| s.end <= cut).count();
        assert_eq!(got.len(), 1 + complete, "cut at {cut}");
        assert!(
            got[1..] == records[..complete],
            "cut at {cut}: wrong records"
        );
        let inside = spans.iter().find(|s| s.start < cut && cut < s.end);
        match (inside, &report.truncated) {
            (None, None) => assert_eq!(file_len(&path), cut),
            (Some(s), Some(t)) => {
                assert_eq!((t.segment, t.offset), (1, s.start), "cut at {cut}: {t:?}");
                assert_eq!(
                    file_len(&path),
                    s.start,
                    "file truncated at the record start"
                );
            }
            (want, got) => panic!("cut at {cut}: expected torn record {want:?}, report {got:?}"),
        }
        // A second replay is clean and returns the same records.
        let (again, report) = replay_all(dir.path()).unwrap();
        assert_eq!(report.truncated, None, "cut at {cut}");
        assert_eq!(again, got);
    }
}

#[test]
fn flipped_byte_in_the_last_page_truncates_at_the_damaged_record() {
    let mut rng = fastrand::Rng::with_seed(99);
    let records: Vec<Vec<u8>> = (0..30).map(|i| record(i, random_size(&mut rng))).collect();
    let master = tempfile::tempdir().unwrap();
    let spans = write_spans(master.path(), &[record(1000, 50)], &records);
    let full = fs::read(seg_path(master.path(), 1)).unwrap();
    let last_page = full.len() - PAGE_SIZE;
    let mut positions: Vec<usize> = (0..200)
        .map(|_| last_page + rng.usize(..PAGE_SIZE))
        .collect();
    // The header bytes of the last record's last fragment, and the padding after it.
    let end = spans.last().unwrap().end as usize;
    positions.extend(end - 20..end + 10);
    for x in positions {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            seg_path(dir.path(), 0),
            fs::read(seg_path(master.path(), 0)).unwrap(),
        )
        .unwrap();
        let mut bytes = full.clone();
        bytes[x] ^= rng.u8(1..);
        fs::write(seg_path(dir.path(), 1), &bytes).unwrap();

        let (got, report) = replay_all(dir.path()).unwrap();
        let (n, offset) = expected_after_damage(&spans, x as u64);
        assert_eq!(got.len(), 1 + n, "flip at {x}");
        assert!(got[1..] == records[..n], "flip at {x}: wrong records");
        let t = report.truncated.expect("damage reported");
        assert_eq!(
            (t.segment, t.offset),
            (1, offset),
            "flip at {x}: {}",
            t.reason
        );
        assert_eq!(file_len(&seg_path(dir.path(), 1)), offset);
        let (again, report) = replay_all(dir.path()).unwrap();
        assert_eq!((again.len(), report.truncated), (got.len(), None));
    }
}

#[test]
fn corruption_in_an_earlier_segment_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(&real(), dir.path(), opts(2)).unwrap();
    for i in 0..12 {
        wal.log(&[&record(i, 20_000)]).unwrap();
    }
    assert!(wal.current_segment() >= 3);
    wal.close().unwrap();
    let path = seg_path(dir.path(), 1);
    let mut bytes = fs::read(&path).unwrap();
    bytes[10_000] ^= 0x40; // inside the first record of segment 1
    fs::write(&path, &bytes).unwrap();
    let err = replay_all(dir.path()).unwrap_err();
    match &err {
        WalError::Corruption {
            segment, offset, ..
        } => assert_eq!((*segment, *offset), (1, 0)),
        other => panic!("unexpected {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("segment 00000001") && msg.contains("offset 0"),
        "{msg}"
    );
    assert!(msg.contains("CRC mismatch"), "{msg}");
    assert_eq!(
        file_len(&path),
        bytes.len() as u64,
        "an earlier segment is never truncated"
    );

    // A record cut short at the end of an earlier segment is corruption too. The
    // second record of the segment starts after the first (20000 bytes + header).
    bytes[10_000] ^= 0x40;
    fs::write(&path, &bytes[..25_000]).unwrap();
    let err = replay_all(dir.path()).unwrap_err();
    assert!(
        matches!(err, WalError::Corruption { segment: 1, offset: 20_007, ref reason, .. } if reason.contains("cut short")),
        "{err}"
    );
}

#[test]
fn gap_in_segment_numbering_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(&real(), dir.path(), opts(1)).unwrap();
    wal.cut_segment().unwrap();
    wal.cut_segment().unwrap();
    wal.close().unwrap();
    fs::remove_file(seg_path(dir.path(), 1)).unwrap();
    let err = replay_all(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            WalError::Gap {
                expected: 1,
                found: 2,
                ..
            }
        ),
        "{err}"
    );
    // Missing leading segments (truncated without a checkpoint) are fine.
    fs::remove_file(seg_path(dir.path(), 0)).unwrap();
    assert_eq!(replay_all(dir.path()).unwrap().1.segments, 1);
}

#[test]
fn callback_error_becomes_a_record_error_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = Wal::open(&real(), dir.path(), opts(4)).unwrap();
    wal.log(&[b"ok", b"bad", b"never"]).unwrap();
    wal.close().unwrap();
    let mut seen = Vec::new();
    let err = replay(&RealFs, dir.path(), |r| {
        seen.push(r.to_vec());
        if r == b"bad" {
            Err("refused".into())
        } else {
            Ok(())
        }
    })
    .unwrap_err();
    assert_eq!(seen.len(), 2);
    match err {
        WalError::Record {
            segment,
            offset,
            reason,
            ..
        } => assert_eq!((segment, offset, reason.as_str()), (0, 9, "refused")),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn garbage_page_in_the_middle_of_the_last_segment_cuts_everything_after() {
    let records: Vec<Vec<u8>> = (0..10).map(|i| record(i, 9000)).collect();
    let dir = tempfile::tempdir().unwrap();
    let spans = write_spans(dir.path(), &[], &records);
    let path = seg_path(dir.path(), 1);
    let mut bytes = fs::read(&path).unwrap();
    // A whole page of zeros (a block that never reached the disk) before valid data.
    bytes[PAGE_SIZE..2 * PAGE_SIZE].fill(0);
    fs::write(&path, &bytes).unwrap();
    let (got, report) = replay_all(dir.path()).unwrap();
    let (n, offset) = expected_after_damage(&spans, PAGE_SIZE as u64);
    assert_eq!(got.len(), n);
    assert_eq!(report.truncated.map(|t| t.offset), Some(offset));
}

/// How a valid WAL is damaged in the property test below.
#[derive(Debug, Clone)]
enum Mutation {
    /// Cut the last segment at this fraction of its length.
    Truncate(f64),
    /// XOR a byte (non-zero mask) at this fraction of this segment (mod count).
    Flip(usize, f64, u8),
    /// Overwrite bytes of the last segment from this fraction with garbage.
    Garbage(f64, Vec<u8>),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0.0..1.0f64).prop_map(Mutation::Truncate),
        (any::<usize>(), 0.0..1.0f64, 1..=255u8).prop_map(|(s, f, m)| Mutation::Flip(s, f, m)),
        (0.0..1.0f64, proptest::collection::vec(any::<u8>(), 1..300))
            .prop_map(|(f, g)| Mutation::Garbage(f, g)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Damage never panics and never yields a record that was not written: replay
    /// returns a prefix, or (damage before the last segment) a corruption error.
    #[test]
    fn damaged_wal_yields_a_prefix_or_an_error(
        sizes in proptest::collection::vec(prop_oneof![0..100usize, 0..3 * PAGE_SIZE], 1..25),
        pages in 1..5usize,
        close in any::<bool>(),
        mutation in arb_mutation(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<Vec<u8>> = sizes.iter().enumerate().map(|(i, &n)| record(i as u64, n)).collect();
        let mut wal = Wal::open(&real(), dir.path(), opts(pages)).unwrap();
        for chunk in records.chunks(3) {
            let refs: Vec<&[u8]> = chunk.iter().map(|r| r.as_slice()).collect();
            wal.log(&refs).unwrap();
        }
        let last = wal.current_segment();
        if close { wal.close().unwrap() } else { drop(wal) }

        let (seg, in_last) = match &mutation {
            Mutation::Flip(s, _, _) => {
                let s = (*s % (last as usize + 1)) as u32;
                (s, s == last)
            }
            _ => (last, true),
        };
        let path = seg_path(dir.path(), seg);
        let mut bytes = fs::read(&path).unwrap();
        let at = |f: f64, len: usize| ((f * len as f64) as usize).min(len.saturating_sub(1));
        match &mutation {
            Mutation::Truncate(f) => bytes.truncate((f * bytes.len() as f64) as usize),
            Mutation::Flip(_, f, m) => {
                if bytes.is_empty() { bytes.push(0) }
                let i = at(*f, bytes.len());
                bytes[i] ^= m;
            }
            Mutation::Garbage(f, g) => {
                let i = if bytes.is_empty() { 0 } else { at(*f, bytes.len()) };
                bytes.truncate(i);
                bytes.extend_from_slice(g);
            }
        }
        fs::write(&path, &bytes).unwrap();

        match replay_all(dir.path()) {
            Ok((got, report)) => {
                prop_assert!(got.len() <= records.len());
                prop_assert!(got[..] == records[..got.len()], "replay returned records that were not written");
                let (again, second) = replay_all(dir.path()).unwrap();
                prop_assert_eq!(second.truncated, None);
                prop_assert!(again == got);
                if !in_last {
                    // A flip in an earlier segment is always detected.
                    prop_assert!(false, "damage in segment {} not detected: {:?}", seg, report);
                }
            }
            Err(WalError::Corruption { segment, .. }) => {
                prop_assert!(!in_last, "the last segment's damage must be repaired");
                prop_assert_eq!(segment, seg);
            }
            Err(e) => prop_assert!(false, "unexpected error {}", e),
        }
    }

    /// Arbitrary bytes as the only segment: never a panic, never a record.
    #[test]
    fn garbage_segment_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..3 * PAGE_SIZE)) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(seg_path(dir.path(), 0), &bytes).unwrap();
        let (got, _) = replay_all(dir.path()).unwrap();
        prop_assert!(got.is_empty());
    }

    /// Valid records followed by arbitrary bytes: exactly the valid records.
    #[test]
    fn garbage_after_valid_records_is_cut(
        n in 0..20u64,
        garbage in proptest::collection::vec(1..=255u8, 1..2000),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<Vec<u8>> = (0..n).map(|i| record(i, (i as usize * 997) % 5000)).collect();
        let mut wal = Wal::open(&real(), dir.path(), opts(4)).unwrap();
        let refs: Vec<&[u8]> = records.iter().map(|r| r.as_slice()).collect();
        wal.log(&refs).unwrap();
        drop(wal);
        let path = seg_path(dir.path(), 0);
        let mut bytes = fs::read(&path).unwrap();
        let len = bytes.len() as u64;
        bytes.extend_from_slice(&garbage);
        fs::write(&path, &bytes).unwrap();
        let (got, report) = replay_all(dir.path()).unwrap();
        prop_assert!(got == records);
        let t = report.truncated.expect("garbage reported");
        prop_assert_eq!((t.segment, t.offset), (0, len));
    }
}
