//! Lint checks over an exposition, the checks of Prometheus's `promlint` (what
//! `promtool check metrics` reports), with its messages.
//!
//! Feed every parsed [`Entry`] to a [`Linter`] in order, then call
//! [`Linter::finish`]. Families are formed as Prometheus's exposition library forms
//! them for the text format: by exact metric name, except that `_bucket`, `_sum` and
//! `_count` samples join an already declared histogram (`_sum` and `_count` a
//! summary); families without samples are not linted. For OpenMetrics a sample
//! joins a declared family by any suffix its type allows (`_total` a counter's),
//! and a counter's family name is not expected to end in `_total`. Per-series problems (a
//! label `le` outside a histogram, a camelCase label name, a duplicate series) are
//! reported once per series, like promlint, but counted rather than stored, so
//! memory grows with the number of families, plus one hash per series for the
//! duplicate check.
//!
//! Where promlint versions differ, the current one is followed: the base-unit check
//! takes the first unit of the name (Prometheus 2.42's pick was random), and the
//! type-in-name check looks for the family's own type only.

use std::collections::HashMap;

use super::entry::{Entry, LabelSet, MetricType, Sample};
use super::format::Format;
use crate::model::{HashSet64, hash_span};

/// One lint problem: the metric family it concerns, what is wrong, and how many
/// times promlint reports it (once per offending series for the per-series
/// checks, else once).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub metric: String,
    pub text: String,
    pub count: u64,
}

#[derive(Debug)]
struct Family {
    name: String,
    kind: MetricType,
    help: bool,
    samples: u64,
    /// Series (counted once each) with a label `le` / `quantile`.
    le_series: u64,
    quantile_series: u64,
    /// Series × label names written in camelCase.
    camel_labels: u64,
    /// Series seen again later with the same labels.
    duplicates: u64,
    /// Hashes of the series seen, to count series once (histograms, summaries:
    /// buckets and quantiles of one series merge) and to find duplicates.
    series: HashSet64,
}

impl Family {
    fn new(name: String) -> Family {
        Family {
            name,
            kind: MetricType::Unknown,
            help: false,
            samples: 0,
            le_series: 0,
            quantile_series: 0,
            camel_labels: 0,
            duplicates: 0,
            series: HashSet64::default(),
        }
    }
}

/// Collects what the lints need while entries stream by.
#[derive(Debug)]
pub struct Linter {
    format: Format,
    families: Vec<Family>,
    by_name: HashMap<String, usize>,
    /// The previous sample's name and its family: samples come grouped, so most
    /// lookups are this comparison.
    last: Option<(String, usize)>,
    /// Where [`scan_labels`] writes label sets out.
    scratch: String,
    finders: Finders,
}

impl Linter {
    pub fn new(format: Format) -> Linter {
        Linter {
            format,
            families: Vec::new(),
            by_name: HashMap::new(),
            last: None,
            scratch: String::new(),
            finders: Finders::default(),
        }
    }

    pub fn entry(&mut self, entry: &Entry<'_>) {
        match entry {
            Entry::Help { name, help } => {
                // A HELP without text (blanks at most) does not count.
                if !help.raw().trim_matches([' ', '\t']).is_empty() {
                    let i = self.family_for_metadata(&name.get());
                    self.families[i].help = true;
                }
            }
            Entry::Type { name, kind } => {
                let i = self.family_for_metadata(&name.get());
                self.families[i].kind = *kind;
                self.last = None;
            }
            Entry::Unit { .. } => {}
            Entry::Sample(s) => self.sample(s),
        }
    }

