//! Typed WAL records: what the head logs. The framing layer treats these as opaque
//! bytes; this module gives them meaning.
//!
//! Every record starts with a [`RecordType`] byte.
//!
//! ```text
//! series:  0x01 { ref u64 BE | n uvarint | n × (name_len uvarint, name, value_len uvarint, value) } …
//! samples: 0x02 [ base_ref u64 BE | base_t i64 BE | { ref−base_ref varint | t−base_t varint | value } … ]
//! tombstones: 0x03 { ref u64 BE | mint varint | maxt varint } …
//! value:   zigzag(v as i64) << 1 uvarint, for integral v with |v| ≤ 2^53 (not -0.0)
//!          | 0x01, v f64 bits BE      otherwise
//! ```
//!
//! `varint` is zig-zag signed, `uvarint` unsigned LEB128 (as Go's `encoding/binary`).
//! Sample deltas wrap around in 64 bits, so any `i64` timestamps and any refs round-trip.
//! A samples record with no samples is the type byte alone.

use crate::model::varint::{MAX_LEN, VarintError, put_uvarint, unzigzag, uvarint, zigzag};
use crate::model::{Labels, LabelsError};
use crate::tsdb::series_ref::SeriesRef;

/// A series as logged: its ref and label set.
#[derive(Debug, Clone, PartialEq)]
pub struct RefSeries {
    pub series_ref: SeriesRef,
    pub labels: Labels,
}

/// A sample as logged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefSample {
    pub series_ref: SeriesRef,
    pub t: i64,
    pub v: f64,
}

/// The first byte of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RecordType {
    /// New series: refs and label sets.
    Series = 1,
    /// Float samples of series already logged.
    Samples = 2,
    /// Deleted time ranges of series already logged (`[mint, maxt]`, both included).
    Tombstones = 3,
}

/// A deleted time range of a series, as logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefTombstone {
    pub series_ref: SeriesRef,
    pub mint: i64,
    pub maxt: i64,
}

/// Why a record could not be decoded. Offsets are bytes from the start of the record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("empty record: no type byte")]
    Empty,
    #[error("unknown record type {0}")]
    UnknownType(u8),
    #[error("expected a {expected:?} record, found {found:?}")]
    WrongType {
        expected: RecordType,
        found: RecordType,
    },
    #[error("record cut short at byte {offset}: {what} needs {need} more bytes, {have} left")]
    Truncated {
        what: &'static str,
        offset: usize,
        need: usize,
        have: usize,
    },
    #[error("malformed varint ({what}) at byte {offset}: longer than 64 bits")]
    VarintOverflow { what: &'static str, offset: usize },
    #[error(
        "sample value at byte {offset}: unknown value tag {tag:#x} (0x01 or an even varint expected)"
    )]
    BadValueTag { offset: usize, tag: u64 },
    #[error("{what} at byte {offset}: {value} is more than the record can hold")]
    ImpossibleLength {
        what: &'static str,
        offset: usize,
        value: u64,
    },
    #[error("label {what} at byte {offset} is not valid UTF-8")]
    InvalidUtf8 { what: &'static str, offset: usize },
    #[error("invalid label set of series {series_ref} at byte {offset}: {source}")]
    InvalidLabels {
        series_ref: u64,
        offset: usize,
        #[source]
        source: LabelsError,
    },
}

/// The type of a record, from its first byte.
pub fn record_type(rec: &[u8]) -> Result<RecordType, RecordError> {
    match rec.first() {
        None => Err(RecordError::Empty),
        Some(1) => Ok(RecordType::Series),
        Some(2) => Ok(RecordType::Samples),
        Some(3) => Ok(RecordType::Tombstones),
        Some(&b) => Err(RecordError::UnknownType(b)),
    }
}

