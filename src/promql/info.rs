//! `info(v [, {selector}])`: adds to each series of `v` the data labels of the
//! info series (`target_info` unless the selector names others) that share its
//! identifying labels, `instance` and `job` (Prometheus's `promql/info.go`).
//!
//! The info series are read once for the query, with the selector's data-label
//! and name matchers; at each step the latest sample of each within the lookback
//! delta (at the `@` time and offset of the first selector of `v`) is the one
//! that counts, the newest winning when two share identifying labels.

use std::collections::{HashMap, HashSet};

use promql_parser::parser::{Call, Expr};

use crate::model::Labels;
use crate::promql::context::args::arg_vector;
use crate::promql::context::evaluator::Evaluator;
use crate::promql::context::info_plan::InfoPlan;
use crate::promql::context::labels::{labels_set, prom_labels};
use crate::promql::context::selected::Loaded;
use crate::promql::context::time::offset_ms;
use crate::promql::error::{PromqlError, Result};
use crate::promql::value::ESample;

/// The labels that tie a series to its info series.
const IDENTIFYING: [&str; 2] = ["instance", "job"];

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

/// `info(…)` at `t`, with the call's plan and info series.
pub(crate) fn eval(
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
                        prom_labels(prev),
                        prom_labels(&s.labels)
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
