//! The properties the fuzz targets check, shared by the cargo-fuzz targets in
//! `fuzz/fuzz_targets/` (through the `tidemark_fuzz` lib) and by the stable corpus
//! replay test `tests/fuzz_corpus.rs` (which includes this file with `#[path]`).
//!
//! Every check takes arbitrary bytes and panics only if tidemark misbehaves on them:
//! a panic inside the library, or a broken promise of its public API (a round trip
//! that is not the identity, a torn tail that replay did not repair, …). Input that
//! the library rightly refuses with an error is not a failure.
//!
//! This file must compile both as a module of the fuzz crate and inside an
//! integration test of the main crate: it may use only `std`, `tidemark`, `tempfile`
//! (a dev-dependency of `tidemark`) and `crc32fast` (a dependency of `tidemark`).

use std::borrow::Cow;
use std::fs;
use std::path::Path;

use tidemark::exposition::{
    Entry, Format, LabelSet, MetricType, Mode, ParseError, ParseState, Parser, Text,
};
use tidemark::model::{Labels, NORMAL_NAN_BITS};
use tidemark::tsdb::chunk::{ChunkError, XorAppender, XorIter};
use tidemark::tsdb::fs::RealFs;
use tidemark::tsdb::wal::{
    self, RecordError, RecordType, RefSample, RefSeries, WalError, decode_samples, decode_series,
    encode_samples, encode_series, record_type,
};
use tidemark::tsdb::{Db, DbError, Options, SeriesRef};

/// A check: panics if tidemark misbehaves on the input.
pub type Check = fn(&[u8]);

/// Every fuzz target by name, with its check. The corpus test replays
/// `fuzz/seeds/<name>/` (and the local `fuzz/corpus/<name>/`, `fuzz/artifacts/<name>/`)
/// through the check of the same name.
pub const TARGETS: &[(&str, Check)] = &[
    ("chunk_xor", chunk_xor),
    ("wal_records", wal_records),
    ("wal_replay", wal_replay),
    ("db_wal_open", db_wal_open),
    ("db_head_chunks", db_head_chunks),
    ("exposition", exposition),
];

/// Separates the segment files in a `wal_replay` input, and the WAL segment from the
/// head chunk file in a `db_head_chunks` input.
pub const SEGMENT_MARKER: &[u8] = b"#SEG#";

/// At most this many segment files are made from one `wal_replay` input.
pub const MAX_SEGMENTS: usize = 3;

/// A sample as comparable bits: NaN payloads (the stale marker) must survive too.
type Bits = (i64, u64);

fn bits((t, v): (i64, f64)) -> Bits {
    (t, v.to_bits())
}

// ---------------------------------------------------------------------------------
// chunk_xor
// ---------------------------------------------------------------------------------

/// Decodes `data` as an XOR chunk to the end: the samples and the error that ended
/// decoding early, if any. Checks the iterator's own invariants on the way.
fn decode_chunk(data: &[u8]) -> (Vec<Bits>, Option<ChunkError>) {
    let mut it = XorIter::new(data);
    let total = usize::from(it.num_samples());
    let mut out = Vec::new();
    loop {
        let (_, hi) = it.size_hint();
        let hi = hi.expect("XorIter::size_hint has an upper bound");
        assert!(
            out.len() + hi <= total,
            "size_hint {hi} after {} samples exceeds the {total} in the header",
            out.len()
        );
        match it.next() {
            Some(s) => {
                assert!(hi > 0, "a sample came after size_hint said there is none");
                assert_eq!(
                    bits(it.at()),
                    bits(s),
                    "at() is not the sample just returned"
                );
                out.push(bits(s));
            }
            None => break,
        }
    }
    assert!(it.next().is_none(), "XorIter is not fused");
    assert_eq!(it.size_hint(), (0, Some(0)), "size_hint after the end");
    let err = it.err().cloned();
    if data.len() < 2 {
        assert_eq!(err, Some(ChunkError::BadHeader { len: data.len() }));
        assert_eq!(total, 0);
    } else {
        assert_eq!(total, usize::from(u16::from_be_bytes([data[0], data[1]])));
        match &err {
            None => assert_eq!(out.len(), total, "decoding stopped early without an error"),
            Some(e) => assert!(
                out.len() < total,
                "error {e} reported although all {total} samples decoded"
            ),
        }
    }
    (out, err)
}

/// What [`XorIter`] promises about `next` and `seek` over already-decoded samples:
/// `seek(t)` returns the current sample again if its timestamp is `>= t`, else reads
/// forward to the first sample with timestamp `>= t`; once the chunk is exhausted
/// (or broken), everything returns `None`.
struct IterModel<'a> {
    samples: &'a [Bits],
    pos: usize,
    done: bool,
}

impl IterModel<'_> {
    fn next(&mut self) -> Option<Bits> {
        if self.done {
            return None;
        }
        match self.samples.get(self.pos) {
            Some(&s) => {
                self.pos += 1;
                Some(s)
            }
            None => {
                self.done = true;
                None
            }
        }
    }

    fn seek(&mut self, t: i64) -> Option<Bits> {
        if self.done {
            return None;
        }
        if self.pos > 0 && self.samples[self.pos - 1].0 >= t {
            return Some(self.samples[self.pos - 1]);
        }
        loop {
            let s = self.next()?;
            if s.0 >= t {
                return Some(s);
            }
        }
    }
}

