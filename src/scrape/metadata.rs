//! The metric metadata of a target: the `# HELP`, `# TYPE` and `# UNIT` lines of
//! its scrapes, by metric family, as Prometheus's scrape cache keeps them for
//! `/api/v1/metadata` and `/api/v1/targets/metadata`.
//!
//! The family is the name on the line, as written: an OpenMetrics counter
//! `# TYPE foo counter` is `foo` (its samples are `foo_total`), a text-format one
//! `# TYPE foo_total counter` is `foo_total`. A family with a HELP line and no
//! TYPE line is `unknown`, as is the text format's `untyped`. The report series
//! (`up`, `scrape_duration_seconds`, …) have none.
//!
//! Cost on the scrape path: a target's metadata is one shared, sorted list
//! ([`TargetMetadata`]). Each family read from a body is compared with its entry
//! in place (found at the position after the previous family's, which is where
//! it is when the target writes its families in the same order each time, else
//! by binary search), without copying anything; only a family that changed,
//! appeared or expired makes a new list (copy on write: the old one may still be
//! held by an API reader). Strings are interned across targets: a thousand
//! node-exporters share one copy of each HELP text.
//!
//! Unlike Prometheus, a family's metadata is what its lines of the latest scrape
//! say: a UNIT or HELP line that went away leaves an empty unit or help (and a
//! TYPE line that went away `unknown`), where Prometheus keeps the old value. As
//! in Prometheus, lines are taken as read (those of a failed scrape too), and a
//! family missing from the scrapes is kept for 10 more scrapes, counted at the
//! successful ones.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;

use crate::exposition::{MetricType, Text};

/// Scrapes a family may be missing from before its metadata is dropped
/// (Prometheus's figure).
const KEEP_MISSING: u64 = 10;

/// The metadata of one metric family of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricMetadata {
    /// The name on the HELP / TYPE / UNIT lines.
    pub family: Arc<str>,
    pub kind: MetricType,
    /// Unescaped; empty when there was no HELP line.
    pub help: Arc<str>,
    /// Empty when there was no UNIT line.
    pub unit: Arc<str>,
}

/// A target's metadata: every family, sorted by name. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct TargetMetadata(Arc<Vec<MetricMetadata>>);

impl TargetMetadata {
    /// The families in name order.
    pub fn iter(&self) -> std::slice::Iter<'_, MetricMetadata> {
        self.0.iter()
    }

    /// The metadata of `family`.
    pub fn get(&self, family: &str) -> Option<&MetricMetadata> {
        let i = self.0.binary_search_by(|m| (*m.family).cmp(family)).ok()?;
        self.0.get(i)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What one scrape's metadata lines said of the family being read: the lines
/// of a family come together, and are recorded when the next family starts.
#[derive(Default)]
pub(crate) struct FamilyLines<'a> {
    name: Option<Text<'a>>,
    kind: Option<MetricType>,
    help: Option<Text<'a>>,
    unit: Option<Text<'a>>,
}

impl<'a> FamilyLines<'a> {
    fn of(&mut self, cache: &mut MetadataCache, name: Text<'a>, now: u64) -> &mut Self {
        if self.name != Some(name) {
            self.flush(cache, now);
            self.name = Some(name);
        }
        self
    }

    pub fn kind(&mut self, cache: &mut MetadataCache, name: Text<'a>, kind: MetricType, now: u64) {
        self.of(cache, name, now).kind = Some(kind);
    }

    pub fn help(&mut self, cache: &mut MetadataCache, name: Text<'a>, help: Text<'a>, now: u64) {
        self.of(cache, name, now).help = Some(help);
    }

    pub fn unit(&mut self, cache: &mut MetadataCache, name: Text<'a>, unit: Text<'a>, now: u64) {
        self.of(cache, name, now).unit = Some(unit);
    }

    /// Records the family read so far (at the end of the body, or when another
    /// family starts).
    pub fn flush(&mut self, cache: &mut MetadataCache, now: u64) {
        if self.name.is_some() {
            cache.record(self, now);
        }
        *self = FamilyLines::default();
    }
}

/// A target's metadata as its scrapes keep it up to date.
#[derive(Default)]
pub(crate) struct MetadataCache {
    current: TargetMetadata,
    /// The scrape that last had each family (in `current`'s order).
    seen: Vec<u64>,
    /// Where the next family is likely to be: after the last one recorded.
    hint: usize,
}

impl MetadataCache {
    pub fn snapshot(&self) -> TargetMetadata {
        self.current.clone()
    }

    fn find(&self, family: &str) -> Result<usize, usize> {
        let list = &self.current.0;
        if list.get(self.hint).is_some_and(|m| &*m.family == family) {
            return Ok(self.hint);
        }
        list.binary_search_by(|m| (*m.family).cmp(family))
    }

