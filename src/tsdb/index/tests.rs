use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::*;
use crate::model::Labels;
use crate::tsdb::fs::{ByteSource, PreadFile, RealFs};

/// Series as given to the writer, in label order.
type Input = Vec<(Labels, Vec<ChunkMeta>)>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs.iter().copied()).expect("valid labels")
}

fn symbols_of(input: &Input) -> BTreeSet<String> {
    input
        .iter()
        .flat_map(|(ls, _)| {
            ls.iter()
                .flat_map(|l| [l.name.to_owned(), l.value.to_owned()])
        })
        .collect()
}

fn write_index(path: &Path, input: &Input) -> u64 {
    let mut w = IndexWriter::create(&RealFs, path).expect("create");
    for s in symbols_of(input) {
        w.add_symbol(&s).expect("symbol");
    }
    for (i, (ls, chunks)) in input.iter().enumerate() {
        assert_eq!(
            w.add_series(ls, chunks).expect("series"),
            SeriesId(i as u32)
        );
    }
    w.finish().expect("finish")
}

fn index_bytes(input: &Input) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("index");
    let size = write_index(&path, input);
    let bytes = std::fs::read(&path).expect("read");
    assert_eq!(bytes.len() as u64, size);
    bytes
}

fn random_input(seed: u64, n: usize) -> Input {
    let mut rng = fastrand::Rng::with_seed(seed);
    let names = [
        "__name__", "job", "instance", "le", "path", "id", "zone", "é ü",
    ];
    let mut sets = BTreeSet::new();
    while sets.len() < n {
        let mut pairs = Vec::new();
        for (k, name) in names.iter().enumerate() {
            if k != 0 && !rng.bool() {
                continue;
            }
            let value = match *name {
                // Unique-ish values, many symbols.
                "id" => rng.u64(..).to_string(),
                "__name__" => format!("metric_{}", rng.usize(..20)),
                _ => format!("v{}", rng.usize(..(k * 7))),
            };
            pairs.push((name.to_string(), value));
        }
        sets.insert(Labels::new(pairs).expect("labels"));
    }
    sets.into_iter()
        .map(|ls| {
            let chunks = (0..rng.usize(..5))
                .map(|_| {
                    let (a, b) = match rng.u8(..10) {
                        0 => (i64::MIN, rng.i64(..)),
                        1 => (rng.i64(..), i64::MAX),
                        _ => {
                            let a = rng.i64(-1 << 45..1 << 45);
                            (a, a + rng.i64(0..7_200_000))
                        }
                    };
                    ChunkMeta {
                        min_time: a.min(b),
                        max_time: a.max(b),
                        chunk_ref: if rng.bool() {
                            rng.u64(..)
                        } else {
                            rng.u64(..1 << 20)
                        },
                    }
                })
                .collect();
            (ls, chunks)
        })
        .collect()
}

/// What the index should answer, built from the input alone.
struct Model {
    symbols: Vec<String>,
    /// name → value → series ids.
    postings: BTreeMap<String, BTreeMap<String, Vec<SeriesId>>>,
}

fn model(input: &Input) -> Model {
    let mut postings: BTreeMap<String, BTreeMap<String, Vec<SeriesId>>> = BTreeMap::new();
    for (i, (ls, _)) in input.iter().enumerate() {
        for l in ls {
            postings
                .entry(l.name.to_owned())
                .or_default()
                .entry(l.value.to_owned())
                .or_default()
                .push(SeriesId(i as u32));
        }
    }
    Model {
        symbols: symbols_of(input).into_iter().collect(),
        postings,
    }
}

fn check_against_model<S: ByteSource>(r: &IndexReader<S>, input: &Input) {
    let m = model(input);
    assert_eq!(r.symbols().expect("symbols"), m.symbols);
    assert_eq!(r.series_count() as usize, input.len());
    assert_eq!(
        r.label_names(),
        m.postings.keys().cloned().collect::<Vec<_>>()
    );
    for (name, values) in &m.postings {
        assert_eq!(
            r.label_values(name).expect("values"),
            values.keys().cloned().collect::<Vec<_>>(),
            "{name}"
        );
        for (value, ids) in values {
            assert_eq!(
                &r.postings(name, value).expect("postings"),
                ids,
                "{name}={value}"
            );
        }
        assert!(
            r.postings(name, "no such value")
                .expect("missing")
                .is_empty()
        );
        // A symbol that is a value of another name only.
        assert!(r.postings(name, "__name__").expect("other").is_empty());
    }
    assert!(r.label_values("no such name").expect("missing").is_empty());
    assert!(
        r.postings("no such name", "v1")
            .expect("missing")
            .is_empty()
    );
    assert!(r.postings("", "").expect("empty").is_empty());
    let all: Vec<SeriesId> = (0..input.len() as u32).map(SeriesId).collect();
    assert_eq!(r.all_postings(), all);
    for (i, (ls, chunks)) in input.iter().enumerate() {
        let (got_ls, got_chunks) = r.series(SeriesId(i as u32)).expect("series");
        assert_eq!(&got_ls, ls);
        assert_eq!(&got_chunks, chunks, "{ls}");
    }
    assert!(matches!(
        r.series(SeriesId(input.len() as u32)),
        Err(IndexError::NoSuchSeries { .. })
    ));
}