/// Appends a series record for `series` to `buf`.
pub fn encode_series(series: &[(SeriesRef, &Labels)], buf: &mut Vec<u8>) {
    let size: usize = series
        .iter()
        .map(|(_, ls)| {
            8 + MAX_LEN
                + ls.iter()
                    .map(|l| 2 * MAX_LEN + l.name.len() + l.value.len())
                    .sum::<usize>()
        })
        .sum();
    buf.reserve(1 + size);
    buf.push(RecordType::Series as u8);
    let mut tmp = [0u8; MAX_LEN];
    for (r, labels) in series {
        buf.extend_from_slice(&r.0.to_be_bytes());
        let n = put_uvarint(&mut tmp, labels.len() as u64);
        buf.extend_from_slice(&tmp[..n]);
        for l in labels.iter() {
            for s in [&l.name, &l.value] {
                let n = put_uvarint(&mut tmp, s.len() as u64);
                buf.extend_from_slice(&tmp[..n]);
                buf.extend_from_slice(s.as_bytes());
            }
        }
    }
}

/// Appends a samples record for `samples` to `buf`.
pub fn encode_samples(samples: &[RefSample], buf: &mut Vec<u8>) {
    let start = buf.len();
    buf.push(RecordType::Samples as u8);
    let Some(first) = samples.first() else {
        return;
    };
    // Grow once to the worst case, write by index, cut back to what was used.
    let max = 16 + samples.len() * (2 * MAX_LEN + MAX_VALUE);
    buf.resize(start + 1 + max, 0);
    let out = &mut buf[start + 1..];
    out[..8].copy_from_slice(&first.series_ref.0.to_be_bytes());
    out[8..16].copy_from_slice(&first.t.to_be_bytes());
    let mut pos = 16;
    for s in samples {
        let dref = s.series_ref.0.wrapping_sub(first.series_ref.0) as i64;
        pos += put_uvarint(&mut out[pos..], zigzag(dref));
        pos += put_uvarint(&mut out[pos..], zigzag(s.t.wrapping_sub(first.t)));
        pos += put_value(&mut out[pos..], s.v);
    }
    buf.truncate(start + 1 + pos);
}

/// Appends a tombstones record for `stones` to `buf`.
pub fn encode_tombstones(stones: &[RefTombstone], buf: &mut Vec<u8>) {
    buf.reserve(1 + stones.len() * (8 + 2 * MAX_LEN));
    buf.push(RecordType::Tombstones as u8);
    let mut tmp = [0u8; MAX_LEN];
    for s in stones {
        buf.extend_from_slice(&s.series_ref.0.to_be_bytes());
        for t in [s.mint, s.maxt] {
            let n = put_uvarint(&mut tmp, zigzag(t));
            buf.extend_from_slice(&tmp[..n]);
        }
    }
}

/// Decodes a tombstones record, appending to `out`. On error `out` is left as it
/// was.
pub fn decode_tombstones(rec: &[u8], out: &mut Vec<RefTombstone>) -> Result<(), RecordError> {
    all_or_nothing(out, |out| {
        expect_type(rec, RecordType::Tombstones)?;
        let mut d = Decoder { rec, pos: 1 };
        while !d.done() {
            let series_ref = SeriesRef(d.u64_be("series ref")?);
            let mint = unzigzag(d.uvarint("tombstone mint")?);
            let maxt = unzigzag(d.uvarint("tombstone maxt")?);
            out.push(RefTombstone {
                series_ref,
                mint,
                maxt,
            });
        }
        Ok(())
    })
}

/// Decodes a series record, appending to `out`. On error `out` is left as it was.
pub fn decode_series(rec: &[u8], out: &mut Vec<RefSeries>) -> Result<(), RecordError> {
    all_or_nothing(out, |out| decode_series_inner(rec, out))
}

/// Runs a decoder that appends to `out`, and takes back what it appended if it
/// fails.
fn all_or_nothing<T>(
    out: &mut Vec<T>,
    decode: impl FnOnce(&mut Vec<T>) -> Result<(), RecordError>,
) -> Result<(), RecordError> {
    let before = out.len();
    let res = decode(out);
    if res.is_err() {
        out.truncate(before);
    }
    res
}

