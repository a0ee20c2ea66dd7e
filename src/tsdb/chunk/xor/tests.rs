use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::model::STALE_NAN_BITS;

fn encode(samples: &[(i64, u64)]) -> Vec<u8> {
    let mut app = XorAppender::new();
    for &(t, v) in samples {
        app.append(t, f64::from_bits(v));
    }
    app.into_bytes()
}

fn decode(bytes: &[u8]) -> (Vec<(i64, u64)>, Option<ChunkError>) {
    let mut it = XorIter::new(bytes);
    let got = it.by_ref().map(|(t, v)| (t, v.to_bits())).collect();
    (got, it.err().cloned())
}

/// Packs a string of `0`/`1` (other characters ignored) MSB first, zero-padded:
/// independent of `BitWriter`, so the expected bytes below do not come from the
/// code under test.
fn bits(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let digits = s.chars().filter(|c| *c == '0' || *c == '1');
    for (n, c) in digits.enumerate() {
        if n % 8 == 0 {
            out.push(0);
        }
        if c == '1'
            && let Some(last) = out.last_mut()
        {
            *last |= 0x80 >> (n % 8);
        }
    }
    out
}

#[test]
fn empty_chunk_is_a_zero_count_header() {
    let app = XorAppender::new();
    assert_eq!(app.bytes(), &[0, 0]);
    assert_eq!(app.num_samples(), 0);
    assert_eq!((app.first_t(), app.last_t()), (None, None));
    assert!(app.heap_bytes() >= 2);
    assert_eq!(decode(app.bytes()), (vec![], None));
}

/// Six samples whose bytes are worked out by hand from the layout.
///
/// ```text
/// 00 06                     count = 6
/// D0 0F                     t0 = 1000: zigzag 2000 = 0b1111_1010000 -> 0x50|0x80, 0x0F
/// 3F F0 00 00 00 00 00 00   v0 = 1.0, 64 raw bits
/// E8 07                     t1 - t0 = 1000 = 0b111_1101000 -> 0x68|0x80, 0x07
/// then bits:
///   s1 v=1.0 (same)      0
///   s2 t=3000 (dod 0)    0
///      v=2.0             11 00001 001011 11111111111
///                        (1.0^2.0 = 0x7FF0_0000_0000_0000: 1 leading zero,
///                         52 trailing, 11 significant bits 0x7FF)
///   s3 t=4100 (dod 100)  10 00000001100100
///      v=3.0             11 01100 000001 1
///                        (2.0^3.0 = 0x0008_0000_0000_0000: 12 leading, 51
///                         trailing; 51 < 52 so the window cannot be reused)
///   s4 t=5150 (dod -50)  10 11111111001110   (2^14 - 50 = 16334)
///      v=3.0 (same)      0
///   s5 t=6200 (dod 0)    0
///      v=2.0             10 1
///                        (3.0^2.0 again: 12 >= 12 leading and 51 >= 51
///                         trailing, so the window is reused: 1 bit)
/// 77 bits, packed and zero-padded to 10 bytes:
///   00110000 10010111 11111111 11100000 00011001
///   00110110 00000011 10111111 11001110 00101000
/// ```
#[test]
fn hand_derived_bytes_match_prometheus_layout() {
    let samples = [
        (1000, 1.0f64),
        (2000, 1.0),
        (3000, 2.0),
        (4100, 3.0),
        (5150, 3.0),
        (6200, 2.0),
    ];
    let mut app = XorAppender::new();
    for (t, v) in samples {
        app.append(t, v);
    }
    #[rustfmt::skip]
    let expected: &[u8] = &[
        0x00, 0x06,
        0xD0, 0x0F,
        0x3F, 0xF0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xE8, 0x07,
        0x30, 0x97, 0xFF, 0xE0, 0x19, 0x36, 0x03, 0xBF, 0xCE, 0x28,
    ];
    assert_eq!(app.bytes(), expected);
    let got: Vec<(i64, f64)> = XorIter::new(expected).collect();
    assert_eq!(got, samples);
}