/// `XorIter` over arbitrary bytes: never panics; iteration, `seek` and `at` agree with
/// each other; a chunk that decodes completely round-trips through `XorAppender`; and
/// `XorAppender::from_bytes` resumes exactly the chunks that decode.
pub fn chunk_xor(data: &[u8]) {
    let (samples, err) = decode_chunk(data);

    // seek: several sequences of targets, each on a fresh iterator, against the model.
    let ts: Vec<i64> = samples.iter().map(|s| s.0).collect();
    let pick = |i: usize| ts.get(i).copied().unwrap_or(0);
    let n = ts.len();
    let last = ts.last().copied().unwrap_or(0);
    let sequences: [Vec<i64>; 4] = [
        vec![i64::MIN, i64::MIN],
        vec![
            pick(n / 3),
            pick(n / 3),
            pick(n / 3).wrapping_sub(1),
            pick(2 * n / 3),
        ],
        vec![
            pick(n / 2).wrapping_add(1),
            pick(0),
            last,
            last.wrapping_add(1),
        ],
        vec![i64::MAX, i64::MIN],
    ];
    for seq in &sequences {
        let mut it = XorIter::new(data);
        let mut model = IterModel {
            samples: &samples,
            pos: 0,
            done: false,
        };
        for (k, &t) in seq.iter().enumerate() {
            let got = it.seek(t).map(bits);
            assert_eq!(got, model.seek(t), "seek #{k} to {t} (sequence {seq:?})");
            if let Some(s) = got {
                assert_eq!(bits(it.at()), s, "at() after seek to {t}");
            }
            // Interleave a plain next() between seeks.
            if k == 1 {
                assert_eq!(
                    it.next().map(bits),
                    model.next(),
                    "next() after seek to {t}"
                );
            }
        }
        // Whatever was left: the same samples and the same error as a full pass.
        let rest: Vec<Bits> = it.by_ref().map(bits).collect();
        let mut want = Vec::new();
        while let Some(s) = model.next() {
            want.push(s);
        }
        assert_eq!(rest, want, "samples after seeking {seq:?}");
        assert_eq!(it.err(), err.as_ref(), "error after seeking {seq:?}");
    }

    // reset onto the same bytes starts over.
    let mut it = XorIter::new(&data[..data.len() / 2]);
    for _ in it.by_ref() {}
    it.reset(data);
    let again: Vec<Bits> = it.by_ref().map(bits).collect();
    assert_eq!(again, samples, "samples after reset");
    assert_eq!(it.err(), err.as_ref(), "error after reset");

    // from_bytes resumes exactly the chunks that decode (except for trailing bytes).
    let resumed = XorAppender::from_bytes(data.to_vec());
    if let Some(e) = &err {
        assert_eq!(
            resumed.as_ref().err(),
            Some(e),
            "from_bytes must refuse a chunk that does not decode, with the decoder's error"
        );
        return;
    }
    let mut resumed = match resumed {
        Ok(app) => Some(app),
        Err(ChunkError::TrailingBytes { .. }) => None,
        Err(e) => panic!("from_bytes refused a chunk that decodes: {e}"),
    };

    // Re-encode: decode(encode(samples)) == samples.
    let mut app = XorAppender::new();
    for &(t, v) in &samples {
        app.append(t, f64::from_bits(v));
    }
    assert_eq!(usize::from(app.num_samples()), samples.len());
    let (re, re_err) = decode_chunk(app.bytes());
    assert_eq!(re_err, None, "re-encoded chunk does not decode");
    assert_eq!(re, samples, "re-encoded chunk decodes to other samples");
    let canonical = app.bytes() == data;
    assert!(
        !canonical || resumed.is_some(),
        "from_bytes refused a chunk exactly as XorAppender writes it"
    );

    // A resumed appender reads back the same samples, and one more after an append.
    if let Some(r) = resumed.as_mut() {
        assert_eq!(usize::from(r.num_samples()), samples.len());
        assert_eq!(
            r.first_t(),
            samples.first().map(|s| s.0),
            "from_bytes first_t"
        );
        assert_eq!(r.last_t(), samples.last().map(|s| s.0), "from_bytes last_t");
        let (back, back_err) = decode_chunk(r.bytes());
        assert_eq!(back_err, None, "resumed chunk does not decode");
        assert_eq!(back, samples, "resumed chunk decodes to other samples");

        let tail = data.len().saturating_sub(8);
        let mut vb = [0u8; 8];
        vb[..data.len() - tail].copy_from_slice(&data[tail..]);
        let extra = (last.wrapping_add(15_000), u64::from_le_bytes(vb));
        let full = r.is_full();
        r.append(extra.0, f64::from_bits(extra.1));
        app.append(extra.0, f64::from_bits(extra.1));
        let mut want = samples.clone();
        if !full {
            want.push(extra);
        }
        let (back, back_err) = decode_chunk(r.bytes());
        assert_eq!(
            back_err, None,
            "resumed chunk does not decode after an append"
        );
        assert_eq!(back, want, "resumed chunk after an append");
        if canonical {
            assert_eq!(
                r.bytes(),
                app.bytes(),
                "appending to a resumed canonical chunk must write the same bytes as one appender"
            );
        }
    }
}

// ---------------------------------------------------------------------------------
// wal_records
// ---------------------------------------------------------------------------------

fn sample_bits(s: &[RefSample]) -> Vec<(u64, i64, u64)> {
    s.iter()
        .map(|s| (s.series_ref.0, s.t, s.v.to_bits()))
        .collect()
}

/// The typed WAL record decoders over arbitrary bytes: never panic, leave `out` as it
/// was on error, and whatever decodes re-encodes to something that decodes to the same.
pub fn wal_records(data: &[u8]) {
    let ty = record_type(data);
    match data.first() {
        None => assert_eq!(ty, Err(RecordError::Empty)),
        Some(1) => assert_eq!(ty, Ok(RecordType::Series)),
        Some(2) => assert_eq!(ty, Ok(RecordType::Samples)),
        Some(3) => assert_eq!(ty, Ok(RecordType::Tombstones)),
        Some(&b) => assert_eq!(ty, Err(RecordError::UnknownType(b))),
    }

    // Series.
    let sentinel = RefSeries {
        series_ref: SeriesRef(u64::MAX),
        labels: Labels::new([("sentinel", "1")]).expect("valid labels"),
    };
    let mut out = vec![sentinel.clone()];
    match decode_series(data, &mut out) {
        Ok(()) => {
            assert_eq!(
                ty,
                Ok(RecordType::Series),
                "decode_series accepted another type"
            );
            assert_eq!(out[0], sentinel, "decode_series changed what was in `out`");
            let got = &out[1..];
            let refs: Vec<(SeriesRef, &Labels)> =
                got.iter().map(|s| (s.series_ref, &s.labels)).collect();
            let mut buf = vec![0xab];
            encode_series(&refs, &mut buf);
            assert_eq!(buf[0], 0xab, "encode_series overwrote the buffer");
            let mut again = Vec::new();
            decode_series(&buf[1..], &mut again).expect("re-encoded series record decodes");
            assert_eq!(again, got, "series record: decode → encode → decode");
        }
        Err(e) => {
            assert_eq!(
                out,
                [sentinel],
                "decode_series left partial output after {e}"
            );
            check_type_error(&e, &ty, RecordType::Series);
        }
    }

    // Samples.
    let sentinel = RefSample {
        series_ref: SeriesRef(7),
        t: -1,
        v: f64::from_bits(0x7ff0_0000_0000_0002),
    };
    let mut out = vec![sentinel];
    match decode_samples(data, &mut out) {
        Ok(()) => {
            assert_eq!(
                ty,
                Ok(RecordType::Samples),
                "decode_samples accepted another type"
            );
            assert_eq!(sample_bits(&out[..1]), sample_bits(&[sentinel]));
            let got = &out[1..];
            let mut buf = vec![0xcd];
            encode_samples(got, &mut buf);
            assert_eq!(buf[0], 0xcd, "encode_samples overwrote the buffer");
            let mut again = Vec::new();
            decode_samples(&buf[1..], &mut again).expect("re-encoded samples record decodes");
            assert_eq!(
                sample_bits(&again),
                sample_bits(got),
                "samples record: decode → encode → decode"
            );
        }
        Err(e) => {
            assert_eq!(
                sample_bits(&out),
                sample_bits(&[sentinel]),
                "decode_samples left partial output after {e}"
            );
            check_type_error(&e, &ty, RecordType::Samples);
        }
    }
}

