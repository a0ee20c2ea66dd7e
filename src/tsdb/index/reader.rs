//! Reader of index files over any byte source.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::io;

use super::encoding::{
    CRC_LEN, Cursor, HEADER_LEN, INDEX_MAGIC, INDEX_VERSION, MIN_POSTINGS_ENTRY, MIN_SERIES_ENTRY,
    NAME_ENTRY_LEN, SERIES_ENTRY_LEN, SYMBOL_BLOCK, TOC_LEN, VALUE_ENTRY_LEN, check_crc, corrupt,
};
use super::error::{IndexError, Section};
use super::series::{ChunkMeta, SeriesId};
use crate::model::Labels;
use crate::tsdb::fs::ByteSource;

/// Start offsets of the sections, from the table of contents. Each section ends
/// where the next begins; the series table ends at the TOC.
#[derive(Debug, Clone, Copy)]
struct Toc {
    symbols: u64,
    series: u64,
    postings: u64,
    label_values: u64,
    label_names: u64,
    series_table: u64,
    toc: u64,
}

/// What the reader keeps in memory of the symbol table.
#[derive(Debug)]
struct Symbols {
    count: u32,
    /// File offset of symbol `i * SYMBOL_BLOCK`, for every block.
    blocks: Vec<u64>,
    /// End of the last symbol (where the section's CRC starts).
    end: u64,
}

/// Reads an index file from a [`ByteSource`].
///
/// [`open`](Self::open) checks the header, the table of contents and the CRCs and
/// consistency of the symbol table, label tables and series table (reading them
/// once); it keeps in memory the label names and the offset of one symbol in 32.
/// A series entry or postings list is checked (CRC and structure) each time it is
/// read. Every lookup by name or value is a binary search in the file:
/// `O(log n)` reads.
///
/// Any damage is reported as [`IndexError::Corrupt`] naming the section and the
/// byte offset; no input makes the reader panic.
#[derive(Debug)]
pub struct IndexReader<S> {
    source: S,
    toc: Toc,
    symbols: Symbols,
    /// Label names in order, each with the index of its first entry in the
    /// label values table.
    names: Vec<(String, u32)>,
    /// Entries of the label values table: one per label pair.
    pair_count: u32,
    series_count: u32,
}

impl<S: ByteSource> IndexReader<S> {
    /// Opens the index held by `source`, checking everything but the series
    /// entries and postings lists.
    pub fn open(source: S) -> Result<IndexReader<S>, IndexError> {
        let toc = read_toc(&source)?;
        let symbols = read_symbols(&source, &toc)?;
        let mut r = IndexReader {
            source,
            toc,
            symbols,
            names: Vec::new(),
            pair_count: 0,
            series_count: 0,
        };
        r.series_count = r.check_series_table()?;
        r.pair_count = r.check_label_values()?;
        r.names = r.read_label_names()?;
        r.check_value_order()?;
        Ok(r)
    }

    /// Number of series; their ids are `0..series_count()`.
    pub fn series_count(&self) -> u32 {
        self.series_count
    }

    /// Every symbol (label name or value), in increasing byte order.
    pub fn symbols(&self) -> Result<Vec<String>, IndexError> {
        let start = self.toc.symbols + 4;
        let data = self.read(Section::Symbols, start, self.symbols.end - start)?;
        let mut c = Cursor::new(&data, start, Section::Symbols);
        let mut out = Vec::with_capacity(self.symbols.count as usize);
        while !c.is_empty() {
            out.push(c.str("symbol")?.to_owned());
        }
        Ok(out)
    }

