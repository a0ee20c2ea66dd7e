//! [`Parser`]: an exposition walked line by line into [`Entry`] values, and the
//! [`ParseState`] it carries from one piece of a long exposition to the next.

use super::entry::{Entry, MetricType};
use super::error::{self, ParseError};
use super::format::Format;
use super::line::{Line, parse_line};
use super::mode::Mode;
use super::scan;
use super::strict::Validator;

/// What a parser carries from one piece of an exposition to the next: the line
/// number, whether `# EOF` was seen, and the strict validator's view of the current
/// metric family. [`Parser::piece`] takes it, [`Parser::into_state`] gives it back,
/// [`ParseState::finish`] runs the end-of-input checks.
#[derive(Debug)]
pub struct ParseState {
    format: Format,
    mode: Mode,
    /// The type of the last `# TYPE` line: Prometheus keeps it across families.
    current_type: Option<MetricType>,
    /// The number of the next line, from 1.
    line: usize,
    eof: bool,
    validator: Option<Validator>,
}

impl ParseState {
    pub fn new(format: Format, mode: Mode) -> ParseState {
        ParseState {
            format,
            mode,
            current_type: None,
            line: 1,
            eof: false,
            validator: (mode == Mode::Strict).then(|| Validator::new(format)),
        }
    }

    /// Lines parsed so far.
    pub fn lines(&self) -> usize {
        self.line - 1
    }

    /// The checks that need the whole input: OpenMetrics must end with `# EOF`; in
    /// strict mode the last metric family must be complete. (An empty scrape body
    /// is not parsed at all by Prometheus, whatever its format: that is the
    /// scraper's call, not this one's.)
    pub fn finish(&mut self) -> Result<(), ParseError> {
        if let Some(v) = &mut self.validator
            && let Err(e) = v.end()
        {
            return Err(e.at_line(self.line.saturating_sub(1).max(1), ""));
        }
        if self.format == Format::OpenMetrics && !self.eof {
            return Err(ParseError {
                line: self.line,
                column: 1,
                found: "end of input".to_owned(),
                expected: "\"# EOF\"".into(),
            });
        }
        Ok(())
    }
}

/// The label whose value Prometheus rewrites as a float (`le="1"` → `"1.0"`)
/// under the last TYPE seen: a histogram's `le`, a summary's `quantile`.
fn float_label(current: Option<MetricType>) -> Option<&'static str> {
    current.and_then(MetricType::split_label)
}

/// Iterates over the entries of an exposition (see the [module docs](super)).
///
/// After an error the parser goes on with the next line, so a caller may collect
/// every error; a scraper stops at the first.
pub struct Parser<'a> {
    src: &'a [u8],
    /// The start of the next line.
    pos: usize,
    /// The bytes `src[checked_from..checked_to]` are valid UTF-8, as `checked`.
    checked: &'a str,
    checked_from: usize,
    state: ParseState,
    /// Run [`ParseState::finish`] at the end (a whole exposition or the last piece).
    finish: bool,
    done: bool,
}