    fn record(&mut self, lines: &FamilyLines<'_>, now: u64) {
        let Some(name) = lines.name else {
            return;
        };
        let family = name.get();
        let i = match self.find(&family) {
            Ok(i) => {
                // Lines of the family met earlier in this scrape stand unless
                // these say otherwise; else a missing line means its default.
                let again = self.seen[i] == now;
                self.seen[i] = now;
                let old = &self.current.0[i];
                let kind = lines
                    .kind
                    .unwrap_or(if again { old.kind } else { MetricType::Unknown });
                let same = |line: Option<Text<'_>>, old: &str| match line {
                    Some(text) => text == *old,
                    None => again || old.is_empty(),
                };
                if kind != old.kind || !same(lines.help, &old.help) || !same(lines.unit, &old.unit)
                {
                    let help = text_or(lines.help, again.then(|| old.help.clone()));
                    let unit = text_or(lines.unit, again.then(|| old.unit.clone()));
                    let entry = &mut Arc::make_mut(&mut self.current.0)[i];
                    entry.kind = kind;
                    entry.help = help;
                    entry.unit = unit;
                }
                i
            }
            Err(i) => {
                let entry = MetricMetadata {
                    family: intern(&family),
                    kind: lines.kind.unwrap_or(MetricType::Unknown),
                    help: text_or(lines.help, None),
                    unit: text_or(lines.unit, None),
                };
                Arc::make_mut(&mut self.current.0).insert(i, entry);
                self.seen.insert(i, now);
                i
            }
        };
        self.hint = i + 1;
    }

    /// After a successful scrape (number `now`): families missing from more than
    /// the last [`KEEP_MISSING`] scrapes are dropped.
    pub fn expire(&mut self, now: u64) {
        self.hint = 0;
        let expired = |seen: u64| now.saturating_sub(seen) > KEEP_MISSING;
        if !self.seen.iter().any(|&s| expired(s)) {
            return;
        }
        let list = Arc::make_mut(&mut self.current.0);
        let mut seen = self.seen.iter();
        list.retain(|_| seen.next().is_some_and(|&s| !expired(s)));
        self.seen.retain(|&s| !expired(s));
        list.shrink_to_fit();
        self.seen.shrink_to_fit();
    }
}

/// The unescaped `text` interned, else `old`, else `""`.
fn text_or(text: Option<Text<'_>>, old: Option<Arc<str>>) -> Arc<str> {
    match (text, old) {
        (Some(t), _) => intern(&t.get()),
        (None, Some(old)) => old,
        (None, None) => intern(""),
    }
}

/// Strings of the metadata of every target, one copy each. Used only when
/// metadata changes; entries no target holds any more are swept when the set
/// has doubled since the last sweep.
struct Interner {
    strings: HashSet<Arc<str>>,
    sweep_at: usize,
}

static STRINGS: LazyLock<Mutex<Interner>> = LazyLock::new(|| {
    Mutex::new(Interner {
        strings: HashSet::new(),
        sweep_at: 1024,
    })
});

