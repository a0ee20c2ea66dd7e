//! Query results, and the values the evaluator passes between nodes.

use crate::model::Labels;

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub t: i64,
    pub v: f64,
}

/// One point of a series in a matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub t: i64,
    pub v: f64,
}

/// One element of a matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub points: Vec<Point>,
}

/// What a query evaluates to.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, v: String },
    Vector(Vec<Sample>),
    Matrix(Vec<Series>),
}

/// A result with Prometheus's annotations.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub value: Value,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

/// An instant-vector element inside the evaluator: `t` is the sample's own
/// timestamp (for `timestamp()`), `drop_name` marks a `__name__` to be removed at
/// the end (Prometheus 3 drops it lazily).
#[derive(Debug, Clone)]
pub(crate) struct ESample {
    pub labels: Labels,
    pub t: i64,
    pub v: f64,
    pub drop_name: bool,
}

/// A range-vector element inside the evaluator.
#[derive(Debug, Clone)]
pub(crate) struct ESeries {
    pub labels: Labels,
    pub points: Vec<Point>,
    pub drop_name: bool,
}

/// A value inside the evaluator, at one evaluation time.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Scalar(f64),
    Str(String),
    Vector(Vec<ESample>),
    Matrix(Vec<ESeries>),
}

impl Val {
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Scalar(_) => "scalar",
            Val::Str(_) => "string",
            Val::Vector(_) => "vector",
            Val::Matrix(_) => "matrix",
        }
    }
}
