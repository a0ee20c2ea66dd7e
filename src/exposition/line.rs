//! The grammar of one line, for both formats.
//!
//! A line is parsed on its own (the `\n` already removed) into a [`Line`]; what
//! depends on earlier lines (families, `# EOF`, ordering) is the
//! [`Parser`](super::Parser)'s and the strict validator's business.
//!
//! The two formats differ in their whitespace and number rules:
//!
//! - Text 0.0.4 (Prometheus's scraper): spaces and tabs may separate any two tokens
//!   and surround a line; label sets may end with a comma, and in lenient mode
//!   even the commas between labels may be left out; other `#` lines are comments;
//!   timestamps are integer milliseconds.
//! - OpenMetrics: exactly one space between tokens and none elsewhere; every `#`
//!   line is `# HELP`, `# TYPE`, `# UNIT` or `# EOF`; timestamps are decimal
//!   seconds; a sample may carry an exemplar. Lenient mode (Prometheus 3) allows a
//!   trailing comma in a label set and exemplars of any length; strict mode
//!   (the specification) does not.

use std::borrow::Cow;

use super::entry::{Entry, Escapes, Exemplar, LabelSet, MetricType, Sample, Text};
use super::error::LineError;
use super::format::Format;
use super::mode::Mode;
use super::number::{parse_millis, parse_om_seconds, seconds_to_millis};
use super::scan::{
    closing_quote, is_label_char, is_label_start, is_metric_char, is_metric_start, line_end,
};
use crate::model::float::{NumberError, parse_exposition};

/// Exemplar label sets may hold at most this many characters, names and values
/// together (OpenMetrics 1.0).
pub(crate) const EXEMPLAR_MAX_CHARS: usize = 128;

/// A parsed line.
#[derive(Debug)]
pub(crate) enum Line<'a> {
    /// Blank (text format) or a plain comment (text format).
    Skip,
    /// `# EOF` (OpenMetrics).
    Eof,
    Entry(Entry<'a>),
}

/// The details of a sample that strict validation needs beyond the entry itself.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SampleExtra {
    /// The timestamp as written in seconds (OpenMetrics): ordering checks compare
    /// these, which keep sub-millisecond differences.
    pub seconds: Option<f64>,
    /// Byte offset of the value token in the line.
    pub value_offset: usize,
}

/// Parses the record starting at `input`, whose first line is `input[..line_len]`.
/// In lenient text format a quoted string may hold raw newlines (Prometheus's lexer
/// allows it), so a record may run on over the next lines of `input`; the third
/// value says where the record ends (the byte offset of its `\n`, or `input`'s
/// end). A string left open to the end of `input` is an error flagged
/// `unclosed_quote`, located at the end of the first line. An error comes with
/// the end of the record as far as it was read, where parsing goes on.
pub(crate) fn parse_line(
    input: &str,
    line_len: usize,
    format: Format,
    mode: Mode,
) -> Result<(Line<'_>, SampleExtra, usize), (LineError, usize)> {
    let multiline = format == Format::Text && mode == Mode::Lenient;
    let mut c = Cursor::new(input, line_len, mode == Mode::Strict, multiline);
    let parsed = match format {
        Format::Text => c.text_line(),
        Format::OpenMetrics => c.om_line(),
    };
    match parsed {
        Ok((line, extra)) => Ok((line, extra, c.end)),
        Err(e) => Err((e, c.end)),
    }
}