    /// Every label name, in order.
    pub fn label_names(&self) -> Vec<String> {
        self.names.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The values of label `name`, in order (empty if no series has the label).
    pub fn label_values(&self, name: &str) -> Result<Vec<String>, IndexError> {
        let Some((first, end)) = self.value_range(name) else {
            return Ok(Vec::new());
        };
        let offset = self.value_entry_offset(first);
        let data = self.read(
            Section::LabelValues,
            offset,
            u64::from(end - first) * VALUE_ENTRY_LEN,
        )?;
        let refs: Vec<u32> = data
            .chunks_exact(VALUE_ENTRY_LEN as usize)
            .map(|e| u32::from_be_bytes([e[0], e[1], e[2], e[3]]))
            .collect();
        self.resolve(&refs)
    }

    /// The ids of the series having label `name="value"`, sorted (empty if none).
    pub fn postings(&self, name: &str, value: &str) -> Result<Vec<SeriesId>, IndexError> {
        let Some((mut lo, mut hi)) = self.value_range(name) else {
            return Ok(Vec::new());
        };
        let Some(value_ref) = self.lookup_symbol(value)? else {
            return Ok(Vec::new());
        };
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (r, offset) = self.value_entry(mid)?;
            match r.cmp(&value_ref) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => {
                    let end = if mid + 1 < self.pair_count {
                        self.value_entry(mid + 1)?.1
                    } else {
                        self.toc.label_values
                    };
                    return self.read_postings(offset, end);
                }
            }
        }
        Ok(Vec::new())
    }

    /// The ids of all series: `0..series_count()`.
    pub fn all_postings(&self) -> Vec<SeriesId> {
        (0..self.series_count).map(SeriesId).collect()
    }

    /// The label set and chunks of series `id`.
    pub fn series(&self, id: SeriesId) -> Result<(Labels, Vec<ChunkMeta>), IndexError> {
        if id.0 >= self.series_count {
            return Err(IndexError::NoSuchSeries {
                id: id.0,
                count: self.series_count,
            });
        }
        let table_at = self.toc.series_table + 4 + u64::from(id.0) * SERIES_ENTRY_LEN;
        let last = id.0 + 1 == self.series_count;
        let entries = self.read(Section::SeriesTable, table_at, if last { 8 } else { 16 })?;
        let mut c = Cursor::new(&entries, table_at, Section::SeriesTable);
        let start = c.u64("series offset")?;
        let end = if last {
            self.toc.postings
        } else {
            c.u64("series offset")?
        };
        // Checked by open; re-checked so that no source can make this underflow.
        if start >= end {
            return Err(corrupt(
                Section::SeriesTable,
                table_at,
                "series offsets out of order",
            ));
        }
        let data = self.read(Section::Series, start, end - start)?;
        let body = check_crc(&data, start, Section::Series, "series entry")?;
        let mut c = Cursor::new(body, start, Section::Series);

        let at = c.offset();
        let count = c.uvarint("label count")?;
        if count > (c.remaining() / 2) as u64 {
            return Err(c.corrupt_at(at, format!("label count {count} exceeds the entry")));
        }
        let mut refs = Vec::with_capacity(2 * count as usize);
        let mut prev_name: Option<u32> = None;
        for _ in 0..count {
            let at = c.offset();
            let name = c.uvarint_u32("label name ref")?;
            let value = c.uvarint_u32("label value ref")?;
            if prev_name.is_some_and(|p| p >= name) {
                return Err(c.corrupt_at(at, "label names out of order"));
            }
            if name >= self.symbols.count || value >= self.symbols.count {
                return Err(c.corrupt_at(at, "label refers to a symbol past the table"));
            }
            prev_name = Some(name);
            refs.push(name);
            refs.push(value);
        }

        let at = c.offset();
        let count = c.uvarint("chunk count")?;
        if count > (c.remaining() / 3) as u64 {
            return Err(c.corrupt_at(at, format!("chunk count {count} exceeds the entry")));
        }
        let mut chunks = Vec::with_capacity(count as usize);
        let mut prev: Option<ChunkMeta> = None;
        for _ in 0..count {
            let at = c.offset();
            let min_delta = c.varint("chunk min_time")?;
            let span = c.uvarint("chunk time span")?;
            let (min_time, chunk_ref) = match prev {
                None => (min_delta, c.uvarint("chunk ref")?),
                Some(p) => (
                    p.max_time.wrapping_add(min_delta),
                    p.chunk_ref.wrapping_add(c.varint("chunk ref")? as u64),
                ),
            };
            let Some(max_time) = min_time.checked_add_unsigned(span) else {
                return Err(c.corrupt_at(at, "chunk max_time past the largest timestamp"));
            };
            let meta = ChunkMeta {
                min_time,
                max_time,
                chunk_ref,
            };
            chunks.push(meta);
            prev = Some(meta);
        }
        c.expect_end("series entry")?;
        let strings = self.resolve(&refs)?;
        let mut it = strings.into_iter();
        let mut pairs = Vec::with_capacity(refs.len() / 2);
        while let (Some(n), Some(v)) = (it.next(), it.next()) {
            pairs.push((n, v));
        }
        let labels = Labels::new(pairs)
            .map_err(|e| corrupt(Section::Series, start, format!("invalid label set: {e}")))?;
        Ok((labels, chunks))
    }
}