/// Bucket edges of the delta-of-delta encoding (each range is
/// `-(2^(n-1) - 1) ..= 2^(n-1)`, negatives as n-bit two's complement), the capped
/// leading-zero count, 64 significant bits written as 0, and reuse of a 0/0
/// window. Expected bits are written out field by field.
#[test]
fn hand_derived_bucket_edges_and_value_windows() {
    let v0 = 0x3FF0_0000_0000_0000; // 1.0
    let v1 = 0x4000_0000_0000_0000; // 2.0
    let v2 = 0x4000_0000_0000_0001;
    let v3 = 0xC000_0000_0000_0000;
    let v9 = 0xC000_0000_0000_0010;
    let samples = [
        (-5, v0),
        (5, v1),       // delta 10
        (8207, v2),    // delta 8202, dod +8192: top of the 14-bit bucket
        (8217, v3),    // delta 10, dod -8192: one below its bottom -> 17 bits
        (73763, v3),   // delta 65546, dod +65536: top of the 17-bit bucket
        (204846, v3),  // delta 131083, dod +65537 -> 20 bits
        (270392, v3),  // delta 65546, dod -65537 -> 20 bits
        (860226, v3),  // delta 589834, dod +524288: top of the 20-bit bucket
        (1974349, v3), // delta 1114123, dod +524289 -> 64 bits
        (3088472, v9), // dod 0
    ];
    let mut expected = vec![0x00, 0x0A];
    expected.extend(bits(concat!(
        // s0: varint(-5) = zigzag 9; then 1.0
        "00001001",
        "0011111111110000 0000000000000000 0000000000000000 0000000000000000",
        // s1: uvarint(10); 1.0^2.0: new window, 1 leading, 11 sigbits
        "00001010",
        "11 00001 001011 11111111111",
        // s2: dod +8192 in 14 bits
        "10 10000000000000",
        // 2.0 ^ v2 = 1: 63 leading zeros capped to 31, 33 sigbits
        "11 11111 100001 000000000000000000000000000000001",
        // s3: dod -8192 in 17 bits: 2^17 - 8192 = 0x1E000
        "110 11110000000000000",
        // v2 ^ v3 = 0x8000_0000_0000_0001: 0 leading, 64 sigbits written as 0
        "11 00000 000000",
        "1000000000000000000000000000000000000000000000000000000000000001",
        // s4: dod +65536 in 17 bits; same value
        "110 10000000000000000 0",
        // s5: dod +65537 in 20 bits; same value
        "1110 00010000000000000001 0",
        // s6: dod -65537 in 20 bits: 2^20 - 65537 = 0xEFFFF; same value
        "1110 11101111111111111111 0",
        // s7: dod +524288 in 20 bits; same value
        "1110 10000000000000000000 0",
        // s8: dod +524289 in 64 bits; same value
        "1111 0000000000000000000000000000000000000000000010000000000000000001 0",
        // s9: dod 0; v3 ^ v9 = 0x10 fits the 0/0 window: 64 bits
        "0 10 0000000000000000000000000000000000000000000000000000000000010000",
    )));
    assert_eq!(encode(&samples), expected);
    assert_eq!(decode(&expected), (samples.to_vec(), None));
}

/// A one-sample chunk as Prometheus 3 writes it (it appears in Prometheus's
/// remote-read tests): t = 7200000 ms, v = 12000.0.
#[test]
fn single_sample_chunk_matches_prometheus_3() {
    let expected = b"\x00\x01\x80\xf4\xee\x06\x40\xc7\x70\x00\x00\x00\x00\x00";
    let mut app = XorAppender::new();
    app.append(7_200_000, 12_000.0);
    assert_eq!(app.bytes(), expected);
}

/// Prometheus 2.x wrote one extra zero byte after a stream that ended on a byte
/// boundary (fixed in 3.0). Such chunks decode, and resume without the byte.
#[test]
fn prometheus_2_trailing_zero_byte_is_tolerated() {
    let mut v2 = encode(&[(7_200_000, 12_000.0f64.to_bits())]);
    v2.push(0);
    assert_eq!(
        decode(&v2),
        (vec![(7_200_000, 12_000.0f64.to_bits())], None)
    );
    let mut app = XorAppender::from_bytes(v2).unwrap();
    app.append(7_215_000, 12_001.0);
    let whole = encode(&[
        (7_200_000, 12_000.0f64.to_bits()),
        (7_215_000, 12_001.0f64.to_bits()),
    ]);
    assert_eq!(app.bytes(), whole.as_slice());
    // Anything else after the last sample is refused.
    let mut bad = encode(&[(7_200_000, 0)]);
    bad.push(1);
    assert!(matches!(
        XorAppender::from_bytes(bad),
        Err(ChunkError::TrailingBytes { .. })
    ));
}

