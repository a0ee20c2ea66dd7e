//! Storing parsed pieces in input order: series lookup, bad lines, `# EOF`.

use super::parse::{Batch, Item, Key, LineCounter};
use super::report::{BadLine, ImportError, ImportObserver, ImportReport};
use super::sink::{SampleError, Sink};

/// The label-set bytes of the previous sample line and its series: consecutive
/// lines of one series (the usual backfill file) skip building and looking up
/// the label set.
#[derive(Default)]
struct PrevSeries {
    name: Vec<u8>,
    labels: Vec<u8>,
    series: Option<u32>,
}

/// The storing side of an import: batches in input order go into the sink.
pub(super) struct Store<'a> {
    input: &'a str,
    strict: bool,
    sink: Sink,
    report: ImportReport,
    observer: &'a mut dyn ImportObserver,
    prev: PrevSeries,
    /// The number of the first line of the next batch.
    next_line: usize,
    /// `# EOF` was seen: any later line is bad.
    eof_seen: bool,
}

impl<'a> Store<'a> {
    pub(super) fn new(
        input: &'a str,
        strict: bool,
        sink: Sink,
        observer: &'a mut dyn ImportObserver,
    ) -> Self {
        Store {
            input,
            strict,
            sink,
            report: ImportReport::default(),
            observer,
            prev: PrevSeries::default(),
            next_line: 1,
            eof_seen: false,
        }
    }

    /// Stores a batch; gives back its buffer for reuse.
    pub(super) fn batch(&mut self, mut batch: Batch) -> Result<Vec<u8>, ImportError> {
        let base = self.next_line - 1;
        let src = &batch.piece.buf;
        if self.eof_seen {
            // Every line after `# EOF` is bad, as the parser reports them.
            let mut line = base;
            for text in src[batch.piece.prefix..].split(|&b| b == b'\n') {
                line += 1;
                if line > base + batch.lines {
                    break;
                }
                let text = String::from_utf8_lossy(text);
                self.bad(BadLine {
                    line,
                    column: Some(1),
                    problem: format!("found {text:?}, expected nothing after \"# EOF\""),
                })?;
            }
        } else {
            let mut lines = LineCounter {
                pos: batch.piece.prefix,
                line: 1,
            };
            let mut current: Option<(u32, u32)> = None;
            for item in std::mem::take(&mut batch.items) {
                match item {
                    Item::Bad(mut bad) => {
                        bad.line += base;
                        self.bad(bad)?;
                    }
                    Item::Sample { key, end, t, v } => {
                        let series = match current {
                            Some((k, id)) if k == key => id,
                            _ => {
                                let id = self.resolve(src, &mut batch.keys, key);
                                current = Some((key, id));
                                id
                            }
                        };
                        match self.sink.append(series, t, v) {
                            Ok(()) => {}
                            Err(SampleError::Bad(problem)) => {
                                let line = base + lines.line_before(src, end as usize);
                                self.bad(BadLine {
                                    line,
                                    column: None,
                                    problem,
                                })?;
                            }
                            Err(SampleError::Block(e)) => return Err(e.into()),
                        }
                    }
                }
            }
            self.eof_seen = batch.eof;
        }
        self.next_line += batch.lines;
        self.report.lines = self.next_line - 1;
        self.report.bytes += (src.len() - batch.piece.prefix) as u64;
        self.observer.progress(self.report.bytes);
        Ok(batch.piece.buf)
    }

    /// The series of `keys[key]`: the previous line's when the bytes are the same.
    fn resolve(&mut self, src: &[u8], keys: &mut [Key], key: u32) -> u32 {
        let k = &mut keys[key as usize];
        let (name, raw) = (&src[k.name.clone()], &src[k.labels.clone()]);
        if let Some(id) = self.prev.series
            && !k.after_type
            && k.comparable
            && self.prev.name == name
            && self.prev.labels == raw
        {
            return id;
        }
        if let Some(id) = self.prev.series {
            self.sink.leave(id);
        }
        // Keys of a batch are resolved once each (a run of lines).
        let labels = k.parsed.take().unwrap_or_default();
        let id = self.sink.lookup(labels);
        self.prev.name.clear();
        self.prev.name.extend_from_slice(name);
        self.prev.labels.clear();
        self.prev.labels.extend_from_slice(raw);
        self.prev.series = Some(id);
        id
    }

    /// Checks the end of the input, writes every partial chunk and finishes the
    /// blocks.
    pub(super) fn finish(mut self) -> Result<ImportReport, ImportError> {
        self.end()?;
        let Store {
            sink,
            mut report,
            observer,
            ..
        } = self;
        let (blocks, samples, duplicates) = sink.finish(observer)?;
        report.blocks = blocks;
        report.samples = samples;
        report.duplicates = duplicates;
        Ok(report)
    }

    /// The end-of-input check: the input must have ended with `# EOF`.
    fn end(&mut self) -> Result<(), ImportError> {
        if self.eof_seen {
            return Ok(());
        }
        let line = self.next_line;
        self.bad(BadLine {
            line,
            column: Some(1),
            problem: "found end of input, expected \"# EOF\"".to_owned(),
        })
    }

    fn bad(&mut self, bad: BadLine) -> Result<(), ImportError> {
        if self.strict {
            return Err(ImportError::Strict {
                input: self.input.to_owned(),
                bad,
            });
        }
        self.report.bad_lines += 1;
        self.observer.bad_line(&bad);
        Ok(())
    }
}
