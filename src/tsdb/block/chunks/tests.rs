use std::borrow::Cow;
use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::segment::split_ref;
use super::*;
use crate::tsdb::chunk::{XorAppender, XorIter};
use crate::tsdb::fs::{Access, RealFs, real};

type Samples = Vec<(i64, f64)>;

/// `n` XOR chunks of 1 to `max_samples` samples each, and their samples.
fn xor_chunks(rng: &mut fastrand::Rng, n: usize, max_samples: usize) -> Vec<(Vec<u8>, Samples)> {
    (0..n)
        .map(|_| {
            let mut app = XorAppender::new();
            let mut samples = Vec::new();
            let mut t = rng.i64(0..1 << 40);
            let mut v = rng.f64() * 1000.0;
            for _ in 0..rng.usize(1..=max_samples) {
                t += rng.i64(1..30_000);
                if rng.bool() {
                    v += rng.f64();
                }
                app.append(t, v);
                samples.push((t, v));
            }
            (app.into_bytes(), samples)
        })
        .collect()
}

fn decode(data: &[u8]) -> Samples {
    let mut it = XorIter::new(data);
    let samples: Samples = it.by_ref().collect();
    assert_eq!(it.err(), None);
    samples
}

fn write_all(dir: &Path, segment_size: u64, chunks: &[Vec<u8>]) -> (Vec<u64>, ChunkFileStats) {
    let mut w =
        ChunkWriter::create_with(&real(), dir, ChunkWriterOptions { segment_size }).unwrap();
    let refs = chunks.iter().map(|c| w.write(1, c).unwrap()).collect();
    (refs, w.finish().unwrap())
}

fn segment_len(dir: &Path, n: u32) -> u64 {
    fs::metadata(dir.join(chunk_segment_name(n))).unwrap().len()
}

const BOTH: [Access; 2] = [Access::Mmap, Access::Pread];

#[test]
fn many_xor_chunks_round_trip_across_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chunks");
    let mut rng = fastrand::Rng::with_seed(7);
    let chunks = xor_chunks(&mut rng, 500, 150);
    let data: Vec<Vec<u8>> = chunks.iter().map(|(c, _)| c.clone()).collect();
    let (refs, stats) = write_all(&dir, 4096, &data);

    assert_eq!(stats.chunks, 500);
    assert!(stats.segments >= 5, "{stats:?}");
    let on_disk: u64 = (1..=stats.segments).map(|n| segment_len(&dir, n)).sum();
    assert_eq!(stats.bytes, on_disk);
    for n in 1..=stats.segments {
        assert!(segment_len(&dir, n) <= 4096);
    }
    assert!(!dir.join(chunk_segment_name(stats.segments + 1)).exists());
    // References grow: segment by segment, offset by offset, from 000001 at 8.
    assert_eq!(refs[0], chunk_ref(1, 8));
    assert!(refs.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(split_ref(refs[refs.len() - 1]).0, stats.segments);

    for how in BOTH {
        let reader = ChunkReader::open(&RealFs, &dir, how).unwrap();
        assert_eq!(reader.segments(), stats.segments);
        for (r, (chunk, samples)) in refs.iter().zip(&chunks) {
            let (encoding, got) = reader.chunk(*r).unwrap();
            assert_eq!(encoding, 1);
            assert_eq!(&*got, chunk.as_slice());
            assert_eq!(matches!(got, Cow::Borrowed(_)), how == Access::Mmap);
            assert_eq!(&decode(&got), samples);
        }
    }
}

#[test]
fn default_segment_size_holds_everything_in_one_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chunks");
    let mut rng = fastrand::Rng::with_seed(1);
    let chunks = xor_chunks(&mut rng, 50, 120);
    let mut w = ChunkWriter::create(&real(), &dir).unwrap();
    let refs: Vec<u64> = chunks.iter().map(|(c, _)| w.write(1, c).unwrap()).collect();
    let stats = w.finish().unwrap();
    assert_eq!((stats.segments, stats.chunks), (1, 50));
    let reader = ChunkReader::open(&RealFs, &dir, Access::Pread).unwrap();
    for (r, (c, _)) in refs.iter().zip(&chunks) {
        assert_eq!(reader.chunk(*r).unwrap(), (1, Cow::Borrowed(c.as_slice())));
    }
}

