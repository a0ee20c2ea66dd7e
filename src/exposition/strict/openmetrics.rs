//! The OpenMetrics 1.0 rules across lines.
//!
//! A metric family starts with its first metadata line or, without metadata, with
//! a sample whose name no current family allows; it ends when another starts. Its
//! samples come grouped (all the series of one histogram bucket set, summary,
//! stateset … together), timestamps never go backwards within a group, and each
//! type constrains names, labels and values. Family-level rules (no UNIT on info
//! or stateset, name clashes, histogram completeness) are checked when the family
//! ends, so their errors point at the line that starts the next family or at
//! `# EOF`; that a name ends in its unit is checked on the UNIT line.

use std::collections::HashSet;

use super::labels::{duplicate_label, identity};
use super::rule::rule;
use crate::exposition::entry::{Entry, MetricType, Sample, Text};
use crate::exposition::error::LineError;
use crate::exposition::line::SampleExtra;
use crate::model::HashSet64;
use crate::model::float::parse_exposition;

#[derive(Debug, Default)]
pub(crate) struct OmValidator {
    /// The names every ended family claimed (its name with each suffix its type
    /// allows): a later family may not reuse them.
    claimed: HashSet<String>,
    family: Option<Family>,
}

#[derive(Debug)]
struct Family {
    name: String,
    kind: Option<MetricType>,
    help: bool,
    unit: Option<String>,
    has_samples: bool,
    /// The current group and its timestamp (seconds).
    group: Option<u64>,
    group_ts: Option<f64>,
    seen_groups: HashSet64,
    histogram: HistogramRun,
}

/// What one group of a histogram has shown so far (one timestamp's worth).
#[derive(Debug, Default)]
struct HistogramRun {
    active: bool,
    last_le: Option<f64>,
    last_bucket_value: f64,
    count: Option<f64>,
    negative_buckets: bool,
    sum: bool,
    gsum: bool,
    negative_gsum: bool,
}

impl HistogramRun {
    fn check(&self, family: &str) -> Result<(), LineError> {
        if !self.active {
            return Ok(());
        }
        let e = |what: String| rule(what, format!("histogram {family} without it"));
        if self.last_le != Some(f64::INFINITY) {
            return Err(e("a bucket with le=\"+Inf\"".into()));
        }
        if let Some(count) = self.count
            && count != self.last_bucket_value
        {
            return Err(rule(
                format!(
                    "a count equal to the +Inf bucket ({})",
                    self.last_bucket_value
                ),
                format!("histogram {family} with count {count}"),
            ));
        }
        if self.sum && self.count.is_none() {
            return Err(e("a _count beside _sum".into()));
        }
        if self.gsum && self.count.is_none() {
            return Err(e("a _gcount beside _gsum".into()));
        }
        if self.count.is_some() && !(self.sum || self.gsum) {
            return Err(e("a _sum (or _gsum) beside the count".into()));
        }
        if self.negative_buckets && self.sum {
            return Err(rule(
                "no _sum in a histogram with negative buckets",
                format!("histogram {family} with both"),
            ));
        }
        if self.negative_gsum && !self.negative_buckets {
            return Err(rule(
                "a non-negative _gsum when no bucket is negative",
                format!("gauge histogram {family} with a negative _gsum"),
            ));
        }
        Ok(())
    }
}

impl Family {
    fn new(name: String, kind: Option<MetricType>) -> Family {
        Family {
            name,
            kind,
            help: false,
            unit: None,
            has_samples: false,
            group: None,
            group_ts: None,
            seen_groups: HashSet64::default(),
            histogram: HistogramRun::default(),
        }
    }

    fn kind(&self) -> MetricType {
        self.kind.unwrap_or(MetricType::Unknown)
    }

    /// The suffix of `sample` under this family, if the family allows that name.
    fn suffix_of<'s>(&self, sample: &'s str) -> Option<&'s str> {
        let suffix = sample.strip_prefix(self.name.as_str())?;
        let allowed: &[&str] = match self.kind {
            Some(k) => k.suffixes(),
            None => &[""],
        };
        allowed.contains(&suffix).then_some(suffix)
    }
}