#[test]
fn round_trip_random_series() {
    for (seed, n) in [(1, 3000), (2, 1), (3, 100), (4, 5000)] {
        let input = random_input(seed, n);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("index");
        write_index(&path, &input);
        let bytes = std::fs::read(&path).expect("read");
        check_against_model(&IndexReader::open(bytes).expect("open from memory"), &input);
        let file = PreadFile::open(&RealFs, &path).expect("open file");
        check_against_model(&IndexReader::open(file).expect("open with pread"), &input);
    }
}

#[test]
fn empty_index() {
    let bytes = index_bytes(&Vec::new());
    let r = IndexReader::open(bytes.clone()).expect("open");
    assert!(r.symbols().expect("symbols").is_empty());
    assert!(r.label_names().is_empty());
    assert!(r.label_values("a").expect("values").is_empty());
    assert!(r.postings("a", "b").expect("postings").is_empty());
    assert!(r.all_postings().is_empty());
    assert_eq!(r.series_count(), 0);
    assert!(matches!(
        r.series(SeriesId(0)),
        Err(IndexError::NoSuchSeries { id: 0, count: 0 })
    ));
}

#[test]
fn symbols_without_series_and_series_without_labels_or_chunks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("index");
    let mut w = IndexWriter::create(&RealFs, &path).expect("create");
    w.add_symbol("unused").expect("symbol");
    w.finish().expect("finish");
    let r = IndexReader::open(std::fs::read(&path).expect("read")).expect("open");
    assert_eq!(r.symbols().expect("symbols"), ["unused"]);
    assert!(r.label_names().is_empty());

    let input = vec![(Labels::empty(), vec![]), (labels(&[("a", "b")]), vec![])];
    let r = IndexReader::open(index_bytes(&input)).expect("open");
    check_against_model(&r, &input);
}

/// Everything a reader answers, for the damage tests.
#[derive(Debug, PartialEq)]
struct Answers {
    symbols: Vec<String>,
    names: Vec<String>,
    values: Vec<Vec<String>>,
    postings: Vec<Vec<SeriesId>>,
    all: Vec<SeriesId>,
    series: Vec<(Labels, Vec<ChunkMeta>)>,
}

/// Asks `bytes` everything about the label pairs and series of `input`.
fn answers(bytes: &[u8], input: &Input) -> Result<Answers, IndexError> {
    let r = IndexReader::open(bytes.to_vec())?;
    let m = model(input);
    let mut values = Vec::new();
    let mut postings = Vec::new();
    for (name, vs) in &m.postings {
        values.push(r.label_values(name)?);
        for v in vs.keys() {
            postings.push(r.postings(name, v)?);
        }
    }
    let mut series = Vec::new();
    // Every id the damaged index claims, and those the original had.
    for id in 0..r.series_count().max(input.len() as u32) {
        series.push(r.series(SeriesId(id))?);
    }
    Ok(Answers {
        symbols: r.symbols()?,
        names: r.label_names(),
        values,
        postings,
        all: r.all_postings(),
        series,
    })
}

fn small_input() -> Input {
    let mut input = random_input(7, 12);
    input[3].1 = vec![
        ChunkMeta {
            min_time: 1000,
            max_time: 2000,
            chunk_ref: 8,
        },
        ChunkMeta {
            min_time: 2001,
            max_time: 9000,
            chunk_ref: 300,
        },
    ];
    input
}

#[test]
fn every_flipped_byte_is_detected() {
    let input = small_input();
    let bytes = index_bytes(&input);
    let original = answers(&bytes, &input).expect("original");
    let mut detected = 0;
    let mut damaged = bytes.clone();
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            damaged[i] = bytes[i] ^ mask;
            match answers(&damaged, &input) {
                Err(e) => {
                    detected += 1;
                    // Every error names a section and an offset inside the file.
                    if let IndexError::Corrupt { offset, .. } = e {
                        assert!(offset <= bytes.len() as u64, "{e}");
                    }
                }
                Ok(a) => assert_eq!(a, original, "byte {i} ^ {mask:#x}"),
            }
        }
        damaged[i] = bytes[i];
    }
    // Every byte is under a CRC or checked against the layout.
    assert_eq!(detected, 3 * bytes.len());
}

