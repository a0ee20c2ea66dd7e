use proptest::prelude::*;

use super::values::decimal;
use super::{DeltaIter, encode};
use crate::model::STALE_NAN_BITS;
use crate::tsdb::chunk::ChunkError;

fn enc(samples: &[(i64, f64)]) -> Vec<u8> {
    let mut out = Vec::new();
    encode(samples, &mut out);
    out
}

fn decode(bytes: &[u8]) -> (Vec<(i64, u64)>, Option<ChunkError>) {
    let mut it = DeltaIter::new(bytes);
    let got = it.by_ref().map(|(t, v)| (t, v.to_bits())).collect();
    (got, it.err().cloned())
}

fn bits_of(samples: &[(i64, f64)]) -> Vec<(i64, u64)> {
    samples.iter().map(|&(t, v)| (t, v.to_bits())).collect()
}

/// Packs a string of `0`/`1` (other characters ignored) MSB first, zero-padded,
/// independently of `BitWriter`.
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
    assert_eq!(enc(&[]), [0, 0]);
    assert_eq!(decode(&[0, 0]), (vec![], None));
}

/// Four samples worked out by hand (the example of `docs/format/chunks.md`).
///
/// ```text
/// 00 04           count = 4
/// timestamps 1000 2000 3001 4000: order 0 (line), slope 3000 / 3 = 1000,
///   residuals 0 1 0; offset by the smallest (0), k = 0
/// 00 00           mode: order 0, no zigzag; k = 0
/// D0 0F D0 0F     first = 1000, slope = 1000 (zigzag 2000 as uvarint)
/// 01 00           gcd = 1, base = 0
/// 00              scale 0: values are integers 10 12 12 15
/// values: order 1 (delta), residuals 2 0 3; offset by 0, k = 0
/// 01 00 14 01 00  mode: order 1; k = 0; first = 10 (zigzag 20); gcd 1; base 0
/// bits, t then v for samples 1, 2, 3:
///   0 110 | 10 0 | 0 1110   -> 01101000 1110(0000) = 68 E0
/// ```
///
/// The alternatives the encoder weighs and rejects: delta-of-delta timestamps
/// take one bit more (header 8 bytes, residuals +1 −2 in 5 bits), delta-of-delta
/// values 6 bits more, zigzag costs more bits for both, and the values' IEEE bit
/// patterns (delta 2^50, gcd 2^49) need a 9-byte first value and 8-byte gcd.
#[test]
fn hand_derived_bytes() {
    let samples = [(1000, 10.0), (2000, 12.0), (3001, 12.0), (4000, 15.0)];
    #[rustfmt::skip]
    let expected: &[u8] = &[
        0x00, 0x04,
        0x00, 0x00, 0xD0, 0x0F, 0xD0, 0x0F, 0x01, 0x00,
        0x00,
        0x01, 0x00, 0x14, 0x01, 0x00,
        0x68, 0xE0,
    ];
    assert_eq!(enc(&samples), expected);
    assert_eq!(decode(expected), (bits_of(&samples), None));
    // Smaller than XOR, so `encode` keeps it.
    let mut out = Vec::new();
    assert_eq!(
        super::super::encode(&samples, &mut out),
        super::super::Encoding::Delta
    );
    assert_eq!(out, expected);
    let mut xor = super::super::XorAppender::new();
    for (t, v) in samples {
        xor.append(t, v);
    }
    assert_eq!(xor.bytes().len(), 22);
}

