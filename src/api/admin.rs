//! The TSDB admin API, as Prometheus's `web/api/v1` serves it, enabled by
//! `--web.enable-admin-api` ([`ApiSettings::admin_api`](super::ApiSettings::admin_api)); without it each
//! endpoint answers 503 `unavailable` "admin APIs disabled":
//!
//! - `POST|PUT /api/v1/admin/tsdb/delete_series` (`match[]` required, `start`,
//!   `end`): marks the samples deleted; 204.
//! - `POST|PUT /api/v1/admin/tsdb/clean_tombstones`: rewrites the blocks with
//!   deleted samples without them; 204.
//! - `POST|PUT /api/v1/admin/tsdb/snapshot` (`skip_head`): hard links of the
//!   blocks (and the head written as blocks) in
//!   `<data>/snapshots/<YYYYMMDDTHHMMSSZ>-<16 hex digits>`; answers its name.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ErrorType};
use super::params::{Form, MAX_TIME_MS, MIN_TIME_MS};
use super::series::{blocking, storage};
use super::state::ApiState;
use super::success::success;
use crate::tsdb::Db;

fn enabled(state: &ApiState) -> Result<Arc<Db>, ApiError> {
    if !state.admin_enabled() {
        return Err(ApiError::new(ErrorType::Unavailable, "admin APIs disabled"));
    }
    storage(state)
}

/// `POST|PUT /api/v1/admin/tsdb/delete_series`.
pub(super) async fn delete_series(
    State(state): State<ApiState>,
    form: Form,
) -> Result<Response, ApiError> {
    let db = enabled(&state)?;
    form.require_match()?;
    let start = form.time("start", MIN_TIME_MS)?;
    let end = form.time("end", MAX_TIME_MS)?;
    let sets = form.matcher_sets()?;
    blocking(move || {
        for set in &sets {
            db.delete_series(set, start, end)
                .map_err(|e| ApiError::internal(e.to_string()))?;
        }
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST|PUT /api/v1/admin/tsdb/clean_tombstones`.
pub(super) async fn clean_tombstones(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let db = enabled(&state)?;
    blocking(move || {
        db.clean_tombstones()
            .map_err(|e| ApiError::internal(e.to_string()))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST|PUT /api/v1/admin/tsdb/snapshot`.
pub(super) async fn snapshot(
    State(state): State<ApiState>,
    form: Form,
) -> Result<Response, ApiError> {
    let db = enabled(&state)?;
    let skip_head = match form.value("skip_head") {
        "" => false,
        v => parse_go_bool(v).ok_or_else(|| {
            ApiError::new(
                ErrorType::BadData,
                format!(
                    "unable to parse boolean 'skip_head' argument: strconv.ParseBool: parsing {v:?}: invalid syntax"
                ),
            )
        })?,
    };
    let name = snapshot_name(SystemTime::now(), fastrand::u64(..) >> 1);
    let dir = db.dir().join("snapshots");
    let answer = name.clone();
    blocking(move || {
        std::fs::create_dir_all(&dir).map_err(|e| {
            ApiError::internal(format!("create snapshot directory: {}: {e}", dir.display()))
        })?;
        db.snapshot(dir.join(&name), !skip_head)
            .map_err(|e| ApiError::internal(format!("create snapshot: {e}")))
    })
    .await?;
    #[derive(serde::Serialize)]
    struct Data {
        name: String,
    }
    Ok(success(Data { name: answer }, &[]))
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// `YYYYMMDDTHHMMSSZ-<16 hex digits>`, as Prometheus names snapshots (UTC).
fn snapshot_name(now: SystemTime, random: u64) -> String {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let stamp = crate::model::rfc3339_millis(secs * 1000);
    // "2006-01-02T15:04:05.000Z" → "20060102T150405Z"
    let digits: String = stamp
        .get(..19)
        .unwrap_or_default()
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    format!("{digits}Z-{random:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_as_prometheus() {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_136_214_245);
        assert_eq!(
            snapshot_name(t, 0x1234_abcd),
            "20060102T150405Z-000000001234abcd"
        );
    }

    #[test]
    fn bools_as_go() {
        assert_eq!(parse_go_bool("true"), Some(true));
        assert_eq!(parse_go_bool("0"), Some(false));
        assert_eq!(parse_go_bool("yes"), None);
    }
}