fn decode_series_inner(rec: &[u8], out: &mut Vec<RefSeries>) -> Result<(), RecordError> {
    expect_type(rec, RecordType::Series)?;
    let mut d = Decoder { rec, pos: 1 };
    let mut pairs: Vec<(String, String)> = Vec::new();
    while !d.done() {
        let at = d.pos;
        let series_ref = d.u64_be("series ref")?;
        let count_at = d.pos;
        let count = d.uvarint("label count")?;
        // Each label takes at least two bytes (two length prefixes).
        if count > (d.left() / 2) as u64 {
            return Err(RecordError::ImpossibleLength {
                what: "label count",
                offset: count_at,
                value: count,
            });
        }
        pairs.clear();
        for _ in 0..count {
            let name = d.string("label name")?;
            let value = d.string("label value")?;
            pairs.push((name, value));
        }
        let labels = Labels::new(pairs.drain(..)).map_err(|source| RecordError::InvalidLabels {
            series_ref,
            offset: at,
            source,
        })?;
        out.push(RefSeries {
            series_ref: SeriesRef(series_ref),
            labels,
        });
    }
    Ok(())
}

/// Decodes a samples record, appending to `out`. On error `out` is left as it was.
pub fn decode_samples(rec: &[u8], out: &mut Vec<RefSample>) -> Result<(), RecordError> {
    all_or_nothing(out, |out| decode_samples_inner(rec, out))
}

fn decode_samples_inner(rec: &[u8], out: &mut Vec<RefSample>) -> Result<(), RecordError> {
    expect_type(rec, RecordType::Samples)?;
    let mut d = Decoder { rec, pos: 1 };
    if d.done() {
        return Ok(());
    }
    let base_ref = d.u64_be("base series ref")?;
    let base_t = d.u64_be("base timestamp")? as i64;
    // A sample takes 3 to 29 bytes; reserve for a typical one.
    out.reserve(d.left() / 8);
    while !d.done() {
        let dref = unzigzag(d.uvarint("series ref delta")?);
        let dt = unzigzag(d.uvarint("timestamp delta")?);
        let v = d.value()?;
        out.push(RefSample {
            series_ref: SeriesRef(base_ref.wrapping_add(dref as u64)),
            t: base_t.wrapping_add(dt),
            v,
        });
    }
    Ok(())
}

fn expect_type(rec: &[u8], expected: RecordType) -> Result<(), RecordError> {
    let found = record_type(rec)?;
    if found != expected {
        return Err(RecordError::WrongType { expected, found });
    }
    Ok(())
}

/// Most bytes a value takes: the float tag and the eight bytes of the float.
const MAX_VALUE: usize = 9;
/// Integral values up to this magnitude are written as varints; every integer up
/// to 2^53 is exact in an f64, so the conversion back is lossless.
const MAX_INT_VALUE: u64 = 1 << 53;

/// Writes a sample value: an integral value as the varint `zigzag(i) << 1`
/// (lowest bit 0), anything else as the byte `0x01` and the eight bytes of the
/// float, big-endian. Counters, byte counts and 0/1 states, most of what
/// exporters send, take 1 to 5 bytes instead of 8. `-0.0` keeps its sign: it is
/// written as a float.
#[inline]
fn put_value(out: &mut [u8], v: f64) -> usize {
    // A cast round trip tests integrality without a call to `trunc`: NaN casts to
    // 0 and ±Inf to the i64 bounds, and neither compares equal back.
    let i = v as i64;
    if i as f64 == v && i.unsigned_abs() <= MAX_INT_VALUE && v.to_bits() != (-0.0f64).to_bits() {
        put_uvarint(out, zigzag(i) << 1)
    } else {
        out[0] = FLOAT_VALUE_TAG;
        out[1..9].copy_from_slice(&v.to_bits().to_be_bytes());
        MAX_VALUE
    }
}

/// The first byte of a value written as a float.
const FLOAT_VALUE_TAG: u8 = 0x01;

/// A cursor over a record that reports what it failed to read, and where.
struct Decoder<'a> {
    rec: &'a [u8],
    pos: usize,
}