/// A decoder for `expected` failed with `e`: a type problem must be reported as such.
fn check_type_error(e: &RecordError, ty: &Result<RecordType, RecordError>, expected: RecordType) {
    match ty {
        Err(te) => assert_eq!(e, te, "type error"),
        &Ok(found) if found != expected => {
            assert_eq!(e, &RecordError::WrongType { expected, found });
        }
        Ok(_) => assert!(
            !matches!(
                e,
                RecordError::Empty | RecordError::UnknownType(_) | RecordError::WrongType { .. }
            ),
            "a record of the right type failed with a type error: {e}"
        ),
    }
}

// ---------------------------------------------------------------------------------
// wal_replay
// ---------------------------------------------------------------------------------

/// Splits a `wal_replay` input into 1 to [`MAX_SEGMENTS`] segment files at
/// [`SEGMENT_MARKER`] (later markers stay in the last segment).
pub fn split_segments(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() + 1 < MAX_SEGMENTS {
        let Some(i) = find_marker(rest) else {
            break;
        };
        parts.push(&rest[..i]);
        rest = &rest[i + SEGMENT_MARKER.len()..];
    }
    parts.push(rest);
    parts
}

fn find_marker(data: &[u8]) -> Option<usize> {
    data.windows(SEGMENT_MARKER.len())
        .position(|w| w == SEGMENT_MARKER)
}

/// The inverse of [`split_segments`], for writing seeds.
pub fn join_segments(segments: &[&[u8]]) -> Vec<u8> {
    assert!((1..=MAX_SEGMENTS).contains(&segments.len()));
    segments.join(SEGMENT_MARKER)
}

/// Size of a WAL page, and of a fragment header (type u8, length u16 BE, CRC32 u32 BE),
/// as docs/format/wal.md specifies.
const PAGE_SIZE: usize = wal::PAGE_SIZE;
const FRAGMENT_HEADER: usize = 7;

/// Rewrites the CRC of every fragment that a reader would parse in `seg` (following
/// docs/format/wal.md: fragments never cross a page, a zero type byte or less than a
/// header of room pads to the end of the page), stopping where the framing itself
/// is broken. Returns whether any byte changed.
pub fn fix_fragment_crcs(seg: &mut [u8]) -> bool {
    let mut changed = false;
    let mut page_start = 0;
    'pages: while page_start < seg.len() {
        let page_end = (page_start + PAGE_SIZE).min(seg.len());
        let mut pos = page_start;
        while pos < page_end {
            let room = page_start + PAGE_SIZE - pos;
            if room < FRAGMENT_HEADER || seg[pos] == 0 {
                break;
            }
            if !(1..=4).contains(&seg[pos]) || page_end - pos < FRAGMENT_HEADER {
                break 'pages;
            }
            let len = usize::from(u16::from_be_bytes([seg[pos + 1], seg[pos + 2]]));
            let end = pos + FRAGMENT_HEADER + len;
            if end > page_end {
                break 'pages;
            }
            let mut h = crc32fast::Hasher::new();
            h.update(&seg[pos..pos + 3]);
            h.update(&seg[pos + FRAGMENT_HEADER..end]);
            let crc = h.finalize().to_be_bytes();
            if seg[pos + 3..pos + FRAGMENT_HEADER] != crc {
                seg[pos + 3..pos + FRAGMENT_HEADER].copy_from_slice(&crc);
                changed = true;
            }
            pos = end;
        }
        page_start += PAGE_SIZE;
    }
    changed
}

/// A scratch directory, on tmpfs when there is one: `Db::open` and `Wal::close` fsync,
/// which costs milliseconds on a disk and nothing on tmpfs.
fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(d) = tempfile::Builder::new()
            .prefix("tidemark-fuzz-")
            .tempdir_in(shm)
    {
        return d;
    }
    tempfile::Builder::new()
        .prefix("tidemark-fuzz-")
        .tempdir()
        .expect("create a temporary directory")
}

fn replay_collect(dir: &Path) -> (Result<wal::ReplayReport, WalError>, Vec<Vec<u8>>) {
    let mut records = Vec::new();
    let res = wal::replay(&RealFs, dir, |rec| {
        // Exercise the content layer on whatever the framing hands out.
        let _ = record_type(rec);
        records.push(rec.to_vec());
        Ok(())
    });
    (res, records)
}

