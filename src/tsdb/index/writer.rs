//! Streaming writer of index files.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::encoding::{INDEX_MAGIC, INDEX_VERSION, put_crc};
use super::error::IndexError;
use super::series::{ChunkMeta, SeriesId};
use crate::model::Labels;
use crate::model::varint::{append_uvarint, append_varint};
use crate::tsdb::fs::{File, Fs, OpenMode};

/// Writes an index file in one pass.
///
/// Order of calls: every symbol with [`add_symbol`](Self::add_symbol), in strictly
/// increasing byte order; then every series with [`add_series`](Self::add_series),
/// in strictly increasing label-set order; then [`finish`](Self::finish), which
/// writes the postings, label tables and table of contents and fsyncs the file.
///
/// The file is meant to be a temporary path inside the block's temporary directory:
/// the block writer renames the directory into place and fsyncs the parent; the
/// index writer only fsyncs the file itself.
///
/// Memory: the writer keeps every symbol, the offset of every series (8 bytes
/// each), and every postings list (4 bytes per label of every series) until
/// `finish`. Series entries themselves are streamed to the file.
///
/// An input error ([`IndexError::InvalidInput`]) writes nothing and leaves the
/// writer usable. After an I/O error the file is in an unknown state and every
/// later call fails with [`IndexError::Poisoned`]; the caller deletes the file.
pub struct IndexWriter {
    path: PathBuf,
    out: BufWriter<Box<dyn File>>,
    /// Bytes written so far: the offset of the next byte.
    pos: u64,
    symbols: Vec<String>,
    /// Whether the symbol table is written (at the first series or at `finish`).
    symbols_written: bool,
    series_offsets: Vec<u64>,
    last_series: Option<Labels>,
    /// (name ref, value ref) → ids of the series with that label, increasing.
    postings: HashMap<(u32, u32), Vec<u32>>,
    buf: Vec<u8>,
    poisoned: bool,
}

impl IndexWriter {
    /// Creates (or truncates) the file at `path` through `fs` and writes the
    /// header.
    pub fn create(fs: &dyn Fs, path: &Path) -> Result<IndexWriter, IndexError> {
        let file = fs
            .open(path, OpenMode::Truncate)
            .map_err(|source| IndexError::Io {
                op: "create",
                path: path.to_owned(),
                source,
            })?;
        let mut w = IndexWriter {
            path: path.to_owned(),
            out: BufWriter::with_capacity(1 << 16, file),
            pos: 0,
            symbols: Vec::new(),
            symbols_written: false,
            series_offsets: Vec::new(),
            last_series: None,
            postings: HashMap::new(),
            buf: Vec::new(),
            poisoned: false,
        };
        let mut header = INDEX_MAGIC.to_vec();
        header.push(INDEX_VERSION);
        w.write(&header)?;
        Ok(w)
    }

    /// Adds a symbol: a label name or value used by some series. Symbols must come
    /// before any series, non-empty, in strictly increasing byte order.
    pub fn add_symbol(&mut self, symbol: &str) -> Result<(), IndexError> {
        self.check_usable()?;
        if self.symbols_written {
            return Err(IndexError::InvalidInput(format!(
                "symbol {symbol:?} added after the first series"
            )));
        }
        if symbol.is_empty() {
            return Err(IndexError::InvalidInput("empty symbol".to_owned()));
        }
        if let Some(last) = self.symbols.last()
            && last.as_str() >= symbol
        {
            return Err(IndexError::InvalidInput(format!(
                "symbol {symbol:?} added after {last:?}: symbols must be strictly increasing"
            )));
        }
        if self.symbols.len() >= u32::MAX as usize {
            return Err(IndexError::InvalidInput(
                "more than 2^32 - 1 symbols".to_owned(),
            ));
        }
        self.symbols.push(symbol.to_owned());
        Ok(())
    }

    /// Adds the next series: its label set (greater than the previous series', every
    /// name and value a symbol) and its chunks (each with `min_time <= max_time`,
    /// kept in the order given). Returns its id.
    pub fn add_series(
        &mut self,
        labels: &Labels,
        chunks: &[ChunkMeta],
    ) -> Result<SeriesId, IndexError> {
        self.check_usable()?;
        if let Some(last) = &self.last_series
            && labels <= last
        {
            return Err(IndexError::InvalidInput(format!(
                "series {labels} added after {last}: series must be in strictly increasing label order"
            )));
        }
        let id = u32::try_from(self.series_offsets.len())
            .ok()
            .filter(|&id| id < u32::MAX)
            .ok_or_else(|| IndexError::InvalidInput("more than 2^32 - 1 series".to_owned()))?;
        let mut refs = Vec::with_capacity(labels.len());
        for l in labels {
            refs.push((
                self.symbol_ref(l.name, labels)?,
                self.symbol_ref(l.value, labels)?,
            ));
        }
        if let Some(c) = chunks.iter().find(|c| c.min_time > c.max_time) {
            return Err(IndexError::InvalidInput(format!(
                "series {labels}: chunk {} has min_time {} > max_time {}",
                c.chunk_ref, c.min_time, c.max_time
            )));
        }
        self.write_symbols()?;

        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        append_uvarint(&mut buf, refs.len() as u64);
        for &(n, v) in &refs {
            append_uvarint(&mut buf, n.into());
            append_uvarint(&mut buf, v.into());
        }
        append_uvarint(&mut buf, chunks.len() as u64);
        let mut prev: Option<&ChunkMeta> = None;
        for c in chunks {
            match prev {
                None => {
                    append_varint(&mut buf, c.min_time);
                    append_uvarint(&mut buf, c.max_time.wrapping_sub(c.min_time) as u64);
                    append_uvarint(&mut buf, c.chunk_ref);
                }
                Some(p) => {
                    append_varint(&mut buf, c.min_time.wrapping_sub(p.max_time));
                    append_uvarint(&mut buf, c.max_time.wrapping_sub(c.min_time) as u64);
                    append_varint(&mut buf, c.chunk_ref.wrapping_sub(p.chunk_ref) as i64);
                }
            }
            prev = Some(c);
        }
        put_crc(&mut buf, 0);
        let offset = self.pos;
        let res = self.write(&buf);
        self.buf = buf;
        res?;

        self.series_offsets.push(offset);
        for pair in refs {
            self.postings.entry(pair).or_default().push(id);
        }
        self.last_series = Some(labels.clone());
        Ok(SeriesId(id))
    }

