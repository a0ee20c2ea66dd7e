//! [`Evaluator`]: the state of one query's evaluation, which every operator
//! is handed: the query's times and limits, the series its selectors read,
//! the annotations collected so far, and the results computed ahead by
//! columns.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use promql_parser::parser::ast::{AtModifier, Offset};
use promql_parser::parser::{Expr, VectorSelector};

use super::annotations::{Annotations, Forced};
use super::columns::{Col, Cols, Steps};
use super::expr::{addr, selector_key};
use super::info_plan::InfoPlan;
use super::limits::{Held, too_many_samples};
use super::selected::{Loaded, Sel, Selected};
use super::time::{offset_ms, system_time_ms};
use crate::model::Labels;
use crate::promql::error::{ErrorKind, PromqlError, Result};
use crate::promql::parse::go_strings::NonUtf8Strings;
use crate::promql::value::{ESample, QueryResult, Val, Value};

/// How a node is evaluated, chosen by its kind. The choice is made above the
/// operators (`engine/`); an operator evaluates its operands through it
/// ([`Evaluator::eval`], [`Evaluator::eval_cols`],
/// [`Evaluator::for_each_col`]), so that it needs to know no other operator.
#[derive(Clone, Copy)]
pub(crate) struct Dispatch {
    /// A node at one evaluation time.
    pub eval: fn(&mut Evaluator<'_>, &Expr, i64) -> Result<Val>,
    /// A node of a range query at all its steps.
    pub eval_cols: fn(&mut Evaluator<'_>, &Expr, Steps) -> Result<Cols>,
    /// The series of a vector node of a range query at all its steps, handed
    /// to the callback one at a time.
    #[allow(clippy::type_complexity)]
    pub for_each_col:
        fn(&mut Evaluator<'_>, &Expr, Steps, &mut dyn FnMut(&Col) -> Result<()>) -> Result<()>,
}

/// State of one query's evaluation.
pub(crate) struct Evaluator<'a> {
    pub start: i64,
    pub end: i64,
    /// Step of a range query, 0 for an instant query.
    pub step: i64,
    pub lookback: i64,
    /// The query text, for the positions in annotations.
    pub query: String,
    /// String literals of the query that are not UTF-8.
    pub non_utf8: NonUtf8Strings,
    /// Selected series by selector (the address of its node in the parsed tree).
    data: HashMap<usize, Selected>,
    started: Instant,
    timeout: Duration,
    cancel: Option<&'a AtomicBool>,
    pub max_samples: usize,
    pub cur_samples: usize,
    annotations: Annotations,
    /// The plan and the series of each `info` call (by the address of its node).
    pub info_data: HashMap<usize, (InfoPlan, Vec<Loaded>)>,
    /// Group labels by input series, per aggregation node: computed once per
    /// series for the whole query instead of once per step.
    pub group_cache: HashMap<usize, HashMap<Labels, Labels>>,
    /// The steps of a range query, once its columns are being computed.
    pub steps: Option<Steps>,
    /// Nodes of a range query evaluated over all steps at once, by address.
    pub columns: HashMap<usize, Cols>,
    dispatch: Dispatch,
}

impl<'a> Evaluator<'a> {
    /// An evaluation at times in `[start, end]` every `step` (0 for an instant
    /// query) that has read no series yet; its clock starts now.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        start: i64,
        end: i64,
        step: i64,
        lookback: i64,
        timeout: Duration,
        cancel: Option<&'a AtomicBool>,
        max_samples: usize,
        dispatch: Dispatch,
    ) -> Evaluator<'a> {
        Evaluator {
            start,
            end,
            step,
            lookback,
            query: String::new(),
            non_utf8: NonUtf8Strings::default(),
            data: HashMap::new(),
            started: Instant::now(),
            timeout,
            cancel,
            max_samples,
            cur_samples: 0,
            annotations: Annotations::default(),
            info_data: HashMap::new(),
            group_cache: HashMap::new(),
            steps: None,
            columns: HashMap::new(),
            dispatch,
        }
    }

    /// `value` with the annotations collected.
    pub fn result(&mut self, value: Value) -> QueryResult {
        let (warnings, infos) = self.annotations.finish();
        QueryResult {
            value,
            warnings,
            infos,
        }
    }

    pub fn warn(&mut self, msg: String) {
        self.annotations.warn(msg);
    }

    pub fn info(&mut self, msg: String) {
        self.annotations.info(msg);
    }