/// `wal::replay` over 1–3 arbitrary segment files: never panics; damage in the last
/// segment is repaired (truncated) and only damage in an earlier one is an error; a
/// second replay after a successful one finds nothing to repair and the same records.
///
/// The segments are replayed as given, then once more with every fragment CRC made
/// valid ([`fix_fragment_crcs`]), so that mutations reach the framing logic behind the
/// CRC check (fragment sequences, page ends, padding) and not only the CRC mismatch.
pub fn wal_replay(data: &[u8]) {
    let segments = split_segments(data);
    replay_segments(&segments);
    let mut fixed: Vec<Vec<u8>> = segments.iter().map(|s| s.to_vec()).collect();
    let mut changed = false;
    for seg in &mut fixed {
        changed |= fix_fragment_crcs(seg);
    }
    if changed {
        let fixed: Vec<&[u8]> = fixed.iter().map(|s| &s[..]).collect();
        replay_segments(&fixed);
    }
}

fn replay_segments(segments: &[&[u8]]) {
    let last = segments.len() - 1;
    let tmp = scratch_dir();
    let dir = tmp.path().join("wal");
    fs::create_dir(&dir).expect("create wal dir");
    for (i, seg) in segments.iter().enumerate() {
        fs::write(dir.join(format!("{i:08}")), seg).expect("write segment");
    }

    let (first, records) = replay_collect(&dir);
    let report = match first {
        Ok(r) => r,
        Err(WalError::Corruption { segment, .. }) if (segment as usize) < last => return,
        Err(e) => panic!(
            "replay of {} segment(s) failed with an error that is not corruption before the \
             last segment: {e}",
            segments.len()
        ),
    };
    assert_eq!(report.records, records.len() as u64, "report.records");
    assert_eq!(report.segments as usize, segments.len(), "report.segments");
    assert_eq!(report.checkpoint, None);
    let last_path = dir.join(format!("{last:08}"));
    let len = fs::metadata(&last_path).expect("stat last segment").len();
    match &report.truncated {
        Some(torn) => {
            assert_eq!(
                torn.segment as usize, last,
                "truncated a segment that is not the last"
            );
            assert!(
                torn.offset < segments[last].len() as u64,
                "torn tail at {} of a {}-byte segment",
                torn.offset,
                segments[last].len()
            );
            assert_eq!(len, torn.offset, "segment length after truncation");
        }
        None => assert_eq!(
            len,
            segments[last].len() as u64,
            "segment changed without a torn tail"
        ),
    }
    for (i, seg) in segments[..last].iter().enumerate() {
        let now = fs::read(dir.join(format!("{i:08}"))).expect("read segment");
        assert_eq!(
            &now[..],
            *seg,
            "replay changed segment {i}, which is not the last"
        );
    }

    let (second, again) = replay_collect(&dir);
    let second = second.expect("a second replay after a successful one must succeed");
    assert_eq!(
        second.truncated, None,
        "the second replay found a torn tail: the first one did not repair it"
    );
    assert_eq!(second.segments, report.segments);
    assert!(again == records, "the second replay returned other records");
}

// ---------------------------------------------------------------------------------
// db_wal_open, db_head_chunks
// ---------------------------------------------------------------------------------

/// A series as read back: labels, samples, and the error that ended reading early.
type Snapshot = Vec<(Labels, Vec<Bits>, Option<String>)>;

/// Every series of the database with all its samples. With `strict`, the read path
/// must not fail (the head wrote every chunk itself) and samples come in time order;
/// otherwise (a head chunk file from the fuzzer, whose chunks are trusted once their
/// CRC matches) a read error is recorded, not a failure.
fn snapshot(db: &Db, strict: bool) -> Snapshot {
    db.querier(i64::MIN, i64::MAX)
        .select(&[])
        .expect("select")
        .map(|s| {
            let mut it = s.iter();
            let samples: Vec<Bits> = it.by_ref().map(|x| (x.t, x.v.to_bits())).collect();
            let err = it.err().map(|e| e.to_string());
            if strict {
                if let Some(e) = &err {
                    panic!("reading series {}: {e}", s.labels());
                }
                for w in samples.windows(2) {
                    assert!(w[0].0 < w[1].0, "series {} not in time order", s.labels());
                }
                // seek to the middle agrees with plain iteration.
                if let Some(&(t, v)) = samples.get(samples.len() / 2) {
                    let got = s.iter().seek(t).map(|x| (x.t, x.v.to_bits()));
                    assert_eq!(got, Some((t, v)), "seek in series {}", s.labels());
                }
            } else if let Some(&(t, _)) = samples.get(samples.len() / 2) {
                let _ = s.iter().seek(t);
            }
            (s.labels().clone(), samples, err)
        })
        .collect()
}

/// `Db::open` over a data directory whose WAL is one arbitrary segment: never panics;
/// the only error is a WAL record that frames correctly but does not decode; an open
/// database serves every series; and closing and reopening it gives the same data
/// with nothing left to repair (the reopen takes the full chunks from the head chunk
/// file the first open wrote, and only the rest from the WAL). Like `wal_replay`, it
/// runs a second time with the fragment CRCs made valid, so that mutated records
/// reach the head's replay.
pub fn db_wal_open(data: &[u8]) {
    open_db(data, None);
    let mut fixed = data.to_vec();
    if fix_fragment_crcs(&mut fixed) {
        open_db(&fixed, None);
    }
}

/// Splits a `db_head_chunks` input at the first [`SEGMENT_MARKER`] into the WAL
/// segment and the head chunk file; without a marker it is all head chunk file.
pub fn split_wal_and_chunks(data: &[u8]) -> (&[u8], &[u8]) {
    match find_marker(data) {
        Some(i) => (&data[..i], &data[i + SEGMENT_MARKER.len()..]),
        None => (&[], data),
    }
}

/// Head chunk file layout (docs/format/chunks.md): an 8-byte file header, then
/// records of series ref, min_t, max_t (8 bytes each), encoding (1), length (4), data,
/// CRC32 of all that (4).
const HEAD_CHUNKS_HEADER: usize = 8;
const HEAD_CHUNK_RECORD_HEADER: usize = 8 + 8 + 8 + 1 + 4;
const HEAD_CHUNK_MAX_LEN: usize = 1 << 20;