struct Cursor<'a> {
    /// The input from the start of the record; only `..end` belongs to it.
    s: &'a str,
    b: &'a [u8],
    /// The end of the record so far: the end of its first line, moved on when a
    /// quoted string runs over a newline.
    end: usize,
    pos: usize,
    strict: bool,
    multiline: bool,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str, end: usize, strict: bool, multiline: bool) -> Cursor<'a> {
        Cursor {
            s,
            b: s.as_bytes(),
            end: end.min(s.len()),
            pos: 0,
            strict,
            multiline,
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        if self.pos < self.end {
            self.b.get(self.pos).copied()
        } else {
            None
        }
    }

    #[inline]
    fn at_end(&self) -> bool {
        self.pos >= self.end
    }

    /// `s[a..b]`; every offset the grammar cuts at is next to an ASCII byte, hence a
    /// character boundary, so the fallback is never taken.
    #[inline]
    fn slice(&self, a: usize, b: usize) -> &'a str {
        self.s.get(a..b).unwrap_or_default()
    }

    fn err(&self, expected: impl Into<Cow<'static, str>>) -> LineError {
        LineError::new(self.pos, expected)
    }

    fn expect(&mut self, byte: u8, expected: &'static str) -> Result<(), LineError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(expected))
        }
    }

    /// Spaces and tabs; returns how many.
    #[inline]
    fn skip_ws(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// The bytes up to the next space or tab (or `{` when `stop_at_brace`).
    #[inline]
    fn token(&mut self, stop_at_brace: bool) -> &'a str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b == b' ' || b == b'\t' || (stop_at_brace && b == b'{') {
                break;
            }
            self.pos += 1;
        }
        self.slice(start, self.pos)
    }

    /// Everything after the cursor.
    fn rest(&mut self) -> &'a str {
        let start = self.pos;
        self.pos = self.end;
        self.slice(start, self.pos)
    }

    /// A bare name: one byte `first` accepts, then any run `rest` accepts.
    #[inline]
    fn bare_name(
        &mut self,
        first: impl Fn(u8) -> bool,
        rest: impl Fn(u8) -> bool,
    ) -> Option<&'a str> {
        let start = self.pos;
        if !self.peek().is_some_and(first) {
            return None;
        }
        self.pos += 1;
        while self.peek().is_some_and(&rest) {
            self.pos += 1;
        }
        Some(self.slice(start, self.pos))
    }

    #[inline]
    fn bare_metric_name(&mut self) -> Option<&'a str> {
        self.bare_name(is_metric_start, is_metric_char)
    }

    #[inline]
    fn bare_label_name(&mut self) -> Option<&'a str> {
        self.bare_name(is_label_start, is_label_char)
    }

    /// A double-quoted string; the cursor is on the opening quote. Searching on
    /// past the record's end (multiline) moves the end to that of the line the
    /// string closes on, so every byte is scanned once.
    #[inline]
    fn quoted(&mut self) -> Result<Text<'a>, LineError> {
        let start = self.pos + 1;
        let line = self.b.get(..self.end).unwrap_or(self.b);
        let found = match closing_quote(line, start) {
            None if self.multiline => closing_quote(self.b, start).inspect(|&(close, _)| {
                self.end = line_end(self.b, close);
            }),
            found => found,
        };
        let Some((end, escaped)) = found else {
            let mut e = LineError::new(self.end, "a closing '\"'");
            e.unclosed_quote = true;
            return Err(e);
        };
        self.pos = end + 1;
        let raw = self.slice(start, end);
        Ok(if escaped {
            Text::escaped(raw, Escapes::Quoted)
        } else {
            Text::plain(raw)
        })
    }

    /// A metric name on a HELP/TYPE/UNIT line: bare or quoted.
    fn meta_name(&mut self) -> Result<Text<'a>, LineError> {
        if self.peek() == Some(b'"') {
            return self.quoted();
        }
        self.bare_metric_name()
            .map(Text::plain)
            .ok_or_else(|| self.err("a metric name"))
    }

    // ---- text format 0.0.4 ----

    fn text_line(&mut self) -> Result<(Line<'a>, SampleExtra), LineError> {
        self.skip_ws();
        match self.peek() {
            None => Ok((Line::Skip, SampleExtra::default())),
            Some(b'#') => self.text_comment().map(|l| (l, SampleExtra::default())),
            Some(_) => self.text_sample(),
        }
    }

    /// A `#` line of the text format. Prometheus's scraper and the exposition
    /// library (strict) read metadata lines a little differently: the library also
    /// takes `#TYPE` (no blank after `#`), skips every blank before the text, and
    /// reads the type in any case (`Gauge`, and `gauge_histogram`).
    fn text_comment(&mut self) -> Result<Line<'a>, LineError> {
        self.pos += 1;
        if self.skip_ws() == 0 && !self.strict {
            return Ok(Line::Skip);
        }
        let keyword = self.token(false);
        let is_help = match keyword {
            "HELP" => true,
            "TYPE" => false,
            _ => return Ok(Line::Skip),
        };
        if self.skip_ws() == 0 || self.at_end() {
            // "# HELP" with nothing after it, or "# HELPx": a comment like any other.
            return Ok(Line::Skip);
        }
        let name = self.meta_name()?;
        let text = if self.at_end() {
            ""
        } else if self.strict {
            if self.skip_ws() == 0 {
                return Err(self.err("a space after the metric name"));
            }
            self.rest()
        } else {
            // One character separates name and text, whatever it is: Prometheus
            // reads `# HELP a.b c` as "b c" for `a`. The rest is the text as written.
            let sep = self.s.get(self.pos..).and_then(|r| r.chars().next());
            self.pos += sep.map_or(1, char::len_utf8);
            self.rest()
        };
        if !is_help && self.strict && text.is_empty() {
            // The exposition library ignores a TYPE line without a type.
            return Ok(Line::Skip);
        }
        let entry = if is_help {
            let help = if text.contains('\\') {
                Text::escaped(text, Escapes::Help)
            } else {
                Text::plain(text)
            };
            Entry::Help { name, help }
        } else {
            let kind = if self.strict {
                match text.to_ascii_uppercase().as_str() {
                    "COUNTER" => Some(MetricType::Counter),
                    "GAUGE" => Some(MetricType::Gauge),
                    "HISTOGRAM" => Some(MetricType::Histogram),
                    "SUMMARY" => Some(MetricType::Summary),
                    "UNTYPED" => Some(MetricType::Unknown),
                    "GAUGE_HISTOGRAM" | "GAUGEHISTOGRAM" => Some(MetricType::GaugeHistogram),
                    _ => None,
                }
            } else {
                match text {
                    "counter" => Some(MetricType::Counter),
                    "gauge" => Some(MetricType::Gauge),
                    "histogram" => Some(MetricType::Histogram),
                    "summary" => Some(MetricType::Summary),
                    "untyped" => Some(MetricType::Unknown),
                    _ => None,
                }
            };
            let Some(kind) = kind else {
                return Err(
                    LineError::new(self.end - text.len(), TEXT_TYPES).found(format!("{text:?}"))
                );
            };
            Entry::Type { name, kind }
        };
        Ok(Line::Entry(entry))
    }

    fn text_sample(&mut self) -> Result<(Line<'a>, SampleExtra), LineError> {
        let mut name = self.bare_metric_name().map(Text::plain);
        if name.is_none() && self.peek() != Some(b'{') {
            return Err(self.err("a metric name or '{'"));
        }
        self.skip_ws();
        let mut labels = LabelSet::EMPTY;
        if self.peek() == Some(b'{') {
            labels = self.text_labels(&mut name)?;
            self.skip_ws();
        }
        let Some(name) = name else {
            return Err(LineError::new(0, "a metric name").found("a label set without one"));
        };
        let value_offset = self.pos;
        let value = self.value(Format::Text)?;
        let mut timestamp = None;
        let mut ws_at = self.pos;
        if self.skip_ws() > 0 && !self.at_end() {
            let start = self.pos;
            let tok = self.token(false);
            timestamp = Some(parse_millis(tok).map_err(|e| {
                LineError::new(
                    start,
                    number_expectation(e, "a timestamp (integer milliseconds)"),
                )
            })?);
            ws_at = self.pos;
            self.skip_ws();
        }
        if !self.at_end() {
            return Err(self.err("end of line"));
        }
        // Prometheus's lexer skips trailing blanks; its exposition library does not.
        if self.strict && ws_at < self.pos {
            return Err(LineError::new(ws_at, "end of line"));
        }
        let sample = Sample {
            name,
            labels,
            value,
            timestamp,
            exemplar: None,
        };
        let extra = SampleExtra {
            seconds: None,
            value_offset,
        };
        Ok((Line::Entry(Entry::Sample(sample)), extra))
    }

    /// `{ ... }` of the text format: whitespace around tokens, an optional trailing
    /// comma, a quoted metric name as an item of its own, and (lenient) commas
    /// between labels optional, as Prometheus's lexer lets them be.
    fn text_labels(&mut self, name: &mut Option<Text<'a>>) -> Result<LabelSet<'a>, LineError> {
        self.pos += 1;
        let start = self.pos;
        let mut canonical = true;
        let mut after_comma = false;
        loop {
            canonical &= self.skip_ws() == 0;
            match self.peek() {
                Some(b'}') => {
                    canonical &= !after_comma;
                    break;
                }
                Some(b'"') => {
                    canonical = false;
                    let item_at = self.pos;
                    let quoted = self.quoted()?;
                    self.skip_ws();
                    if self.peek() == Some(b'=') {
                        self.label_value_after_name(true)?;
                    } else if name.is_some() {
                        return Err(LineError::new(item_at, "'=' after a label name")
                            .found("a second metric name"));
                    } else if !matches!(self.peek(), Some(b',' | b'}')) {
                        // A quoted metric name needs its comma even where labels
                        // may do without (Prometheus reads a label name there).
                        return Err(self.err("'=' after a label name"));
                    } else {
                        *name = Some(quoted);
                    }
                }
                _ => {
                    if self.bare_label_name().is_none() {
                        return Err(self.err("a label name or '}'"));
                    }
                    canonical &= self.skip_ws() == 0;
                    canonical &= self.label_value_after_name(true)?.1;
                }
            }
            after_comma = false;
            canonical &= self.skip_ws() == 0;
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    after_comma = true;
                }
                Some(b'}') => break,
                _ if !self.strict => canonical = false,
                _ => return Err(self.err("',' or '}'")),
            }
        }
        Ok(self.close_labels(start, canonical))
    }

    /// The label set from `start` to the cursor, which is on the closing `}`.
    fn close_labels(&mut self, start: usize, canonical: bool) -> LabelSet<'a> {
        let raw = self.slice(start, self.pos);
        self.pos += 1;
        LabelSet {
            raw,
            canonical,
            float_label: None,
        }
    }

    /// `="value"`; the cursor is on the `=`. Returns the value and whether it was
    /// written canonically (no whitespace, no escape).
    #[inline]
    fn label_value_after_name(&mut self, spaces: bool) -> Result<(Text<'a>, bool), LineError> {
        self.expect(b'=', "'=' after a label name")?;
        let blank = spaces && self.skip_ws() > 0;
        if self.peek() != Some(b'"') {
            return Err(self.err("a quoted label value"));
        }
        let value = self.quoted()?;
        Ok((value, !blank && value.is_borrowed()))
    }

    #[inline]
    fn value(&mut self, format: Format) -> Result<f64, LineError> {
        let start = self.pos;
        let tok = self.token(format == Format::Text);
        if tok.is_empty() {
            return Err(self.err("a value"));
        }
        parse_exposition(tok).map_err(|e| LineError::new(start, number_expectation(e, "a value")))
    }

    // ---- OpenMetrics 1.0 ----

    fn om_line(&mut self) -> Result<(Line<'a>, SampleExtra), LineError> {
        match self.peek() {
            None => Err(self.err("a sample or a comment").found("a blank line")),
            Some(b'#') => self.om_comment().map(|l| (l, SampleExtra::default())),
            Some(_) => self.om_sample(),
        }
    }

    fn om_comment(&mut self) -> Result<Line<'a>, LineError> {
        if self.slice(0, self.end) == "# EOF" {
            return Ok(Line::Eof);
        }
        self.pos += 1;
        self.expect(b' ', "' ' after '#'")?;
        let keyword_at = self.pos;
        let keyword = self.token(false);
        if !matches!(keyword, "HELP" | "TYPE" | "UNIT") {
            return Err(LineError::new(keyword_at, "HELP, TYPE, UNIT or EOF"));
        }
        self.expect(b' ', "' ' after the keyword")?;
        let name = self.meta_name()?;
        self.expect(b' ', "' ' after the metric name")?;
        let text_at = self.pos;
        let text = self.rest();
        let entry = match keyword {
            "HELP" => Entry::Help {
                name,
                help: if text.contains('\\') {
                    Text::escaped(text, Escapes::Quoted)
                } else {
                    Text::plain(text)
                },
            },
            "TYPE" => {
                let kind = match text {
                    "counter" => MetricType::Counter,
                    "gauge" => MetricType::Gauge,
                    "histogram" => MetricType::Histogram,
                    "gaugehistogram" => MetricType::GaugeHistogram,
                    "summary" => MetricType::Summary,
                    "stateset" => MetricType::StateSet,
                    "info" => MetricType::Info,
                    "unknown" => MetricType::Unknown,
                    _ => {
                        return Err(LineError::new(text_at, OM_TYPES).found(format!("{text:?}")));
                    }
                };
                Entry::Type { name, kind }
            }
            _ => {
                let family = name.get();
                if !text.is_empty() && !family.strip_suffix(text).is_some_and(|f| f.ends_with('_'))
                {
                    return Err(LineError::new(
                        text_at,
                        format!("a unit that ends the metric name {family:?} after a '_'"),
                    )
                    .found(format!("{text:?}")));
                }
                Entry::Unit {
                    name,
                    unit: Text::plain(text),
                }
            }
        };
        Ok(Line::Entry(entry))
    }

    fn om_sample(&mut self) -> Result<(Line<'a>, SampleExtra), LineError> {
        let mut name = self.bare_metric_name().map(Text::plain);
        if name.is_none() && self.peek() != Some(b'{') {
            return Err(self.err("a metric name or '{'"));
        }
        let mut labels = LabelSet::EMPTY;
        if self.peek() == Some(b'{') {
            labels = self.om_labels(Some(&mut name))?;
        }
        let Some(name) = name else {
            return Err(LineError::new(0, "a metric name").found("a label set without one"));
        };
        self.expect(b' ', "' ' before the value")?;
        let value_offset = self.pos;
        let value = self.value(Format::OpenMetrics)?;
        let mut sample = Sample {
            name,
            labels,
            value,
            timestamp: None,
            exemplar: None,
        };
        let mut extra = SampleExtra {
            seconds: None,
            value_offset,
        };
        if self.at_end() {
            return Ok((Line::Entry(Entry::Sample(sample)), extra));
        }
        self.expect(b' ', "' ' or end of line after the value")?;
        if self.peek() != Some(b'#') {
            let seconds = self.om_timestamp()?;
            sample.timestamp = Some(seconds_to_millis(seconds));
            extra.seconds = Some(seconds);
            if self.at_end() {
                return Ok((Line::Entry(Entry::Sample(sample)), extra));
            }
            self.expect(b' ', "' ' or end of line after the timestamp")?;
            if self.peek() != Some(b'#') {
                return Err(self.err("'#' starting an exemplar"));
            }
        }
        sample.exemplar = Some(self.om_exemplar()?);
        Ok((Line::Entry(Entry::Sample(sample)), extra))
    }

    fn om_timestamp(&mut self) -> Result<f64, LineError> {
        let start = self.pos;
        let tok = self.token(false);
        if tok.is_empty() {
            return Err(self.err("a timestamp"));
        }
        parse_om_seconds(tok)
            .map_err(|e| LineError::new(start, number_expectation(e, "a timestamp (seconds)")))
    }

    /// `# {labels} value [timestamp]`; the cursor is on the `#`.
    fn om_exemplar(&mut self) -> Result<Exemplar<'a>, LineError> {
        self.pos += 1;
        self.expect(b' ', "' ' after '#'")?;
        if self.peek() != Some(b'{') {
            return Err(self.err("'{' opening the exemplar's labels"));
        }
        let labels_at = self.pos;
        let labels = self.om_labels(None)?;
        let chars = || -> usize {
            labels
                .iter()
                .map(|l| l.name.char_count() + l.value.char_count())
                .sum()
        };
        // Prometheus's parser lets longer ones through (its exemplar storage drops
        // them); the specification does not.
        if self.strict && chars() > EXEMPLAR_MAX_CHARS {
            let chars = chars();
            return Err(LineError::new(
                labels_at,
                format!("exemplar labels of at most {EXEMPLAR_MAX_CHARS} characters"),
            )
            .found(format!("{chars} characters")));
        }
        self.expect(b' ', "' ' before the exemplar value")?;
        let value = self.value(Format::OpenMetrics)?;
        let mut timestamp = None;
        if !self.at_end() {
            self.expect(b' ', "' ' or end of line after the exemplar value")?;
            timestamp = Some(seconds_to_millis(self.om_timestamp()?));
            if !self.at_end() {
                return Err(self.err("end of line"));
            }
        }
        Ok(Exemplar {
            labels,
            value,
            timestamp,
        })
    }

    /// `{...}` of OpenMetrics: items separated by exactly one comma, no whitespace.
    /// A quoted name without `=` is the metric name; exemplars (`name: None`) have
    /// none.
    fn om_labels(
        &mut self,
        mut name: Option<&mut Option<Text<'a>>>,
    ) -> Result<LabelSet<'a>, LineError> {
        self.pos += 1;
        let start = self.pos;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(LabelSet::EMPTY);
        }
        let mut canonical = true;
        loop {
            if self.peek() == Some(b'"') {
                canonical = false;
                let item_at = self.pos;
                let quoted = self.quoted()?;
                if self.peek() == Some(b'=') {
                    let value_at = self.pos + 1;
                    let (value, _) = self.label_value_after_name(false)?;
                    if name.is_none() && value.raw().contains('\0') {
                        return Err(LineError::new(value_at, "a label value without NUL bytes"));
                    }
                } else {
                    match name.as_deref_mut() {
                        Some(slot @ None) => *slot = Some(quoted),
                        _ => {
                            return Err(LineError::new(self.pos, "'=' after a label name").found(
                                if self.at_end() {
                                    "end of line".to_owned()
                                } else {
                                    format!("{:?}", self.slice(item_at, self.pos))
                                },
                            ));
                        }
                    }
                }
            } else {
                if self.bare_label_name().is_none() {
                    return Err(self.err("a label name"));
                }
                let value_at = self.pos + 1;
                let (value, clean) = self.label_value_after_name(false)?;
                canonical &= clean;
                if name.is_none() && value.raw().contains('\0') {
                    // Prometheus's lexer takes no NUL in an exemplar's label value.
                    return Err(LineError::new(value_at, "a label value without NUL bytes"));
                }
            }
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    // A trailing comma: Prometheus accepts it, the specification not.
                    if !self.strict && self.peek() == Some(b'}') {
                        canonical = false;
                        break;
                    }
                }
                Some(b'}') => break,
                _ => return Err(self.err("',' or '}'")),
            }
        }
        Ok(self.close_labels(start, canonical))
    }
}

const TEXT_TYPES: &str = "counter, gauge, histogram, summary or untyped";
const OM_TYPES: &str =
    "counter, gauge, histogram, gaugehistogram, summary, stateset, info or unknown";

fn number_expectation(e: NumberError, what: &'static str) -> Cow<'static, str> {
    match e {
        NumberError::Syntax => Cow::Borrowed(what),
        NumberError::Range => Cow::Owned(format!("{what} within range")),
    }
}