impl Decoder<'_> {
    fn done(&self) -> bool {
        self.pos >= self.rec.len()
    }

    fn left(&self) -> usize {
        self.rec.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&[u8], RecordError> {
        if n > self.left() {
            return Err(RecordError::Truncated {
                what,
                offset: self.pos,
                need: n,
                have: self.left(),
            });
        }
        let s = &self.rec[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// A sample value written by `put_value`.
    fn value(&mut self) -> Result<f64, RecordError> {
        let at = self.pos;
        let u = self.uvarint("sample value")?;
        if u & 1 == 0 {
            return Ok(unzigzag(u >> 1) as f64);
        }
        if u != u64::from(FLOAT_VALUE_TAG) {
            return Err(RecordError::BadValueTag { offset: at, tag: u });
        }
        Ok(f64::from_bits(self.u64_be("sample value")?))
    }

    fn u64_be(&mut self, what: &'static str) -> Result<u64, RecordError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    fn uvarint(&mut self, what: &'static str) -> Result<u64, RecordError> {
        let start = self.pos;
        uvarint(self.rec, &mut self.pos).map_err(|e| match e {
            VarintError::Truncated => {
                let have = self.rec.len() - start;
                RecordError::Truncated {
                    what,
                    offset: start,
                    need: have + 1,
                    have,
                }
            }
            VarintError::Overflow => RecordError::VarintOverflow {
                what,
                offset: start,
            },
        })
    }

    fn string(&mut self, what: &'static str) -> Result<String, RecordError> {
        let len_at = self.pos;
        let len = self.uvarint(what)?;
        if len > self.left() as u64 {
            return Err(RecordError::ImpossibleLength {
                what,
                offset: len_at,
                value: len,
            });
        }
        let at = self.pos;
        let bytes = self.take(len as usize, what)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(RecordError::InvalidUtf8 { what, offset: at }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::new(pairs.iter().copied()).unwrap()
    }

    #[test]
    fn series_roundtrip_and_type() {
        let a = labels(&[("__name__", "up"), ("job", "node")]);
        let b = labels(&[("ünïcode", "välue"), ("x", &"y".repeat(300))]);
        let mut buf = Vec::new();
        encode_series(&[(SeriesRef(1), &a), (SeriesRef(u64::MAX), &b)], &mut buf);
        assert_eq!(record_type(&buf), Ok(RecordType::Series));
        let mut out = vec![];
        decode_series(&buf, &mut out).unwrap();
        assert_eq!(
            out,
            vec![
                RefSeries {
                    series_ref: SeriesRef(1),
                    labels: a
                },
                RefSeries {
                    series_ref: SeriesRef(u64::MAX),
                    labels: b
                },
            ]
        );
    }

    #[test]
    fn samples_layout_matches_the_spec() {
        let s = [
            RefSample {
                series_ref: SeriesRef(10),
                t: 1000,
                v: 1.5,
            },
            RefSample {
                series_ref: SeriesRef(9),
                t: 1064,
                v: 0.0,
            },
        ];
        let mut buf = Vec::new();
        encode_samples(&s, &mut buf);
        let mut want = vec![2u8];
        want.extend_from_slice(&10u64.to_be_bytes());
        want.extend_from_slice(&1000i64.to_be_bytes());
        want.extend_from_slice(&[0, 0]); // deltas 0, 0
        want.push(0x01); // 1.5 is not integral: float tag, then the float
        want.extend_from_slice(&1.5f64.to_bits().to_be_bytes());
        want.extend_from_slice(&[1, 0x80, 0x01]); // ref −1 → 1, t +64 → 128
        want.push(0x00); // 0.0: zigzag(0) << 1
        assert_eq!(buf, want);
    }

    #[test]
    fn values_are_integers_or_tagged_floats() {
        let cases: [(f64, &[u8]); 7] = [
            (0.0, &[0x00]),
            (1.0, &[0x04]),  // zigzag(1) = 2, << 1 = 4
            (-1.0, &[0x02]), // zigzag(-1) = 1, << 1 = 2
            (123_456_789.0, &[0xd4, 0xe8, 0xbc, 0xeb, 0x01]),
            (-0.0, &[0x01, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            (0.5, &[0x01, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]),
            // 2^53 + 2 is integral but past the exact range: written as a float.
            (
                9_007_199_254_740_994.0,
                &[0x01, 0x43, 0x40, 0, 0, 0, 0, 0, 1],
            ),
        ];
        for (v, bytes) in cases {
            let mut out = [0u8; MAX_VALUE];
            let n = put_value(&mut out, v);
            assert_eq!(&out[..n], bytes, "{v}");
            let mut d = Decoder {
                rec: &out[..n],
                pos: 0,
            };
            assert_eq!(d.value().unwrap().to_bits(), v.to_bits(), "{v}");
        }
        let mut d = Decoder {
            rec: &[0x03],
            pos: 0,
        };
        assert_eq!(
            d.value(),
            Err(RecordError::BadValueTag { offset: 0, tag: 3 })
        );
    }

    #[test]
    fn empty_records_roundtrip() {
        let mut buf = Vec::new();
        encode_samples(&[], &mut buf);
        assert_eq!(buf, vec![2]);
        let mut out = vec![];
        decode_samples(&buf, &mut out).unwrap();
        assert!(out.is_empty());
        buf.clear();
        encode_series(&[], &mut buf);
        let mut out = vec![];
        decode_series(&buf, &mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn encode_appends_to_existing_buffer() {
        let mut buf = vec![0xee];
        let s = RefSample {
            series_ref: SeriesRef(1),
            t: 2,
            v: 3.0,
        };
        encode_samples(&[s], &mut buf);
        assert_eq!(buf[0], 0xee);
        let mut out = vec![];
        decode_samples(&buf[1..], &mut out).unwrap();
        assert_eq!(out, vec![s]);
    }

    #[test]
    fn type_errors() {
        assert_eq!(record_type(&[]), Err(RecordError::Empty));
        assert_eq!(record_type(&[7]), Err(RecordError::UnknownType(7)));
        let mut out = vec![];
        assert_eq!(
            decode_samples(&[1], &mut out),
            Err(RecordError::WrongType {
                expected: RecordType::Samples,
                found: RecordType::Series
            })
        );
    }

    #[test]
    fn tombstones_roundtrip_and_layout() {
        let stones = [
            RefTombstone {
                series_ref: SeriesRef(65),
                mint: -1,
                maxt: 3,
            },
            RefTombstone {
                series_ref: SeriesRef(u64::MAX),
                mint: i64::MIN,
                maxt: i64::MAX,
            },
        ];
        let mut buf = Vec::new();
        encode_tombstones(&stones, &mut buf);
        assert_eq!(&buf[..11], &[3, 0, 0, 0, 0, 0, 0, 0, 65, 1, 6]);
        assert_eq!(record_type(&buf), Ok(RecordType::Tombstones));
        let mut out = vec![];
        decode_tombstones(&buf, &mut out).unwrap();
        assert_eq!(out, stones);
        // Cut short anywhere: an error, and `out` untouched.
        for n in 1..buf.len() {
            let mut out = vec![stones[0]];
            if decode_tombstones(&buf[..n], &mut out).is_err() {
                assert_eq!(out, vec![stones[0]]);
            }
        }
        assert!(decode_tombstones(&buf[..5], &mut out).is_err());
        let mut empty = Vec::new();
        encode_tombstones(&[], &mut empty);
        assert_eq!(empty, vec![3]);
    }

    #[test]
    fn truncated_samples_error_names_offset_and_keeps_out_untouched() {
        let s: Vec<RefSample> = (0..3)
            .map(|i| RefSample {
                series_ref: SeriesRef(i),
                t: i as i64,
                v: 1.5,
            })
            .collect();
        let mut buf = Vec::new();
        encode_samples(&s, &mut buf);
        let mut out = vec![s[0]];
        // 1 type + 16 base + 2 × 11 bytes, then the third sample cut inside its
        // value, after the float tag.
        let err = decode_samples(&buf[..buf.len() - 3], &mut out).unwrap_err();
        assert_eq!(
            err,
            RecordError::Truncated {
                what: "sample value",
                offset: 42,
                need: 8,
                have: 5
            }
        );
        assert!(err.to_string().contains("byte 42"), "{err}");
        assert_eq!(out, vec![s[0]]);
    }

    #[test]
    fn overlong_varint_is_an_error() {
        let mut rec = vec![2u8];
        rec.extend_from_slice(&[0; 16]);
        rec.extend_from_slice(&[0xff; 10]);
        rec.push(0x01);
        let err = decode_samples(&rec, &mut vec![]).unwrap_err();
        assert_eq!(
            err,
            RecordError::VarintOverflow {
                what: "series ref delta",
                offset: 17
            }
        );
    }

    #[test]
    fn series_with_impossible_label_count_is_refused() {
        let mut rec = vec![1u8];
        rec.extend_from_slice(&5u64.to_be_bytes());
        rec.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]); // ~4G labels
        let err = decode_series(&rec, &mut vec![]).unwrap_err();
        assert!(
            matches!(
                err,
                RecordError::ImpossibleLength {
                    what: "label count",
                    offset: 9,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn series_with_invalid_labels_is_refused() {
        // Duplicate label name.
        let mut rec = vec![1u8];
        rec.extend_from_slice(&3u64.to_be_bytes());
        rec.push(2);
        for s in ["a", "1", "a", "2"] {
            rec.push(s.len() as u8);
            rec.extend_from_slice(s.as_bytes());
        }
        let err = decode_series(&rec, &mut vec![]).unwrap_err();
        assert!(
            matches!(
                err,
                RecordError::InvalidLabels {
                    series_ref: 3,
                    offset: 1,
                    source: LabelsError::DuplicateName { .. }
                }
            ),
            "{err}"
        );
        // Invalid UTF-8 in a name.
        let mut rec = vec![1u8];
        rec.extend_from_slice(&3u64.to_be_bytes());
        rec.extend_from_slice(&[1, 1, 0xff, 1, b'v']);
        let err = decode_series(&rec, &mut vec![]).unwrap_err();
        assert_eq!(
            err,
            RecordError::InvalidUtf8 {
                what: "label name",
                offset: 11
            }
        );
    }

    fn arb_labels() -> impl Strategy<Value = Labels> {
        proptest::collection::btree_map("[a-z_]{1,8}|\\PC{1,4}", "\\PC{1,12}", 0..6)
            .prop_map(|m| Labels::new(m).unwrap())
    }

    fn arb_sample() -> impl Strategy<Value = RefSample> {
        (any::<u64>(), any::<i64>(), any::<u64>()).prop_map(|(r, t, bits)| RefSample {
            series_ref: SeriesRef(r),
            t,
            v: f64::from_bits(bits),
        })
    }

    proptest! {
        #[test]
        fn samples_roundtrip(samples in proptest::collection::vec(arb_sample(), 0..200)) {
            let mut buf = Vec::new();
            encode_samples(&samples, &mut buf);
            let mut out = Vec::new();
            decode_samples(&buf, &mut out).unwrap();
            prop_assert_eq!(out.len(), samples.len());
            for (a, b) in out.iter().zip(&samples) {
                // Compare value bits: NaN payloads (the stale marker) must survive.
                prop_assert_eq!((a.series_ref, a.t, a.v.to_bits()), (b.series_ref, b.t, b.v.to_bits()));
            }
        }

        #[test]
        fn series_roundtrip(series in proptest::collection::vec((any::<u64>(), arb_labels()), 0..20)) {
            let refs: Vec<(SeriesRef, &Labels)> = series.iter().map(|(r, l)| (SeriesRef(*r), l)).collect();
            let mut buf = Vec::new();
            encode_series(&refs, &mut buf);
            let mut out = Vec::new();
            decode_series(&buf, &mut out).unwrap();
            let want: Vec<RefSeries> = series
                .into_iter()
                .map(|(r, labels)| RefSeries { series_ref: SeriesRef(r), labels })
                .collect();
            prop_assert_eq!(out, want);
        }

        #[test]
        fn decoding_garbage_never_panics(rec in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = record_type(&rec);
            let _ = decode_series(&rec, &mut Vec::new());
            let _ = decode_samples(&rec, &mut Vec::new());
        }
    }
}