/// Rewrites the CRC of every record of a head chunk file, up to the first record that
/// is cut short or has an impossible length. Returns whether any byte changed.
pub fn fix_head_chunk_crcs(file: &mut [u8]) -> bool {
    let mut changed = false;
    let mut pos = HEAD_CHUNKS_HEADER;
    while pos + HEAD_CHUNK_RECORD_HEADER <= file.len() {
        let l = pos + HEAD_CHUNK_RECORD_HEADER - 4;
        let len = u32::from_be_bytes([file[l], file[l + 1], file[l + 2], file[l + 3]]) as usize;
        if len > HEAD_CHUNK_MAX_LEN {
            break;
        }
        let end = pos + HEAD_CHUNK_RECORD_HEADER + len;
        if end + 4 > file.len() {
            break;
        }
        let crc = crc32fast::hash(&file[pos..end]).to_be_bytes();
        if file[end..end + 4] != crc {
            file[end..end + 4].copy_from_slice(&crc);
            changed = true;
        }
        pos = end + 4;
    }
    changed
}

/// `Db::open` over a data directory with an arbitrary WAL segment and an arbitrary
/// head chunk file (`chunks_head/000001`): never panics, whatever the chunk file
/// holds; the only error is an undecodable WAL record; reading every series never
/// panics (a chunk whose CRC matches is trusted, so reading it may fail with an
/// error); closing and reopening succeeds with nothing left to repair in the WAL.
/// Runs a second time with the CRCs of both files made valid.
pub fn db_head_chunks(data: &[u8]) {
    let (wal, chunks) = split_wal_and_chunks(data);
    open_db(wal, Some(chunks));
    let (mut wal, mut chunks) = (wal.to_vec(), chunks.to_vec());
    let wal_fixed = fix_fragment_crcs(&mut wal);
    if fix_head_chunk_crcs(&mut chunks) | wal_fixed {
        open_db(&wal, Some(&chunks));
    }
}

/// The checks of `db_wal_open` (`head_chunks: None`) and `db_head_chunks`.
fn open_db(segment: &[u8], head_chunks: Option<&[u8]>) {
    let strict = head_chunks.is_none();
    let tmp = scratch_dir();
    let wal_dir = tmp.path().join("wal");
    fs::create_dir(&wal_dir).expect("create wal dir");
    fs::write(wal_dir.join("00000000"), segment).expect("write segment");
    if let Some(chunks) = head_chunks {
        let dir = tmp.path().join("chunks_head");
        fs::create_dir(&dir).expect("create chunks_head dir");
        fs::write(dir.join("000001"), chunks).expect("write head chunk file");
    }

    let db = match Db::open(tmp.path(), db_options()) {
        Ok(db) => db,
        Err(DbError::Wal(WalError::Record { .. })) => return,
        Err(e) => panic!("Db::open over a single arbitrary WAL segment: unexpected error {e}"),
    };
    let report = db.open_report().clone();
    assert_eq!(report.wal.segments, 1);
    if strict {
        assert_eq!(
            (
                report.chunks_loaded,
                report.chunks_dropped,
                report.samples_in_chunks
            ),
            (0, 0, 0),
            "head chunks reported without a head chunk file"
        );
    }
    let first = snapshot(&db, strict);
    let stats = db.stats();
    assert!(
        first.len() as u64 <= stats.head_series,
        "more series than the head holds"
    );
    db.close().expect("close after open");

    let db = Db::open(tmp.path(), db_options()).expect("reopen after a clean close");
    let again = db.open_report().clone();
    assert_eq!(
        again.wal.truncated, None,
        "reopen found a torn tail: the first open did not repair it"
    );
    let second = snapshot(&db, strict);
    if strict {
        assert_eq!(
            again.unknown_refs, report.unknown_refs,
            "unknown refs on reopen"
        );
        assert_eq!(
            again.chunks_dropped, 0,
            "reopen dropped head chunks that the first open wrote"
        );
        assert_eq!(
            again.samples + again.samples_in_chunks,
            report.samples,
            "WAL samples applied or found in head chunks on reopen"
        );
        assert!(
            first == second,
            "reopen serves other data than the first open"
        );
    }
    // Cutting the head into blocks (and compacting them) never changes what a
    // query answers, before or after another reopen.
    let maintained = db.maintain();
    if strict {
        maintained.expect("maintenance over data the head wrote itself");
        assert!(
            snapshot(&db, strict) == second,
            "maintenance changed the data"
        );
    }
    db.close().expect("close after reopen");
    if strict {
        let db = Db::open(tmp.path(), db_options()).expect("reopen after maintenance");
        assert!(
            snapshot(&db, strict) == second,
            "reopen after maintenance serves other data"
        );
        db.close().expect("close after the third open");
    }
}

/// No background worker (the checks run maintenance themselves, at a known
/// moment) and no retention (it would delete data on purpose).
fn db_options() -> Options {
    Options {
        maintenance_interval: None,
        retention_ms: 0,
        ..Options::default()
    }
}

// ---------------------------------------------------------------------------------
// exposition
// ---------------------------------------------------------------------------------

/// What a parser yields: every entry and every error, in order.
type Parsed<'a> = Vec<Result<Entry<'a>, ParseError>>;

/// The exposition parser over arbitrary bytes, in both formats and both modes: never
/// panics; everything it yields can be walked (names, labels, HELP text, exemplars)
/// and unescapes as documented, and every error points into the input; parsing in
/// pieces ([`Parser::piece`] and [`ParseState`]) yields exactly what parsing the
/// whole does; strict mode accepts no entry that lenient mode does not yield; and
/// the entries of a text parse, written back as text, parse to the same entries.
pub fn exposition(data: &[u8]) {
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    // The lines of the input: one per `\n`, and an unterminated last one.
    let n_lines = lines.len() - usize::from(data.last().is_none_or(|&b| b == b'\n'));
    let splits = piece_splits(data);
    for format in [Format::Text, Format::OpenMetrics] {
        let lenient = parse_whole(data, format, Mode::Lenient, n_lines);
        let strict = parse_whole(data, format, Mode::Strict, n_lines);
        for (mode, parsed) in [(Mode::Lenient, &lenient), (Mode::Strict, &strict)] {
            check_parsed(parsed, &lines, n_lines, format, mode);
            check_pieces(data, splits, parsed, n_lines, format, mode);
        }
        // Lenient text mode lets a quoted string run on over the next line (as
        // Prometheus's lexer does), so a line that strict mode refuses for an
        // unclosed quote may swallow lines that strict mode accepts: compare the
        // modes only where no line but the last ends inside quotes.
        if format == Format::OpenMetrics
            || !lines[..n_lines.saturating_sub(1)]
                .iter()
                .any(|l| ends_inside_quotes(l))
        {
            strict_within_lenient(&lenient, &strict, format);
        }
        if format == Format::Text {
            text_round_trip(&lenient, Mode::Lenient);
            if strict.iter().all(Result::is_ok) {
                text_round_trip(&strict, Mode::Strict);
            }
        }
    }
}