#[test]
fn a_record_that_does_not_fit_starts_a_new_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chunks");
    // Records of 50 data bytes take 1 + 1 + 50 + 4 = 56 bytes.
    let mut w =
        ChunkWriter::create_with(&real(), &dir, ChunkWriterOptions { segment_size: 100 }).unwrap();
    assert_eq!(w.write(1, &[1; 50]).unwrap(), chunk_ref(1, 8));
    assert_eq!(w.write(2, &[2; 50]).unwrap(), chunk_ref(2, 8));
    // Exactly the room of an empty segment: 8 + 1 + 1 + 86 + 4 = 100.
    assert_eq!(w.write(3, &[3; 86]).unwrap(), chunk_ref(3, 8));
    let err = w.write(4, &[4; 87]).unwrap_err();
    assert!(
        matches!(
            err,
            ChunkFileError::Rejected {
                problem: ChunkRejection::TooLarge {
                    len: 87,
                    segment_size: 100
                },
                ..
            }
        ),
        "{err}"
    );
    let err = w.write(0, &[0; 3]).unwrap_err();
    assert!(
        matches!(
            err,
            ChunkFileError::Rejected {
                problem: ChunkRejection::InvalidEncoding,
                ..
            }
        ),
        "{err}"
    );
    // An empty chunk is a valid record; refused writes left nothing behind.
    assert_eq!(w.write(5, &[]).unwrap(), chunk_ref(4, 8));
    let stats = w.finish().unwrap();
    assert_eq!(stats.segments, 4);
    assert_eq!(stats.chunks, 4);
    assert_eq!(segment_len(&dir, 3), 100);
    assert_eq!(segment_len(&dir, 4), 8 + 1 + 1 + 4);
    let reader = ChunkReader::open(&RealFs, &dir, Access::Mmap).unwrap();
    assert_eq!(
        reader.chunk(chunk_ref(2, 8)).unwrap(),
        (2, Cow::Borrowed(&[2u8; 50][..]))
    );
    assert_eq!(
        reader.chunk(chunk_ref(3, 8)).unwrap(),
        (3, Cow::Borrowed(&[3u8; 86][..]))
    );
    assert_eq!(
        reader.chunk(chunk_ref(4, 8)).unwrap(),
        (5, Cow::Borrowed(&[][..]))
    );

    for bad in [0, 8, MAX_SEGMENT_SIZE + 1] {
        let err = ChunkWriter::create_with(&real(), &dir, ChunkWriterOptions { segment_size: bad })
            .err()
            .unwrap();
        assert!(matches!(
            err,
            ChunkFileError::Rejected {
                problem: ChunkRejection::BadSegmentSize(_),
                ..
            }
        ));
    }
    // A writer never overwrites existing segments.
    let mut w = ChunkWriter::create(&real(), &dir).unwrap();
    let err = w.write(1, &[1]).unwrap_err();
    assert!(matches!(err, ChunkFileError::Io { .. }), "{err}");
    assert!(err.to_string().contains("000001"), "{err}");
    // After an I/O error the writer refuses everything.
    let err = w.write(1, &[1]).unwrap_err();
    assert!(
        matches!(
            err,
            ChunkFileError::Rejected {
                problem: ChunkRejection::Failed,
                ..
            }
        ),
        "{err}"
    );
    assert!(w.finish().is_err());
}

#[test]
fn no_chunks_no_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("block").join("chunks");
    let stats = ChunkWriter::create(&real(), &dir)
        .unwrap()
        .finish()
        .unwrap();
    assert_eq!(stats, ChunkFileStats::default());
    assert!(dir.is_dir());
    for how in BOTH {
        let reader = ChunkReader::open(&RealFs, &dir, how).unwrap();
        assert_eq!(reader.segments(), 0);
        let err = reader.chunk(chunk_ref(1, 8)).unwrap_err();
        assert!(matches!(
            err,
            ChunkFileError::Corrupt {
                problem: ChunkCorruption::NoSuchSegment { segments: 0 },
                ..
            }
        ));
    }
    let err = ChunkReader::open(&RealFs, &tmp.path().join("nope"), Access::Mmap).unwrap_err();
    assert!(matches!(err, ChunkFileError::Io { .. }));
    assert!(err.to_string().contains("nope"), "{err}");
}

fn problem(err: &ChunkFileError) -> &ChunkCorruption {
    match err {
        ChunkFileError::Corrupt { problem, .. } => problem,
        other => panic!("not a corruption: {other}"),
    }
}

