//! Vector matching, in both forms of a binary operation: the signature two
//! series are matched on, and the labels of their result.

use promql_parser::parser::ast::LabelModifier;

use crate::model::Labels;
use crate::promql::context::labels::{drop_metric_name, labels_only, labels_without};

/// The signature two sides are matched on.
pub(crate) fn signature(l: &Labels, matching: Option<&LabelModifier>) -> Labels {
    match matching {
        Some(LabelModifier::Include(on)) => {
            let names: Vec<&str> = on.labels.iter().map(String::as_str).collect();
            labels_only(l, &names)
        }
        Some(LabelModifier::Exclude(ign)) => {
            let mut names: Vec<&str> = ign.labels.iter().map(String::as_str).collect();
            names.push("__name__");
            labels_without(l, &names)
        }
        None => labels_without(l, &["__name__"]),
    }
}

/// The labels of a vector-to-vector result from its "many"-side operand's.
pub(crate) fn result_labels(
    l: &Labels,
    cmp: bool,
    one_to_one: bool,
    matching: Option<&LabelModifier>,
) -> Labels {
    let labels = if cmp {
        l.clone()
    } else {
        // Arithmetic changes what the metric is: its name, type and unit go.
        drop_metric_name(l)
    };
    if !one_to_one {
        return labels;
    }
    match matching {
        Some(LabelModifier::Include(on)) => {
            let names: Vec<&str> = on.labels.iter().map(String::as_str).collect();
            labels_only(&labels, &names)
        }
        Some(LabelModifier::Exclude(ign)) => {
            let names: Vec<&str> = ign.labels.iter().map(String::as_str).collect();
            labels_without(&labels, &names)
        }
        None => labels,
    }
}