/// Everything [`Parser::new`] yields; its state then counts every line of the input.
fn parse_whole(data: &[u8], format: Format, mode: Mode, n_lines: usize) -> Parsed<'_> {
    let mut parser = Parser::new(data, format, mode);
    let parsed: Parsed = parser.by_ref().collect();
    assert_eq!(
        parser.into_state().lines(),
        n_lines,
        "{format:?}/{mode:?}: ParseState::lines after the whole input"
    );
    parsed
}

/// At most one item per line, plus the end-of-input error; everything walkable;
/// errors in line order, each pointing into the input.
fn check_parsed(parsed: &Parsed<'_>, lines: &[&[u8]], n_lines: usize, format: Format, mode: Mode) {
    assert!(
        parsed.len() <= n_lines + 1,
        "{format:?}/{mode:?}: {} items from {n_lines} lines",
        parsed.len()
    );
    let mut prev_line = 1;
    for item in parsed {
        match item {
            Ok(entry) => walk_entry(entry, format, mode),
            Err(e) => {
                check_error(e, lines, n_lines);
                assert!(
                    e.line >= prev_line,
                    "{format:?}/{mode:?}: an error on line {} after one on line {prev_line}",
                    e.line
                );
                prev_line = e.line;
            }
        }
    }
}

/// A `ParseError` names a line of the input (or the one after the last, for what is
/// missing at the end) and a column within that line (from 1, in characters).
fn check_error(e: &ParseError, lines: &[&[u8]], n_lines: usize) {
    let msg = e.to_string();
    assert!(
        e.line >= 1 && e.column >= 1,
        "error at line or column 0: {msg}"
    );
    assert!(
        e.line <= n_lines + 1,
        "error on line {} of a {n_lines}-line input: {msg}",
        e.line
    );
    let chars = match lines.get(e.line - 1) {
        Some(line) if e.line <= n_lines => String::from_utf8_lossy(line).chars().count(),
        _ => 0,
    };
    assert!(
        e.column <= chars + 1,
        "error at column {} of line {}, which has {chars} characters: {msg}",
        e.column,
        e.line
    );
    assert!(
        !e.found.is_empty() && !e.expected.is_empty(),
        "error without what was found or expected: {msg:?}"
    );
}

/// The escapes a piece of text may hold, by where it stands (see `Text::get`).
#[derive(Clone, Copy, Debug)]
enum Escaping {
    /// None: a UNIT's text.
    None,
    /// `\\` and `\n`: HELP text of the text format.
    Help,
    /// `\\`, `\n` and `\"`: quoted names, label values, OpenMetrics HELP text.
    Quoted,
}

/// What `Text::get` returns for `raw`, as the parser documents it: the known escapes
/// undone, any other escape (and a final lone backslash) kept as written.
fn unescape_model(raw: &str, escaping: Escaping) -> Cow<'_, str> {
    if matches!(escaping, Escaping::None) || !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if matches!(escaping, Escaping::Quoted) => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// Walks every part of an entry: names, label names and values, HELP text, UNIT,
/// exemplar labels. Each format yields only what it has.
fn walk_entry(entry: &Entry<'_>, format: Format, mode: Mode) {
    let _ = format!("{entry:?}");
    match entry {
        Entry::Help { name, help } => {
            walk_text(name, Escaping::Quoted);
            let escaping = match format {
                Format::Text => Escaping::Help,
                Format::OpenMetrics => Escaping::Quoted,
            };
            walk_text(help, escaping);
        }
        Entry::Type { name, kind } => {
            walk_text(name, Escaping::Quoted);
            assert_eq!(kind.to_string(), kind.as_str());
            // The exposition library (strict text) also reads `gauge_histogram`.
            assert!(
                format == Format::OpenMetrics
                    || matches!(
                        kind,
                        MetricType::Counter
                            | MetricType::Gauge
                            | MetricType::Histogram
                            | MetricType::Summary
                            | MetricType::Unknown
                    )
                    || (mode == Mode::Strict && *kind == MetricType::GaugeHistogram),
                "the text format yielded TYPE {kind}"
            );
        }
        Entry::Unit { name, unit } => {
            assert_eq!(
                format,
                Format::OpenMetrics,
                "the text format yielded a UNIT"
            );
            walk_text(name, Escaping::Quoted);
            walk_text(unit, Escaping::None);
        }
        Entry::Sample(s) => {
            walk_text(&s.name, Escaping::Quoted);
            walk_labels(&s.labels, mode == Mode::Lenient);
            check_value(s.value);
            if let Some(ex) = &s.exemplar {
                assert_eq!(
                    format,
                    Format::OpenMetrics,
                    "the text format yielded an exemplar"
                );
                walk_labels(&ex.labels, false);
                check_value(ex.value);
            }
        }
    }
}

/// A scraped NaN is the normal NaN, never the stale marker or another payload.
fn check_value(v: f64) {
    assert!(
        !v.is_nan() || v.to_bits() == NORMAL_NAN_BITS,
        "a NaN value with bits {:#018x}, not the normal NaN",
        v.to_bits()
    );
}

/// `Text::get` unescapes as documented; the other accessors agree with it.
fn walk_text(t: &Text<'_>, escaping: Escaping) {
    let got = t.get();
    assert_eq!(
        got,
        unescape_model(t.raw(), escaping),
        "Text::get of {:?} ({escaping:?} escapes)",
        t.raw()
    );
    check_text_accessors(t, got);
}

fn check_text_accessors(t: &Text<'_>, got: Cow<'_, str>) {
    let raw = t.raw();
    if t.is_borrowed() {
        assert!(
            matches!(got, Cow::Borrowed(g) if g == raw),
            "a borrowed Text {raw:?} unescaped to {got:?}"
        );
    }
    assert!(*t == *got, "Text {raw:?} is not equal to its own text");
    assert_eq!(t.to_string(), *got);
    let _ = format!("{t:?}");
}