/// Decoding fields the first vector does not use: delta-of-delta timestamps with
/// zigzag, IEEE bit-pattern values, a Rice parameter, an escape (to the stale
/// marker), a decimal scale and a gcd.
///
/// ```text
/// 00 03                        count = 3
/// 06 00 00 1E 01 00            t: mode order 2 + zigzag; k 0; first 0; d1 = 15;
///                                 gcd 1; base 0
/// FF                           values are IEEE bit patterns
/// 01 02 80×7 F0 7F 01 00       v: order 1; k = 2; first = 0x3FF0… (1.0; zigzag
///                                 0x7FE0… as a 9-byte uvarint); gcd 1; base 0
/// bits: s1: v 0 00 (same value)                  (t: d1 from the header)
///       s2: t 110 (zigzag 2 = dod +1, so t = 31)
///           v 16 ones + 0x4000000000000002        (escape: stale − 1.0)
/// ```
#[test]
fn hand_derived_bytes_raw_values_and_escape() {
    let mut chunk = vec![0x00, 0x03, 0x06, 0x00, 0x00, 0x1E, 0x01, 0x00, 0xFF];
    chunk.extend([
        0x01, 0x02, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0xF0, 0x7F, 0x01, 0x00,
    ]);
    chunk.extend(bits(concat!(
        "000",
        "110",
        "1111111111111111",
        "0100000000000000 0000000000000000 0000000000000000 0000000000000010",
    )));
    let expected = vec![
        (0, 1f64.to_bits()),
        (15, 1f64.to_bits()),
        (31, STALE_NAN_BITS),
    ];
    assert_eq!(decode(&chunk), (expected, None));

    // Scale 2 and gcd 5: integers 100, 105, 95 are 1.00, 1.05, 0.95. Offsets by
    // base −2: residual quotients 1 and −2 are codes 3 and 0 (k = 1: 10 1, 0 0).
    let mut chunk = vec![0x00, 0x03, 0x01, 0x00, 0x00, 0x01, 0x00, 0x02];
    chunk.extend([0x01, 0x01, 0xC8, 0x01, 0x05, 0x03]);
    chunk.extend(bits("0 101 0 00"));
    let expected = vec![
        (0, 1f64.to_bits()),
        (0, 1.05f64.to_bits()),
        (0, 0.95f64.to_bits()),
    ];
    assert_eq!(decode(&chunk), (expected, None));
}

#[test]
fn samples_past_65535_are_left_out() {
    let samples: Vec<(i64, f64)> = (0..70_000).map(|i| (i, 1.0)).collect();
    assert_eq!(decode(&enc(&samples)), (bits_of(&samples[..65_535]), None));
}

#[test]
fn special_values_round_trip() {
    let samples = [
        (-5, 1.0),
        (10, f64::from_bits(STALE_NAN_BITS)),
        (20, f64::NAN),
        (30, -0.0),
        (40, f64::INFINITY),
        (50, f64::NEG_INFINITY),
        (60, f64::from_bits(1)),
        (70, f64::from_bits(0xfff8_0000_0000_1234)),
        (i64::MAX, f64::MAX),
    ];
    assert_eq!(decode(&enc(&samples)), (bits_of(&samples), None));
    // A stale marker ending a decimal counter.
    let mut samples: Vec<(i64, f64)> = (0..100).map(|i| (i * 15_000, i as f64 * 0.25)).collect();
    samples.push((100 * 15_000, f64::from_bits(STALE_NAN_BITS)));
    assert_eq!(decode(&enc(&samples)), (bits_of(&samples), None));
}

#[test]
fn decimal_detection() {
    let mut ints = Vec::new();
    assert_eq!(decimal(&[1.0, 2.0, 1e15], &mut ints), Some(0));
    assert_eq!(ints, [1, 2, 1_000_000_000_000_000]);
    assert_eq!(decimal(&[0.1, 12.34, 5.0], &mut ints), Some(2));
    assert_eq!(ints, [10, 1234, 500]);
    assert_eq!(decimal(&[0.1, -0.0], &mut ints), None);
    assert_eq!(decimal(&[f64::NAN], &mut ints), None);
    assert_eq!(decimal(&[f64::INFINITY], &mut ints), None);
    assert_eq!(decimal(&[1e19], &mut ints), None);
    assert_eq!(decimal(&[f64::from_bits(1)], &mut ints), None);
}

