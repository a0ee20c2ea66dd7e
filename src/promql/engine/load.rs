//! A query's evaluator set up before evaluation starts: every selector found
//! with the time range it must be read over, its series selected (read later,
//! on first use), and each `info` call's series read.

use std::collections::HashMap;

use promql_parser::parser::{Call, Expr, VectorSelector};

use super::dispatch::DISPATCH;
use super::options::{EngineOptions, QueryOptions};
use crate::model::Matcher;
use crate::promql::context::evaluator::Evaluator;
use crate::promql::context::expr::selector_key;
use crate::promql::context::info_plan::InfoPlan;
use crate::promql::context::selected::{Loaded, decode_parallel};
use crate::promql::context::time::{dur_ms, offset_ms};
use crate::promql::error::{PromqlError, Result};
use crate::promql::info;
use crate::promql::parse::to_matchers;
use crate::tsdb::Db;

/// The evaluator of `expr` at times in `[start, end]` every `step` (0 for an
/// instant query), with its selectors' series selected and its `info` calls'
/// series read.
pub(crate) fn evaluator<'a>(
    db: &Db,
    engine: &EngineOptions,
    expr: &Expr,
    start: i64,
    end: i64,
    step: i64,
    opts: &'a QueryOptions,
) -> Result<Evaluator<'a>> {
    let lookback = opts.lookback_delta.unwrap_or(engine.lookback_delta);
    let lookback = i64::try_from(lookback.as_millis()).unwrap_or(i64::MAX / 4);
    let mut ev = Evaluator::new(
        start,
        end,
        step,
        lookback,
        opts.timeout
            .map_or(engine.timeout, |t| t.min(engine.timeout)),
        opts.cancel.as_deref(),
        engine.max_samples,
        DISPATCH,
    );
    let mut ranges: HashMap<usize, (i64, i64, &VectorSelector)> = HashMap::new();
    let mut infos: Vec<(i64, i64, &Call)> = Vec::new();
    plan(&ev, expr, start, end, &mut ranges, &mut infos);
    for (mint, maxt, vs) in ranges.into_values() {
        ev.check()?;
        let sets = to_matchers(vs.name.as_deref(), &vs.matchers)?;
        let series = select_sets(db, &sets, mint, maxt)?;
        ev.add_selected(vs, series);
    }
    for (mint, maxt, c) in infos {
        ev.check()?;
        let key = c as *const Call as usize;
        let plan = InfoPlan::new(c)?;
        let (lo, hi) = match ev.info_data.get(&key) {
            Some(_) => continue,
            None => (mint, maxt),
        };
        let loaded = load_matching(db, &plan.select_matchers(), lo, hi)?;
        ev.info_data.insert(key, (plan, loaded));
    }
    Ok(ev)
}

/// Finds every selector and the time range it must be read over, when the
/// expression is evaluated at times in `[mint, maxt]`.
fn plan<'e>(
    ev: &Evaluator<'_>,
    e: &'e Expr,
    mint: i64,
    maxt: i64,
    out: &mut HashMap<usize, (i64, i64, &'e VectorSelector)>,
    infos: &mut Vec<(i64, i64, &'e Call)>,
) {
    let mut add = |vs: &'e VectorSelector, range: i64| {
        let (lo, hi) = match ev.at_ms(&vs.at) {
            Some(at) => (at, at),
            None => (mint, maxt),
        };
        let off = offset_ms(&vs.offset);
        let lo = lo
            .saturating_sub(off)
            .saturating_sub(range)
            .saturating_sub(ev.lookback);
        let hi = hi.saturating_sub(off);
        let entry = out.entry(selector_key(vs)).or_insert((lo, hi, vs));
        entry.0 = entry.0.min(lo);
        entry.1 = entry.1.max(hi);
    };
    match e {
        Expr::VectorSelector(vs) => add(vs, 0),
        Expr::MatrixSelector(ms) => add(&ms.vs, dur_ms(&ms.range)),
        Expr::Subquery(sq) => {
            let (lo, hi) = match ev.at_ms(&sq.at) {
                Some(at) => (at, at),
                None => (mint, maxt),
            };
            let off = offset_ms(&sq.offset);
            let range = dur_ms(&sq.range);
            let lo = lo.saturating_sub(off).saturating_sub(range);
            let hi = hi.saturating_sub(off);
            plan(ev, &sq.expr, lo, hi, out, infos);
        }
        Expr::Aggregate(a) => {
            plan(ev, &a.expr, mint, maxt, out, infos);
            if let Some(p) = &a.param {
                plan(ev, p, mint, maxt, out, infos);
            }
        }
        Expr::Unary(u) => plan(ev, &u.expr, mint, maxt, out, infos),
        Expr::Binary(b) => {
            plan(ev, &b.lhs, mint, maxt, out, infos);
            plan(ev, &b.rhs, mint, maxt, out, infos);
        }
        Expr::Paren(p) => plan(ev, &p.expr, mint, maxt, out, infos),
        Expr::Call(c) => {
            if c.func.name == "info" {
                // The info series: over the lookback before the first
                // argument's reference times.
                let (at, off) = info::info_time(ev, &c.args.args[0]);
                let (lo, hi) = match at {
                    Some(at) => (at, at),
                    None => (mint, maxt),
                };
                let (lo, hi) = (lo.saturating_sub(off), hi.saturating_sub(off));
                infos.push((lo.saturating_sub(ev.lookback), hi, c));
                plan(ev, &c.args.args[0], mint, maxt, out, infos);
                return;
            }
            for a in &c.args.args {
                plan(ev, a, mint, maxt, out, infos);
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// Reads the series matching all of `matchers` over `[mint, maxt]`.
fn load_matching(db: &Db, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<Loaded>> {
    let series = select_sets(db, &[matchers.to_vec()], mint, maxt)?;
    decode_parallel(&series)
}

/// The series matching any of the matcher sets over `[mint, maxt]`, not read
/// yet.
fn select_sets(
    db: &Db,
    sets: &[Vec<Matcher>],
    mint: i64,
    maxt: i64,
) -> Result<Vec<crate::tsdb::Series>> {
    let q = db.querier(mint, maxt);
    let mut selected: Vec<crate::tsdb::Series> = Vec::new();
    for matchers in sets {
        let set = q
            .select(matchers)
            .map_err(|e| PromqlError::execution(e.to_string()))?;
        for s in set {
            if sets.len() > 1 && selected.iter().any(|l| l.labels() == s.labels()) {
                continue;
            }
            selected.push(s);
        }
    }
    Ok(selected)
}