#[test]
fn bad_references_are_errors_naming_segment_and_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chunks");
    let mut rng = fastrand::Rng::with_seed(3);
    let chunks: Vec<Vec<u8>> = xor_chunks(&mut rng, 30, 40)
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    let (refs, stats) = write_all(&dir, 512, &chunks);
    assert!(stats.segments >= 3);
    for how in BOTH {
        let reader = ChunkReader::open(&RealFs, &dir, how).unwrap();
        // Segments the block does not have.
        for r in [
            chunk_ref(0, 8),
            chunk_ref(stats.segments + 1, 8),
            chunk_ref(u32::MAX, u32::MAX),
        ] {
            let err = reader.chunk(r).unwrap_err();
            assert_eq!(
                problem(&err),
                &ChunkCorruption::NoSuchSegment {
                    segments: stats.segments
                }
            );
            let (seg, off) = split_ref(r);
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("chunks/{} offset {off}:", chunk_segment_name(seg))),
                "{msg}"
            );
        }
        for n in 1..=stats.segments {
            let len = segment_len(&dir, n);
            // Into the header.
            for off in 0..8 {
                let err = reader.chunk(chunk_ref(n, off)).unwrap_err();
                assert_eq!(problem(&err), &ChunkCorruption::InHeader);
            }
            // At or past the end.
            for off in [len, len + 1, u64::from(u32::MAX)] {
                let err = reader.chunk(chunk_ref(n, off as u32)).unwrap_err();
                assert_eq!(problem(&err), &ChunkCorruption::PastEnd { file_len: len });
                let msg = err.to_string();
                let want = format!(
                    "chunks/{} offset {off}: chunk reference past the end",
                    chunk_segment_name(n)
                );
                assert!(msg.contains(&want), "{msg}");
            }
        }
        // Into the middle of a record: every byte after its start.
        for (i, &r) in refs.iter().enumerate() {
            let (seg, start) = split_ref(r);
            let end = match refs.get(i + 1) {
                Some(&next) if split_ref(next).0 == seg => split_ref(next).1,
                _ => segment_len(&dir, seg) as u32,
            };
            for off in start + 1..end {
                let err = reader.chunk(chunk_ref(seg, off)).unwrap_err();
                let msg = err.to_string();
                assert!(
                    msg.contains(&format!(
                        "chunks/{} offset {off}: ",
                        chunk_segment_name(seg)
                    )),
                    "{msg}"
                );
            }
        }
    }
}

#[test]
fn a_flipped_byte_anywhere_gives_an_error_or_the_exact_chunk() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chunks");
    let mut rng = fastrand::Rng::with_seed(11);
    let chunks: Vec<Vec<u8>> = xor_chunks(&mut rng, 12, 12)
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    let (refs, stats) = write_all(&dir, 200, &chunks);
    assert!(stats.segments >= 3, "{stats:?}");
    let mut failures = 0;
    for n in 1..=stats.segments {
        let path = dir.join(chunk_segment_name(n));
        let original = fs::read(&path).unwrap();
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        for pos in 0..original.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                file.write_all_at(&[original[pos] ^ mask], pos as u64)
                    .unwrap();
                for how in BOTH {
                    let reader = match ChunkReader::open(&RealFs, &dir, how) {
                        Ok(reader) => reader,
                        Err(err) => {
                            // Only a damaged header stops the whole block.
                            assert!(pos < 8, "{pos}: {err}");
                            assert!(
                                err.to_string()
                                    .contains(&format!("chunks/{}", chunk_segment_name(n)))
                            );
                            continue;
                        }
                    };
                    assert!(pos >= 8, "a damaged header at {pos} went unnoticed");
                    for (r, chunk) in refs.iter().zip(&chunks) {
                        let (seg, start) = split_ref(*r);
                        match reader.chunk(*r) {
                            Ok((encoding, data)) => {
                                assert_eq!(
                                    (encoding, &*data),
                                    (1, chunk.as_slice()),
                                    "{pos} {mask}"
                                );
                                // The damaged record is the one holding `pos`.
                                let hit = seg == n
                                    && pos as u64 >= u64::from(start)
                                    && pos as u64 - u64::from(start) < (chunk.len() + 6) as u64;
                                assert!(!hit, "flip at {pos} of record at {start} unnoticed");
                            }
                            Err(err) => {
                                failures += 1;
                                assert_eq!(seg, n, "{err}");
                                let msg = err.to_string();
                                assert!(
                                    msg.contains(&format!(
                                        "chunks/{} offset {start}: ",
                                        chunk_segment_name(n)
                                    )),
                                    "{msg}"
                                );
                            }
                        }
                    }
                }
                file.write_all_at(&original[pos..pos + 1], pos as u64)
                    .unwrap();
            }
        }
    }
    assert!(failures > 0);
}

