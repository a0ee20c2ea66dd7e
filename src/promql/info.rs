//! `info(v [, {selector}])`: adds to each series of `v` the data labels of the
//! info series (`target_info` unless the selector names others) that share its
//! identifying labels, `instance` and `job` (Prometheus's `promql/info.go`).
//!
//! The info series are read once for the query, with the selector's data-label
//! and name matchers; at each step the latest sample of each within the lookback
//! delta (at the `@` time and offset of the first selector of `v`) is the one
//! that counts, the newest winning when two share identifying labels.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use promql_parser::parser::{Call, Expr};

use super::engine::{Evaluator, Loaded, offset_ms};
use super::error::{PromqlError, Result};
use super::functions::arg_vector;
use super::go_strings::string_end;
use super::parse::to_matchers;
use super::value::{ESample, labels_set};
use crate::model::{Labels, MatchType, Matcher};

/// The labels that tie a series to its info series.
const IDENTIFYING: [&str; 2] = ["instance", "job"];

/// A matcher given to the selector of each `info` call before parsing:
/// Prometheus accepts a selector there whose matchers all match the empty
/// string (`{data=~".*"}`), promql-parser refuses one anywhere, and a matcher
/// that cannot match the empty string satisfies it. The plan drops it.
const PARSE_MARKER: &str = "__tidemark_info_selector__";

/// `query` with [`PARSE_MARKER`] added to the selector of each `info` call.
pub(crate) fn mark_selectors(query: &str) -> Cow<'_, str> {
    let b = query.as_bytes();
    let mut inserts = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' | b'\'' | b'`' => i = string_end(b, i).unwrap_or(b.len()),
            b'#' => {
                while b.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            _ if is_word(c) => {
                let start = i;
                while b.get(i).is_some_and(|&c| is_word(c)) {
                    i += 1;
                }
                let open = skip_space(b, i);
                if &query[start..i] == "info" && b.get(open) == Some(&b'(') {
                    inserts.extend(selector_start(b, open));
                }
            }
            _ => i += 1,
        }
    }
    if inserts.is_empty() {
        return Cow::Borrowed(query);
    }
    // An info call inside the first argument of another comes later.
    inserts.sort_unstable();
    let mut out = String::with_capacity(query.len() + inserts.len() * 40);
    let mut copied = 0;
    for at in inserts {
        out.push_str(&query[copied..at]);
        out.push_str(PARSE_MARKER);
        out.push_str("=\"1\"");
        if b.get(skip_space(b, at)) != Some(&b'}') {
            out.push(',');
        }
        copied = at;
    }
    out.push_str(&query[copied..]);
    Cow::Owned(out)
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b':')
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// Where the label matchers of the second argument of the call whose `(` is
/// at `open` begin, if that argument is a bare `{…}` selector.
fn selector_start(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' | b'\'' | b'`' => {
                i = string_end(b, i)?;
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return None;
                }
            }
            b',' if depth == 1 => {
                let sel = skip_space(b, i + 1);
                return (b.get(sel) == Some(&b'{')).then_some(sel + 1);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// What an `info` call selects, worked out once per query.
pub(crate) struct InfoPlan {
    /// Matchers on `__name__` that decide which metrics are info metrics.
    pub name_matchers: Vec<Matcher>,
    /// The other matchers of the selector, by label name: only these labels are
    /// added (all of them when there are none).
    pub data_matchers: HashMap<String, Vec<Matcher>>,
}

impl InfoPlan {
    pub fn new(c: &Call) -> Result<InfoPlan> {
        let mut name_matchers = Vec::new();
        let mut data_matchers: HashMap<String, Vec<Matcher>> = HashMap::new();
        let mut any = false;
        if let Some(sel) = c.args.args.get(1) {
            let Expr::VectorSelector(vs) = unparen(sel) else {
                return Err(PromqlError::bad_data(
                    "expected label selector as the second argument of info",
                ));
            };
            any = true;
            let sets = to_matchers(vs.name.as_deref(), &vs.matchers)?;
            for m in sets.into_iter().next().unwrap_or_default() {
                if m.name() == PARSE_MARKER {
                    continue;
                }
                if m.name() == "__name__" {
                    name_matchers.push(m);
                } else {
                    data_matchers
                        .entry(m.name().to_string())
                        .or_default()
                        .push(m);
                }
            }
        }
        let positive = name_matchers
            .iter()
            .any(|m| matches!(m.kind(), MatchType::Equal | MatchType::RegexMatch));
        if !positive {
            let first = if any && !name_matchers.is_empty() {
                Matcher::new(MatchType::RegexMatch, "__name__", ".+_info")
            } else {
                Ok(Matcher::equal("__name__", "target_info"))
            };
            let first = first.map_err(|e| PromqlError::bad_data(e.to_string()))?;
            name_matchers.insert(0, first);
        }
        Ok(InfoPlan {
            name_matchers,
            data_matchers,
        })
    }

    /// The matchers that select the info series.
    pub fn select_matchers(&self) -> Vec<Matcher> {
        let mut out: Vec<Matcher> = self.data_matchers.values().flatten().cloned().collect();
        out.extend(self.name_matchers.iter().cloned());
        out
    }

    fn is_info_metric(&self, l: &Labels) -> bool {
        let name = l.metric_name().unwrap_or("");
        self.name_matchers.iter().all(|m| m.matches(name))
    }
}

fn unparen(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unparen(&p.expr),
        _ => e,
    }
}