#[test]
fn header_errors_name_field_and_offset() {
    let err = |bytes: &[u8]| DeltaIter::new(bytes).err().cloned();
    assert_eq!(err(&[0]), Some(ChunkError::BadHeader { len: 1 }));
    let bad = |field, offset, problem| {
        Some(ChunkError::BadField {
            field,
            offset,
            problem,
        })
    };
    let t = "timestamp stream header";
    assert_eq!(err(&[0, 1]), bad(t, 2, "truncated"));
    assert_eq!(err(&[0, 1, 3, 0]), bad(t, 2, "unknown mode"));
    assert_eq!(err(&[0, 1, 8, 0]), bad(t, 2, "unknown mode"));
    assert_eq!(err(&[0, 1, 0, 64]), bad(t, 2, "Rice parameter above 63"));
    assert_eq!(err(&[0, 1, 0, 0, 0x80]), bad(t, 4, "truncated varint"));
    let overlong = [
        0, 1, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
    ];
    assert_eq!(err(&overlong), bad(t, 4, "varint longer than 64 bits"));
    assert_eq!(err(&[0, 1, 1, 0, 0, 0]), bad(t, 5, "gcd out of range"));
    let scale = "value scale";
    assert_eq!(err(&[0, 1, 1, 0, 0, 1, 0]), bad(scale, 7, "truncated"));
    assert_eq!(
        err(&[0, 1, 1, 0, 0, 1, 0, 23]),
        bad(scale, 7, "neither 0 ..= 22 nor 255")
    );
    let v = "value stream header";
    assert_eq!(err(&[0, 1, 1, 0, 0, 1, 0, 0xff, 1]), bad(v, 8, "truncated"));
    assert_eq!(err(&[0, 1, 1, 0, 0, 1, 0, 0xff, 1, 0, 0, 1, 0]), None);
    // The samples' bits are missing.
    let mut it = DeltaIter::new([0, 2, 1, 0, 0, 1, 0, 0xff, 1, 0, 0, 1, 0].as_slice());
    assert_eq!(it.by_ref().count(), 1);
    assert_eq!(
        it.err(),
        Some(&ChunkError::Truncated {
            sample: 1,
            offset: 13,
            len: 13
        })
    );
}

#[test]
fn gcd_is_divided_out() {
    // Page-sized byte gauges: every delta a multiple of 4096.
    let samples: Vec<(i64, f64)> = (0..240)
        .map(|i| {
            (
                i * 15_000,
                ((1_000_000 + (i * 7919) % 13 - 6) * 4096) as f64,
            )
        })
        .collect();
    let bytes = enc(&samples);
    assert_eq!(decode(&bytes), (bits_of(&samples), None));
    let mut it = DeltaIter::new(bytes.as_slice());
    it.next();
    assert_eq!(it.value_gcd() % 4096, 0);
    // 240 samples at a few bits each, not 12 more bits each.
    assert!(bytes.len() < 240, "{} bytes", bytes.len());
}

#[test]
fn counter_reset_costs_one_escape() {
    // A counter rising by 3 that resets to 0 at sample 100.
    let samples: Vec<(i64, f64)> = (0..240)
        .map(|i| {
            let v = if i < 100 {
                1_000_000 + i * 3
            } else {
                (i - 100) * 3
            };
            (i * 15_000, v as f64)
        })
        .collect();
    let bytes = enc(&samples);
    assert_eq!(decode(&bytes), (bits_of(&samples), None));
    assert!(bytes.len() < 100, "{} bytes", bytes.len());
}

fn value() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => (-1000i64..1000).prop_map(|i| (i as f64).to_bits()),
        3 => (0i64..1_000_000).prop_map(|i| (i as f64 / 100.0).to_bits()),
        2 => any::<u64>(),
        1 => Just(STALE_NAN_BITS),
        1 => Just((-0.0f64).to_bits()),
        1 => Just(f64::INFINITY.to_bits()),
        1 => any::<i64>().prop_map(|i| (i as f64).to_bits()),
        1 => (any::<u32>(), 0u32..23).prop_map(|(m, s)| (f64::from(m) / 10f64.powi(s as i32)).to_bits()),
    ]
}