impl OmValidator {
    pub(crate) fn check(
        &mut self,
        entry: &Entry<'_>,
        extra: &SampleExtra,
    ) -> Result<(), LineError> {
        match entry {
            Entry::Help { name, .. } => self.metadata(name, |f| {
                if std::mem::replace(&mut f.help, true) {
                    return Err(rule("one HELP per metric family", "a second HELP"));
                }
                Ok(())
            }),
            Entry::Type { name, kind } => self.metadata(name, |f| {
                if f.kind.is_some() {
                    return Err(rule("one TYPE per metric family", "a second TYPE"));
                }
                f.kind = Some(*kind);
                Ok(())
            }),
            Entry::Unit { name, unit } => self.metadata(name, |f| {
                if f.unit.is_some() {
                    return Err(rule("one UNIT per metric family", "a second UNIT"));
                }
                f.unit = Some(unit.get().into_owned());
                Ok(())
            }),
            Entry::Sample(s) => self.sample(s, extra),
        }
    }

    fn metadata(
        &mut self,
        name: &Text<'_>,
        apply: impl FnOnce(&mut Family) -> Result<(), LineError>,
    ) -> Result<(), LineError> {
        let name = name.get();
        match &self.family {
            Some(f) if f.name == *name => {
                if f.has_samples {
                    return Err(rule(
                        "metadata before the family's samples",
                        format!("metadata for {name} after its samples"),
                    ));
                }
            }
            // Another name starts another family (and leaves no current one).
            _ => self.end_family()?,
        }
        apply(
            self.family
                .get_or_insert_with(|| Family::new(name.into_owned(), None)),
        )
    }

    /// Ends the current family: unit, name clashes, the last histogram group.
    pub(crate) fn end_family(&mut self) -> Result<(), LineError> {
        let Some(f) = self.family.take() else {
            return Ok(());
        };
        let kind = f.kind();
        let bare = (!kind.suffixes().contains(&"")).then_some(&"");
        for suffix in kind.suffixes().iter().chain(bare) {
            let claimed = format!("{}{suffix}", f.name);
            if self.claimed.contains(&claimed) {
                return Err(rule(
                    "each metric family once, with names no other family uses",
                    format!("{claimed} again (family {})", f.name),
                ));
            }
            self.claimed.insert(claimed);
        }
        // That the name ends in the unit is checked on the UNIT line itself.
        if let Some(unit) = f.unit.as_deref().filter(|u| !u.is_empty())
            && matches!(kind, MetricType::Info | MetricType::StateSet)
        {
            return Err(rule(
                "no UNIT on an info or stateset family",
                format!("UNIT {unit} on {kind} {}", f.name),
            ));
        }
        f.histogram.check(&f.name)
    }

    fn sample(&mut self, s: &Sample<'_>, extra: &SampleExtra) -> Result<(), LineError> {
        let name = s.name.get();
        if let Some(dup) = duplicate_label(&s.labels, None) {
            return Err(rule("distinct label names", format!("label {dup} twice")));
        }
        if self
            .family
            .as_ref()
            .and_then(|f| f.suffix_of(&name))
            .is_none()
        {
            // A sample no current family allows starts a family of its own.
            self.end_family()?;
        }
        let f = self
            .family
            .get_or_insert_with(|| Family::new(name.to_string(), Some(MetricType::Unknown)));
        let suffix = f.suffix_of(&name).unwrap_or_default();
        let kind = f.kind();
        f.has_samples = true;
        let v = s.value;
        let value_err = |expected: &'static str| {
            LineError::new(extra.value_offset, expected).found(format!("{v}"))
        };

        // Labels each type requires.
        let bucket = suffix == "_bucket"
            && matches!(kind, MetricType::Histogram | MetricType::GaugeHistogram);
        let mut le = None;
        if bucket {
            let text = s.labels.get("le").map(|t| t.get().into_owned());
            match text.as_deref().map(|t| (t, parse_exposition(t))) {
                Some((t, Ok(b)))
                    if !b.is_nan() && (!b.is_infinite() || t == "+Inf" || t == "-Inf") =>
                {
                    le = Some(b)
                }
                other => {
                    return Err(rule(
                        "a bucket with an le label: a number, infinity written +Inf",
                        other.map_or("no le label".to_owned(), |(t, _)| format!("le={t:?}")),
                    ));
                }
            }
        }
        if kind == MetricType::Summary && suffix.is_empty() {
            let q = s.labels.get("quantile").map(|t| t.get().into_owned());
            let ok = q
                .as_deref()
                .and_then(|t| parse_exposition(t).ok())
                .is_some_and(|q| (0.0..=1.0).contains(&q));
            if !ok {
                return Err(rule(
                    "a quantile label between 0 and 1",
                    q.map_or("no quantile label".to_owned(), |t| {
                        format!("quantile={t:?}")
                    }),
                ));
            }
        }
        if kind == MetricType::StateSet && s.labels.get(&f.name).is_none() {
            return Err(rule(
                format!("a label {} naming the state", f.name),
                "a stateset sample without it",
            ));
        }