#[test]
fn first_and_last_t_follow_appends() {
    let mut app = XorAppender::default();
    app.append(-7, 1.0);
    assert_eq!((app.first_t(), app.last_t()), (Some(-7), Some(-7)));
    app.append(3, 1.0);
    app.append(9, 2.0);
    assert_eq!((app.first_t(), app.last_t()), (Some(-7), Some(9)));
    assert_eq!(app.num_samples(), 3);
    assert_eq!(&app.bytes()[..2], &[0, 3]);
    let resumed = XorAppender::from_bytes(app.bytes().to_vec()).unwrap();
    assert_eq!((resumed.first_t(), resumed.last_t()), (Some(-7), Some(9)));
}

#[test]
fn full_chunk_ignores_further_appends() {
    let mut app = XorAppender::new();
    for i in 0..u32::from(u16::MAX) + 10 {
        app.append(i64::from(i) * 1000, f64::from(i % 7));
    }
    assert!(app.is_full());
    assert_eq!(app.num_samples(), u16::MAX);
    assert_eq!(app.last_t(), Some(i64::from(u16::MAX - 1) * 1000));
    let mut it = XorIter::new(app.bytes());
    assert_eq!(it.by_ref().count(), usize::from(u16::MAX));
    assert_eq!(it.err(), None);
}

#[test]
fn short_header_is_bad_header() {
    for bytes in [&[][..], &[0x00][..]] {
        let mut it = XorIter::new(bytes);
        assert_eq!(it.next(), None);
        assert_eq!(it.err(), Some(&ChunkError::BadHeader { len: bytes.len() }));
        assert_eq!(it.seek(0), None);
        assert!(XorAppender::from_bytes(bytes.to_vec()).is_err());
    }
}

#[test]
fn count_above_the_stream_is_truncated_error() {
    let mut bytes = encode(&[(1, 1), (2, 2), (3, 3)]);
    bytes[1] = 100;
    let (got, err) = decode(&bytes);
    // Zero padding bits may read as one more sample (dod 0, same value), as in
    // Prometheus; the missing rest is an error.
    assert_eq!(got[..3], [(1, 1), (2, 2), (3, 3)]);
    assert!(got.len() < 100);
    assert!(
        matches!(err, Some(ChunkError::Truncated { sample, len, .. })
            if usize::from(sample) == got.len() && len == bytes.len()),
        "{err:?}"
    );
}

#[test]
fn count_below_the_stream_stops_early() {
    let mut bytes = encode(&[(1, 1), (2, 2), (3, 3)]);
    bytes[1] = 2;
    assert_eq!(decode(&bytes), (vec![(1, 1), (2, 2)], None));
    // Two samples take 142 bits: header 16, varint 8, value 64, uvarint 8, and
    // 46 for the value (11 + 5 + 6 + 33 significant bits); so they end in byte 18.
    assert_eq!(
        XorAppender::from_bytes(bytes.clone()).err(),
        Some(ChunkError::TrailingBytes {
            samples: 2,
            end: 18,
            len: bytes.len()
        })
    );
}

#[test]
fn truncated_chunk_reports_sample_and_offset() {
    let samples: Vec<(i64, u64)> = (0..40)
        .map(|i| (i * 15_000 + (i % 3) * 7, ((i * i) as f64 / 3.0).to_bits()))
        .collect();
    let bytes = encode(&samples);
    // Bit offset where each sample ends, from a full decode.
    let mut it = XorIter::new(bytes.as_slice());
    let mut ends = Vec::new();
    while it.next().is_some() {
        ends.push(it.dec.r.bit_pos());
    }
    for len in 0..bytes.len() {
        let (got, err) = decode(&bytes[..len]);
        if len < 2 {
            assert_eq!(err, Some(ChunkError::BadHeader { len }));
            continue;
        }
        let k = ends.iter().take_while(|&&end| end <= len * 8).count();
        assert_eq!(got, samples[..k], "cut at {len}");
        let start = if k == 0 { 16 } else { ends[k - 1] };
        assert_eq!(
            err,
            Some(ChunkError::Truncated {
                sample: k as u16,
                offset: start / 8,
                len
            }),
            "cut at {len}"
        );
    }
}

