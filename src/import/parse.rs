//! Parsing a piece (on a parser thread) into samples grouped by label set.

use crate::exposition::{Entry, Format, Mode, ParseState, Parser, Sample};
use crate::model::{Labels, METRIC_NAME};

use super::pieces::Piece;
use super::report::BadLine;

/// What a parser made of a piece, in input order. Line numbers count from the
/// piece's first line (1), the prefix not included.
pub(super) struct Batch {
    pub(super) piece: Piece,
    pub(super) keys: Vec<Key>,
    pub(super) items: Vec<Item>,
    /// Lines of the piece.
    pub(super) lines: usize,
    /// Whether the piece holds `# EOF`.
    pub(super) eof: bool,
}

/// A label set as written on a run of consecutive sample lines.
pub(super) struct Key {
    pub(super) name: std::ops::Range<usize>,
    pub(super) labels: std::ops::Range<usize>,
    /// A `# TYPE` line came before it in the piece: the same bytes may read
    /// differently than before it.
    pub(super) after_type: bool,
    /// `name` and `labels` locate its text in the piece.
    pub(super) comparable: bool,
    pub(super) parsed: Option<Labels>,
}

pub(super) enum Item {
    /// A sample of `keys[key]`; `end` is the offset in the piece just past its line.
    Sample {
        key: u32,
        end: u32,
        t: i64,
        v: f64,
    },
    Bad(BadLine),
}

/// Parses one piece (on a parser thread).
pub(super) fn parse_piece(piece: Piece) -> Batch {
    let mut keys: Vec<Key> = Vec::new();
    let mut items = Vec::new();
    let prefix_lines = usize::from(piece.prefix > 0);
    let src = piece.buf.as_slice();
    let mut parser = Parser::piece(src, ParseState::new(Format::OpenMetrics, Mode::Lenient));
    let mut lines = LineCounter {
        pos: piece.prefix,
        line: 1,
    };
    let mut after_type = false;
    // Whether the current key's label set is valid (`Err`: why not).
    let mut current: Option<Result<u32, String>> = None;
    // Where a borrowed text is in the piece; `None` for one that is not (an
    // empty label set is a static empty string).
    let range_of = |s: &str| {
        let at = (s.as_ptr() as usize).checked_sub(src.as_ptr() as usize)?;
        (at + s.len() <= src.len()).then_some(at..at + s.len())
    };
    while let Some(entry) = parser.next() {
        let s = match entry {
            Ok(Entry::Sample(s)) => s,
            Ok(Entry::Type { .. }) => {
                after_type = true;
                current = None;
                continue;
            }
            Ok(_) => continue,
            Err(e) => {
                if e.line > prefix_lines {
                    let mut bad = BadLine::from(&e);
                    bad.line -= prefix_lines;
                    items.push(Item::Bad(bad));
                }
                continue;
            }
        };
        let end = parser.consumed();
        let bad = |lines: &mut LineCounter, problem: String| {
            Item::Bad(BadLine {
                line: lines.line_before(src, end),
                column: None,
                problem,
            })
        };
        let Some(t) = s.timestamp else {
            let problem = "sample without a timestamp: every imported sample needs one";
            items.push(bad(&mut lines, problem.to_owned()));
            continue;
        };
        let (name, raw) = (s.name.raw(), s.labels.raw());
        let same = current.is_some()
            && keys.last().is_some_and(|k| {
                k.comparable
                    && src[k.name.clone()] == *name.as_bytes()
                    && src[k.labels.clone()] == *raw.as_bytes()
            });
        if !same {
            let parsed = labels_of(&s);
            // Fewer than 2^32 keys: each takes a line of the piece.
            current = Some(
                parsed
                    .as_ref()
                    .map(|_| keys.len() as u32)
                    .map_err(Clone::clone),
            );
            let (name_range, labels_range) = (range_of(name), range_of(raw));
            keys.push(Key {
                // Text not found in the piece (only ever empty) cannot be
                // compared with other lines': such a key is never reused.
                comparable: name_range.is_some() && labels_range.is_some(),
                name: name_range.unwrap_or_default(),
                labels: labels_range.unwrap_or_default(),
                after_type: std::mem::take(&mut after_type),
                parsed: parsed.ok(),
            });
        }
        match &current {
            Some(Ok(key)) => items.push(Item::Sample {
                key: *key,
                // Pieces are far smaller than 4 GiB.
                end: end as u32,
                t,
                v: s.value,
            }),
            Some(Err(problem)) => items.push(bad(&mut lines, problem.clone())),
            None => {}
        }
    }
    let state = parser.into_state();
    let lines = state.lines().saturating_sub(prefix_lines);
    // In lenient mode the end-of-input check is only whether `# EOF` was seen.
    let mut state = state;
    let eof = state.finish().is_ok();
    Batch {
        piece,
        keys,
        items,
        lines,
        eof,
    }
}

/// Finds line numbers in a piece, counting newlines only up to the lines asked
/// for (asked in increasing order), so a clean import never counts them.
pub(super) struct LineCounter {
    /// Newlines before this byte offset are counted in `line`.
    pub(super) pos: usize,
    /// The number of the line holding byte `pos`.
    pub(super) line: usize,
}

impl LineCounter {
    /// The number of the line ending just before byte `end` (the parser's
    /// position after a line: past its newline).
    pub(super) fn line_before(&mut self, piece: &[u8], end: usize) -> usize {
        let last = end.saturating_sub(1).max(self.pos).min(piece.len());
        self.line += memchr::memchr_iter(b'\n', &piece[self.pos..last]).count();
        self.pos = last;
        self.line
    }
}

/// The label set of a sample: its name as `__name__` and its labels, unescaped
/// (and `le`/`quantile` values normalised).
fn labels_of(s: &Sample<'_>) -> Result<Labels, String> {
    let name = s.name.get();
    let pairs = std::iter::once((METRIC_NAME.to_owned(), name.into_owned())).chain(
        s.labels
            .iter()
            .map(|l| (l.name.get().into_owned(), l.value.get().into_owned())),
    );
    let labels = Labels::new(pairs).map_err(|e| format!("invalid label set: {e}"))?;
    if labels.is_empty() {
        return Err("sample without a metric name or labels".to_owned());
    }
    Ok(labels)
}