/// Timestamp steps: regular, jittered, and arbitrary.
fn gap() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => Just(15_000u64),
        4 => 14_995u64..15_005,
        2 => 1u64..100_000,
        1 => 1u64..=u64::MAX / 4,
    ]
}

/// Strictly increasing timestamps with their values (each series one kind of
/// value, as a real series mostly is, or any mix); stops before `i64` overflow.
fn series(max_len: usize) -> impl Strategy<Value = Vec<(i64, u64)>> {
    (
        any::<i64>().prop_map(|t| t / 2),
        prop::collection::vec((gap(), value()), 0..=max_len),
        any::<bool>(),
        value(),
    )
        .prop_map(|(start, steps, walk, step)| {
            let mut out = Vec::with_capacity(steps.len());
            let mut t = start;
            let mut acc = 0.0f64;
            for (i, (gap, v)) in steps.into_iter().enumerate() {
                if i > 0 {
                    match t.checked_add_unsigned(gap) {
                        Some(next) => t = next,
                        None => break,
                    }
                }
                // A random walk of one step kind, like a counter or a gauge.
                let v = if walk {
                    acc += f64::from_bits(v).abs().min(1e6) * f64::from_bits(step).signum();
                    acc.to_bits()
                } else {
                    v
                };
                out.push((t, v));
            }
            out
        })
}

fn to_f64(samples: &[(i64, u64)]) -> Vec<(i64, f64)> {
    samples
        .iter()
        .map(|&(t, v)| (t, f64::from_bits(v)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn roundtrip_increasing_timestamps_any_values(samples in series(300)) {
        let bytes = enc(&to_f64(&samples));
        prop_assert_eq!(&bytes[..2], &(samples.len() as u16).to_be_bytes());
        prop_assert_eq!(decode(&bytes), (samples, None));
    }

    /// The arithmetic wraps, so any timestamp sequence survives the codec.
    #[test]
    fn roundtrip_any_sequence(
        samples in prop::collection::vec((any::<i64>(), any::<u64>()), 0..100)
    ) {
        prop_assert_eq!(decode(&enc(&to_f64(&samples))), (samples, None));
    }

    #[test]
    fn seek_agrees_with_linear_scan(samples in series(150), targets in prop::collection::vec(any::<i64>(), 0..20)) {
        let bytes = enc(&to_f64(&samples));
        let mut it = DeltaIter::new(bytes.as_slice());
        let mut sorted = targets;
        sorted.sort();
        for t in sorted {
            let want = samples.iter().find(|s| s.0 >= t).copied();
            let got = it.seek(t).map(|(t, v)| (t, v.to_bits()));
            prop_assert_eq!(got, want);
        }
    }

    /// Random bytes, cut or flipped chunks: never a panic, and a chunk either
    /// decodes or reports an error, with no more samples than it announces.
    #[test]
    fn damaged_bytes_never_panic(
        samples in series(100),
        garbage in prop::collection::vec(any::<u8>(), 0..64),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4),
    ) {
        let check = |bytes: &[u8]| {
            let mut it = DeltaIter::new(bytes);
            let n = it.by_ref().count();
            assert!(n <= usize::from(it.num_samples()));
            assert!(n == usize::from(it.num_samples()) || it.err().is_some());
        };
        check(&garbage);
        let bytes = enc(&to_f64(&samples));
        let cut = cut.index(bytes.len());
        check(&bytes[..cut]);
        // Every byte of a chunk carries something its last sample needs.
        prop_assert!(samples.is_empty() || DeltaIter::new(&bytes[..cut]).count() < samples.len());
        let mut flipped = bytes.clone();
        for (i, bit) in flips {
            let i = i.index(flipped.len());
            flipped[i] ^= 1 << bit;
        }
        check(&flipped);
    }
}