        // Values each type allows.
        let counter_like = matches!(
            suffix,
            "_total" | "_sum" | "_count" | "_bucket" | "_gcount" | "_gsum"
        );
        if counter_like && v.is_nan() {
            return Err(value_err(
                "a number (not NaN) for a counter, count, sum or bucket",
            ));
        }
        if counter_like && suffix != "_gsum" && v < 0.0 {
            return Err(value_err(
                "a non-negative value for a counter, count, sum or bucket",
            ));
        }
        if (bucket || suffix == "_count" || suffix == "_gcount") && v.fract() != 0.0 {
            return Err(value_err("an integer for a bucket or count"));
        }
        match kind {
            MetricType::StateSet if v != 0.0 && v != 1.0 => {
                return Err(value_err("0 or 1 for a stateset"));
            }
            MetricType::Info if v != 1.0 => return Err(value_err("1 for an info sample")),
            MetricType::Summary if suffix.is_empty() && v < 0.0 => {
                return Err(value_err("a non-negative quantile value"));
            }
            _ => {}
        }
        if let Some(exemplar) = &s.exemplar {
            if let Some(dup) = duplicate_label(&exemplar.labels, None) {
                return Err(rule(
                    "distinct label names in the exemplar",
                    format!("label {dup} twice"),
                ));
            }
            let allowed = match kind {
                MetricType::Histogram | MetricType::GaugeHistogram => suffix == "_bucket",
                MetricType::Counter => suffix == "_total",
                _ => false,
            };
            if !allowed {
                return Err(rule(
                    "an exemplar only on a counter's _total or a histogram's _bucket",
                    format!("an exemplar on {name}"),
                ));
            }
        }

        // Grouping and timestamps.
        let except = match kind {
            MetricType::Summary if suffix.is_empty() => Some("quantile"),
            MetricType::StateSet => Some(f.name.as_str()),
            _ if bucket => Some("le"),
            _ => None,
        };
        let group = if kind == MetricType::Info {
            0
        } else {
            identity(&s.labels, except)
        };
        let ts = extra.seconds;
        let grouping = if f.group == Some(group) {
            if ts.is_some() != f.group_ts.is_some() {
                Err(rule(
                    "every sample of a group with a timestamp, or none",
                    "a mix",
                ))
            } else if let (Some(prev), Some(t)) = (f.group_ts, ts)
                && t < prev
                && kind != MetricType::Info
            {
                Err(rule(
                    format!("a timestamp not before {prev} in the same group"),
                    format!("{t}"),
                ))
            } else {
                Ok(())
            }
        } else if !f.seen_groups.insert(group) {
            Err(rule(
                "the samples of a group together",
                format!("{name}{{{}}} after another group", s.labels.raw()),
            ))
        } else {
            Ok(())
        };
        // The state follows the input even past an error, so that one error does
        // not bring false ones on the lines after it.
        let new_run = f.group != Some(group) || f.group_ts != ts || !f.histogram.active;
        f.group = Some(group);
        f.group_ts = ts;
        grouping?;

        // Histogram structure, one (group, timestamp) run at a time.
        if matches!(kind, MetricType::Histogram | MetricType::GaugeHistogram) {
            let mut ended = Ok(());
            if new_run {
                let previous = std::mem::replace(
                    &mut f.histogram,
                    HistogramRun {
                        active: true,
                        ..HistogramRun::default()
                    },
                );
                ended = previous.check(&f.name);
            }
            let h = &mut f.histogram;
            match suffix {
                "_bucket" => {
                    let b = le.unwrap_or(f64::NAN);
                    h.negative_buckets |= b < 0.0;
                    let order = match h.last_le {
                        Some(prev) if b <= prev => Err(rule(
                            format!("buckets in increasing le order (after le={prev})"),
                            format!("le={b}"),
                        )),
                        _ if v < h.last_bucket_value => {
                            Err(value_err("bucket counts that never decrease with le"))
                        }
                        _ => Ok(()),
                    };
                    h.last_le = Some(b);
                    h.last_bucket_value = v;
                    ended = ended.and(order);
                }
                "_count" | "_gcount" => h.count = Some(v),
                "_sum" => h.sum = true,
                "_gsum" => {
                    h.gsum = true;
                    h.negative_gsum |= v < 0.0;
                }
                _ => {}
            }
            ended?;
        }
        Ok(())
    }
}
