//! What both forms of an aggregation share: the labels of a member's group and
//! the running state of a group.

use promql_parser::parser::ast::LabelModifier;
use promql_parser::parser::token::{
    T_AVG, T_COUNT, T_COUNT_VALUES, T_GROUP, T_MAX, T_MIN, T_STDDEV, T_STDVAR, T_SUM, TokenId,
};

use crate::model::Labels;
use crate::promql::context::labels::{labels_only, labels_without};
use crate::promql::context::stats::{kahan_inc, mean_inc};

/// The labels of the group a series with labels `l` belongs to, `by` or
/// `without` the modifier's labels.
pub(crate) fn group_labels(l: &Labels, m: Option<&LabelModifier>) -> Labels {
    match m {
        Some(LabelModifier::Include(by)) => {
            let names: Vec<&str> = by.labels.iter().map(String::as_str).collect();
            labels_only(l, &names)
        }
        Some(LabelModifier::Exclude(without)) => {
            let mut names: Vec<&str> = without.labels.iter().map(String::as_str).collect();
            names.push("__name__");
            labels_without(l, &names)
        }
        None => Labels::empty(),
    }
}

/// The running state of one group of an aggregation by sum, avg, min, max,
/// count, group, stddev or stdvar, shared by the step-wise and the columnar
/// evaluation so that both compute alike.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Running {
    pub count: f64,
    sum: f64,
    comp: f64,
    mean: f64,
    m2: f64,
    value: f64,
}

impl Running {
    /// Adds one member's value; the first one starts min and max.
    #[inline]
    pub fn add(&mut self, op: TokenId, v: f64) {
        if self.count == 0.0 {
            self.value = v;
        }
        self.count += 1.0;
        match op {
            T_SUM => (self.sum, self.comp) = kahan_inc(v, self.sum, self.comp),
            T_AVG => {
                (self.sum, self.comp) = kahan_inc(v, self.sum, self.comp);
                self.mean = mean_inc(self.mean, v, self.count);
            }
            T_MIN if self.value > v || self.value.is_nan() => self.value = v,
            T_MAX if self.value < v || self.value.is_nan() => self.value = v,
            T_STDDEV | T_STDVAR => {
                let d = v - self.mean;
                self.mean += d / self.count;
                self.m2 += d * (v - self.mean);
            }
            _ => {}
        }
    }

    /// The aggregate of the values added; `None` for an operator computed
    /// otherwise.
    pub fn result(&self, op: TokenId) -> Option<f64> {
        Some(match op {
            T_SUM => self.sum + self.comp,
            T_AVG => {
                let s = self.sum + self.comp;
                if s.is_finite() {
                    s / self.count
                } else {
                    self.mean
                }
            }
            T_MIN | T_MAX => self.value,
            T_COUNT | T_COUNT_VALUES => self.count,
            T_GROUP => 1.0,
            T_STDVAR => self.m2 / self.count,
            T_STDDEV => (self.m2 / self.count).sqrt(),
            _ => return None,
        })
    }
}