    fn index(&mut self, name: &str) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            return i;
        }
        self.families.push(Family::new(name.to_owned()));
        let i = self.families.len() - 1;
        self.by_name.insert(name.to_owned(), i);
        i
    }

    /// The family a metadata line names: a declared histogram's or summary's own
    /// for its `_bucket`/`_sum`/`_count` names, else its own.
    fn family_for_metadata(&mut self, name: &str) -> usize {
        match self.declared_parent(name) {
            Some(i) => i,
            None => self.index(name),
        }
    }

    fn declared_parent(&self, name: &str) -> Option<usize> {
        let kind_of = |base: &str| self.by_name.get(base).map(|&i| self.families[i].kind);
        if self.format == Format::Text {
            // The text format's library folds only a histogram's and a summary's
            // series.
            let (base, suffix) = MetricType::text_family(name, kind_of);
            return (!suffix.is_empty())
                .then(|| self.by_name.get(base).copied())
                .flatten();
        }
        // OpenMetrics names every suffix a type allows.
        const SUFFIXES: &[&str] = &[
            "_bucket", "_sum", "_count", "_total", "_created", "_gsum", "_gcount",
        ];
        SUFFIXES.iter().find_map(|suffix| {
            let base = name.strip_suffix(suffix)?;
            let &i = self.by_name.get(base)?;
            self.families[i]
                .kind
                .suffixes()
                .contains(suffix)
                .then_some(i)
        })
    }

    fn sample(&mut self, s: &Sample<'_>) {
        let name = s.name.get();
        let i = match &self.last {
            Some((last, i)) if *last == *name => *i,
            _ => {
                let i = match self.declared_parent(&name) {
                    Some(i) => i,
                    None => self.index(&name),
                };
                self.last = Some((name.clone().into_owned(), i));
                i
            }
        };
        let f = &mut self.families[i];
        f.samples += 1;
        // A histogram's `le` and a summary's `quantile` are not labels of the
        // series but of its buckets and quantiles.
        let series_key = match f.kind {
            MetricType::GaugeHistogram => Some("le"),
            kind => kind.split_label(),
        };
        // Samples under another name than the family's (`_sum`, `_count`, an
        // OpenMetrics counter's `_total` and `_created`) are parts of one series:
        // seeing its labels again is no duplicate.
        let parts = series_key.is_some() || *name != *f.name;
        let scan = scan_labels(&s.labels, series_key, &self.finders, &mut self.scratch);
        if !f.series.insert(scan.hash) {
            if !parts {
                f.duplicates += 1;
            }
            return;
        }
        f.le_series += u64::from(scan.le);
        f.quantile_series += u64::from(scan.quantile);
        f.camel_labels += scan.camel;
    }

    /// The problems, sorted by metric name and text.
    pub fn finish(self) -> Vec<Problem> {
        let mut out = Vec::new();
        for f in self.families.iter().filter(|f| f.samples > 0) {
            lint_family(f, self.format, &mut out);
        }
        out.sort();
        out
    }
}

struct LabelScan {
    hash: u64,
    le: bool,
    quantile: bool,
    camel: u64,
}

