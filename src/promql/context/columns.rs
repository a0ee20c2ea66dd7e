//! Values of a range query's nodes at all steps at once: a node evaluated by
//! columns gives [`Cols`], one [`Col`] per series, each with a value and a
//! presence flag per step of [`Steps`].

use crate::model::Labels;

/// The steps of a range query: `start`, `start + step`, … (`n` of them).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Steps {
    pub start: i64,
    pub step: i64,
    pub n: usize,
}

impl Steps {
    pub fn new(start: i64, end: i64, step: i64) -> Steps {
        let n = if step > 0 && end >= start {
            usize::try_from((end - start) / step).map_or(0, |k| k + 1)
        } else {
            0
        };
        Steps { start, step, n }
    }

    pub fn t(&self, i: usize) -> i64 {
        self.start + i as i64 * self.step
    }

    /// The index of the step at `t`, if `t` is one.
    pub fn index(&self, t: i64) -> Option<usize> {
        let d = t.checked_sub(self.start)?;
        if d < 0 || self.step <= 0 || d % self.step != 0 {
            return None;
        }
        usize::try_from(d / self.step).ok().filter(|&i| i < self.n)
    }
}

/// One series' values at every step.
#[derive(Debug, Clone)]
pub(crate) struct Col {
    pub labels: Labels,
    /// The metric name goes at the end (see `ESample::drop_name`).
    pub drop_name: bool,
    pub vals: Vec<f64>,
    pub present: Vec<bool>,
}

impl Col {
    pub fn empty(labels: Labels, drop_name: bool, n: usize) -> Col {
        Col {
            labels,
            drop_name,
            vals: vec![0.0; n],
            present: vec![false; n],
        }
    }

    pub fn any(&self) -> bool {
        self.present.iter().any(|&p| p)
    }

    /// The number of steps with a value.
    pub fn points(&self) -> usize {
        self.present.iter().filter(|&&p| p).count()
    }
}

/// A node's value at every step.
#[derive(Debug)]
pub(crate) enum Cols {
    Scalar(Vec<f64>),
    Vector(Vec<Col>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_index_only_the_query_steps() {
        let s = Steps::new(1000, 5000, 2000);
        assert_eq!(s.n, 3);
        assert_eq!(s.index(1000), Some(0));
        assert_eq!(s.index(5000), Some(2));
        assert_eq!(s.index(2000), None);
        assert_eq!(s.index(7000), None);
        assert_eq!(s.index(-1000), None);
        assert_eq!(Steps::new(10, 0, 5).n, 0);
    }
}