#[test]
fn every_truncation_is_an_error() {
    let input = small_input();
    let bytes = index_bytes(&input);
    for len in 0..bytes.len() {
        let res = IndexReader::open(bytes[..len].to_vec());
        assert!(res.is_err(), "truncated to {len} bytes");
    }
    // Bytes appended are an error too: the TOC is found from the end.
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(IndexReader::open(longer).is_err());
}

#[test]
fn errors_name_section_and_offset() {
    let input = small_input();
    let mut bytes = index_bytes(&input);
    bytes[6] ^= 1; // inside the symbol count
    let err = IndexReader::open(bytes.clone()).expect_err("damaged");
    let msg = err.to_string();
    assert!(msg.contains("symbols section at byte offset"), "{msg}");
    assert!(matches!(
        err,
        IndexError::Corrupt {
            section: Section::Symbols,
            ..
        }
    ));

    let err = IndexReader::open(b"TMIX\x02".to_vec()).expect_err("short");
    assert!(matches!(
        err,
        IndexError::Corrupt {
            section: Section::Header,
            offset: 0,
            ..
        }
    ));
    let mut bytes = index_bytes(&input);
    bytes[4] = 2;
    let err = IndexReader::open(bytes.clone()).expect_err("version");
    assert!(err.to_string().contains("unknown version 2"), "{err}");
}

#[test]
fn writer_refuses_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut w = IndexWriter::create(&RealFs, &dir.path().join("index")).expect("create");
    w.add_symbol("a").expect("a");
    w.add_symbol("b").expect("b");
    for bad in ["b", "a", ""] {
        assert!(
            matches!(w.add_symbol(bad), Err(IndexError::InvalidInput(_))),
            "{bad:?}"
        );
    }
    w.add_symbol("c").expect("c still fine");
    let ab = labels(&[("a", "b")]);
    let ok = ChunkMeta {
        min_time: 5,
        max_time: 5,
        chunk_ref: 0,
    };
    let backwards = ChunkMeta {
        min_time: 6,
        max_time: 5,
        chunk_ref: 0,
    };
    assert!(matches!(
        w.add_series(&ab, &[ok, backwards]),
        Err(IndexError::InvalidInput(_))
    ));
    assert!(matches!(
        w.add_series(&labels(&[("a", "x")]), &[]),
        Err(IndexError::InvalidInput(_))
    ));
    assert_eq!(w.add_series(&ab, &[ok]).expect("ab"), SeriesId(0));
    for bad in [ab.clone(), labels(&[("a", "a")])] {
        assert!(
            matches!(w.add_series(&bad, &[]), Err(IndexError::InvalidInput(_))),
            "{bad}"
        );
    }
    assert!(matches!(
        w.add_symbol("d"),
        Err(IndexError::InvalidInput(_))
    ));
    assert_eq!(
        w.add_series(&labels(&[("a", "c")]), &[]).expect("ac"),
        SeriesId(1)
    );
    w.finish().expect("finish");
    let r =
        IndexReader::open(std::fs::read(dir.path().join("index")).expect("read")).expect("open");
    assert_eq!(r.postings("a", "b").expect("ab"), [SeriesId(0)]);
    assert_eq!(r.postings("a", "c").expect("ac"), [SeriesId(1)]);
    assert_eq!(r.series(SeriesId(0)).expect("0").1, [ok]);
}

#[test]
fn writer_reports_the_path_it_cannot_create() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("missing").join("index");
    let err = IndexWriter::create(&RealFs, &path)
        .err()
        .expect("no directory");
    assert!(err.to_string().contains("missing"), "{err}");
}