/// What the lints need of a sample's labels: the identity of its series (the
/// labels in the order written, leaving out `except`), whether it has `le` or
/// `quantile`, and how many label names are camelCase.
///
/// The identity is a hash of the labels written canonically (`name="value"`
/// joined by commas, values escaped, as written: `le` not respelt). A span the
/// parser found canonical already is that text, less the `except` item; the label
/// `le` is found in it by searching (see [`find_item`]), and when no `[a-z][A-Z]`
/// occurs anywhere no name is camelCase. Only other spans are walked label by
/// label.
fn scan_labels(
    labels: &LabelSet<'_>,
    except: Option<&str>,
    finders: &Finders,
    scratch: &mut String,
) -> LabelScan {
    scratch.clear();
    if let Some(raw) = labels.canonical_raw()
        && !has_camel_pattern(raw.as_bytes())
        && let Some(le) = find_item(raw, &finders.le)
        && let Some(quantile) = find_item(raw, &finders.quantile)
    {
        let skip = match except {
            Some("le") => le.clone(),
            Some("quantile") => quantile.clone(),
            _ => None,
        };
        let hash = match skip {
            None => hash_span(raw.as_bytes()),
            Some(item) => {
                // The span less `name="value"` and one comma beside it.
                let (before, after) = (
                    raw.get(..item.start).unwrap_or(""),
                    raw.get(item.end..).unwrap_or(""),
                );
                match after.strip_prefix(',') {
                    Some(after) => {
                        scratch.push_str(before);
                        scratch.push_str(after);
                    }
                    None => {
                        scratch.push_str(before.strip_suffix(',').unwrap_or(before));
                        scratch.push_str(after);
                    }
                }
                hash_span(scratch.as_bytes())
            }
        };
        return LabelScan {
            hash,
            le: le.is_some() && except != Some("le"),
            quantile: quantile.is_some() && except != Some("quantile"),
            camel: 0,
        };
    }
    let mut scan = LabelScan {
        hash: 0,
        le: false,
        quantile: false,
        camel: 0,
    };
    for l in labels.iter() {
        let name = l.name.get();
        if except == Some(&*name) {
            continue;
        }
        scan.le |= name == "le";
        scan.quantile |= name == "quantile";
        scan.camel += u64::from(is_camel_case(&name));
        if !scratch.is_empty() {
            scratch.push(',');
        }
        scratch.push_str(&name);
        scratch.push_str("=\"");
        for c in l.value.unescaped().chars() {
            match c {
                '\\' => scratch.push_str("\\\\"),
                '"' => scratch.push_str("\\\""),
                '\n' => scratch.push_str("\\n"),
                c => scratch.push(c),
            }
        }
        scratch.push('"');
    }
    scan.hash = hash_span(scratch.as_bytes());
    scan
}

/// In a canonical span, the byte range of the item `finder` names (its pattern is
/// `name="`): `Some(None)` when absent, `None` when it occurs twice (left to the
/// walk). A match is the label only at the start or after a comma outside any
/// value: quotes only open and close values there, so an even number of them
/// comes before it.
fn find_item(
    raw: &str,
    finder: &memchr::memmem::Finder<'_>,
) -> Option<Option<std::ops::Range<usize>>> {
    let b = raw.as_bytes();
    let mut found = None;
    for at in finder.find_iter(b) {
        let boundary = at == 0
            || (b[at - 1] == b','
                && memchr::memchr_iter(b'"', &b[..at])
                    .count()
                    .is_multiple_of(2));
        if !boundary {
            continue;
        }
        if found.is_some() {
            return None;
        }
        let value = at + finder.needle().len();
        let close = memchr::memchr(b'"', b.get(value..)?)?;
        found = Some(at..value + close + 1);
    }
    Some(found)
}

/// `[a-z][A-Z]` anywhere in `bytes`. No early exit, so that it compiles to
/// vector code.
fn has_camel_pattern(bytes: &[u8]) -> bool {
    bytes.windows(2).fold(false, |acc, w| {
        acc | (w[0].is_ascii_lowercase() & w[1].is_ascii_uppercase())
    })
}

/// Searchers for the two label names [`scan_labels`] looks for, built once.
#[derive(Debug)]
struct Finders {
    le: memchr::memmem::Finder<'static>,
    quantile: memchr::memmem::Finder<'static>,
}

impl Default for Finders {
    fn default() -> Finders {
        Finders {
            le: memchr::memmem::Finder::new(b"le=\""),
            quantile: memchr::memmem::Finder::new(b"quantile=\""),
        }
    }
}

/// `[a-z][A-Z]` anywhere.
fn is_camel_case(name: &str) -> bool {
    name.as_bytes()
        .windows(2)
        .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
}