impl<S: ByteSource> IndexReader<S> {
    /// Reads `len` bytes at `offset` of `section`.
    fn read(&self, section: Section, offset: u64, len: u64) -> Result<Cow<'_, [u8]>, IndexError> {
        read_at(&self.source, section, offset, len)
    }

    /// The entries `[first, end)` of the label values table that belong to `name`.
    fn value_range(&self, name: &str) -> Option<(u32, u32)> {
        let i = self
            .names
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()?;
        let first = self.names[i].1;
        let end = self.names.get(i + 1).map_or(self.pair_count, |n| n.1);
        Some((first, end))
    }

    fn value_entry_offset(&self, i: u32) -> u64 {
        self.toc.label_values + 4 + u64::from(i) * VALUE_ENTRY_LEN
    }

    /// Entry `i` of the label values table: value ref and postings offset.
    fn value_entry(&self, i: u32) -> Result<(u32, u64), IndexError> {
        let offset = self.value_entry_offset(i);
        let data = self.read(Section::LabelValues, offset, VALUE_ENTRY_LEN)?;
        let mut c = Cursor::new(&data, offset, Section::LabelValues);
        Ok((c.u32("value ref")?, c.u64("postings offset")?))
    }

    /// The postings list in `[start, end)`.
    fn read_postings(&self, start: u64, end: u64) -> Result<Vec<SeriesId>, IndexError> {
        if start >= end {
            return Err(corrupt(
                Section::LabelValues,
                start,
                "postings offsets out of order",
            ));
        }
        let data = self.read(Section::Postings, start, end - start)?;
        let body = check_crc(&data, start, Section::Postings, "postings list")?;
        let mut c = Cursor::new(body, start, Section::Postings);
        let at = c.offset();
        let count = c.uvarint("postings count")?;
        if count == 0 || count > c.remaining() as u64 {
            return Err(c.corrupt_at(at, format!("postings count {count} does not fit the list")));
        }
        let mut out = Vec::with_capacity(count as usize);
        let mut next_min = 0u64;
        for _ in 0..count {
            let at = c.offset();
            let id = next_min.saturating_add(c.uvarint("series id")?);
            if id >= u64::from(self.series_count) {
                return Err(c.corrupt_at(at, format!("series id {id} past the last series")));
            }
            out.push(SeriesId(id as u32));
            next_min = id + 1;
        }
        c.expect_end("postings list")?;
        Ok(out)
    }

    /// The bytes of symbol block `b` (at most `SYMBOL_BLOCK` symbols) and their
    /// offset.
    fn symbol_block(&self, b: usize) -> Result<(Cow<'_, [u8]>, u64), IndexError> {
        let start = self.symbols.blocks[b];
        let end = self
            .symbols
            .blocks
            .get(b + 1)
            .copied()
            .unwrap_or(self.symbols.end);
        Ok((self.read(Section::Symbols, start, end - start)?, start))
    }

    /// The number of symbol `s`, if it is one. A binary search over the blocks,
    /// then a scan of one block.
    fn lookup_symbol(&self, s: &str) -> Result<Option<u32>, IndexError> {
        // The first block whose first symbol is greater than `s`.
        let (mut lo, mut hi) = (0, self.symbols.blocks.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (data, offset) = self.symbol_block(mid)?;
            let first = Cursor::new(&data, offset, Section::Symbols).str("symbol")?;
            if first <= s {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let Some(b) = lo.checked_sub(1) else {
            return Ok(None);
        };
        let (data, offset) = self.symbol_block(b)?;
        let mut c = Cursor::new(&data, offset, Section::Symbols);
        let mut i = 0u32;
        while !c.is_empty() {
            match c.str("symbol")?.cmp(s) {
                Ordering::Less => i += 1,
                Ordering::Equal => return Ok(Some(b as u32 * SYMBOL_BLOCK + i)),
                Ordering::Greater => break,
            }
        }
        Ok(None)
    }

    /// The strings of symbols `refs` (each checked to be below the symbol count).
    /// Each is found by skipping over the symbols before it in its block of
    /// `SYMBOL_BLOCK`; only the wanted string is checked as UTF-8 and copied.
    fn resolve(&self, refs: &[u32]) -> Result<Vec<String>, IndexError> {
        let mut out = Vec::with_capacity(refs.len());
        for &r in refs {
            if r >= self.symbols.count {
                return Err(corrupt(
                    Section::Symbols,
                    self.toc.symbols,
                    format!("symbol {r} past the last of {}", self.symbols.count),
                ));
            }
            let b = (r / SYMBOL_BLOCK) as usize;
            let (data, offset) = self.symbol_block(b)?;
            let mut c = Cursor::new(&data, offset, Section::Symbols);
            c.skip_strs(r % SYMBOL_BLOCK, "symbol")?;
            out.push(c.str("symbol")?.to_owned());
        }
        Ok(out)
    }

    /// Checks the series table; returns the series count.
    fn check_series_table(&self) -> Result<u32, IndexError> {
        let (start, end) = (self.toc.series_table, self.toc.toc);
        let data = self.read(Section::SeriesTable, start, end - start)?;
        let body = check_crc(&data, start, Section::SeriesTable, "series table")?;
        let mut c = Cursor::new(body, start, Section::SeriesTable);
        let count = c.u32("series count")?;
        if c.remaining() as u64 != u64::from(count) * SERIES_ENTRY_LEN {
            return Err(c.corrupt_at(
                start,
                format!(
                    "{count} series need {} bytes, the table has {}",
                    u64::from(count) * SERIES_ENTRY_LEN,
                    c.remaining()
                ),
            ));
        }
        let (series, series_end) = (self.toc.series, self.toc.postings);
        let mut expected_min = series;
        for i in 0..count {
            let at = c.offset();
            let o = c.u64("series offset")?;
            if (i == 0 && o != series)
                || o < expected_min
                || o.checked_add(MIN_SERIES_ENTRY)
                    .is_none_or(|e| e > series_end)
            {
                return Err(c.corrupt_at(
                    at,
                    format!("series {i} at offset {o} is not after the previous one inside the series section [{series}, {series_end})"),
                ));
            }
            expected_min = o + MIN_SERIES_ENTRY;
        }
        if count == 0 && series != series_end {
            return Err(corrupt(
                Section::Series,
                series,
                "series section without series",
            ));
        }
        Ok(count)
    }

    /// Checks the label values table but for the order of values, which needs the
    /// names; returns its entry count.
    fn check_label_values(&self) -> Result<u32, IndexError> {
        let (start, end) = (self.toc.label_values, self.toc.label_names);
        let data = self.read(Section::LabelValues, start, end - start)?;
        let body = check_crc(&data, start, Section::LabelValues, "label values table")?;
        let mut c = Cursor::new(body, start, Section::LabelValues);
        let count = c.u32("label pair count")?;
        if c.remaining() as u64 != u64::from(count) * VALUE_ENTRY_LEN {
            return Err(c.corrupt_at(
                start,
                format!(
                    "{count} label values need {} bytes, the table has {}",
                    u64::from(count) * VALUE_ENTRY_LEN,
                    c.remaining()
                ),
            ));
        }
        let (postings, postings_end) = (self.toc.postings, self.toc.label_values);
        let mut expected_min = postings;
        for i in 0..count {
            let at = c.offset();
            let value = c.u32("value ref")?;
            let o = c.u64("postings offset")?;
            if value >= self.symbols.count {
                return Err(c.corrupt_at(at, format!("value ref {value} past the symbol table")));
            }
            if (i == 0 && o != postings)
                || o < expected_min
                || o.checked_add(MIN_POSTINGS_ENTRY)
                    .is_none_or(|e| e > postings_end)
            {
                return Err(c.corrupt_at(
                    at,
                    format!("postings list {i} at offset {o} is not after the previous one inside the postings section [{postings}, {postings_end})"),
                ));
            }
            expected_min = o + MIN_POSTINGS_ENTRY;
        }
        if count == 0 && postings != postings_end {
            return Err(corrupt(
                Section::Postings,
                postings,
                "postings section without label values",
            ));
        }
        Ok(count)
    }

    /// Reads and checks the label names table.
    fn read_label_names(&self) -> Result<Vec<(String, u32)>, IndexError> {
        let (start, end) = (self.toc.label_names, self.toc.series_table);
        let data = self.read(Section::LabelNames, start, end - start)?;
        let body = check_crc(&data, start, Section::LabelNames, "label names table")?;
        let mut c = Cursor::new(body, start, Section::LabelNames);
        let count = c.u32("label name count")?;
        if c.remaining() as u64 != u64::from(count) * NAME_ENTRY_LEN {
            return Err(c.corrupt_at(
                start,
                format!(
                    "{count} label names need {} bytes, the table has {}",
                    u64::from(count) * NAME_ENTRY_LEN,
                    c.remaining()
                ),
            ));
        }
        let mut refs = Vec::with_capacity(count as usize);
        let mut firsts = Vec::with_capacity(count as usize);
        for i in 0..count {
            let at = c.offset();
            let name = c.u32("name ref")?;
            let first = c.u32("first value")?;
            if name >= self.symbols.count || refs.last().is_some_and(|&p| p >= name) {
                return Err(c.corrupt_at(
                    at,
                    format!("name ref {name} out of order or past the symbol table"),
                ));
            }
            let expected_min = firsts.last().map_or(0, |&p: &u32| p + 1);
            if (i == 0 && first != 0) || first < expected_min || first >= self.pair_count {
                return Err(c.corrupt_at(
                    at,
                    format!(
                        "first value {first} out of order or past the {} label values",
                        self.pair_count
                    ),
                ));
            }
            refs.push(name);
            firsts.push(first);
        }
        if count == 0 && self.pair_count != 0 {
            return Err(corrupt(
                Section::LabelNames,
                start,
                "label values without label names",
            ));
        }
        let names = self.resolve(&refs)?;
        Ok(names.into_iter().zip(firsts).collect())
    }

    /// Checks that the values of each name are strictly increasing.
    fn check_value_order(&self) -> Result<(), IndexError> {
        let start = self.value_entry_offset(0);
        let data = self.read(
            Section::LabelValues,
            start,
            u64::from(self.pair_count) * VALUE_ENTRY_LEN,
        )?;
        for (i, (name, first)) in self.names.iter().enumerate() {
            let end = self.names.get(i + 1).map_or(self.pair_count, |n| n.1);
            let mut prev: Option<u32> = None;
            for j in *first..end {
                let e = &data[(u64::from(j) * VALUE_ENTRY_LEN) as usize..][..4];
                let value = u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
                if prev.is_some_and(|p| p >= value) {
                    return Err(corrupt(
                        Section::LabelValues,
                        self.value_entry_offset(j),
                        format!("values of label {name:?} out of order"),
                    ));
                }
                prev = Some(value);
            }
        }
        Ok(())
    }
}

/// Reads `len` bytes at `offset`; a read past the end is corruption (the offset
/// came from the file).
fn read_at<S: ByteSource + ?Sized>(
    source: &S,
    section: Section,
    offset: u64,
    len: u64,
) -> Result<Cow<'_, [u8]>, IndexError> {
    let Ok(n) = usize::try_from(len) else {
        return Err(corrupt(
            section,
            offset,
            format!("{len} bytes do not fit in memory"),
        ));
    };
    source.read(offset, n).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => corrupt(
            section,
            offset,
            format!(
                "{len} bytes needed past the end of the file ({} bytes)",
                source.len()
            ),
        ),
        _ => IndexError::Read {
            section,
            offset,
            source: e,
        },
    })
}