impl<'a> Parser<'a> {
    /// A parser over a whole exposition.
    pub fn new(input: &'a [u8], format: Format, mode: Mode) -> Parser<'a> {
        let mut p = Parser::piece(input, ParseState::new(format, mode));
        p.finish = true;
        p
    }

    /// A parser over one piece of a longer exposition, for reading a stream without
    /// holding it all: `input` holds whole lines (it ends with `\n`) and `state`
    /// comes from the parser of the previous piece ([`into_state`](Self::into_state)).
    /// A record that goes on past the end of `input` (a text-format label value
    /// holding a raw newline) is left for the next piece: [`consumed`](Self::consumed)
    /// says where the parser stopped. The last piece goes to
    /// [`last_piece`](Self::last_piece).
    pub fn piece(input: &'a [u8], state: ParseState) -> Parser<'a> {
        Parser {
            src: input,
            pos: 0,
            checked: "",
            checked_from: 0,
            state,
            finish: false,
            done: false,
        }
    }

    /// The last piece of a longer exposition (see [`piece`](Self::piece)): parsed
    /// to its end, then the end-of-input checks run, as for a whole exposition.
    pub fn last_piece(input: &'a [u8], state: ParseState) -> Parser<'a> {
        let mut p = Parser::piece(input, state);
        p.finish = true;
        p
    }

    /// The bytes of the input parsed so far. Once the iterator has ended, the rest
    /// of a piece (if any) is a record to parse again with the next piece.
    pub fn consumed(&self) -> usize {
        self.pos.min(self.src.len())
    }

    /// The state to continue with on the next piece.
    pub fn into_state(self) -> ParseState {
        self.state
    }

    /// The input from `start` to the end of the checked UTF-8 (called after
    /// [`line_text`](Self::line_text) has checked the line at `start`).
    fn rest_text(&self, start: usize) -> Option<&'a str> {
        let rest = self.checked.get(start.checked_sub(self.checked_from)?..)?;
        if self.checked_from + self.checked.len() == self.src.len() {
            return Some(rest);
        }
        // The checked text stops before a byte that is not UTF-8: a record may run
        // on over the whole lines before it only.
        Some(rest.rfind('\n').map_or(rest, |cut| &rest[..cut]))
    }

    /// The line `src[start..end]` as text, or an error locating its first byte that
    /// is not UTF-8.
    fn line_text(&mut self, start: usize, end: usize) -> Result<&'a str, (usize, String)> {
        let checked_to = self.checked_from + self.checked.len();
        if start < self.checked_from || end > checked_to {
            // Check from this line to the end (or the first bad byte) in one go.
            let rest = &self.src[start..];
            let valid = match std::str::from_utf8(rest) {
                Ok(s) => s,
                Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or_default(),
            };
            self.checked = valid;
            self.checked_from = start;
            if start + valid.len() < end {
                let bad = start + valid.len();
                return Err((bad - start, format!("byte 0x{:02x}", self.src[bad])));
            }
        }
        let from = start - self.checked_from;
        Ok(self
            .checked
            .get(from..from + (end - start))
            .unwrap_or_default())
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            if self.pos >= self.src.len() {
                self.done = true;
                if self.finish {
                    return self.state.finish().err().map(Err);
                }
                return None;
            }
            let start = self.pos;
            let end = scan::line_end(self.src, start);
            self.pos = end + 1;
            let number = self.state.line;
            self.state.line += 1;

            let text = match self.line_text(start, end) {
                Ok(t) => t,
                Err((offset, found)) => {
                    let valid = self.src.get(start..start + offset).unwrap_or_default();
                    let prefix = String::from_utf8_lossy(valid);
                    return Some(Err(error::LineError::new(offset, "UTF-8 text")
                        .found(found)
                        .at_line(number, &prefix)));
                }
            };
            if end == self.src.len()
                && self.state.format == Format::Text
                && self.state.mode == Mode::Strict
                && !text.trim_matches([' ', '\t']).is_empty()
            {
                // Prometheus's scraper adds the newline; its exposition library wants it.
                return Some(Err(error::LineError::new(
                    text.len(),
                    "a newline ending the last line",
                )
                .at_line(number, text)));
            }
            if self.state.eof {
                return Some(Err(
                    error::LineError::new(0, "nothing after \"# EOF\"").at_line(number, text)
                ));
            }
            // A record may run on over the next lines (lenient text format: a quoted
            // string holding a newline), so the parser sees the rest of the input.
            let rest = self.rest_text(start).unwrap_or(text);
            let parsed = parse_line(rest, text.len(), self.state.format, self.state.mode);
            let record_end = match &parsed {
                Ok((_, _, end)) | Err((_, end)) => *end,
            };
            if record_end > text.len() {
                let joined = rest.get(text.len()..record_end).unwrap_or_default();
                self.state.line += joined.matches('\n').count();
                self.pos = start + record_end + 1;
            }
            let (line, extra) = match parsed {
                Ok((line, extra, _)) => (line, extra),
                Err((e, _))
                    if e.unclosed_quote
                        && !self.finish
                        && self.state.format == Format::Text
                        && self.state.mode == Mode::Lenient =>
                {
                    // The string may close in the next piece: leave the record to it.
                    self.pos = start;
                    self.state.line = number;
                    self.done = true;
                    return None;
                }
                Err((e, _)) => return Some(Err(e.at_line(number, rest))),
            };
            match line {
                Line::Skip => continue,
                Line::Eof => {
                    self.state.eof = true;
                    continue;
                }
                Line::Entry(mut entry) => {
                    if let Some(v) = &mut self.state.validator
                        && let Err(e) = v.check(&entry, &extra)
                    {
                        return Some(Err(e.at_line(number, text)));
                    }
                    match &mut entry {
                        Entry::Type { kind, .. } => self.state.current_type = Some(*kind),
                        Entry::Sample(sample) if self.state.mode == Mode::Lenient => {
                            sample.labels.float_label = float_label(self.state.current_type);
                        }
                        _ => {}
                    }
                    return Some(Ok(entry));
                }
            }
        }
    }
}