    /// Writes the postings, the label tables, the series table and the table of
    /// contents, flushes and fsyncs the file. Returns the file's size.
    pub fn finish(mut self) -> Result<u64, IndexError> {
        self.check_usable()?;
        self.write_symbols()?;
        let series_start = self.series_offsets.first().copied().unwrap_or(self.pos);
        let symbols_start = super::encoding::HEADER_LEN;

        // Postings, in (name, value) order: symbol refs sort as the strings do.
        let postings_start = self.pos;
        let mut pairs: Vec<(u32, u32)> = self.postings.keys().copied().collect();
        pairs.sort_unstable();
        let pair_count = u32::try_from(pairs.len()).map_err(|_| {
            IndexError::InvalidInput(format!("{} label pairs: more than 2^32 - 1", pairs.len()))
        })?;
        let mut offsets = Vec::with_capacity(pairs.len());
        let mut buf = Vec::new();
        for pair in &pairs {
            let ids = self.postings.get(pair).map(Vec::as_slice).unwrap_or(&[]);
            buf.clear();
            append_uvarint(&mut buf, ids.len() as u64);
            let mut prev = None;
            for &id in ids {
                // Strictly increasing: the gap minus one.
                append_uvarint(&mut buf, prev.map_or(id, |p: u32| id - p - 1).into());
                prev = Some(id);
            }
            put_crc(&mut buf, 0);
            offsets.push(self.pos);
            self.write(&buf)?;
        }

        // Label values: per name, its values in order, each with its postings.
        let label_values_start = self.pos;
        buf.clear();
        buf.extend_from_slice(&pair_count.to_be_bytes());
        let mut names: Vec<(u32, u32)> = Vec::new();
        for (i, (&(name, value), &offset)) in pairs.iter().zip(&offsets).enumerate() {
            if names.last().is_none_or(|&(n, _)| n != name) {
                // i < pair_count, which fits in u32.
                names.push((name, i as u32));
            }
            buf.extend_from_slice(&value.to_be_bytes());
            buf.extend_from_slice(&offset.to_be_bytes());
        }
        put_crc(&mut buf, 0);
        self.write(&buf)?;

        // Label names: each with the index of its first value.
        let label_names_start = self.pos;
        buf.clear();
        buf.extend_from_slice(&(names.len() as u32).to_be_bytes());
        for &(name, first) in &names {
            buf.extend_from_slice(&name.to_be_bytes());
            buf.extend_from_slice(&first.to_be_bytes());
        }
        put_crc(&mut buf, 0);
        self.write(&buf)?;

        // Series table: the offset of every series entry.
        let series_table_start = self.pos;
        buf.clear();
        // Fewer than u32::MAX series: checked by add_series.
        buf.extend_from_slice(&(self.series_offsets.len() as u32).to_be_bytes());
        for &o in &self.series_offsets {
            buf.extend_from_slice(&o.to_be_bytes());
        }
        put_crc(&mut buf, 0);
        self.write(&buf)?;

        buf.clear();
        for o in [
            symbols_start,
            series_start,
            postings_start,
            label_values_start,
            label_names_start,
            series_table_start,
        ] {
            buf.extend_from_slice(&o.to_be_bytes());
        }
        put_crc(&mut buf, 0);
        self.write(&buf)?;

        let size = self.pos;
        let path = self.path.clone();
        let file = self.out.into_inner().map_err(|e| IndexError::Io {
            op: "flush",
            path: path.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(|source| IndexError::Io {
            op: "fsync",
            path,
            source,
        })?;
        Ok(size)
    }

    fn check_usable(&self) -> Result<(), IndexError> {
        if self.poisoned {
            Err(IndexError::Poisoned(self.path.clone()))
        } else {
            Ok(())
        }
    }

    fn symbol_ref(&self, s: &str, labels: &Labels) -> Result<u32, IndexError> {
        self.symbols
            .binary_search_by(|sym| sym.as_str().cmp(s))
            // Fewer than u32::MAX symbols: checked by add_symbol.
            .map(|i| i as u32)
            .map_err(|_| {
                IndexError::InvalidInput(format!(
                    "series {labels}: {s:?} was not added as a symbol"
                ))
            })
    }

    /// Writes the symbol table, once.
    fn write_symbols(&mut self) -> Result<(), IndexError> {
        if self.symbols_written {
            return Ok(());
        }
        let mut buf =
            Vec::with_capacity(8 + self.symbols.iter().map(|s| s.len() + 2).sum::<usize>());
        buf.extend_from_slice(&(self.symbols.len() as u32).to_be_bytes());
        for s in &self.symbols {
            append_uvarint(&mut buf, s.len() as u64);
            buf.extend_from_slice(s.as_bytes());
        }
        put_crc(&mut buf, 0);
        self.write(&buf)?;
        self.symbols_written = true;
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), IndexError> {
        if let Err(source) = self.out.write_all(bytes) {
            self.poisoned = true;
            return Err(IndexError::Io {
                op: "write",
                path: self.path.clone(),
                source,
            });
        }
        self.pos += bytes.len() as u64;
        Ok(())
    }
}
