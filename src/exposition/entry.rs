//! What the parser yields: borrowed views into the input, copied only when a caller
//! asks for an unescaped string that actually contains escapes.

use std::borrow::Cow;
use std::fmt;

use crate::model::float;

/// The metric types a `# TYPE` line can name, across both formats.
///
/// The text format 0.0.4 knows `counter`, `gauge`, `histogram`, `summary` and
/// `untyped`; OpenMetrics adds `gaugehistogram`, `stateset`, `info` and spells
/// untyped `unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    StateSet,
    Info,
    /// `untyped` in the text format, `unknown` in OpenMetrics.
    Unknown,
}

impl MetricType {
    /// The name used on a `# TYPE` line of the OpenMetrics format.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::StateSet => "stateset",
            MetricType::Info => "info",
            MetricType::Unknown => "unknown",
        }
    }

    /// The label that tells apart the buckets of one histogram series (`le`) or
    /// the quantiles of one summary series (`quantile`).
    pub(crate) fn split_label(self) -> Option<&'static str> {
        match self {
            MetricType::Histogram => Some("le"),
            MetricType::Summary => Some("quantile"),
            _ => None,
        }
    }

    /// The family a text-format name belongs to, with its suffix there: a
    /// histogram's own name for its `_bucket`, `_sum` and `_count` series, a
    /// summary's for `_sum` and `_count`, when `kind_of` (the type declared for a
    /// name) says so; else the name itself, suffix `""`. Prometheus's exposition
    /// library forms text-format families this way.
    pub(crate) fn text_family(
        name: &str,
        kind_of: impl Fn(&str) -> Option<MetricType>,
    ) -> (&str, &'static str) {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = name.strip_suffix(suffix) {
                let fits = match kind_of(base) {
                    Some(MetricType::Histogram) => true,
                    Some(MetricType::Summary) => suffix != "_bucket",
                    _ => false,
                };
                if fits {
                    return (base, suffix);
                }
            }
        }
        (name, "")
    }

    /// The sample-name suffixes a family of this type may use (`""` is the bare
    /// family name), as OpenMetrics defines them.
    pub(crate) fn suffixes(self) -> &'static [&'static str] {
        match self {
            MetricType::Counter => &["_total", "_created"],
            MetricType::Summary => &["", "_count", "_sum", "_created"],
            MetricType::Histogram => &["_count", "_sum", "_bucket", "_created"],
            MetricType::GaugeHistogram => &["_gcount", "_gsum", "_bucket"],
            MetricType::Info => &["_info"],
            MetricType::Gauge | MetricType::StateSet | MetricType::Unknown => &[""],
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which backslash escapes a piece of [`Text`] may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Escapes {
    /// None: the raw text is the value.
    None,
    /// `\\` and `\n` (HELP text of the text format 0.0.4).
    Help,
    /// `\\`, `\n` and `\"` (label values, quoted names, OpenMetrics HELP).
    Quoted,
    /// A quoted label value Prometheus rewrites as a float when it is one (a
    /// histogram's `le`, a summary's `quantile`): `"1"` reads `"1.0"`.
    Float,
}

/// A string as it appears in the input, unescaped on demand.
///
/// Names, label values and HELP text borrow the input; [`Text::get`] allocates only
/// when the raw text holds a backslash escape. An unknown escape such as `\z` is kept
/// as written, backslash included, as Prometheus keeps it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Text<'a> {
    raw: &'a str,
    escapes: Escapes,
}

impl<'a> Text<'a> {
    /// Text that needs no unescaping.
    pub fn plain(raw: &'a str) -> Text<'a> {
        Text {
            raw,
            escapes: Escapes::None,
        }
    }

    pub(crate) fn escaped(raw: &'a str, escapes: Escapes) -> Text<'a> {
        Text { raw, escapes }
    }

    /// The text exactly as written, escapes included.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// True when [`get`](Self::get) returns the input itself (no escape to undo).
    pub fn is_borrowed(&self) -> bool {
        self.escapes == Escapes::None
    }

    /// The unescaped text (for a histogram's `le` and a summary's `quantile` in
    /// lenient mode, the number in Prometheus's spelling).
    pub fn get(&self) -> Cow<'a, str> {
        match self.escapes {
            Escapes::None => Cow::Borrowed(self.raw),
            Escapes::Help => Cow::Owned(unescape(self.raw, false)),
            Escapes::Quoted => Cow::Owned(unescape(self.raw, true)),
            Escapes::Float => {
                let text = unescape(self.raw, true);
                match float::parse_exposition(&text) {
                    Ok(f) => Cow::Owned(float::format_openmetrics(f)),
                    Err(_) => Cow::Owned(text),
                }
            }
        }
    }

    /// The text with its escapes undone, but a float label value as written
    /// (`get` respells those).
    pub(crate) fn unescaped(&self) -> Cow<'a, str> {
        match self.escapes {
            Escapes::None => Cow::Borrowed(self.raw),
            Escapes::Help => Cow::Owned(unescape(self.raw, false)),
            Escapes::Quoted | Escapes::Float if !self.raw.contains('\\') => Cow::Borrowed(self.raw),
            Escapes::Quoted | Escapes::Float => Cow::Owned(unescape(self.raw, true)),
        }
    }

    /// The number of characters of the unescaped text.
    pub(crate) fn char_count(&self) -> usize {
        match self.escapes {
            Escapes::None => self.raw.chars().count(),
            _ => self.get().chars().count(),
        }
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.get(), f)
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.get())
    }
}