/// Reads the header and the table of contents.
fn read_toc<S: ByteSource>(source: &S) -> Result<Toc, IndexError> {
    let len = source.len();
    if len < HEADER_LEN + TOC_LEN {
        return Err(corrupt(
            Section::Header,
            0,
            format!("file of {len} bytes is shorter than a header and a table of contents"),
        ));
    }
    let header = read_at(source, Section::Header, 0, HEADER_LEN)?;
    if header[..4] != INDEX_MAGIC {
        return Err(corrupt(
            Section::Header,
            0,
            format!("bad magic {:02x?}: not a tidemark index", &header[..4]),
        ));
    }
    if header[4] != INDEX_VERSION {
        return Err(corrupt(
            Section::Header,
            4,
            format!(
                "unknown version {} (this reader knows {INDEX_VERSION})",
                header[4]
            ),
        ));
    }
    let at = len - TOC_LEN;
    let data = read_at(source, Section::Toc, at, TOC_LEN)?;
    let body = check_crc(&data, at, Section::Toc, "table of contents")?;
    let mut c = Cursor::new(body, at, Section::Toc);
    let toc = Toc {
        symbols: c.u64("symbols offset")?,
        series: c.u64("series offset")?,
        postings: c.u64("postings offset")?,
        label_values: c.u64("label values offset")?,
        label_names: c.u64("label names offset")?,
        series_table: c.u64("series table offset")?,
        toc: at,
    };
    let starts = [
        toc.symbols,
        toc.series,
        toc.postings,
        toc.label_values,
        toc.label_names,
        toc.series_table,
        toc.toc,
    ];
    if toc.symbols != HEADER_LEN || starts.windows(2).any(|w| w[0] > w[1]) {
        return Err(corrupt(
            Section::Toc,
            at,
            format!("section offsets {starts:?} are not in file order after the header"),
        ));
    }
    let min_len = 4 + CRC_LEN as u64;
    for (section, start, end) in [
        (Section::Symbols, toc.symbols, toc.series),
        (Section::LabelValues, toc.label_values, toc.label_names),
        (Section::LabelNames, toc.label_names, toc.series_table),
        (Section::SeriesTable, toc.series_table, toc.toc),
    ] {
        if end - start < min_len {
            return Err(corrupt(
                section,
                start,
                format!(
                    "section of {} bytes is shorter than a count and a CRC",
                    end - start
                ),
            ));
        }
    }
    Ok(toc)
}

