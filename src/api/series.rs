//! `/api/v1/series`, `/api/v1/labels` and `/api/v1/label/<name>/values`: series
//! and label lookups over `[start, end]` (default: all time), optionally
//! restricted by `match[]` selectors, as Prometheus answers them.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::error::{ApiError, ErrorType};
use super::params::{Form, MAX_TIME_MS, MIN_TIME_MS};
use super::state::ApiState;
use super::success::success;
use crate::model::{Labels, Matcher};
use crate::tsdb::{Db, QueryError};

/// The warning Prometheus adds when `limit` cut a result.
const TRUNCATED: &str = "results truncated due to limit";

/// A label set as a JSON object, names in label order.
pub(super) struct LabelMap(pub Labels);

impl Serialize for LabelMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for l in self.0.iter() {
            m.serialize_entry(l.name, l.value)?;
        }
        m.end()
    }
}

pub(super) fn storage(state: &ApiState) -> Result<Arc<Db>, ApiError> {
    state
        .storage()
        .ok_or_else(|| ApiError::new(ErrorType::Unavailable, "storage is not ready"))
}

fn query_error(e: QueryError) -> ApiError {
    ApiError::new(ErrorType::Execution, e.to_string())
}

/// Runs storage work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("query task failed: {e}")))?
}

fn truncate<T>(items: &mut Vec<T>, limit: usize) -> Vec<&'static str> {
    if limit > 0 && items.len() > limit {
        items.truncate(limit);
        vec![TRUNCATED]
    } else {
        Vec::new()
    }
}

/// `GET|POST /api/v1/series`.
pub(super) async fn series(
    State(state): State<ApiState>,
    form: Form,
) -> Result<Response, ApiError> {
    form.require_match()?;
    let start = form.time("start", MIN_TIME_MS)?;
    let end = form.time("end", MAX_TIME_MS)?;
    let sets = form.matcher_sets()?;
    let limit = form.limit("limit")?;
    let db = storage(&state)?;
    let mut found = blocking(move || {
        let q = db.querier(start, end);
        let mut all: Vec<Labels> = Vec::new();
        for set in &sets {
            for s in q.select(set).map_err(query_error)? {
                all.push(s.labels().clone());
            }
        }
        // Label by label, as Prometheus orders series.
        all.sort_by(|a, b| a.iter().cmp(b.iter()));
        all.dedup();
        Ok(all.into_iter().map(LabelMap).collect::<Vec<_>>())
    })
    .await?;
    let warnings = truncate(&mut found, limit);
    Ok(success(found, &warnings))
}

/// `GET|POST /api/v1/labels`.
pub(super) async fn labels(
    State(state): State<ApiState>,
    form: Form,
) -> Result<Response, ApiError> {
    let (start, end, sets, limit) = common(&form)?;
    let db = storage(&state)?;
    let mut names = blocking(move || {
        let q = db.querier(start, end);
        gather(&sets, |m| q.label_names(m).map_err(query_error))
    })
    .await?;
    let warnings = truncate(&mut names, limit);
    Ok(success(names, &warnings))
}

/// `GET /api/v1/label/<name>/values`; the name may be `U__`-escaped.
pub(super) async fn label_values(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    form: Form,
) -> Result<Response, ApiError> {
    let name = match name.strip_prefix("U__") {
        Some(escaped) => unescape_name(escaped).unwrap_or(name),
        None => name,
    };
    if name.is_empty() {
        return Err(ApiError::new(
            ErrorType::BadData,
            format!("invalid label name: {name:?}"),
        ));
    }
    let (start, end, sets, limit) = common(&form)?;
    let db = storage(&state)?;
    let mut values = blocking(move || {
        let q = db.querier(start, end);
        gather(&sets, |m| q.label_values(&name, m).map_err(query_error))
    })
    .await?;
    let warnings = truncate(&mut values, limit);
    Ok(success(values, &warnings))
}

type Common = (i64, i64, Vec<Vec<Matcher>>, usize);

fn common(form: &Form) -> Result<Common, ApiError> {
    let start = form.time("start", MIN_TIME_MS)?;
    let end = form.time("end", MAX_TIME_MS)?;
    let sets = form.matcher_sets()?;
    let limit = form.limit("limit")?;
    Ok((start, end, sets, limit))
}

/// The union of `f` over the matcher sets (over all series without any), sorted.
fn gather(
    sets: &[Vec<Matcher>],
    f: impl Fn(&[Matcher]) -> Result<Vec<String>, ApiError>,
) -> Result<Vec<String>, ApiError> {
    if sets.is_empty() {
        return f(&[]);
    }
    let mut all = BTreeSet::new();
    for set in sets {
        all.extend(f(set)?);
    }
    Ok(all.into_iter().collect())
}

/// Undoes Prometheus's value-encoding escape of a label name (after `U__`):
/// `__` is `_`, `_<hex>_` is that code point, other bytes are legacy name
/// characters. `None` when the text is not such an escape.
pub(super) fn unescape_name(escaped: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = escaped.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '_' {
            if !(c.is_ascii_alphanumeric() || c == ':') {
                return None;
            }
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some((_, '_')) => {
                chars.next();
                out.push('_');
            }
            Some(_) => {
                let mut code: u32 = 0;
                let mut digits = 0;
                loop {
                    let (_, h) = chars.next()?;
                    if h == '_' {
                        break;
                    }
                    code = code.checked_mul(16)?.checked_add(h.to_digit(16)?)?;
                    digits += 1;
                }
                if digits == 0 {
                    return None;
                }
                out.push(char::from_u32(code)?);
            }
            None => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::unescape_name;

    #[test]
    fn escaped_label_names() {
        assert_eq!(unescape_name("my_2e_label").as_deref(), Some("my.label"));
        assert_eq!(unescape_name("a__b").as_deref(), Some("a_b"));
        assert_eq!(unescape_name("_1F600_").as_deref(), Some("😀"));
        assert_eq!(unescape_name("bad.char"), None);
        assert_eq!(unescape_name("_zz_"), None);
        assert_eq!(unescape_name("trail_"), None);
    }
}
