//! A query's value in its output form: metric names dropped where marked,
//! series sorted, and label sets that end up the same refused or merged as
//! Prometheus does.

use std::collections::HashMap;

use crate::model::Labels;
use crate::promql::context::columns::{Cols, Steps};
use crate::promql::context::labels::drop_metric_name;
use crate::promql::context::limits::too_many_samples;
use crate::promql::error::{PromqlError, Result};
use crate::promql::value::{ESample, ESeries, Point, Sample, Series};

/// A range query's result from the columns of its whole expression: names
/// dropped where marked, and, as step by step, series that end up with the same
/// labels merged unless they have values at the same step.
pub(crate) fn matrix_from_columns(
    cols: Cols,
    steps: Steps,
    max_samples: usize,
) -> Result<Vec<Series>> {
    let times = |present: &[bool], vals: &[f64]| -> Vec<Point> {
        (0..steps.n)
            .filter(|&i| present[i])
            .map(|i| Point {
                t: steps.start + i as i64 * steps.step,
                v: vals[i],
            })
            .collect()
    };
    let mut out: Vec<Series> = match cols {
        Cols::Scalar(v) => vec![Series {
            labels: Labels::empty(),
            points: times(&vec![true; v.len()], &v),
        }],
        Cols::Vector(cols) => {
            let mut index: HashMap<Labels, usize> = HashMap::new();
            let mut merged: Vec<(Labels, Vec<bool>, Vec<f64>)> = Vec::new();
            for c in cols {
                let labels = if c.drop_name {
                    drop_metric_name(&c.labels)
                } else {
                    c.labels
                };
                match index.get(&labels) {
                    Some(&j) => {
                        let (_, present, vals) = &mut merged[j];
                        for i in 0..steps.n {
                            if c.present[i] {
                                if present[i] {
                                    return Err(PromqlError::execution(
                                        "vector cannot contain metrics with the same labelset",
                                    ));
                                }
                                present[i] = true;
                                vals[i] = c.vals[i];
                            }
                        }
                    }
                    None => {
                        index.insert(labels.clone(), merged.len());
                        merged.push((labels, c.present, c.vals));
                    }
                }
            }
            merged
                .into_iter()
                .map(|(labels, present, vals)| Series {
                    labels,
                    points: times(&present, &vals),
                })
                .collect()
        }
    };
    if out.iter().map(|s| s.points.len()).sum::<usize>() > max_samples {
        return Err(too_many_samples());
    }
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(out)
}

/// The output form of an instant vector: names dropped where marked, duplicate
/// label sets refused as Prometheus does.
pub(crate) fn finish_vector(v: Vec<ESample>, t: i64) -> Result<Vec<Sample>> {
    let out: Vec<Sample> = v
        .into_iter()
        .map(|s| Sample {
            labels: if s.drop_name {
                drop_metric_name(&s.labels)
            } else {
                s.labels
            },
            t,
            v: s.v,
        })
        .collect();
    if out.len() > 1 {
        let mut seen = std::collections::HashSet::with_capacity(out.len());
        for s in &out {
            if !seen.insert(&s.labels) {
                return Err(PromqlError::execution(
                    "vector cannot contain metrics with the same labelset",
                ));
            }
        }
    }
    Ok(out)
}

/// The output form of a range vector (an instant query's matrix): names
/// dropped where marked, series sorted, duplicate label sets refused.
pub(crate) fn finish_matrix(m: Vec<ESeries>) -> Result<Vec<Series>> {
    let mut out: Vec<Series> = m
        .into_iter()
        .map(|s| Series {
            labels: if s.drop_name {
                drop_metric_name(&s.labels)
            } else {
                s.labels
            },
            points: s.points,
        })
        .collect();
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    if out.windows(2).any(|w| w[0].labels == w[1].labels) {
        return Err(PromqlError::execution(
            "vector cannot contain metrics with the same labelset",
        ));
    }
    Ok(out)
}