#[test]
fn impossible_value_window_is_an_error() {
    // One sample (t = 0, v = 0.0), then a second with delta 1 whose value header
    // claims 31 leading zeros and 40 significant bits.
    let mut bytes = vec![0x00, 0x02, 0x00];
    bytes.extend([0; 8]);
    bytes.push(0x01);
    bytes.extend(bits("11 11111 101000 0000000"));
    let (got, err) = decode(&bytes);
    assert_eq!(got, vec![(0, 0)]);
    assert_eq!(
        err,
        Some(ChunkError::BadValueWindow {
            sample: 1,
            offset: 11,
            leading: 31,
            sigbits: 40
        })
    );
}

#[test]
fn overlong_varint_is_an_error() {
    let mut bytes = vec![0x00, 0x01];
    bytes.extend([0xFF; 10]);
    bytes.extend([0; 8]);
    assert_eq!(
        decode(&bytes).1,
        Some(ChunkError::BadVarint {
            sample: 0,
            offset: 2
        })
    );
    // A tenth byte above 1 overflows 64 bits too.
    let mut bytes = vec![0x00, 0x01];
    bytes.extend([0x80; 9]);
    bytes.push(0x02);
    bytes.extend([0; 8]);
    assert!(matches!(
        decode(&bytes).1,
        Some(ChunkError::BadVarint { .. })
    ));
}

#[test]
fn extreme_timestamps_roundtrip() {
    let samples = [
        (i64::MIN, 0),
        (i64::MIN + 1, 1),
        (0, 2),
        (1, 3),
        (i64::MAX - 1, 4),
        (i64::MAX, 5),
    ];
    assert_eq!(decode(&encode(&samples)), (samples.to_vec(), None));
}

/// Prometheus resumes a 1-sample chunk with a 0/0 window rather than none; such
/// a chunk (a `10` value header before any `11`) must still decode.
#[test]
fn value_before_any_window_reads_as_64_bit_window() {
    let mut bytes = vec![0x00, 0x02, 0x00];
    bytes.extend(1.0f64.to_bits().to_be_bytes());
    bytes.push(0x01);
    bytes.extend(bits(
        "10 0111111111110000000000000000000000000000000000000000000000000000",
    ));
    assert_eq!(
        decode(&bytes),
        (vec![(0, 1.0f64.to_bits()), (1, 2.0f64.to_bits())], None)
    );
}

#[test]
fn resume_at_every_split_gives_identical_bytes() {
    // Repeated values early on exercise resuming before any window exists.
    let samples: Vec<(i64, u64)> = [1.0, 1.0, 1.0, 2.0, 2.0, 2.5, f64::NAN, 2.5, 7.0, 7.0]
        .iter()
        .enumerate()
        .map(|(i, v)| (i as i64 * 1000 + (i as i64 % 2), v.to_bits()))
        .collect();
    let whole = encode(&samples);
    for split in 0..=samples.len() {
        let mut app = XorAppender::from_bytes(encode(&samples[..split])).unwrap();
        for &(t, v) in &samples[split..] {
            app.append(t, f64::from_bits(v));
        }
        assert_eq!(app.bytes(), whole.as_slice(), "split at {split}");
    }
}

#[test]
fn resume_clears_nonzero_padding() {
    let mut bytes = encode(&[(0, 0), (1, 1)]);
    let last = bytes.len() - 1;
    bytes[last] |= 0x01; // set a padding bit
    let mut app = XorAppender::from_bytes(bytes).unwrap();
    app.append(2, 0.0);
    assert_eq!(app.bytes(), encode(&[(0, 0), (1, 1), (2, 0)]).as_slice());
}