/// The `@` time (if any) and offset at which the info series of `info(e)` are
/// looked up: those of the first selector of `e`, with the offsets of the
/// subqueries around it added up to the first that has an `@` time.
pub(crate) fn info_time(ev: &Evaluator<'_>, e: &Expr) -> (Option<i64>, i64) {
    fn walk(ev: &Evaluator<'_>, e: &Expr) -> Option<(Option<i64>, i64)> {
        match e {
            Expr::VectorSelector(vs) => Some((ev.at_ms(&vs.at), offset_ms(&vs.offset))),
            Expr::MatrixSelector(ms) => Some((ev.at_ms(&ms.vs.at), offset_ms(&ms.vs.offset))),
            Expr::Paren(p) => walk(ev, &p.expr),
            Expr::Subquery(sq) => {
                let (at, off) = walk(ev, &sq.expr)?;
                Some(match at {
                    Some(_) => (at, off),
                    None => (ev.at_ms(&sq.at), off + offset_ms(&sq.offset)),
                })
            }
            Expr::Unary(u) => walk(ev, &u.expr),
            Expr::Aggregate(a) => walk(ev, &a.expr),
            Expr::Binary(b) => walk(ev, &b.lhs).or_else(|| walk(ev, &b.rhs)),
            Expr::Call(c) => c.args.args.iter().find_map(|a| walk(ev, a)),
            _ => None,
        }
    }
    walk(ev, e).unwrap_or((None, 0))
}

/// `name` and the identifying labels of `l`: how a series finds its info series.
fn signature(name: &str, l: &Labels) -> Vec<(String, String)> {
    let mut sig = vec![("__name__".to_string(), name.to_string())];
    for n in IDENTIFYING {
        if let Some(v) = l.get(n) {
            sig.push((n.to_string(), v.to_string()));
        }
    }
    sig
}

pub(crate) fn eval_info(
    ev: &mut Evaluator<'_>,
    c: &Call,
    plan: &InfoPlan,
    info_series: &[Loaded],
    t: i64,
) -> Result<Vec<ESample>> {
    let base = arg_vector(ev.eval(&c.args.args[0], t)?, "info")?;
    let (at, off) = info_time(ev, &c.args.args[0]);
    let r = at.unwrap_or(t).saturating_sub(off);
    let lo = r.saturating_sub(ev.lookback);

    let ignored: Vec<bool> = base
        .iter()
        .map(|s| plan.is_info_metric(&s.labels))
        .collect();
    let has_ids = base
        .iter()
        .zip(&ignored)
        .any(|(s, &ign)| !ign && IDENTIFYING.iter().any(|n| s.labels.get(n).is_some()));

    // The info series at this step, by signature: the newest sample wins.
    let mut infos: HashMap<Vec<(String, String)>, (&Labels, i64)> = HashMap::new();
    let mut names: HashSet<&str> = HashSet::new();
    if has_ids {
        for s in info_series {
            names.insert(s.labels.metric_name().unwrap_or(""));
            let Some((ts, _)) = s.latest(r, lo) else {
                continue;
            };
            let sig = signature(s.labels.metric_name().unwrap_or(""), &s.labels);
            match infos.get(&sig) {
                Some(&(prev, pt)) if pt == ts => {
                    return Err(PromqlError::execution(format!(
                        "found duplicate series for info metric: existing {} @ {pt}, new {} @ {ts}",
                        super::binary::prom_labels(prev),
                        super::binary::prom_labels(&s.labels)
                    )));
                }
                Some(&(_, pt)) if pt > ts => {}
                _ => {
                    infos.insert(sig, (&s.labels, ts));
                }
            }
        }
    }
    let mut names: Vec<&str> = names.into_iter().collect();
    names.sort_unstable();

    let all_match_empty = plan.data_matchers.values().flatten().all(|m| m.matches(""));
    let mut out = Vec::with_capacity(base.len());
    for (s, ign) in base.into_iter().zip(ignored) {
        if ign {
            out.push(s);
            continue;
        }
        let mut added: Vec<(&str, &str)> = Vec::new();
        let mut matched = false;
        for name in &names {
            let Some(&(info, _)) = infos.get(&signature(name, &s.labels)) else {
                continue;
            };
            matched = true;
            for l in info.iter() {
                if l.name == "__name__" {
                    continue;
                }
                if !plan.data_matchers.is_empty() && !plan.data_matchers.contains_key(l.name) {
                    continue;
                }
                if let Some(&(_, v)) = added.iter().find(|(n, _)| *n == l.name) {
                    if v != l.value {
                        return Err(PromqlError::execution(format!(
                            "conflicting label: {}",
                            l.name
                        )));
                    }
                    continue;
                }
                if s.labels.get(l.name).is_some() {
                    continue;
                }
                added.push((l.name, l.value));
            }
        }
        if !matched && !all_match_empty {
            continue;
        }
        let mut labels = s.labels;
        for (n, v) in added {
            labels = labels_set(&labels, n, v);
        }
        out.push(ESample { labels, ..s });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_selectors_are_marked() {
        assert_eq!(
            mark_selectors(r#"info(m, {data=~".*"})"#),
            r#"info(m, {__tidemark_info_selector__="1",data=~".*"})"#
        );
        assert_eq!(
            mark_selectors("info(info(rate(m[5m]), {}), { })"),
            r#"info(info(rate(m[5m]), {__tidemark_info_selector__="1"}), {__tidemark_info_selector__="1" })"#
        );
        for q in [
            "info(m)",
            "info(m, target_info)",
            r#"m{info="info(a, {"}"#,
            "sum by (info) (m)",
            "information(m, {a=\"b\"})",
        ] {
            assert!(matches!(mark_selectors(q), Cow::Borrowed(_)), "{q}");
        }
    }
}