impl PartialEq<str> for Text<'_> {
    /// Compares the unescaped text without copying it (but for a float label
    /// value, which is respelled).
    fn eq(&self, other: &str) -> bool {
        match self.escapes {
            Escapes::None => self.raw == other,
            Escapes::Help => Unescaped::new(self.raw, false).eq(other.chars()),
            Escapes::Quoted => Unescaped::new(self.raw, true).eq(other.chars()),
            Escapes::Float => self.get() == other,
        }
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

fn unescape(raw: &str, quote: bool) -> String {
    let mut out = String::with_capacity(raw.len());
    out.extend(Unescaped::new(raw, quote));
    out
}

/// The characters of escaped text with `\\`, `\n` (and with `quote`, `\"`)
/// undone; any other backslash is kept as written.
struct Unescaped<'a> {
    chars: std::str::Chars<'a>,
    quote: bool,
    /// The character after a backslash that was not an escape.
    pending: Option<char>,
}

impl<'a> Unescaped<'a> {
    fn new(raw: &'a str, quote: bool) -> Unescaped<'a> {
        Unescaped {
            chars: raw.chars(),
            quote,
            pending: None,
        }
    }
}

impl Iterator for Unescaped<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        if let Some(c) = self.pending.take() {
            return Some(c);
        }
        let c = self.chars.next()?;
        if c != '\\' {
            return Some(c);
        }
        Some(match self.chars.next() {
            Some('\\') => '\\',
            Some('n') => '\n',
            Some('"') if self.quote => '"',
            Some(other) => {
                self.pending = Some(other);
                '\\'
            }
            None => '\\',
        })
    }
}

/// One label of a sample or an exemplar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label<'a> {
    pub name: Text<'a>,
    pub value: Text<'a>,
}

/// The label set of a sample or exemplar, as written (not sorted, duplicates not
/// removed), with the metric name left out when it was written inside the braces.
///
/// It holds the span of the input between the braces, already checked by the
/// parser; iterating lexes it again, which is cheaper than storing every label of
/// every sample.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LabelSet<'a> {
    pub(crate) raw: &'a str,
    /// The label whose value reads as a float (see [`Escapes::Float`]).
    pub(crate) float_label: Option<&'static str>,
    /// Written as `name="value"` items joined by single commas: no whitespace, no
    /// trailing comma, no escape, no quoted name. Two such spans are equal exactly
    /// when their label lists are, so the span itself can stand for them.
    pub(crate) canonical: bool,
}

impl<'a> LabelSet<'a> {
    pub(crate) const EMPTY: LabelSet<'static> = LabelSet {
        raw: "",
        float_label: None,
        canonical: true,
    };

    /// The raw span, when it is canonical (see the field).
    pub(crate) fn canonical_raw(&self) -> Option<&'a str> {
        self.canonical.then_some(self.raw)
    }

    /// The labels in the order written.
    pub fn iter(&self) -> LabelIter<'a> {
        LabelIter {
            rest: self.raw.as_bytes(),
            src: self.raw,
            pos: 0,
            float_label: self.float_label,
        }
    }

    /// True when there is no label besides a quoted metric name.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The first label named `name`, unescaped.
    pub fn get(&self, name: &str) -> Option<Text<'a>> {
        self.iter().find(|l| l.name == name).map(|l| l.value)
    }

    /// The text between the braces, exactly as written.
    pub fn raw(&self) -> &'a str {
        self.raw
    }
}