#[test]
fn iterator_works_over_owned_and_shared_containers() {
    let bytes = encode(&[(10, 1), (20, 2), (30, 3)]);
    let expected = vec![
        (10, f64::from_bits(1)),
        (20, f64::from_bits(2)),
        (30, f64::from_bits(3)),
    ];
    assert_eq!(XorIter::new(bytes.clone()).collect::<Vec<_>>(), expected);
    assert_eq!(XorIter::new(bytes.as_slice()).collect::<Vec<_>>(), expected);
    let boxed: Box<[u8]> = bytes.clone().into_boxed_slice();
    assert_eq!(XorIter::new(boxed).collect::<Vec<_>>(), expected);
    let shared: Arc<[u8]> = Arc::from(bytes.as_slice());
    let mut it = XorIter::new(Arc::clone(&shared));
    assert_eq!(it.by_ref().collect::<Vec<_>>(), expected);
    assert_eq!(it.next(), None);
    // Reset onto a broken chunk, then back onto a good one.
    it.reset(Arc::from(&bytes[..5]));
    assert_eq!(it.next(), None);
    assert!(it.err().is_some());
    it.reset(shared);
    assert_eq!(it.err(), None);
    assert_eq!(it.num_samples(), 3);
    assert_eq!(it.seek(15), Some(expected[1]));
    assert_eq!(it.at(), expected[1]);
    assert_eq!(it.seek(0), Some(expected[1]), "seek never moves backwards");
    assert_eq!(it.seek(31), None);
    assert_eq!(it.next(), None);
}

// ---------------------------------------------------------------- properties

/// Values: any bit pattern, the special ones (NaN payloads, the stale marker,
/// infinities, -0.0, subnormals), counter-like small integers, and repeats of
/// the previous value (`None`).
fn value() -> impl Strategy<Value = Option<u64>> {
    prop_oneof![
        3 => any::<u64>().prop_map(Some),
        2 => (0u32..1000).prop_map(|i| Some(f64::from(i).to_bits())),
        2 => Just(None),
        2 => prop::sample::select(vec![
            STALE_NAN_BITS,
            f64::NAN.to_bits(),
            0x7ff8_0000_dead_beef,
            0xfff0_0000_0000_0001,
            f64::INFINITY.to_bits(),
            f64::NEG_INFINITY.to_bits(),
            (-0.0f64).to_bits(),
            0.0f64.to_bits(),
            1,
            0x000f_ffff_ffff_ffff,
            0x8000_0000_0000_0001,
            f64::MIN_POSITIVE.to_bits(),
            f64::MAX.to_bits(),
            f64::MIN.to_bits(),
        ])
        .prop_map(Some),
        1 => any::<f64>().prop_map(|v| Some(v.to_bits())),
    ]
}

/// Gaps between consecutive timestamps: scrape-like, small, medium, huge.
fn gap() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => Just(15_000u64),
        3 => 14_000u64..16_000,
        2 => 1u64..100,
        1 => 1u64..10_000_000,
        1 => 1u64..(1 << 40),
        1 => 1u64..=u64::MAX,
    ]
}

fn start() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => -2_000_000_000_000i64..2_000_000_000_000,
        1 => any::<i64>(),
        1 => Just(i64::MIN),
        1 => Just(i64::MAX - 100_000),
    ]
}

/// Strictly increasing timestamps with their values; stops before `i64` overflow.
fn series(max_len: usize) -> impl Strategy<Value = Vec<(i64, u64)>> {
    (
        start(),
        prop::collection::vec((gap(), value()), 0..=max_len),
    )
        .prop_map(|(start, steps)| {
            let mut out = Vec::with_capacity(steps.len());
            let mut t = start;
            let mut prev = 0u64;
            for (i, (gap, v)) in steps.into_iter().enumerate() {
                if i > 0 {
                    match t.checked_add_unsigned(gap) {
                        Some(next) => t = next,
                        None => break,
                    }
                }
                let v = v.unwrap_or(prev);
                prev = v;
                out.push((t, v));
            }
            out
        })
}

#[derive(Debug, Clone)]
enum Op {
    Next,
    /// Seek to the timestamp of sample `index % len`, shifted by `shift`.
    SeekNear(usize, i64),
    SeekTo(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Next),
        4 => (any::<usize>(), -2i64..=2).prop_map(|(i, d)| Op::SeekNear(i, d)),
        1 => any::<i64>().prop_map(Op::SeekTo),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn roundtrip_increasing_timestamps_any_values(samples in series(300)) {
        let bytes = encode(&samples);
        prop_assert_eq!(&bytes[..2], &(samples.len() as u16).to_be_bytes());
        let (got, err) = decode(&bytes);
        prop_assert_eq!(err, None);
        prop_assert_eq!(got, samples);
    }

    /// The arithmetic wraps, so even unordered timestamps survive the codec.
    #[test]
    fn roundtrip_any_timestamp_sequence(
        samples in prop::collection::vec((any::<i64>(), any::<u64>()), 0..100)
    ) {
        prop_assert_eq!(decode(&encode(&samples)), (samples, None));
    }