/// Walks a label set; with `float_labels` (lenient mode), the value of an `le` or
/// `quantile` label may read as Prometheus spells the number (`"1"` reads `"1.0"`).
fn walk_labels(set: &LabelSet<'_>, float_labels: bool) {
    let labels: Vec<_> = set.iter().collect();
    assert_eq!(set.is_empty(), labels.is_empty(), "LabelSet::is_empty");
    assert_eq!(set.into_iter().count(), labels.len(), "LabelSet::into_iter");
    // `a=""` is the shortest label: iterating cannot find more than the span holds.
    assert!(
        labels.len() * 4 <= set.raw().len(),
        "{} labels in {:?}",
        labels.len(),
        set.raw()
    );
    for (i, l) in labels.iter().enumerate() {
        walk_text(&l.name, Escaping::Quoted);
        let got = l.value.get();
        let want = unescape_model(l.value.raw(), Escaping::Quoted);
        if got != want {
            let name = l.name.raw();
            assert!(
                float_labels && matches!(name, "le" | "quantile"),
                "Text::get of the value {:?} of label {name:?}: {got:?}",
                l.value.raw()
            );
            let same = match (got.parse::<f64>(), want.parse::<f64>()) {
                (Ok(a), Ok(b)) => a == b || (a.is_nan() && b.is_nan()),
                _ => false,
            };
            assert!(
                same,
                "{name}={:?} reads {got:?}, not the same number",
                l.value.raw()
            );
        }
        check_text_accessors(&l.value, got);
        if i < 16 {
            let name = l.name.get();
            let first = labels.iter().find(|m| m.name == *name).map(|m| m.value);
            assert_eq!(
                set.get(&name),
                first,
                "LabelSet::get({name:?}) is not the first label of that name"
            );
        }
    }
    let _ = format!("{set:?}");
}

/// Two places to cut an input into three pieces, each but the last ending with `\n`
/// (as [`Parser::piece`] asks): after the k-th line, k derived from the input's
/// length and first byte.
fn piece_splits(data: &[u8]) -> (usize, usize) {
    let ends: Vec<usize> = (0..data.len())
        .filter(|&i| data[i] == b'\n')
        .map(|i| i + 1)
        .collect();
    let at = |k: usize| if k == 0 { 0 } else { ends[k - 1] };
    let n = ends.len() + 1;
    let a = at(data.len() % n);
    let b = at(usize::from(data.first().copied().unwrap_or(0)) % n);
    (a.min(b), a.max(b))
}

/// Parsing in three pieces, the state carried from one to the next (and, as
/// [`Parser::consumed`] says, a record left unfinished at the end of a piece), the
/// last piece through [`Parser::last_piece`], yields what parsing the whole input
/// yields, bit for bit, and counts the same lines.
fn check_pieces(
    data: &[u8],
    (a, b): (usize, usize),
    whole: &Parsed<'_>,
    n_lines: usize,
    format: Format,
    mode: Mode,
) {
    let mut state = ParseState::new(format, mode);
    let mut got: Parsed = Vec::new();
    let mut from = 0;
    for end in [a, b] {
        let mut p = Parser::piece(&data[from..end.max(from)], state);
        got.extend(p.by_ref());
        from += p.consumed();
        state = p.into_state();
    }
    let mut p = Parser::last_piece(&data[from..], state);
    got.extend(p.by_ref());
    let lines = p.into_state().lines();
    assert!(
        got.len() == whole.len() && got.iter().zip(whole).all(|(g, w)| same_item(g, w)),
        "{format:?}/{mode:?}: parsing in pieces cut at bytes {a} and {b} differs from parsing \
         the whole:\npieces: {got:?}\nwhole:  {whole:?}"
    );
    assert_eq!(
        lines, n_lines,
        "{format:?}/{mode:?}: ParseState::lines after pieces cut at bytes {a} and {b}"
    );
}

/// The same entry (every string as written, every value bit for bit: NaN is not
/// equal to itself under `==`) or the same error.
fn same_item(a: &Result<Entry<'_>, ParseError>, b: &Result<Entry<'_>, ParseError>) -> bool {
    match (a, b) {
        (Ok(Entry::Sample(x)), Ok(Entry::Sample(y))) => {
            let (mut x, mut y) = (*x, *y);
            if x.value.to_bits() != y.value.to_bits() {
                return false;
            }
            (x.value, y.value) = (0.0, 0.0);
            if let (Some(p), Some(q)) = (&mut x.exemplar, &mut y.exemplar) {
                if p.value.to_bits() != q.value.to_bits() {
                    return false;
                }
                (p.value, q.value) = (0.0, 0.0);
            }
            x == y
        }
        _ => a == b,
    }
}

/// The same entry as written: names and texts as [`same_item`], label sets by their
/// text (how they read may differ: lenient mode spells `le` and `quantile` values
/// as Prometheus does, strict mode keeps them as written).
fn same_as_written(a: &Entry<'_>, b: &Entry<'_>) -> bool {
    match (a, b) {
        (Entry::Sample(x), Entry::Sample(y)) => {
            let exemplar = match (&x.exemplar, &y.exemplar) {
                (None, None) => true,
                (Some(p), Some(q)) => {
                    p.labels.raw() == q.labels.raw()
                        && p.value.to_bits() == q.value.to_bits()
                        && p.timestamp == q.timestamp
                }
                _ => false,
            };
            exemplar
                && x.name == y.name
                && x.labels.raw() == y.labels.raw()
                && x.value.to_bits() == y.value.to_bits()
                && x.timestamp == y.timestamp
        }
        _ => a == b,
    }
}

/// Whether `line` ends inside a double-quoted string (a backslash in a string
/// escapes the next byte), as the parser's strings run.
fn ends_inside_quotes(line: &[u8]) -> bool {
    let mut inside = false;
    let mut bytes = line.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'"' => inside = !inside,
            b'\\' if inside => {
                bytes.next();
            }
            _ => {}
        }
    }
    inside
}

