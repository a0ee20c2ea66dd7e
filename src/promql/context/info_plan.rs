//! What each `info` call selects: the info series it reads for the whole
//! query, and the data labels it may add from them.

use std::collections::HashMap;

use promql_parser::parser::{Call, Expr};

use super::expr::unparen;
use crate::model::{Labels, MatchType, Matcher};
use crate::promql::error::{PromqlError, Result};
use crate::promql::parse::info_marker::PARSE_MARKER;
use crate::promql::parse::to_matchers;

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

    pub fn is_info_metric(&self, l: &Labels) -> bool {
        let name = l.metric_name().unwrap_or("");
        self.name_matchers.iter().all(|m| m.matches(name))
    }
}