impl<'a> IntoIterator for LabelSet<'a> {
    type Item = Label<'a>;
    type IntoIter = LabelIter<'a>;
    fn into_iter(self) -> LabelIter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &LabelSet<'a> {
    type Item = Label<'a>;
    type IntoIter = LabelIter<'a>;
    fn into_iter(self) -> LabelIter<'a> {
        self.iter()
    }
}

impl fmt::Debug for LabelSet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|l| (l.name, l.value)))
            .finish()
    }
}

/// Iterator over a [`LabelSet`].
///
/// The span was validated when the sample was parsed, so this walks it with the
/// same token rules and no error paths: whitespace and commas separate items, an
/// item is `name="value"` (the name bare or quoted) or a lone quoted metric name,
/// which is skipped.
pub struct LabelIter<'a> {
    src: &'a str,
    rest: &'a [u8],
    pos: usize,
    float_label: Option<&'static str>,
}

impl<'a> LabelIter<'a> {
    fn skip_separators(&mut self) {
        while let Some(&b) = self.rest.get(self.pos) {
            if b == b' ' || b == b'\t' || b == b',' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// A quoted string starting at `pos` (on the opening quote); returns its text.
    fn quoted(&mut self) -> Text<'a> {
        let start = self.pos + 1;
        let (end, escaped) =
            super::scan::closing_quote(self.rest, start).unwrap_or((self.rest.len(), false));
        self.pos = end + 1;
        let raw = self.src.get(start..end).unwrap_or("");
        if escaped {
            Text::escaped(raw, Escapes::Quoted)
        } else {
            Text::plain(raw)
        }
    }
}

impl<'a> Iterator for LabelIter<'a> {
    type Item = Label<'a>;

    fn next(&mut self) -> Option<Label<'a>> {
        loop {
            self.skip_separators();
            let &first = self.rest.get(self.pos)?;
            let name = if first == b'"' {
                self.quoted()
            } else {
                let start = self.pos;
                while self
                    .rest
                    .get(self.pos)
                    .is_some_and(|&b| super::scan::is_name_char(b))
                {
                    self.pos += 1;
                }
                if self.pos == start {
                    // Not reachable on a validated span; stop rather than loop.
                    return None;
                }
                Text::plain(self.src.get(start..self.pos).unwrap_or(""))
            };
            while self
                .rest
                .get(self.pos)
                .is_some_and(|&b| b == b' ' || b == b'\t')
            {
                self.pos += 1;
            }
            if self.rest.get(self.pos) != Some(&b'=') {
                // A quoted metric name inside the braces: not a label.
                continue;
            }
            self.pos += 1;
            while self
                .rest
                .get(self.pos)
                .is_some_and(|&b| b == b' ' || b == b'\t')
            {
                self.pos += 1;
            }
            if self.rest.get(self.pos) != Some(&b'"') {
                return None;
            }
            let mut value = self.quoted();
            if self.float_label.is_some_and(|f| name.raw() == f) {
                value.escapes = Escapes::Float;
            }
            return Some(Label { name, value });
        }
    }
}

/// An exemplar attached to an OpenMetrics sample: `# {labels} value [timestamp]`.
///
/// Prometheus keeps exemplar label values as written, escapes and all: read them
/// with [`Text::raw`] to store the same.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exemplar<'a> {
    pub labels: LabelSet<'a>,
    pub value: f64,
    /// Milliseconds since the epoch (OpenMetrics writes seconds).
    pub timestamp: Option<i64>,
}

/// One sample line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample<'a> {
    /// The metric name, written before the braces or quoted inside them.
    pub name: Text<'a>,
    pub labels: LabelSet<'a>,
    pub value: f64,
    /// Milliseconds since the epoch: the text format writes milliseconds,
    /// OpenMetrics seconds (converted here).
    pub timestamp: Option<i64>,
    pub exemplar: Option<Exemplar<'a>>,
}

/// One line of an exposition that carries information.
///
/// Blank lines, plain comments of the text format and the final `# EOF` of
/// OpenMetrics are not entries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Entry<'a> {
    /// `# HELP name text` (the text unescapes with [`Text::get`]).
    Help {
        name: Text<'a>,
        help: Text<'a>,
    },
    /// `# TYPE name type`.
    Type {
        name: Text<'a>,
        kind: MetricType,
    },
    /// `# UNIT name unit` (OpenMetrics only).
    Unit {
        name: Text<'a>,
        unit: Text<'a>,
    },
    Sample(Sample<'a>),
}