/// A fixed file: the layout of `docs/format/index.md` byte for byte.
#[test]
fn layout_matches_the_spec() {
    let input = vec![
        (
            labels(&[("a", "x")]),
            vec![ChunkMeta {
                min_time: 1,
                max_time: 3,
                chunk_ref: 5,
            }],
        ),
        (labels(&[("a", "y"), ("b", "x")]), vec![]),
    ];
    let bytes = index_bytes(&input);
    let mut expected: Vec<u8> = b"TMIX\x01".to_vec();
    let crc = |b: &[u8]| crc32fast::hash(b).to_be_bytes();
    // Symbols: a b x y.
    let symbols = [0, 0, 0, 4, 1, b'a', 1, b'b', 1, b'x', 1, b'y'];
    expected.extend_from_slice(&symbols);
    expected.extend_from_slice(&crc(&symbols));
    // Series 0 at 21: {a=x}, one chunk (1, span 2, ref 5).
    let s0 = [1, 0, 2, 1, 2, 2, 5];
    expected.extend_from_slice(&s0);
    expected.extend_from_slice(&crc(&s0));
    // Series 1 at 32: {a=y, b=x}, no chunks.
    let s1 = [2, 0, 3, 1, 2, 0];
    expected.extend_from_slice(&s1);
    expected.extend_from_slice(&crc(&s1));
    // Postings at 42: a=x {0}, a=y {1}, b=x {1}.
    for p in [[1u8, 0], [1, 1], [1, 1]] {
        expected.extend_from_slice(&p);
        expected.extend_from_slice(&crc(&p));
    }
    // Label values at 60: (x, 42), (y, 48), (x, 54).
    let mut lv = vec![0, 0, 0, 3];
    for (v, o) in [(2u32, 42u64), (3, 48), (2, 54)] {
        lv.extend_from_slice(&v.to_be_bytes());
        lv.extend_from_slice(&o.to_be_bytes());
    }
    expected.extend_from_slice(&lv);
    expected.extend_from_slice(&crc(&lv));
    // Label names at 104: a (first value 0), b (first value 2).
    let ln = [0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2];
    expected.extend_from_slice(&ln);
    expected.extend_from_slice(&crc(&ln));
    // Series table at 128: 21, 32.
    let mut st = vec![0, 0, 0, 2];
    st.extend_from_slice(&21u64.to_be_bytes());
    st.extend_from_slice(&32u64.to_be_bytes());
    expected.extend_from_slice(&st);
    expected.extend_from_slice(&crc(&st));
    // TOC at 152.
    let mut toc = Vec::new();
    for o in [5u64, 21, 42, 60, 104, 128] {
        toc.extend_from_slice(&o.to_be_bytes());
    }
    expected.extend_from_slice(&toc);
    expected.extend_from_slice(&crc(&toc));
    assert_eq!(bytes, expected);
    assert_eq!(bytes.len(), 152 + 52);
}

/// The regions of `bytes` that end with a CRC of the rest: sections and entries.
fn crc_regions(bytes: &[u8]) -> Vec<(usize, usize)> {
    let be64 = |at: usize| u64::from_be_bytes(bytes[at..at + 8].try_into().expect("8")) as usize;
    let be32 = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4")) as usize;
    let toc = bytes.len() - 52;
    let s: Vec<usize> = (0..6).map(|i| be64(toc + 8 * i)).collect();
    let mut regions = vec![
        (s[0], s[1]),
        (s[3], s[4]),
        (s[4], s[5]),
        (s[5], toc),
        (toc, bytes.len()),
    ];
    let series: Vec<usize> = (0..be32(s[5])).map(|i| be64(s[5] + 4 + 8 * i)).collect();
    let postings: Vec<usize> = (0..be32(s[3])).map(|i| be64(s[3] + 8 + 12 * i)).collect();
    for (offsets, end) in [(series, s[2]), (postings, s[3])] {
        for (k, &o) in offsets.iter().enumerate() {
            regions.push((o, offsets.get(k + 1).copied().unwrap_or(end)));
        }
    }
    regions
}

/// Damage that the CRCs do not catch (a writer bug, or damage with its CRC
/// recomputed) reaches the parsers: they must fail cleanly or answer, never panic.
#[test]
fn damage_behind_valid_crcs_never_panics() {
    let input = small_input();
    let bytes = index_bytes(&input);
    let regions = crc_regions(&bytes);
    let covered: usize = regions.iter().map(|(a, b)| b - a).sum();
    assert_eq!(
        covered + 5,
        bytes.len(),
        "regions tile the file after the header"
    );
    let mut answered = 0;
    for &(start, end) in &regions {
        for i in start..end - 4 {
            for mask in [0x01u8, 0x10, 0x80, 0xff] {
                let mut damaged = bytes.clone();
                damaged[i] ^= mask;
                let crc = crc32fast::hash(&damaged[start..end - 4]).to_be_bytes();
                damaged[end - 4..end].copy_from_slice(&crc);
                if answers(&damaged, &input).is_ok() {
                    answered += 1;
                }
            }
        }
    }
    // Some damage is undetectable by design (a chunk ref or timestamp changed).
    assert!(answered > 0);
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = fastrand::Rng::with_seed(42);
    let input = small_input();
    let good = index_bytes(&input);
    for _ in 0..2000 {
        let len = rng.usize(..300);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        if rng.bool() && len >= 5 {
            bytes[..5].copy_from_slice(b"TMIX\x01");
        }
        let _ = answers(&bytes, &input);
    }
    // The good file with a random tail appended keeps its TOC position invalid.
    let mut longer = good.clone();
    longer.extend((0..100).map(|_| rng.u8(..)));
    assert!(answers(&longer, &input).is_err());
}