fn lint_family(f: &Family, format: Format, out: &mut Vec<Problem>) {
    let mut problem = |text: String, count: u64| {
        if count > 0 {
            out.push(Problem {
                metric: f.name.clone(),
                text,
                count,
            });
        }
    };
    let name = f.name.as_str();
    let kind = f.kind;
    if !f.help {
        problem("no help text".into(), 1);
    }
    if let Some((unit, base)) = first_unit(name)
        && unit != base
    {
        problem(format!("use base unit {base:?} instead of {unit:?}"), 1);
    }
    if kind == MetricType::Counter && format == Format::Text && !name.ends_with("_total") {
        problem(r#"counter metrics should have "_total" suffix"#.into(), 1);
    }
    if !matches!(kind, MetricType::Counter | MetricType::Unknown) && name.ends_with("_total") {
        problem(
            r#"non-counter metrics should not have "_total" suffix"#.into(),
            1,
        );
    }
    if kind != MetricType::Unknown {
        let histogram = matches!(kind, MetricType::Histogram | MetricType::GaugeHistogram);
        if !histogram && name.ends_with("_bucket") {
            problem(
                r#"non-histogram metrics should not have "_bucket" suffix"#.into(),
                1,
            );
        }
        for suffix in ["_count", "_sum"] {
            if !matches!(kind, MetricType::Histogram | MetricType::Summary)
                && name.ends_with(suffix)
            {
                problem(
                    format!(
                        r#"non-histogram and non-summary metrics should not have "{suffix}" suffix"#
                    ),
                    1,
                );
            }
        }
        if !histogram {
            problem(
                r#"non-histogram metrics should not have "le" label"#.into(),
                f.le_series,
            );
        }
        if kind != MetricType::Summary {
            problem(
                r#"non-summary metrics should not have "quantile" label"#.into(),
                f.quantile_series,
            );
        }
        let type_word = match kind {
            MetricType::Counter => Some("counter"),
            MetricType::Gauge => Some("gauge"),
            MetricType::Histogram => Some("histogram"),
            MetricType::Summary => Some("summary"),
            MetricType::GaugeHistogram => Some("gauge_histogram"),
            _ => None,
        };
        if let Some(t) = type_word
            && has_word(&name.to_ascii_lowercase(), t)
        {
            problem(format!("metric name should not include type '{t}'"), 1);
        }
    }
    if name.contains(':') {
        problem("metric names should not contain ':'".into(), 1);
    }
    if is_camel_case(name) {
        problem(
            "metric names should be written in 'snake_case' not 'camelCase'".into(),
            1,
        );
    }
    problem(
        "label names should be written in 'snake_case' not 'camelCase'".into(),
        f.camel_labels,
    );
    let lower = name.to_ascii_lowercase();
    for abbreviation in [
        "s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d",
    ] {
        if has_word(&lower, abbreviation) {
            problem(
                "metric names should not contain abbreviated units".into(),
                1,
            );
        }
    }
    problem("metric not unique".into(), f.duplicates);
}

/// `name` holds `_word_` or ends with `_word`.
fn has_word(name: &str, word: &str) -> bool {
    name.ends_with(&format!("_{word}")) || name.contains(&format!("_{word}_"))
}

/// Units promlint knows, each with its base unit.
const UNITS: &[(&str, &str)] = &[
    ("amperes", "amperes"),
    ("bytes", "bytes"),
    ("celsius", "celsius"),
    ("grams", "grams"),
    ("joules", "joules"),
    ("kelvin", "kelvin"),
    ("meters", "meters"),
    ("metres", "metres"),
    ("seconds", "seconds"),
    ("volts", "volts"),
    ("minutes", "seconds"),
    ("hours", "seconds"),
    ("days", "seconds"),
    ("weeks", "seconds"),
    ("kelvins", "kelvin"),
    ("fahrenheit", "celsius"),
    ("rankine", "celsius"),
    ("inches", "meters"),
    ("yards", "meters"),
    ("miles", "meters"),
    ("bits", "bytes"),
    ("calories", "joules"),
    ("pounds", "grams"),
    ("ounces", "grams"),
];

const UNIT_PREFIXES: &[&str] = &[
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega",
    "mibi", "giga", "gibi", "tera", "tebi", "peta", "pebi",
];

/// The first `_`-separated word of `name` that is a unit (optionally with an SI or
/// binary prefix), and its base unit.
fn first_unit(name: &str) -> Option<(&str, &'static str)> {
    let base_of = |unit: &str| UNITS.iter().find(|(u, _)| *u == unit).map(|&(_, b)| b);
    name.split('_').find_map(|word| {
        if let Some(base) = base_of(word) {
            return Some((word, base));
        }
        UNIT_PREFIXES
            .iter()
            .find_map(|p| word.strip_prefix(p).and_then(base_of))
            .map(|base| (word, base))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::{Format, Mode, Parser};

    fn lint(input: &str) -> Vec<String> {
        lint_as(input, Format::Text)
    }

    fn lint_as(input: &str, format: Format) -> Vec<String> {
        let mut l = Linter::new(format);
        for e in Parser::new(input.as_bytes(), format, Mode::Lenient) {
            l.entry(&e.expect("parses"));
        }
        l.finish()
            .into_iter()
            .flat_map(|p| std::iter::repeat_n(format!("{} {}", p.metric, p.text), p.count as usize))
            .collect()
    }

    #[test]
    fn clean_input_has_no_problems() {
        assert!(
            lint("# HELP foo_total A counter.\n# TYPE foo_total counter\nfoo_total 1\n").is_empty()
        );
        assert!(lint("").is_empty());
        // Metadata without samples is not linted.
        assert!(lint("# TYPE foo counter\n").is_empty());
    }

    // The expected lines are what promtool 2.42 printed for the same input.
    #[test]
    fn promlint_messages() {
        assert_eq!(lint("foo 1\n"), ["foo no help text"]);
        assert_eq!(
            lint("# HELP foo x\n# TYPE foo counter\nfoo 1\n"),
            [r#"foo counter metrics should have "_total" suffix"#]
        );
        assert_eq!(
            lint("# HELP foo_total x\n# TYPE foo_total gauge\nfoo_total 1\n"),
            [r#"foo_total non-counter metrics should not have "_total" suffix"#]
        );
        assert_eq!(
            lint("# HELP request_duration_milliseconds x\nrequest_duration_milliseconds 1\n"),
            [r#"request_duration_milliseconds use base unit "seconds" instead of "milliseconds""#]
        );
        assert_eq!(
            lint("# HELP foo_kilobytes x\nfoo_kilobytes 1\n"),
            [r#"foo_kilobytes use base unit "bytes" instead of "kilobytes""#]
        );
        assert!(lint("# HELP foo_thermometers x\nfoo_thermometers 1\n").is_empty());
        assert_eq!(
            lint("# HELP foo_s_ms x\nfoo_s_ms 1\n"),
            [
                "foo_s_ms metric names should not contain abbreviated units",
                "foo_s_ms metric names should not contain abbreviated units"
            ]
        );
        assert_eq!(
            lint("# HELP fooBar x\nfooBar 1\n"),
            ["fooBar metric names should be written in 'snake_case' not 'camelCase'"]
        );
        assert_eq!(
            lint("# HELP foo x\nfoo{myLabel=\"1\"} 1\nfoo{myLabel=\"2\",otherLabel=\"3\"} 1\n"),
            vec!["foo label names should be written in 'snake_case' not 'camelCase'"; 3]
        );
        assert_eq!(
            lint("# HELP foo:bar x\nfoo:bar 1\n"),
            ["foo:bar metric names should not contain ':'"]
        );
        assert_eq!(
            lint("# HELP foo_gauge x\n# TYPE foo_gauge gauge\nfoo_gauge 1\n"),
            ["foo_gauge metric name should not include type 'gauge'"]
        );
        assert_eq!(
            lint("# HELP foo_count x\n# TYPE foo_count gauge\nfoo_count 1\n"),
            [r#"foo_count non-histogram and non-summary metrics should not have "_count" suffix"#]
        );
        assert!(lint("# HELP foo_count x\nfoo_count 1\n").is_empty());
        assert_eq!(
            lint("# HELP foo x\n# TYPE foo gauge\nfoo{le=\"1\"} 1\nfoo{le=\"2\"} 1\n"),
            vec![r#"foo non-histogram metrics should not have "le" label"#; 2]
        );
        assert_eq!(
            lint("zzz 1\naaa_total 1\n# TYPE mmm counter\nmmm 1\n"),
            [
                "aaa_total no help text",
                r#"mmm counter metrics should have "_total" suffix"#,
                "mmm no help text",
                "zzz no help text"
            ]
        );
    }

    #[test]
    fn histograms_and_summaries_count_series_not_lines() {
        let input = "# HELP h x\n# TYPE h histogram\n\
            h_bucket{quantile=\"1\",le=\"1\"} 1\nh_bucket{quantile=\"1\",le=\"+Inf\"} 1\n\
            h_sum{quantile=\"1\"} 1\nh_count{ quantile=\"1\" } 1\n";
        assert_eq!(
            lint(input),
            [r#"h non-summary metrics should not have "quantile" label"#]
        );
        // No duplicate: buckets of one series share their labels but for `le`.
        let input = "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n";
        assert!(lint(input).is_empty());
    }

    #[test]
    fn series_identity_does_not_depend_on_how_labels_are_written() {
        // Canonical spans are hashed as written, others written out first: the
        // same labels must meet either way.
        assert_eq!(
            lint(
                "# HELP foo x\nfoo{a=\"1\",b=\"x\\\\y\"} 1\nfoo{ a = \"1\" , b=\"x\\\\y\", } 2\nfoo{a=\"1\",b=\"x\\\\y\"} 3\n"
            ),
            vec!["foo metric not unique"; 2]
        );
        assert_eq!(
            lint(
                "# HELP foo x\nfoo{a=\"1\",b=\"2\"} 1\nfoo{a=\"1\", b=\"2\"} 2\nfoo{b=\"2\",a=\"1\"} 3\n"
            ),
            ["foo metric not unique"]
        );
        // A histogram's buckets are one series whether `le` comes first, in the
        // middle or last, so a label on them is reported once.
        let input = "# HELP h x\n# TYPE h histogram\n\
            h_bucket{le=\"1\",aB=\"1\",c=\"2\"} 1\nh_bucket{aB=\"1\",le=\"2\",c=\"2\"} 1\n\
            h_bucket{aB=\"1\",c=\"2\",le=\"+Inf\"} 1\nh_sum{aB=\"1\",c=\"2\"} 1\nh_count{ aB=\"1\",c=\"2\" } 1\n";
        assert_eq!(
            lint(input),
            ["h label names should be written in 'snake_case' not 'camelCase'"]
        );
    }

    #[test]
    fn openmetrics_families_take_their_suffixes() {
        let input = "# TYPE a counter\n# HELP a help\na_total 1\na_created 0\n\
            # TYPE g gaugehistogram\n# HELP g help\ng_bucket{le=\"+Inf\"} 1\ng_gcount 1\ng_gsum 1\n# EOF\n";
        assert!(lint_as(input, Format::OpenMetrics).is_empty());
        assert_eq!(
            lint_as("# TYPE a counter\na_total 1\n# EOF\n", Format::OpenMetrics),
            ["a no help text"]
        );
    }

    #[test]
    fn label_value_ending_in_le_is_not_the_label_le() {
        assert!(lint("# HELP g x\n# TYPE g gauge\ng{a=\"x,le=\",b=\"y\"} 1\n").is_empty());
        assert!(lint("# HELP g x\n# TYPE g gauge\ng{a=\",quantile=\"} 1\n").is_empty());
    }

    #[test]
    fn duplicate_found_under_a_summary_type_too() {
        // After `# TYPE s summary`, Prometheus respells `quantile` values of the
        // samples that follow; both ways of writing the labels must still meet.
        let input = "# HELP s x\n# TYPE s summary\ns_sum 1\n# HELP x y\nx{quantile=\"1\"} 1\nx{ quantile=\"1\"} 2\n";
        assert!(
            lint(input).contains(&"x metric not unique".to_owned()),
            "{:?}",
            lint(input)
        );
    }

    #[test]
    fn duplicate_series() {
        assert_eq!(
            lint("# HELP foo x\nfoo{a=\"1\"} 1\nfoo{a=\"1\"} 2\nfoo{a=\"2\"} 2\n"),
            ["foo metric not unique"]
        );
    }
}