fn intern(s: &str) -> Arc<str> {
    let mut interner = STRINGS.lock();
    if let Some(found) = interner.strings.get(s) {
        return Arc::clone(found);
    }
    if interner.strings.len() >= interner.sweep_at {
        interner.strings.retain(|a| Arc::strong_count(a) > 1);
        interner.sweep_at = (interner.strings.len() * 2).max(1024);
    }
    let new: Arc<str> = Arc::from(s);
    interner.strings.insert(Arc::clone(&new));
    new
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::{Entry, Format, Mode, Parser};

    /// One scrape's metadata lines through the cache, as the scrape path does.
    fn scrape(cache: &mut MetadataCache, body: &str, format: Format, now: u64) {
        let mut lines = FamilyLines::default();
        for entry in Parser::new(body.as_bytes(), format, Mode::Lenient) {
            match entry.unwrap() {
                Entry::Type { name, kind } => lines.kind(cache, name, kind, now),
                Entry::Help { name, help } => lines.help(cache, name, help, now),
                Entry::Unit { name, unit } => lines.unit(cache, name, unit, now),
                Entry::Sample(_) => {}
            }
        }
        lines.flush(cache, now);
        cache.expire(now);
    }

    fn table(m: &TargetMetadata) -> Vec<(String, &'static str, String, String)> {
        m.iter()
            .map(|e| {
                (
                    e.family.to_string(),
                    e.kind.as_str(),
                    e.help.to_string(),
                    e.unit.to_string(),
                )
            })
            .collect()
    }

    fn row(f: &str, k: &'static str, h: &str, u: &str) -> (String, &'static str, String, String) {
        (f.to_owned(), k, h.to_owned(), u.to_owned())
    }

    #[test]
    fn families_are_named_as_on_their_lines_and_sorted() {
        let mut c = MetadataCache::default();
        let om = "# TYPE b_seconds counter\n# HELP b_seconds Time \\\"spent\\\".\n# UNIT b_seconds seconds\nb_seconds_total 1\n# HELP a Only help.\na 1\n# EOF\n";
        scrape(&mut c, om, Format::OpenMetrics, 1);
        assert_eq!(
            table(&c.snapshot()),
            [
                row("a", "unknown", "Only help.", ""),
                row("b_seconds", "counter", "Time \"spent\".", "seconds"),
            ]
        );
        let text = "# HELP x_total A \\\\ and\\nnewline.\n# TYPE x_total counter\nx_total 1\n# TYPE u untyped\nu 1\n";
        let mut c = MetadataCache::default();
        scrape(&mut c, text, Format::Text, 1);
        assert_eq!(
            table(&c.snapshot()),
            [
                row("u", "unknown", "", ""),
                row("x_total", "counter", "A \\ and\nnewline.", ""),
            ]
        );
        assert_eq!(
            c.snapshot().get("u").map(|m| m.kind),
            Some(MetricType::Unknown)
        );
        assert!(c.snapshot().get("x").is_none());
    }

    #[test]
    fn an_unchanged_scrape_keeps_the_same_list_and_a_change_makes_a_new_one() {
        let body = "# HELP m Help \\\\ escaped.\n# TYPE m gauge\nm 1\n# HELP n N.\n# TYPE n counter\nn 1\n";
        let mut c = MetadataCache::default();
        scrape(&mut c, body, Format::Text, 1);
        let before = c.snapshot();
        for now in 2..5 {
            scrape(&mut c, body, Format::Text, now);
            assert!(
                Arc::ptr_eq(&before.0, &c.snapshot().0),
                "scrape {now} copied"
            );
        }
        // Out of order: found all the same, nothing copied.
        let swapped = "# HELP n N.\n# TYPE n counter\nn 1\n# HELP m Help \\\\ escaped.\n# TYPE m gauge\nm 1\n";
        scrape(&mut c, swapped, Format::Text, 5);
        assert!(Arc::ptr_eq(&before.0, &c.snapshot().0));
        // Changed help: a new list; the old one, held by a reader, is untouched.
        scrape(&mut c, &body.replace("N.", "New."), Format::Text, 6);
        assert_eq!(c.snapshot().get("n").unwrap().help.as_ref(), "New.");
        assert_eq!(before.get("n").unwrap().help.as_ref(), "N.");
        // Strings are shared between targets.
        let mut other = MetadataCache::default();
        scrape(&mut other, body, Format::Text, 1);
        assert!(Arc::ptr_eq(
            &before.get("m").unwrap().help,
            &other.snapshot().get("m").unwrap().help
        ));
    }

    #[test]
    fn lines_that_went_away_reset_and_split_lines_merge() {
        let mut c = MetadataCache::default();
        let om =
            "# TYPE d_bytes gauge\n# HELP d_bytes Size.\n# UNIT d_bytes bytes\nd_bytes 1\n# EOF\n";
        scrape(&mut c, om, Format::OpenMetrics, 1);
        scrape(
            &mut c,
            "# TYPE d_bytes gauge\nd_bytes 1\n# EOF\n",
            Format::OpenMetrics,
            2,
        );
        assert_eq!(table(&c.snapshot()), [row("d_bytes", "gauge", "", "")]);
        // HELP and TYPE of one family apart: both count.
        let apart = "# HELP p P.\n# HELP q Q.\n# TYPE p counter\np 1\nq 1\n";
        scrape(&mut c, apart, Format::Text, 3);
        assert_eq!(
            table(&c.snapshot())[1..],
            [row("p", "counter", "P.", ""), row("q", "unknown", "Q.", "")]
        );
    }

    #[test]
    fn a_missing_family_is_kept_for_ten_scrapes() {
        let mut c = MetadataCache::default();
        scrape(&mut c, "# TYPE a gauge\n# TYPE b gauge\n", Format::Text, 1);
        for now in 2..=11 {
            scrape(&mut c, "# TYPE a gauge\n", Format::Text, now);
            assert_eq!(c.snapshot().len(), 2, "scrape {now}");
        }
        scrape(&mut c, "# TYPE a gauge\n", Format::Text, 12);
        assert_eq!(table(&c.snapshot()), [row("a", "gauge", "", "")]);
    }
}