    /// Records that a histogram of `metric` was made monotonic at `t`.
    pub fn note_monotonicity(&mut self, metric: String, pos: String, t: i64, f: Forced) {
        self.annotations.note_monotonicity(metric, pos, t, f);
    }

    /// Fails if the query was cancelled or ran out of time.
    pub fn check(&self) -> Result<()> {
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(PromqlError {
                kind: ErrorKind::Canceled,
                message: "query was canceled in query execution".to_string(),
            });
        }
        if self.started.elapsed() > self.timeout {
            return Err(PromqlError {
                kind: ErrorKind::Timeout,
                message: "query timed out in query execution".to_string(),
            });
        }
        Ok(())
    }

    /// Counts `n` more samples held; fails past the limit.
    pub fn hold(&mut self, n: usize) -> Result<()> {
        self.cur_samples = self.cur_samples.saturating_add(n);
        if self.cur_samples > self.max_samples {
            return Err(too_many_samples());
        }
        Ok(())
    }

    /// A count of the samples columns being collected hold, from those held
    /// now.
    pub fn held(&self) -> Held {
        Held::new(self.cur_samples, self.max_samples)
    }

    pub fn at_ms(&self, at: &Option<AtModifier>) -> Option<i64> {
        match at {
            None => None,
            Some(AtModifier::Start) => Some(self.start),
            Some(AtModifier::End) => Some(self.end),
            Some(AtModifier::At(t)) => Some(system_time_ms(t)),
        }
    }

    /// The reference time of a selector or subquery evaluated at `t`.
    pub fn ref_time(&self, at: &Option<AtModifier>, offset: &Option<Offset>, t: i64) -> i64 {
        self.at_ms(at)
            .unwrap_or(t)
            .saturating_sub(offset_ms(offset))
    }

    /// The reference time of a selector at every step.
    pub fn ref_times(&self, vs: &VectorSelector, steps: Steps) -> Vec<i64> {
        (0..steps.n)
            .map(|i| self.ref_time(&vs.at, &vs.offset, steps.t(i)))
            .collect()
    }

    /// Keeps the series selected for `vs`, to be read on first use.
    pub fn add_selected(&mut self, vs: &VectorSelector, series: Vec<crate::tsdb::Series>) {
        self.data.insert(selector_key(vs), Selected::new(series));
    }

    /// The samples of a selector's series, read on first use.
    pub fn loaded(&self, vs: &VectorSelector) -> Result<&[Loaded]> {
        match self.data.get(&selector_key(vs)) {
            None => Ok(&[]),
            Some(sel) => sel.loaded(),
        }
    }

    /// A selector's series: read already, or only selected (then the caller
    /// reads them as it goes).
    pub fn selected(&self, vs: &VectorSelector) -> Sel<'_> {
        match self.data.get(&selector_key(vs)) {
            None => Sel::Read(&[]),
            Some(sel) => sel.sel(),
        }
    }

    /// Whether `name` may name a label: Prometheus 3 accepts any non-empty
    /// UTF-8, so not a string literal of the query that was not UTF-8
    /// (`"\xff"`).
    pub fn valid_label_name(&self, name: &str) -> bool {
        !name.is_empty() && self.non_utf8.bytes_of(name).is_none()
    }

    /// Evaluates `e` at time `t`.
    pub fn eval(&mut self, e: &Expr, t: i64) -> Result<Val> {
        (self.dispatch.eval)(self, e, t)
    }

    /// Evaluates `e` at all `steps` of a range query.
    pub fn eval_cols(&mut self, e: &Expr, steps: Steps) -> Result<Cols> {
        (self.dispatch.eval_cols)(self, e, steps)
    }

    /// Hands each series of the vector `e` at all `steps` to `f`, one at a
    /// time.
    pub fn for_each_col(
        &mut self,
        e: &Expr,
        steps: Steps,
        f: &mut dyn FnMut(&Col) -> Result<()>,
    ) -> Result<()> {
        (self.dispatch.for_each_col)(self, e, steps, f)
    }

    /// The value of a node evaluated ahead by columns at step `t`.
    pub fn lookup(&self, e: &Expr, t: i64) -> Option<Val> {
        let cols = self.columns.get(&addr(e))?;
        let i = self.steps?.index(t)?;
        Some(match cols {
            Cols::Scalar(v) => Val::Scalar(v[i]),
            Cols::Vector(cols) => Val::Vector(
                cols.iter()
                    .filter(|c| c.present[i])
                    .map(|c| ESample {
                        labels: c.labels.clone(),
                        t,
                        v: c.vals[i],
                        drop_name: c.drop_name,
                    })
                    .collect(),
            ),
        })
    }
}