/// Strict mode checks more than lenient mode on the same grammar: every entry it
/// yields, lenient mode yields too, in the same order. For the text format only
/// samples are compared: the exposition library that strict mode follows reads
/// metadata lines differently from Prometheus's scraper (`#TYPE` without a blank,
/// any number of blanks before the text, the type in any case).
fn strict_within_lenient(lenient: &Parsed<'_>, strict: &Parsed<'_>, format: Format) {
    let compared = |e: &&Entry<'_>| format == Format::OpenMetrics || matches!(e, Entry::Sample(_));
    let mut rest = lenient.iter().flatten().filter(compared);
    for (i, k) in strict.iter().flatten().filter(compared).enumerate() {
        assert!(
            rest.any(|l| same_as_written(l, k)),
            "{format:?}: strict mode yielded entry #{i} {k:?}, which lenient mode does not \
             yield (in that order)"
        );
    }
}

/// Label names and values as they read.
type LabelPairs = Vec<(String, String)>;

/// An entry as compared across a round trip through text: strings as they read
/// (unescaped), values as bits with every NaN alike.
#[derive(Debug, PartialEq)]
enum EntryKey {
    Help(String, String),
    Type(String, MetricType),
    Unit(String, String),
    Sample {
        name: String,
        labels: LabelPairs,
        value: u64,
        timestamp: Option<i64>,
        exemplar: Option<(LabelPairs, u64, Option<i64>)>,
    },
}

fn keys(parsed: &[Result<Entry<'_>, ParseError>]) -> Vec<Result<EntryKey, String>> {
    parsed
        .iter()
        .map(|r| match r {
            Ok(e) => Ok(entry_key(e)),
            Err(e) => Err(e.to_string()),
        })
        .collect()
}

fn entry_key(e: &Entry<'_>) -> EntryKey {
    let text = |t: &Text<'_>| t.get().into_owned();
    let labels = |set: &LabelSet<'_>| -> LabelPairs {
        set.iter()
            .map(|l| (text(&l.name), text(&l.value)))
            .collect()
    };
    let value = |v: f64| {
        if v.is_nan() {
            NORMAL_NAN_BITS
        } else {
            v.to_bits()
        }
    };
    match e {
        Entry::Help { name, help } => EntryKey::Help(text(name), text(help)),
        Entry::Type { name, kind } => EntryKey::Type(text(name), *kind),
        Entry::Unit { name, unit } => EntryKey::Unit(text(name), text(unit)),
        Entry::Sample(s) => EntryKey::Sample {
            name: text(&s.name),
            labels: labels(&s.labels),
            value: value(s.value),
            timestamp: s.timestamp,
            exemplar: s
                .exemplar
                .as_ref()
                .map(|x| (labels(&x.labels), value(x.value), x.timestamp)),
        },
    }
}

/// The entries a text parse yields, written back as text (canonical form: names
/// bare when they are legacy names, else quoted inside the braces; one line per
/// entry, newlines in strings escaped; values with full precision), parse in the
/// same mode to the same entries: the same names, label names and values as they
/// read, in the same order, values (every NaN alike), timestamps, HELP and TYPE.
///
/// Called for lenient mode whatever the errors: the only state lenient text mode
/// keeps across lines is the type of the last TYPE entry (for the spelling of `le`
/// and `quantile`), which the TYPE lines written back restore, so the entries of
/// the lines that parse stand without the lines that do not. For strict mode only
/// when the strict parse had no error at all (its rules span lines).
///
/// Not checked: comments and blank lines (not entries), how names, strings and
/// numbers were spelt (only how they read is compared), and OpenMetrics (no writer
/// here; its timestamps are seconds truncated to milliseconds, which text cannot
/// give back).
fn text_round_trip(parsed: &Parsed<'_>, mode: Mode) {
    let entries: Parsed = parsed.iter().filter(|r| r.is_ok()).cloned().collect();
    let mut text = String::new();
    for e in entries.iter().flatten() {
        write_text_entry(e, &mut text);
    }
    let again: Parsed = Parser::new(text.as_bytes(), Format::Text, mode).collect();
    assert_eq!(
        keys(&again),
        keys(&entries),
        "{mode:?} text entries written back as text parse to other entries or errors; \
         written:\n{text}"
    );
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
fn is_legacy_metric_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_' || c == b':')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
fn is_legacy_label_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// `"s"` with `\`, `"` and newline escaped.
fn write_quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_meta_name(name: &str, out: &mut String) {
    if is_legacy_metric_name(name) {
        out.push_str(name);
    } else {
        write_quoted(name, out);
    }
}

/// A sample value as the text format reads it back to the same bits (`{:?}` is the
/// shortest representation that does), infinities and NaN spelt as Prometheus does.
fn text_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v:?}")
    }
}

/// One entry as a line of the text format 0.0.4.
fn write_text_entry(e: &Entry<'_>, out: &mut String) {
    match e {
        Entry::Help { name, help } => {
            out.push_str("# HELP ");
            write_meta_name(&name.get(), out);
            out.push(' ');
            // The text format's HELP escapes: `\\` and `\n` only.
            for c in help.get().chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    c => out.push(c),
                }
            }
        }
        Entry::Type { name, kind } => {
            out.push_str("# TYPE ");
            write_meta_name(&name.get(), out);
            out.push(' ');
            out.push_str(match kind {
                MetricType::Unknown => "untyped",
                k => k.as_str(),
            });
        }
        Entry::Unit { .. } => panic!("the text format yielded a UNIT"),
        Entry::Sample(s) => {
            assert!(s.exemplar.is_none(), "the text format yielded an exemplar");
            let name = s.name.get();
            let bare = is_legacy_metric_name(&name);
            if bare {
                out.push_str(&name);
            }
            let mut items = 0;
            if !bare {
                out.push('{');
                write_quoted(&name, out);
                items += 1;
            }
            for l in s.labels.iter() {
                out.push_str(if items == 0 { "{" } else { "," });
                items += 1;
                let n = l.name.get();
                if is_legacy_label_name(&n) {
                    out.push_str(&n);
                } else {
                    write_quoted(&n, out);
                }
                out.push('=');
                write_quoted(&l.value.get(), out);
            }
            if items > 0 {
                out.push('}');
            }
            out.push(' ');
            out.push_str(&text_value(s.value));
            if let Some(t) = s.timestamp {
                out.push(' ');
                out.push_str(&t.to_string());
            }
        }
    }
    out.push('\n');
}