#[test]
fn truncated_segment_fails_only_its_cut_record() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chunks");
    let mut rng = fastrand::Rng::with_seed(5);
    let chunks: Vec<Vec<u8>> = xor_chunks(&mut rng, 20, 30)
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    let (refs, stats) = write_all(&dir, 400, &chunks);
    let last = stats.segments;
    let path = dir.join(chunk_segment_name(last));
    let len = segment_len(&dir, last);
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 1)
        .unwrap();
    for how in BOTH {
        let reader = ChunkReader::open(&RealFs, &dir, how).unwrap();
        let (last_ref, others) = refs.split_last().unwrap();
        for (r, c) in others.iter().zip(&chunks) {
            assert_eq!(&*reader.chunk(*r).unwrap().1, c.as_slice());
        }
        let err = reader.chunk(*last_ref).unwrap_err();
        assert!(
            matches!(problem(&err), ChunkCorruption::RecordPastEnd { .. }),
            "{err}"
        );
    }
}

#[test]
fn bad_headers_and_missing_segments_name_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chunks");
    let chunks = vec![vec![0u8, 0]; 6];
    let (_, stats) = write_all(&dir, 30, &chunks);
    assert_eq!(stats.segments, 3);
    let second = dir.join(chunk_segment_name(2));
    let good = fs::read(&second).unwrap();
    let cases: [(&[u8], ChunkCorruption, &str); 6] = [
        (
            b"XXXX\x01\0\0\0",
            ChunkCorruption::BadMagic(*b"XXXX"),
            "offset 0: bad magic",
        ),
        (
            b"TMBC\x02\0\0\0",
            ChunkCorruption::BadVersion(2),
            "offset 4: unsupported chunk segment format version 2",
        ),
        (
            b"TMBC\x01\0\x07\0",
            ChunkCorruption::BadHeaderPadding([0, 7, 0]),
            "offset 5: segment header bytes",
        ),
        (
            b"TMBC\x01",
            ChunkCorruption::ShortHeader { len: 5 },
            "offset 0: file of 5 bytes",
        ),
        (
            b"",
            ChunkCorruption::ShortHeader { len: 0 },
            "offset 0: file of 0 bytes",
        ),
        (
            b"TMHC\x01\0\0\0",
            ChunkCorruption::BadMagic(*b"TMHC"),
            "not a chunk segment file",
        ),
    ];
    for (bytes, want, text) in cases {
        fs::write(&second, bytes).unwrap();
        for how in BOTH {
            let err = ChunkReader::open(&RealFs, &dir, how).unwrap_err();
            assert_eq!(problem(&err), &want);
            let msg = err.to_string();
            assert!(
                msg.contains("chunks/000002 ") && msg.contains(text),
                "{msg}"
            );
        }
    }
    fs::write(&second, &good).unwrap();
    ChunkReader::open(&RealFs, &dir, Access::Mmap).unwrap();

    // Names that are not segments are ignored; a gap is an error.
    fs::write(dir.join("000004.tmp"), b"junk").unwrap();
    fs::write(dir.join("notes"), b"junk").unwrap();
    assert_eq!(
        ChunkReader::open(&RealFs, &dir, Access::Pread)
            .unwrap()
            .segments(),
        3
    );
    fs::remove_file(&second).unwrap();
    let err = ChunkReader::open(&RealFs, &dir, Access::Mmap).unwrap_err();
    assert_eq!(
        problem(&err),
        &ChunkCorruption::NoSuchSegment { segments: 2 }
    );
    assert!(
        err.to_string()
            .contains("chunks/000002 offset 0: no such chunk segment"),
        "{err}"
    );
}

#[test]
fn random_bytes_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chunks");
    fs::create_dir(&dir).unwrap();
    let mut rng = fastrand::Rng::with_seed(42);
    for round in 0..40 {
        let mut bytes = b"TMBC\x01\0\0\0".to_vec();
        let len = rng.usize(0..300);
        // Mostly continuation bits in some rounds: long or overflowing varints.
        let high = round % 4 == 0;
        bytes.extend((0..len).map(|_| if high { rng.u8(0x80..) } else { rng.u8(..) }));
        if round % 5 == 0 {
            // A record whose length claims far more than the file holds.
            bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]);
        }
        fs::write(dir.join(chunk_segment_name(1)), &bytes).unwrap();
        for how in BOTH {
            let reader = ChunkReader::open(&RealFs, &dir, how).unwrap();
            for off in 0..bytes.len() as u32 + 2 {
                let _ = reader.chunk(chunk_ref(1, off));
            }
            for _ in 0..50 {
                let _ = reader.chunk(rng.u64(..));
            }
        }
    }
}