/// Reads and checks the symbol table.
fn read_symbols<S: ByteSource>(source: &S, toc: &Toc) -> Result<Symbols, IndexError> {
    let (start, end) = (toc.symbols, toc.series);
    let data = read_at(source, Section::Symbols, start, end - start)?;
    let body = check_crc(&data, start, Section::Symbols, "symbol table")?;
    let mut c = Cursor::new(body, start, Section::Symbols);
    let count = c.u32("symbol count")?;
    // Every symbol takes at least two bytes: a guard against a count that would
    // make the loop below allocate before it runs out of bytes.
    if u64::from(count) > c.remaining() as u64 / 2 {
        return Err(c.corrupt_at(start, format!("{count} symbols do not fit the section")));
    }
    let mut blocks = Vec::with_capacity(count.div_ceil(SYMBOL_BLOCK) as usize);
    let mut prev: Option<&str> = None;
    for i in 0..count {
        let at = c.offset();
        if i % SYMBOL_BLOCK == 0 {
            blocks.push(at);
        }
        let s = c.str("symbol")?;
        if s.is_empty() {
            return Err(c.corrupt_at(at, format!("symbol {i} is empty")));
        }
        if prev.is_some_and(|p| p >= s) {
            return Err(c.corrupt_at(
                at,
                format!("symbol {i} {s:?} is not after the previous one"),
            ));
        }
        prev = Some(s);
    }
    c.expect_end("symbol table")?;
    Ok(Symbols {
        count,
        blocks,
        end: end - CRC_LEN as u64,
    })
}