    #[test]
    fn seek_agrees_with_linear_scan(
        samples in series(150),
        ops in prop::collection::vec(op(), 0..40),
    ) {
        let bytes = encode(&samples);
        let mut it = XorIter::new(bytes.as_slice());
        let as_f64 = |i: usize| (samples[i].0, f64::from_bits(samples[i].1));
        let same = |a: Option<(i64, f64)>, b: Option<(i64, f64)>| {
            a.map(|(t, v)| (t, v.to_bits())) == b.map(|(t, v)| (t, v.to_bits()))
        };
        // The model: index of the current sample, and whether we ran off the end.
        let mut cur: Option<usize> = None;
        let mut done = false;
        for op in ops {
            let expected = match op {
                Op::Next => {
                    let next = cur.map_or(0, |c| c + 1);
                    if done || next >= samples.len() {
                        done = true;
                        None
                    } else {
                        cur = Some(next);
                        Some(as_f64(next))
                    }
                }
                Op::SeekNear(..) | Op::SeekTo(_) => {
                    let target = match op {
                        Op::SeekNear(i, d) if !samples.is_empty() => {
                            samples[i % samples.len()].0.saturating_add(d)
                        }
                        Op::SeekNear(_, d) => d,
                        Op::SeekTo(t) => t,
                        Op::Next => unreachable!(),
                    };
                    let got_model = if done {
                        None
                    } else if let Some(c) = cur.filter(|&c| samples[c].0 >= target) {
                        Some(as_f64(c))
                    } else {
                        let from = cur.map_or(0, |c| c + 1);
                        match (from..samples.len()).find(|&j| samples[j].0 >= target) {
                            Some(j) => {
                                cur = Some(j);
                                Some(as_f64(j))
                            }
                            None => {
                                done = true;
                                None
                            }
                        }
                    };
                    let got = it.seek(target);
                    prop_assert!(same(got, got_model), "seek({}): {:?} vs {:?}", target, got, got_model);
                    if got.is_some() {
                        prop_assert!(same(Some(it.at()), got));
                    }
                    continue;
                }
            };
            let got = it.next();
            prop_assert!(same(got, expected), "next: {:?} vs {:?}", got, expected);
            if got.is_some() {
                prop_assert!(same(Some(it.at()), got));
            }
        }
        prop_assert_eq!(it.err(), None);
    }

    #[test]
    fn resume_from_bytes_gives_identical_bytes(samples in series(200), split in any::<usize>()) {
        let split = split % (samples.len() + 1);
        let whole = encode(&samples);
        let mut app = XorAppender::from_bytes(encode(&samples[..split])).unwrap();
        prop_assert_eq!(app.num_samples() as usize, split);
        for &(t, v) in &samples[split..] {
            app.append(t, f64::from_bits(v));
        }
        prop_assert_eq!(app.bytes(), whole.as_slice());
        prop_assert_eq!(app.first_t(), samples.first().map(|s| s.0));
        prop_assert_eq!(app.last_t(), samples.last().map(|s| s.0));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..96), seek in any::<i64>()) {
        let total = bytes.get(..2).map_or(0, |h| usize::from(u16::from_be_bytes([h[0], h[1]])));
        let mut it = XorIter::new(bytes.as_slice());
        let n = it.by_ref().count();
        prop_assert!(n <= total);
        prop_assert!(n == total || it.err().is_some());
        it.reset(bytes.as_slice());
        let _ = it.seek(seek);
        let _ = it.at();
        if let Ok(mut app) = XorAppender::from_bytes(bytes.clone()) {
            app.append(seek, 1.0);
            let mut it = XorIter::new(app.bytes());
            prop_assert_eq!(it.by_ref().count(), usize::from(app.num_samples()));
            prop_assert_eq!(it.err(), None);
        }
    }

    /// Damaged real chunks reach deeper into the decoder than random bytes.
    #[test]
    fn damaged_chunks_never_panic(
        samples in series(60),
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let mut bytes = encode(&samples);
        for (at, mask) in flips {
            let i = at % bytes.len();
            bytes[i] ^= mask;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        let mut it = XorIter::new(bytes.as_slice());
        let total = usize::from(it.num_samples());
        let n = it.by_ref().count();
        prop_assert!(n == total || it.err().is_some());
        let _ = XorAppender::from_bytes(bytes);
    }
}
